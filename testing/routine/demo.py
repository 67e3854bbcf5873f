"""Demo 应检尽检: the demo street's key groups tested from 20 June to the end of 2022 (seed 000, "（五）").

Seed 000: "自6月20日起…辖区内11个社区应检人员共1551人，其中社区干部128人，物业人员1423人，共设有风情街和
市政府广场两个应检尽检核酸采样点，分别于每周一、二、四对分为三个批次对以上应检尽检人员进行阶梯式有序检测".

The demo reads "分别于每周一、二、四…分为三个批次" as **each batch once a week on its own day** (batch 1 on
Monday, batch 2 on Tuesday, batch 3 on Thursday), both sites open on each of those days: "分别"
pairs the three days with the three batches, and the same summary says "街道及社区工作人员每周进行一次核
酸检测" (once a week). The other reading (everyone three times a week, the batches being time slots
of each day) is the same data with slots that have no batch.

The groups (社区干部, 物业人员) and their schedule are made by the services, as the street's login would;
the 1,551 members (linked to residents aged 20–59 of their community) and their ~43,000 test records
are written in bulk. At the end of 2022 the groups hold exactly the seed's 128 and 1,423 people (scaled
at other sizes): the few who left during the half-year (离职, 调离) were replaced on the same day, and a
few moved to another batch. About 3 % of due tests are missed, and most of those are made up within
the window (testing.routine.rules); the mass-testing rounds of the period add their samples
(services.record_from_rounds). The schedule ends on 31 December 2022.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from core.bulk import insert_history, insert_objects, insert_rows, reserve_ids
from core.demo import DemoContext, demo_step, split_quota
from core.history import start_of_day
from core.indicators import Period
from familyplanning.demo import _demo_user
from orgunits.models import Level, OrgUnit
from registry.demo import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from registry.models import PRESENT_STATUSES, Resident
from registry.rules import birth_date_bounds_for_age, check_char
from testing.models import KeyGroupMember, RoutineTest, TestSource
from testing.routine import rules, selectors, services

# Seed 000's figures (exact at the default size, scaled like core.demo.DemoContext.scaled otherwise).
SEED_ROUTINE = {"members": 1_551, "cadres": 128, "property": 1_423}
CADRES, PROPERTY = "社区干部", "物业人员"
START = dt.date(2022, 6, 20)  # 自6月20日起
LAST_DAY = dt.date(2022, 12, 31)
SITES = ("风情街", "市政府广场")
# (weekday, batch): 每周一、二、四，分为三个批次
SCHEDULE = ((0, 1), (1, 2), (3, 3))
MISSED_SHARE = 0.03  # of due tests not taken on the day
MADE_UP_SHARE = 0.85  # of those, made up within the window
LEAVE_SHARE = 0.03  # members who left in the half-year (each replaced the same day)
BATCH_MOVES = 9  # at the default size
AGES = (20, 59)
PROPERTY_COMPANIES = [
    "安居物业服务有限公司",
    "恒泰物业管理有限公司",
    "佳美物业服务有限公司",
    "宏远物业管理有限公司",
    "瑞丰物业服务有限公司",
    "祥和物业管理有限公司",
    "康乐物业服务有限公司",
    "新城物业服务中心",
]
LEAVE_REASONS = {CADRES: ["工作调动", "调离社区"], PROPERTY: ["离职", "合同到期离职", "调往外地项目"]}


def scaled(ctx: DemoContext, key: str) -> int:
    return round(SEED_ROUTINE[key] * ctx.factor)


@dataclass
class Person:
    resident_id: int | None
    name: str
    id_number: str
    phone: str


@demo_step("testing_routine", order=55)
def build_routine(ctx: DemoContext) -> None:
    if ctx.on < LAST_DAY:
        ctx.log("应检尽检：基准日早于2022年末，未生成演示数据")
        return
    started = time.monotonic()
    rng = random.Random(ctx.seed * 7_919 + 55)
    street: OrgUnit = ctx.data["street"]
    user = _demo_user(street)
    communities = list(
        OrgUnit.objects.filter(level=Level.COMMUNITY, path__gte=street.path, path__lt=street.path_end).order_by("path")
    )
    sizes = {CADRES: scaled(ctx, "cadres"), PROPERTY: scaled(ctx, "property")}
    groups = {name: services.create_group(unit=street, name=name, by=user) for name in sizes}
    slots = [services.SlotData(weekday=w, batch=b, site=site) for w, b in SCHEDULE for site in SITES]
    for group in groups.values():
        services.change_schedule(group=group, slots=slots, valid_from=START, by=user)
        services.change_schedule(group=group, slots=[], valid_from=LAST_DAY + rules.DAY, by=user)
    site_of = {c.pk: SITES[0] if i < (len(communities) + 1) // 2 else SITES[1] for i, c in enumerate(communities)}
    pools = _pools(communities, rng)
    weights = [len(pools[c.pk]) or 1 for c in communities]
    quotas = {
        CADRES: split_quota(sizes[CADRES], [1] * len(communities)),
        PROPERTY: split_quota(sizes[PROPERTY], weights),
    }
    members: list[KeyGroupMember] = []
    versions: list[KeyGroupMember] = []
    used_ids: set[str] = set()
    for name, group in groups.items():
        made, history = _members(ctx, rng, group, communities, quotas[name], pools, used_ids, site_of)
        members += made
        versions += history
    ids = reserve_ids(KeyGroupMember, len(members))
    for pk, m in zip(ids, members, strict=True):
        m.pk = m.id = pk
    insert_objects(KeyGroupMember, members)
    created = [v for v in versions if v._history_type == "+"]  # type: ignore[attr-defined]
    changed = [v for v in versions if v._history_type == "~"]  # type: ignore[attr-defined]
    for v in versions:
        v.pk = v.id = v._member.pk  # type: ignore[attr-defined]
    now = start_of_day(LAST_DAY)
    insert_history(KeyGroupMember, created, user_id=user.pk, reason="纳入应检人员", default_date=now)
    for reason in sorted({v.left_reason for v in changed}):
        same = [v for v in changed if v.left_reason == reason]
        insert_history(KeyGroupMember, same, user_id=user.pk, reason=reason, default_date=now, history_type="~")
    specs = selectors.slot_specs([g.pk for g in groups.values()], START, LAST_DAY)
    cycles = rules.cycles(specs, START, LAST_DAY + rules.DAY * rules.LAST_WINDOW_DAYS)
    tests = list(_tests(rng, members, cycles, site_of, user.pk))
    insert_rows(
        RoutineTest,
        ["member_id", "tested_on", "source", "sample_id", "site", "recorded_by_id", "recorded_at"],
        tests,
    )
    from_rounds = services.record_from_rounds(period=Period(START, LAST_DAY), unit=street)
    active = sum(1 for m in members if m.left_on is None)
    ctx.data["testing_routine"] = {
        "groups": {name: g.pk for name, g in groups.items()},
        "members": active,
        "cadres": sizes[CADRES],
        "property": sizes[PROPERTY],
        "tests": len(tests) + from_rounds.created,
    }
    ctx.log(
        f"应检尽检：{CADRES} {sizes[CADRES]} 人、{PROPERTY} {sizes[PROPERTY]} 人（共 {active} 人），"
        f"每周一、二、四分三批，检测记录 {len(tests)} 条（全员核酸补录 {from_rounds.created} 条）；"
        f"用时 {time.monotonic() - started:.1f} 秒"
    )


def _pools(communities: list[OrgUnit], rng: random.Random) -> dict[int, list[Person]]:
    """Residents aged 20–59 present in each community on START, shuffled."""
    lo, hi = birth_date_bounds_for_age(AGES[0], AGES[1], START)
    out: dict[int, list[Person]] = {}
    for c in communities:
        rows = (
            Resident.objects.filter(
                unit__path__gte=c.path,
                unit__path__lt=c.path_end,
                retired_at__isnull=True,
                left_on__isnull=True,
                living_status__in=PRESENT_STATUSES,
                arrived_on__lte=START,
                birth_date__lte=hi,
            )
            .filter(birth_date__gte=lo)
            .order_by("id")
            .values_list("id", "name", "id_number", "phone")
        )
        people = [Person(*row) for row in rows]
        rng.shuffle(people)
        out[c.pk] = people
    return out


def _made_up_person(rng: random.Random, used: set[str]) -> Person:
    """Someone who works in the street but does not live in it (not in the registry)."""
    while True:
        lo, hi = birth_date_bounds_for_age(AGES[0], AGES[1], START)
        assert lo is not None
        birth = lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))
        first17 = f"150502{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        number = first17 + check_char(first17)
        if number not in used:
            break
    male = int(number[16]) % 2 == 1
    given = GIVEN_MALE if male else GIVEN_FEMALE
    name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
    phone = "1" + rng.choice("3589") + "".join(str(rng.randrange(10)) for _ in range(9))
    return Person(None, name, number, phone)


def _take(rng: random.Random, pool: list[Person], used: set[str]) -> Person:
    while pool:
        p = pool.pop()
        if p.id_number not in used:
            used.add(p.id_number)
            return p
    p = _made_up_person(rng, used)
    used.add(p.id_number)
    return p


def _members(
    ctx: DemoContext,
    rng: random.Random,
    group: Any,
    communities: list[OrgUnit],
    quotas: list[int],
    pools: dict[int, list[Person]],
    used: set[str],
    site_of: dict[int, str],
) -> tuple[list[KeyGroupMember], list[KeyGroupMember]]:
    """The group's member rows (leavers and their replacements, batch moves) and their history versions."""
    rows: list[KeyGroupMember] = []
    versions: list[KeyGroupMember] = []
    workplaces = {
        c.pk: rng.sample(PROPERTY_COMPANIES, k=min(len(PROPERTY_COMPANIES), rng.randint(1, 3))) for c in communities
    }
    days = (LAST_DAY - START).days
    moves_left = max(1, round(BATCH_MOVES * ctx.factor)) if group.name == PROPERTY else 0
    for community, quota in zip(communities, quotas, strict=True):
        for i in range(quota):
            batch = i % len(SCHEDULE) + 1
            workplace = f"{community.name}居民委员会" if group.name == CADRES else rng.choice(workplaces[community.pk])
            joined = START
            leaves = rng.random() < LEAVE_SHARE
            while True:
                person = _take(rng, pools[community.pk], used)
                row = _row(group, community, person, workplace, batch, joined)
                versions.append(_version(row, "+", joined))
                rows.append(row)
                if leaves:
                    left = joined + dt.timedelta(days=rng.randint(14, max(14, days - 14)))
                    if left <= LAST_DAY - dt.timedelta(days=7):
                        row.left_on, row.left_reason = left, rng.choice(LEAVE_REASONS[group.name])
                        versions.append(_version(row, "~", left))
                        joined, leaves = left, False  # the replacement joins that day and stays
                        continue
                if moves_left and rng.random() < 0.05:
                    moves_left -= 1
                    on = START + dt.timedelta(days=rng.randint(30, days - 30))
                    new_batch = batch % len(SCHEDULE) + 1
                    reason = f"调整批次：第{batch}批→第{new_batch}批"
                    row.left_on, row.left_reason = on, reason
                    versions.append(_version(row, "~", on))
                    moved = _row(group, community, person, workplace, new_batch, on)
                    moved.resident_id = row.resident_id
                    versions.append(_version(moved, "+", on, reason))
                    rows.append(moved)
                break
    return rows, versions


