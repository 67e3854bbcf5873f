"""核酸检测: demo of mass-testing rounds; routine testing (testing.routine) registers its own beside them.

Seed 000's rounds on the demo street (新城街道), exact at the default size (87,213 people), scaled otherwise:

* 2022-03-22, the year's first whole-street round (第一轮全员核酸检测): 59 sites in 56 compounds, 90 tables,
  1,554 staff; a list of 87,940 people — the residents present that day (81,645 at the default size: the
  demo's population grows over the year to seed 000's 87,213 at its end) plus the people the grid workers
  found living there but not yet registered (imported for the round, 6,295) —; 17,585 of them need no
  sample: 居家隔离 1,236, 集中隔离 312, 居家健康监测 2,049 (screenings of a small street event of March
  2022, 新冠肺炎疫情防控（2022年春）), 48小时内已检 7,788 (a targeted check of key people in ten communities
  on 21 March), 上一轮已采 6,200 (the drill of 18 December 2021 in 辽河社区, the round's previous round; a
  few people quarantined in March were in it too and count once, as 居家隔离); 66,498 sampled (1,312 of
  them made up on 23 March), 677 at home; 3,857 missed.
* 2022-10-11 and 2022-10-13 (三天两检): 74 sites, 144 fixed tables, 15 mobile teams; staff 196 采样,
  179 登记, 577 秩序维护, 26 公安, 18 转运 with 17 vehicles, 13 消杀; the list widened with 3,412 workers of
  sites, shops, enterprises and hotels; 82,535 and 83,143 sampled.
* Eight rounds of one community each from mid-November to mid-December (their lists exempt the people
  the autumn event quarantined), so the year has twelve rounds (seed: "完成共10余轮"); on 9 December a
  pooled tube is positive: its ten members are handed over to the autumn event (移交隔离), re-sampled alone
  the next day (one is still on the re-sampling list) and released.

The lists are built by services.build_roster (the real rules); plans, samples, tubes and results are
written in bulk (core.bulk, COPY on PostgreSQL). See docs/testing.md.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils import timezone

import testing.routine.demo  # noqa: F401
from core.audit import stamp
from core.bulk import analyze, insert_history, insert_rows, reserve_ids
from core.demo import SEED_000, DemoContext, demo_step, split_quota
from orgunits.models import Level, OrgUnit
from registry.demo import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from registry.models import Resident
from registry.rules import check_char
from testing import services
from testing.models import (
    POOL_SIZE,
    Round,
    RoundStaff,
    RoundStatus,
    Sample,
    SampleType,
    SamplingSite,
    SamplingTable,
    ShouldSample,
    TableKind,
    Tube,
    TubeResult,
)
from testing.services import ROSTER_COLUMNS, RoundData, present_residents_q

if TYPE_CHECKING:
    from accounts.models import User
    from outbreak.models import Event

LAST_DAY = dt.date(2022, 12, 31)
DRILL = dt.date(2021, 12, 18)
TARGETED = dt.date(2022, 3, 21)
MARCH = dt.date(2022, 3, 22)
OCTOBER = (dt.date(2022, 10, 11), dt.date(2022, 10, 13))
LATER = [dt.date(2022, 11, 15) + dt.timedelta(days=4 * k) for k in range(8)]  # 11-15 … 12-13, one community each
POSITIVE_ROUND = 6  # index in LATER: the round of 9 December
SPRING_EVENT = ("新冠肺炎疫情防控（2022年春）", dt.date(2022, 3, 12), dt.date(2022, 4, 10))
LAB = "新城卫生服务中心核酸检测实验室"

# Seed 000's figures (default size); each is scaled by the demo size.
SEED = {
    "march_roster": 87_940,
    "march_home": 1_236,
    "march_central": 312,
    "march_monitoring": 2_049,
    "march_recent": 7_788,
    "march_previous": 6_200,
    "march_sampled": 66_498,
    "march_made_up": 1_312,
    "march_door": 677,
    "march_sites": 59,
    "march_compounds": 56,
    "march_tables": 90,
    "oct_sites": 74,
    "oct_tables": 144,
    "oct_mobile": 15,
    "oct_workers": 3_412,
    "oct_sampled_1": 82_535,
    "oct_sampled_2": 83_143,
    "oct_made_up": 806,
    "oct_door": 612,
}
MARCH_STAFF = {"sampler": 90, "registrar": 90, "order": 1_216, "police": 58, "transport": 36, "disinfection": 64}
MARCH_VEHICLES = 32
OCT_STAFF = {"sampler": 196, "registrar": 179, "order": 577, "police": 26, "transport": 18, "disinfection": 13}
OCT_VEHICLES = 17
WORKER_KINDS = [("工地", 38), ("商铺", 33), ("企业", 19), ("酒店", 10)]  # per cent of the workers
COMPOUND_WORDS = (
    "金都 璟苑 龙兴 泰丰 辽河 明仁 永兴 和谐 民主 幸福 胜利 光明 "
    "阳光 锦绣 御景 和平 春晖 丽都 华府 滨河 翠湖 紫荆 怡和 东方"
).split()
COMPOUND_KINDS = ["花园", "小区", "家园", "名苑", "新村", "雅居"]
SITE_PLACES = ["东门广场", "南门", "北门停车场", "中心广场", "物业服务中心前", "活动中心", "篮球场", "西门"]
REPEAT_SHARE = 0.001  # people swabbed twice in a round (counted once, flagged)
WORKPLACES = {"工地": "建筑工地", "商铺": "便民超市", "企业": "商贸公司", "酒店": "宾馆"}
NOBODY: frozenset[int] = frozenset()


# Asia/Shanghai has kept UTC+8 all year since 1991: a fixed offset is the same instant, and converts far faster
# for the hundreds of thousands of sample times.
CST = dt.timezone(dt.timedelta(hours=8))


def _at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=CST)


def _sqlite_time(value: dt.datetime) -> Any:
    """A time as core.bulk.insert_rows would store it on SQLite (naive UTC text, Django's storage format),
    computed here once per value; on PostgreSQL COPY takes the aware value itself (_same)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")


def _same(value: dt.datetime) -> Any:
    return value


@dataclass
class Person:
    pk: int | None
    name: str
    id_number: str
    phone: str
    unit_id: int
    community: int


@dataclass
class Plan:
    round: Round
    sites: list[SamplingSite]
    fixed: dict[int, list[int]] = field(default_factory=dict)  # site id -> fixed table ids
    mobile: dict[int, list[int]] = field(default_factory=dict)  # site id -> mobile table ids


@demo_step("testing", order=50)
def build_rounds(ctx: DemoContext) -> None:
    if ctx.on < LAST_DAY:
        ctx.log("全员核酸：基准日早于2022年末，未生成演示数据")
        return
    started = time.monotonic()
    street: OrgUnit = ctx.data["street"]
    from familyplanning.demo import _demo_user

    demo = _Demo(ctx, street, _demo_user(street))
    drill = demo.drill()
    targeted = demo.targeted()
    march = demo.march(drill)
    october = demo.october()
    later = demo.later()
    if connection.vendor == "postgresql":
        analyze(ShouldSample, Sample, Tube, TubeResult)
    rounds = [drill, targeted, march, *october, *later]
    ctx.data["testing"] = {"rounds": [r.pk for r in rounds], "march": march.pk, "october": [r.pk for r in october]}
    samples = Sample.objects.filter(round__in=rounds).count()
    ctx.log(
        f"全员核酸：{len(rounds) - 1} 轮（2022年）及 2021 年演练 1 轮，采样 {samples} 人次；"
        f"用时 {time.monotonic() - started:.1f} 秒"
    )


class _Demo:
    def __init__(self, ctx: DemoContext, street: OrgUnit, user: User) -> None:
        self.ctx, self.rng, self.street, self.user = ctx, ctx.rng, street, user
        self.communities = list(
            OrgUnit.objects.filter(street.subtree_q(), level=Level.COMMUNITY, retired_on__isnull=True).order_by("path")
        )
        self.community_of: dict[int, int] = {}
        self.buildings: dict[int, list[OrgUnit]] = {}
        for c in self.communities:
            self.buildings[c.pk] = list(
                OrgUnit.objects.filter(c.subtree_q(), level=Level.BUILDING, retired_on__isnull=True).order_by("path")
            )
            for b in self.buildings[c.pk]:
                self.community_of[b.pk] = c.pk
        # The street's share of seed 000's street: 1 at the default size (87,213 people on the street), and
        # right for the first street of a larger district too (the rounds are that street's).
        people = Resident.objects.filter(street.subtree_q("unit__"), retired_at__isnull=True, left_on__isnull=True)
        self.factor = people.count() / SEED_000["residents"]
        self.used_ids: set[str] = set(Resident.objects.values_list("id_number", flat=True))
        self.used_phones: set[str] = set()
        self.serial = 0

    # ---- people ---------------------------------------------------------------------------------------------------

    def present(self, on: dt.date, communities: Sequence[OrgUnit] | None = None) -> list[Person]:
        qs = Resident.objects.filter(present_residents_q(on), self.street.subtree_q("unit__"))
        rows = qs.order_by("id").values_list("id", "name", "id_number", "phone", "unit_id")
        people = [Person(pk, n, i, p, u, self.community_of.get(u, 0)) for pk, n, i, p, u in rows]
        if communities is not None:
            wanted = {c.pk for c in communities}
            people = [p for p in people if p.community in wanted]
        return people

    def new_person(self) -> tuple[str, str, str]:
        rng = self.rng
        while True:
            birth = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 42))
            region = rng.choice(["150102", "150203", "152301", "152326", "130102", "230103", "210102"])
            seq = rng.randint(0, 999)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + check_char(first17)
            if number not in self.used_ids:
                self.used_ids.add(number)
                break
        female = seq % 2 == 0
        name = rng.choice(SURNAMES) + "".join(
            rng.choice(GIVEN_FEMALE if female else GIVEN_MALE) for _ in range(rng.choice((1, 2)))
        )
        return name, number, self.phone()

    def n(self, key: str) -> int:
        """A seed figure scaled to the street."""
        return round(SEED[key] * self.factor)

    def phone(self) -> str:
        while True:
            phone = "1" + self.rng.choice("3578") + f"{self.rng.randrange(10**9):09d}"
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    # ---- rounds and plans -----------------------------------------------------------------------------------------

    def round(
        self,
        name: str,
        starts: dt.date,
        *,
        ends: dt.date | None = None,
        scope: Sequence[OrgUnit] | None = None,
        recent: int = 48,
        previous: Round | None = None,
        note: str = "",
    ) -> Round:
        return services.create_round(
            unit=self.street,
            data=RoundData(
                name=name,
                sample_type=SampleType.POOLED,
                starts_on=starts,
                ends_on=ends or starts,
                scope_units=list(scope or self.communities),
                recent_test_hours=recent,
                previous_round=previous,
                table_rate_per_hour=120,
                note=note,
            ),
            by=self.user,
        )

    def plan(
        self,
        round_: Round,
        communities: Sequence[OrgUnit],
        *,
        sites: int,
        compounds: int,
        fixed: int,
        mobile: int,
        staff: dict[str, int],
        vehicles: int,
    ) -> Plan:
        """Sites over the communities (by their buildings), each serving a run of its community's buildings;
        tables by the people they serve; staff by role (samplers and registrars one per table first)."""
        sites = max(sites, len(communities))
        per_community = split_quota(sites, [len(self.buildings[c.pk]) for c in communities])
        for i, n in enumerate(per_community):  # every community gets a site
            if n == 0:
                j = per_community.index(max(per_community))
                per_community[j] -= 1
                per_community[i] = 1
        names = self.compound_names(max(1, min(compounds, sites)))
        # Compounds: one per site, but the last (sites - compounds) sites share their community's previous compound.
        shared = sites - len(names)
        site_rows: list[SamplingSite] = []
        building_of_site: list[list[OrgUnit]] = []
        k = 0
        for community, n in zip(communities, per_community, strict=True):
            blocks = split_quota(len(self.buildings[community.pk]), [1] * n)
            start = 0
            for j in range(n):
                two = shared > 0 and j > 0
                compound = names[min(k - 1 if two else k, len(names) - 1)]
                if two:
                    shared -= 1
                else:
                    k += 1
                place = SITE_PLACES[j % len(SITE_PLACES)]
                site_rows.append(
                    SamplingSite(
                        round=round_,
                        unit=community,
                        name=f"{community.name}{j + 1}号采样点",
                        location=f"{compound} {place}",
                        leader=self.new_person()[0],
                        leader_phone=self.phone(),
                    )
                )
                building_of_site.append(self.buildings[community.pk][start : start + blocks[j]])
                start += blocks[j]
        created = SamplingSite.objects.bulk_create(site_rows)
        through = SamplingSite.buildings.through
        through.objects.bulk_create(
            [
                through(samplingsite_id=s.pk, orgunit_id=b.pk)
                for s, bs in zip(created, building_of_site, strict=True)
                for b in bs
            ]
        )
        people = [sum(1 for _ in bs) for bs in building_of_site]
        fixed_counts = [1 + x for x in split_quota(max(0, fixed - len(created)), people)]
        mobile_sites = sorted(range(len(created)), key=lambda i: -people[i])[:mobile]
        tables: list[SamplingTable] = []
        for i, s in enumerate(created):
            tables += [SamplingTable(site=s, kind=TableKind.FIXED, number=t + 1) for t in range(fixed_counts[i])]
            if i in mobile_sites:
                tables.append(SamplingTable(site=s, kind=TableKind.MOBILE, number=1))
        made = SamplingTable.objects.bulk_create(tables)
        plan = Plan(round=round_, sites=created)
        for t in made:
            (plan.fixed if t.kind == TableKind.FIXED else plan.mobile).setdefault(t.site_id, []).append(t.pk)
        self.staff(round_, created, made, staff, vehicles)
        return plan

    def compound_names(self, count: int) -> list[str]:
        names = [f"{w}{kind}" for w in COMPOUND_WORDS for kind in COMPOUND_KINDS]
        self.rng.shuffle(names)
        out = names[:count]
        while len(out) < count:
            out.append(f"{self.rng.choice(COMPOUND_WORDS)}{len(out)}区")
        return out

    def staff(
        self,
        round_: Round,
        sites: list[SamplingSite],
        tables: list[SamplingTable],
        counts: dict[str, int],
        vehicles: int,
    ) -> None:
        rows = []
        per_table = {"sampler": tables, "registrar": [t for t in tables if t.kind == TableKind.FIXED]}
        orgs = {
            "sampler": ["新城卫生服务中心", "市第二人民医院", "区中医院", "社区卫生服务站"],
            "registrar": ["社区工作人员", "包联单位", "志愿者"],
            "order": ["社区干部", "包联干部", "志愿者"],
            "police": ["新城派出所"],
            "transport": ["区疾控中心转运组"],
            "disinfection": ["物业公司", "街道消杀组"],
        }
        plates = [f"蒙G{self.rng.randrange(10**5):05d}" for _ in range(max(1, vehicles))]
        for role, n in counts.items():
            placed = per_table.get(role, [])
            for k in range(n):
                table = placed[k] if k < len(placed) else None
                site = table.site if table is not None else (sites[k % len(sites)] if role != "transport" else None)
                plate = plates[k if k < len(plates) else k - len(plates)] if role == "transport" else ""
                name, _id, phone = self.new_person()
                rows.append(
                    (
                        round_.pk,
                        site.pk if site else None,
                        table.pk if table else None,
                        role,
                        name,
                        phone,
                        self.rng.choice(orgs[role]),
                        plate,
                    )
                )
        insert_rows(
            RoundStaff,
            (
                "round_id",
                "site_id",
                "table_id",
                "role",
                "name",
                "phone",
                "organisation",
                "vehicle_plate",
                "retired_reason",
            ),
            ((*row, "") for row in rows),
        )

    # ---- the list and the samples ---------------------------------------------------------------------------------

    def extras(
        self,
        round_: Round,
        count: int,
        *,
        kinds: Sequence[tuple[str, int]] = (),
        workers: list[tuple[Any, ...]] | None = None,
    ) -> list[tuple[Any, ...]]:
        """People added to the round's list (not residents): workers of a kind, or people found living there."""
        sites = services._site_map(round_)
        if workers is None:
            workers = []
            kind_list = [""] * count
            if kinds:
                quotas = split_quota(count, [w for _k, w in kinds])
                kind_list = [k for (k, _w), n in zip(kinds, quotas, strict=True) for _ in range(n)]
            all_buildings = [b for c in self.communities for b in self.buildings[c.pk]]
            for kind in kind_list:
                name, number, phone = self.new_person()
                building = self.rng.choice(all_buildings)
                place = f"{self.rng.choice(COMPOUND_WORDS)}{WORKPLACES[kind]}" if kind else ""
                workers.append((name, number, phone, building.pk, place, kind))
        insert_rows(
            ShouldSample,
            ROSTER_COLUMNS,
            (
                (round_.pk, None, name, number, phone, unit, sites.get(unit), "", "", False, place, kind)
                for name, number, phone, unit, place, kind in workers
            ),
        )
        return workers

    def sample(
        self,
        plan: Plan,
        rows: list[tuple[Any, ...]],
        day: dt.date,
        *,
        door: Collection[int] = NOBODY,
        make_up: Collection[int] = NOBODY,
        make_up_day: dt.date | None = None,
        single: bool = False,
    ) -> list[tuple[int, Any]]:
        """Swab the list rows ``rows`` (id, resident_id, name, id_number, phone, site_id): tubes of ten filled at
        the site's tables (door-to-door ones by its mobile team when it has one); ``make_up`` ids on the next
        day; a few people twice. Returns (sample id, tube id) of each first sample."""
        round_ = plan.round
        rng = self.rng
        _db_time = _sqlite_time if connection.vendor == "sqlite" else _same
        capacity = 1 if single else round_.tube_capacity
        by_table: dict[tuple[int, bool], list[tuple[Any, ...]]] = defaultdict(list)
        for row in rows:
            site = row[5]
            at_home = row[0] in door
            later = row[0] in make_up
            tables = (
                (plan.mobile.get(site) if at_home else None) or plan.fixed.get(site) or next(iter(plan.fixed.values()))
            )
            by_table[(tables[int(rng.random() * len(tables))], later)].append((*row, at_home, later))
        repeats = [r for r in rows if rng.random() < REPEAT_SHARE]
        tube_rows: list[tuple[Any, ...]] = []
        sample_rows: list[tuple[Any, ...]] = []
        first_ids: dict[str, int] = {}
        out: list[tuple[int, Any]] = []
        groups = sorted(by_table.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        total = sum(len(v) for _k, v in groups) + len(repeats)
        tube_ids = iter(reserve_ids(Tube, sum(-(-len(v) // capacity) for _k, v in groups) + len(repeats)))
        sample_ids = iter(reserve_ids(Sample, total))
        seq = 0
        now = timezone.now()
        for (table_id, later), people in groups:
            when_day = (make_up_day or day) if later else day
            clock = _at(when_day, 7, rng.randint(0, 40))
            for start in range(0, len(people), capacity):
                chunk = people[start : start + capacity]
                tube_id = next(tube_ids)
                opened = clock
                for position, (_rid, resident, name, number, phone, _site, at_home, mk) in enumerate(chunk, start=1):
                    sid = next(sample_ids)
                    seq += 1
                    sample_rows.append(
                        (
                            sid,
                            round_.pk,
                            tube_id,
                            position,
                            f"demo-{sid}",
                            resident,
                            name,
                            number,
                            phone,
                            table_id,
                            at_home,
                            mk,
                            _db_time(clock),
                            _db_time(clock + dt.timedelta(seconds=1 + int(rng.random() * 90))),
                            self.user.pk,
                            None,
                        )
                    )
                    first_ids[number] = sid
                    out.append((sid, tube_id))
                    clock += dt.timedelta(
                        seconds=18 + int(rng.random() * 23) if not at_home else 300 + int(rng.random() * 300)
                    )
                tube_rows.append(
                    (
                        tube_id,
                        round_.pk,
                        f"{round_.pk:03d}{tube_id:08d}",
                        table_id,
                        capacity,
                        len(chunk),
                        _db_time(opened),
                        self.user.pk,
                        clock,
                    )
                )
        for _rid, resident, name, number, phone, site in repeats:
            table_id = (plan.fixed.get(site) or next(iter(plan.fixed.values())))[0]
            tube_id, sid = next(tube_ids), next(sample_ids)
            seq += 1
            when = _at(day, 17, rng.randint(0, 59))
            tube_rows.append(
                (
                    tube_id,
                    round_.pk,
                    f"{round_.pk:03d}{tube_id:08d}",
                    table_id,
                    capacity,
                    1,
                    _db_time(when),
                    self.user.pk,
                    when,
                )
            )
            sample_rows.append(
                (
                    sid,
                    round_.pk,
                    tube_id,
                    1,
                    f"demo-{sid}",
                    resident,
                    name,
                    number,
                    phone,
                    table_id,
                    False,
                    False,
                    _db_time(when),
                    _db_time(when),
                    self.user.pk,
                    first_ids[number],
                )
            )
        insert_rows(
            Tube,
            ("id", "round_id", "barcode", "table_id", "capacity", "filled", "opened_at", "opened_by_id", "closed_at"),
            ((*t[:8], _db_time(t[8])) for t in tube_rows),
        )
        insert_rows(
            Sample,
            (
                "id",
                "round_id",
                "tube_id",
                "position",
                "client_id",
                "resident_id",
                "name",
                "id_number",
                "phone",
                "table_id",
                "door_to_door",
                "make_up",
                "taken_at",
                "received_at",
                "operator_id",
                "repeat_of_id",
            ),
            sample_rows,
        )
        insert_rows(
            TubeResult,
            ("tube_id", "result", "tested_at", "lab", "recorded_by_id", "recorded_at", "correction_reason"),
            (
                (t[0], "negative", _db_time(t[8] + dt.timedelta(hours=6)), LAB, self.user.pk, _db_time(now), "")
                for t in tube_rows
            ),
        )
        return out

    def roster_rows(self, round_: Round, **filters: Any) -> list[tuple[Any, ...]]:
        return list(
            ShouldSample.objects.filter(round=round_, **filters)
            .order_by("id")
            .values_list("id", "resident_id", "name", "id_number", "phone", "site_id")
        )

    def pick(self, rows: list[tuple[Any, ...]], count: int) -> list[tuple[Any, ...]]:
        """``count`` of the rows, at random (in the order drawn)."""
        rows = list(rows)
        self.rng.shuffle(rows)
        return rows[: max(0, min(count, len(rows)))]

    def close(self, round_: Round) -> None:
        round_.status = RoundStatus.CLOSED
        stamp(round_, by=self.user, reason="本轮结束")
        round_.save(update_fields=["status"])

    # ---- the rounds -----------------------------------------------------------------------------------------------

    def drill_community(self) -> OrgUnit:
        sizes: dict[int, int] = defaultdict(int)
        for p in self.present(MARCH):
            sizes[p.community] += 1
        return max(self.communities, key=lambda c: (sizes[c.pk], -c.pk))

    def drill(self) -> Round:
        """18 December 2021: the drill in one community; its sampled people need no sample on 22 March."""
        self.drill_at = self.drill_community()
        r = self.round("全员核酸检测演练", DRILL, scope=[self.drill_at], recent=0, note="演练")
        plan = self.plan(
            r,
            [self.drill_at],
            sites=4,
            compounds=4,
            fixed=8,
            mobile=1,
            staff={"sampler": 9, "registrar": 8, "order": 30, "police": 2, "transport": 2, "disinfection": 2},
            vehicles=1,
        )
        services.build_roster(round_=r, by=self.user, analyze_after=False)
        self.drill_plan = plan
        self.close(r)
        return r

    def targeted(self) -> Round:
        """21 March 2022: key people of the other communities checked the day before the round (48小时核酸)."""
        others = [c for c in self.communities if c.pk != self.drill_at.pk]
        march = self.present(MARCH, others)
        self.rng.shuffle(march)
        self.march_people = march
        count = self.n("march_recent")
        chosen = march[:count]
        self.recent_ids = {p.id_number for p in chosen}
        r = self.round("重点人群核酸检测", TARGETED, scope=others, recent=0, note="对重点行业、重点人群先行检测")
        plan = self.plan(
            r,
            others,
            sites=len(others),
            compounds=len(others),
            fixed=len(others) * 2,
            mobile=0,
            staff={
                "sampler": len(others) * 2,
                "registrar": len(others) * 2,
                "order": len(others) * 4,
                "police": 1,
                "transport": 2,
                "disinfection": 2,
            },
            vehicles=2,
        )
        sites = services._site_map(r)
        insert_rows(
            ShouldSample,
            ROSTER_COLUMNS,
            (
                (r.pk, p.pk, p.name, p.id_number, p.phone, p.unit_id, sites.get(p.unit_id), "", "", False, "", "")
                for p in chosen
            ),
        )
        r.roster_built_at = timezone.now()
        r.save(update_fields=["roster_built_at"])
        self.sample(plan, self.roster_rows(r), TARGETED)
        self.close(r)
        return r

    def march(self, drill: Round) -> Round:
        rng = self.rng
        drilled = set(ShouldSample.objects.filter(round=drill).values_list("id_number", flat=True))
        drill_people = [p for p in self.present(MARCH, [self.drill_at]) if p.id_number in drilled]
        rng.shuffle(drill_people)
        pool = [p for p in self.march_people if p.id_number not in self.recent_ids]
        quarantined = self.spring_event(pool, drill_people)
        exempt = self.recent_ids | quarantined
        previous = [p for p in drill_people if p.id_number not in exempt][: self.n("march_previous")]
        overlap = [p for p in drill_people if p.id_number in quarantined]
        drilled_now = {p.id_number for p in previous + overlap}
        drill_rows = [r for r in self.roster_rows(drill) if r[3] in drilled_now]
        self.sample(self.drill_plan, drill_rows, DRILL)

        r = self.round("第一轮全员核酸检测", MARCH, previous=drill, note="全员核酸检测演练")
        plan = self.plan(
            r,
            self.communities,
            sites=self.n("march_sites"),
            compounds=self.n("march_compounds"),
            fixed=self.n("march_tables"),
            mobile=0,
            staff={k: max(1, round(v * self.factor)) for k, v in MARCH_STAFF.items()},
            vehicles=max(1, round(MARCH_VEHICLES * self.factor)),
        )
        services.build_roster(round_=r, by=self.user, analyze_after=False)
        listed = ShouldSample.objects.filter(round=r).count()
        self.extras(r, max(0, self.n("march_roster") - listed))  # living there, not yet registered
        r.roster_built_at = timezone.now()
        r.save(update_fields=["roster_built_at"])
        self.run(plan, sampled=self.n("march_sampled"), made_up=self.n("march_made_up"), door=self.n("march_door"))
        self.close(r)
        return r

    def spring_event(self, pool: list[Person], drill_people: list[Person]) -> set[str]:
        """A small street event of March 2022 whose screenings put people under the three measures on the 22nd
        (and a few released before it, who do not count); returns the ID numbers under a measure."""
        from outbreak import services as ob
        from outbreak.demo import _counts_by_day
        from outbreak.models import DailyReport, EventStatus, Finding, Screening

        rng = self.rng
        name, start, end = SPRING_EVENT
        event = ob.create_event(
            unit=self.street,
            name=name,
            disease="新型冠状病毒肺炎",
            started_on=start,
            report_deadline=dt.time(17, 0),
            by=self.user,
        )
        wanted = [
            ("home", self.n("march_home"), 14),
            ("central", self.n("march_central"), 14),
            ("monitoring", self.n("march_monitoring"), 7),
        ]
        overlap = drill_people[
            : max(1, round(60 * self.factor))
        ]  # drilled in December, at home now: counted as 居家隔离
        people = list(pool)
        rng.shuffle(people)
        chosen: list[tuple[Person, str, int]] = []
        taken = 0
        for measure, count, length in wanted:
            group = (overlap if measure == "home" else []) + people[
                taken : taken + count - (len(overlap) if measure == "home" else 0)
            ]
            taken += count - (len(overlap) if measure == "home" else 0)
            chosen += [(p, measure, length) for p in group]
        released_early = people[taken : taken + max(1, round(30 * self.factor))]
        origins = {"home": "上海市浦东新区", "central": "吉林省长春市", "monitoring": "辽宁省沈阳市"}
        screenings: list[Screening] = []
        ids = iter(reserve_ids(Screening, len(chosen) + len(released_early)))
        now = timezone.now()
        residents = Resident.objects.in_bulk([p.pk for p, _m, _d in chosen] + [p.pk for p in released_early])
        rows = [(p, m, d, False) for p, m, d in chosen] + [(p, "home", 7, True) for p in released_early]
        for p, measure, length, early in rows:
            arrival = MARCH - dt.timedelta(days=rng.randint(8, 12) if early else rng.randint(0, length - 1))
            release = arrival + dt.timedelta(days=length)
            resident = residents[p.pk]
            s = Screening(
                pk=next(ids),
                event=event,
                unit_id=p.unit_id,
                person_id=p.pk,
                household_id=resident.household_id,
                name=p.name,
                id_number=p.id_number,
                phone=p.phone,
                address="",
                from_area=origins[measure],
                risk_level="medium" if measure == "home" else "high" if measure == "central" else "low",
                arrival_date=arrival,
                person_kind="arrival",
                measure=measure,
                measure_start=arrival,
                measure_end=release,
                status="released",
                status_since=release,
                released_on=release,
                notice_number="",
                created_by=self.user,
                created_at=now,
                updated_at=now,
            )
            s._history_date = _at(arrival, 10)  # type: ignore[attr-defined]
            screenings.append(s)
        from core.bulk import insert_objects

        insert_objects(Screening, screenings)
        insert_history(Screening, screenings, user_id=self.user.pk, reason="摸排登记", default_date=now)
        insert_rows(
            Finding,
            ("screening_id", "found_by", "found_on", "note", "recorded_by_id", "recorded_at"),
            (
                (s.pk, rng.choice(["grid", "big_data", "self_report"]), s.arrival_date, "", self.user.pk, now)
                for s in screenings
            ),
        )
        days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
        reports = []
        for community in self.communities:
            counts = _counts_by_day(event, community, days)
            for day in days:
                quiet = not any(counts[day][k] for k in ("new_screened", "alerts", "released"))
                reports.append(
                    DailyReport(
                        event=event,
                        unit=community,
                        date=day,
                        is_zero=quiet,
                        counts=counts[day],
                        text="" if quiet else "各项管控措施落实到位。",
                        submitted_by=self.user,
                        submitted_at=_at(day, 15, rng.randint(0, 59)),
                    )
                )
        DailyReport.objects.bulk_create(reports, batch_size=2000)
        event.ended_on, event.status = end, EventStatus.CLOSED
        stamp(event, by=self.user, reason="疫情平稳，事件结束")
        event.save(update_fields=["ended_on", "status"])
        return {p.id_number for p, _m, _d in chosen}

    def run(
        self, plan: Plan, *, sampled: int, made_up: int, door: int, make_up_day: dt.date | None = None
    ) -> list[tuple[int, Any]]:
        """Swab ``sampled`` of the round's should-sample people (door-to-door ones first among those marked)."""
        r = plan.round
        should = self.roster_rows(r, exemption="")
        marked = set(
            ShouldSample.objects.filter(round=r, exemption="", needs_door_to_door=True).values_list("id", flat=True)
        )
        chosen = self.pick(should, sampled)
        chosen_ids = {row[0] for row in chosen}
        at_home = [x for x in self.pick([row for row in chosen if row[0] in marked], door)]
        if len(at_home) < door:
            at_home += self.pick([row for row in chosen if row[0] not in marked], door - len(at_home))
        home_ids = {x[0] for x in at_home}
        later = {row[0] for row in self.pick([row for row in chosen if row[0] not in home_ids], made_up)}
        assert len(chosen_ids) == min(sampled, len(should))
        return self.sample(
            plan,
            chosen,
            r.starts_on,
            door={x[0] for x in at_home},
            make_up=later,
            make_up_day=make_up_day or r.ends_on + dt.timedelta(days=1),
        )

    def october(self) -> list[Round]:
        out = []
        workers = None
        for k, day in enumerate(OCTOBER):
            r = self.round(
                f"全员核酸检测（{day.month}月{day.day}日）",
                day,
                recent=48 if k == 0 else 0,
                note="三天两检；纳入辖区工地、商铺、企业、酒店等从业人员",
            )
            plan = self.plan(
                r,
                self.communities,
                sites=self.n("oct_sites"),
                compounds=self.n("oct_sites"),
                fixed=self.n("oct_tables"),
                mobile=max(1, self.n("oct_mobile")),
                staff={key: max(1, round(v * self.factor)) for key, v in OCT_STAFF.items()},
                vehicles=max(1, round(OCT_VEHICLES * self.factor)),
            )
            services.build_roster(round_=r, by=self.user, analyze_after=False)
            workers = self.extras(r, self.n("oct_workers"), kinds=WORKER_KINDS, workers=workers)
            self.run(
                plan,
                sampled=self.n(f"oct_sampled_{k + 1}"),
                made_up=self.n("oct_made_up") if k == 0 else 0,
                door=self.n("oct_door"),
            )
            self.close(r)
            out.append(r)
        return out

    def later(self) -> list[Round]:
        """Eight rounds of one community each (mid-November to mid-December); a positive pool on 9 December."""
        from outbreak.demo import demo_event

        event = demo_event()
        out = []
        for k, day in enumerate(LATER):
            community = (
                self.communities[(k + 1) % len(self.communities)] if len(self.communities) > 1 else self.communities[0]
            )
            positive = k == POSITIVE_ROUND and event is not None
            r = self.round(
                f"全员核酸检测（{day.month}月{day.day}日）",
                day,
                ends=day + dt.timedelta(days=1) if positive else day,
                scope=[community],
                note="根据疫情形势对本社区开展全员核酸检测",
            )
            plan = self.plan(
                r,
                [community],
                sites=4,
                compounds=3,
                fixed=8,
                mobile=1,
                staff={"sampler": 9, "registrar": 8, "order": 24, "police": 2, "transport": 2, "disinfection": 2},
                vehicles=1,
            )
            services.build_roster(round_=r, by=self.user, analyze_after=False)
            should = ShouldSample.objects.filter(round=r, exemption="").count()
            swabbed = self.run(
                plan,
                sampled=round(should * self.rng.uniform(0.9, 0.96)),
                made_up=0,
                door=max(1, round(40 * self.factor)),
            )
            if positive:
                assert event is not None
                self.positive(plan, swabbed, event)
            self.close(r)
            out.append(r)
        return out

    def positive(self, plan: Plan, swabbed: list[tuple[int, Any]], event: Event) -> None:
        """A pooled tube positive: handed over (移交隔离), members re-sampled alone next day, released after."""
        from outbreak import services as ob
        from outbreak.demo import _counts_by_day
        from outbreak.models import DailyReport

        r = plan.round
        full = defaultdict(list)
        for sid, tube in swabbed:
            full[tube].append(sid)
        tube_id = next(t for t, members in full.items() if len(members) == POOL_SIZE)
        tube = Tube.objects.get(pk=tube_id)
        TubeResult.objects.filter(tube=tube).update(result="positive")
        next_day = r.starts_on + dt.timedelta(days=1)
        handed = services.hand_over_positive(tube=tube, event=event, by=self.user, measure="home", today=next_day)
        members = list(Sample.objects.filter(tube=tube).order_by("position"))
        rows = [(0, s.resident_id, s.name, s.id_number, s.phone, tube.table.site_id) for s in members[:-1]]
        mobile_plan = Plan(
            round=r,
            sites=plan.sites,
            fixed={tube.table.site_id: (plan.mobile.get(tube.table.site_id) or plan.fixed[tube.table.site_id])},
        )
        self.sample(mobile_plan, rows, next_day, single=True)  # the last member is still to re-sample
        released = next_day + dt.timedelta(days=2)
        for s in handed.screenings[:-1]:
            if s.status == "tracking" and s.measure_end is None:  # not one merged into an earlier screening
                ob.release(screening=s, on=released, by=self.user, note="单管复核阴性")
        community = r.scope_units.get()
        days = list(
            DailyReport.objects.filter(event=event, unit=community, date__gte=r.starts_on)
            .values_list("date", flat=True)
            .distinct()
        )
        counts = _counts_by_day(event, community, days)
        for report in DailyReport.objects.filter(event=event, unit=community, date__gte=r.starts_on):
            report.counts = counts[report.date]
            report.is_zero = report.is_zero and not counts[report.date].get("new_screened")
            report.save(update_fields=["counts", "is_zero"])