def _row(group: Any, community: OrgUnit, person: Person, workplace: str, batch: int, joined: dt.date) -> KeyGroupMember:
    return KeyGroupMember(
        group_id=group.pk,
        resident_id=person.resident_id,
        name=person.name,
        id_number=person.id_number,
        phone=person.phone,
        unit_id=community.pk,
        workplace=workplace,
        batch=batch,
        joined_on=joined,
        left_on=None,
        left_reason="",
    )


def _version(row: KeyGroupMember, kind: str, on: dt.date, reason: str = "") -> KeyGroupMember:
    """A snapshot of the row as it was at ``on`` (its pk is filled in once the row has one)."""
    v = KeyGroupMember(
        group_id=row.group_id,
        resident_id=row.resident_id,
        name=row.name,
        id_number=row.id_number,
        phone=row.phone,
        unit_id=row.unit_id,
        workplace=row.workplace,
        batch=row.batch,
        joined_on=row.joined_on,
        left_on=row.left_on,
        left_reason=row.left_reason or reason,
    )
    v._member = row  # type: ignore[attr-defined]
    v._history_type = kind  # type: ignore[attr-defined]
    v._history_date = start_of_day(on) + dt.timedelta(hours=9)  # type: ignore[attr-defined]
    if kind == "+":
        v.left_on, v.left_reason = None, ""
    return v


def _tests(
    rng: random.Random, members: list[KeyGroupMember], cycles: list[rules.Cycle], site_of: dict[int, str], user_id: int
) -> Iterator[tuple[Any, ...]]:
    """One record per due cycle taken on the day; a few missed, most of them made up in the window."""
    by_group: dict[int, list[rules.Cycle]] = {}
    for c in cycles:
        by_group.setdefault(c.group_id, []).append(c)
    recorded = start_of_day(START)
    for m in members:
        membership = rules.Membership(m.joined_on, m.left_on, m.batch, m.group_id)
        due = rules.due_cycles(membership, by_group.get(m.group_id, []))
        ends = rules.windows(due)
        site = site_of[m.unit_id]
        for c, end in zip(due, ends, strict=True):
            if c.day > LAST_DAY:
                break
            day: dt.date | None = c.day
            if rng.random() < MISSED_SHARE:
                last = min(end, LAST_DAY)
                day = None
                if last > c.day and rng.random() < MADE_UP_SHARE:
                    day = c.day + dt.timedelta(days=rng.randint(1, (last - c.day).days))
            if day is not None:
                at = recorded + dt.timedelta(days=(day - START).days, hours=18)
                yield (m.pk, day, TestSource.ROUTINE.value, None, site, user_id, at)
