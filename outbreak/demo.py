"""Demo 疫情防控 ledgers: the demo district's 2022 autumn–winter COVID-19 response on the demo street.

The event runs from 1 October 2022; risk areas come from a csv (services.import_risk_areas) and end
on 6 December 2022, when the national "新十条" stopped risk-area measures; the measure rules are
2022's practice (第九版方案): high-risk area → 7 days central quarantine, medium → 7 days home
quarantine, low → 3 days home health monitoring, close contacts → 5 days central quarantine (the 3
home days that followed are not modelled: one measure per person and event).

Screenings (a few dozen per community of the first street, residents and visitors, ~5 % found a
second time and merged), releases and the one 失访 person go through the services, as a grid
worker's taps would. The many rows — twice-daily follow-ups, checkpoint crossings, daily reports —
are written with bulk_create, built by the same rules (fevers and the quota breach do go through the
services, so their alerts and breach text are the real ones).

龙兴社区 (the first community) reproduces seed 004's snapshot on SNAPSHOT: 居家隔离14户46人,
集中隔离17人 (outbreak.indicators on that date says so; see the tests).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Min, Q
from django.utils import timezone

from core.demo import DemoContext, demo_step, split_quota
from familyplanning.demo import _demo_user
from orgunits.models import Level, OrgUnit
from outbreak import rules, services
from outbreak.models import (
    Alert,
    AlertKind,
    Checkpoint,
    CheckpointEntry,
    DailyReport,
    Direction,
    DutyShift,
    Event,
    Finding,
    FollowUp,
    HealthCode,
    Measure,
    MeasureRule,
    PassRule,
    PersonKind,
    RiskArea,
    Screening,
    TrackingStatus,
    VehicleType,
)
from outbreak.services import CrossingData, ScreeningData
from registry.demo import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from registry.models import PRESENT_STATUSES, Resident
from registry.rules import check_char

if TYPE_CHECKING:
    from accounts.models import User

EVENT_NAME = "新冠肺炎疫情防控（2022年秋冬）"
DISEASE = "新型冠状病毒肺炎"
STARTED = dt.date(2022, 10, 1)
LAST_DAY = dt.date(2022, 12, 31)  # the demo needs an as-of date at or after it
MEASURES_END = dt.date(2022, 12, 6)  # 新十条 (7 December 2022): no more risk areas
SCREENING_FROM, SCREENING_TO = dt.date(2022, 11, 1), dt.date(2022, 12, 20)
SNAPSHOT = dt.date(2022, 11, 25)  # seed 004's "目前…居家隔离14户46人，集中隔离17人"
SNAPSHOT_HOME = (14, 46)  # households, people
SNAPSHOT_CENTRAL = 17
SNAPSHOT_CLOSE_CONTACTS = 6  # of the 17 central; the others arrived from high-risk areas
CHECKPOINT_WEEK = dt.date(2022, 11, 21)  # seven days from here, inside the strictest weeks
PER_COMMUNITY = 32  # random screenings per community, besides the snapshot
MERGED_SHARE = 0.05
FEVER_SHARE = 0.004  # of the follow-ups
MISSED_SHARE = 0.02
HOUSEHOLDS_AT_GATES = 12  # per checkpoint: households sending one person out every other day
RISK_AREAS_CSV = """地区,风险等级,起始日期,截止日期
内蒙古自治区呼和浩特市赛罕区,高,2022-10-01,2022-12-06
内蒙古自治区呼和浩特市,中,2022-10-01,2022-12-06
新疆维吾尔自治区乌鲁木齐市,高,2022-10-05,2022-12-06
广东省广州市海珠区,高,2022-10-24,2022-12-06
广东省广州市,中,2022-10-24,2022-12-06
重庆市沙坪坝区,高,2022-11-10,2022-12-06
北京市朝阳区,高,2022-11-12,2022-12-06
北京市,中,2022-11-12,2022-12-06
河北省石家庄市,中,2022-11-01,2022-12-06
内蒙古自治区包头市,低,2022-10-01,2022-12-06
辽宁省沈阳市,低,2022-11-01,2022-12-06
"""
# (origin, region code of its ID numbers, weight): the levels follow from the areas above and the date.
ORIGINS = [
    ("内蒙古自治区呼和浩特市赛罕区", "150105", 3),
    ("内蒙古自治区呼和浩特市新城区", "150102", 4),
    ("新疆维吾尔自治区乌鲁木齐市天山区", "650102", 1),
    ("广东省广州市海珠区", "440105", 1),
    ("广东省广州市天河区", "440106", 2),
    ("重庆市沙坪坝区", "500106", 1),
    ("北京市朝阳区", "110105", 1),
    ("北京市海淀区", "110108", 2),
    ("河北省石家庄市长安区", "130102", 2),
    ("内蒙古自治区包头市昆都仑区", "150203", 4),
    ("辽宁省沈阳市和平区", "210102", 2),
    ("辽宁省大连市中山区", "210202", 3),
    ("黑龙江省哈尔滨市南岗区", "230103", 2),
]
LOCAL = "内蒙古自治区通辽市"  # where close contacts were exposed
FOUND_BY = [("grid", 40), ("big_data", 30), ("self_report", 20), ("public_report", 5), ("checkpoint", 5)]
COURIERS = ["顺丰速运", "京东物流", "中通快递", "美团买菜", "超市配送"]
PURPOSES = ["采购生活物资", "就医", "上班（保供人员）", "办事"]


@dataclass
class Team:
    grid_worker: str
    doctor: str
    police: str


@demo_step("outbreak", order=40)
def build_outbreak(ctx: DemoContext) -> None:
    if ctx.on < LAST_DAY:
        ctx.log("疫情防控：基准日早于2022年末，未生成演示数据")
        return
    started = time.monotonic()
    _PRESENT.clear()
    street: OrgUnit = ctx.data["street"]
    user = _demo_user(street)
    communities = list(
        OrgUnit.objects.filter(level=Level.COMMUNITY, path__gte=street.path, path__lt=street.path_end).order_by("path")
    )
    event = _event(ctx.data["district"])
    # The services read the event's areas and rules for every screening: from this cache, not the database.
    event = Event.objects.prefetch_related("risk_areas", "measure_rules").get(pk=event.pk)
    screenings, merged = _screenings(ctx, event, communities, user)
    follow_ups, alerts = _follow_ups(ctx, event, screenings, communities[0], user)
    released = _releases(event, user)
    entries, breaches = _checkpoints(ctx, event, street, communities, user)
    reports = _reports(ctx, event, communities, user)
    _date_history(event)
    _PRESENT.clear()
    ctx.data["outbreak"] = {
        "event": event.pk,
        "screenings": len(screenings),
        "merged": merged,
        "follow_ups": follow_ups,
        "alerts": alerts,
        "released": released,
        "entries": entries,
        "breaches": breaches,
        "reports": reports,
    }
    ctx.log(
        f"疫情防控：{event.name}，摸排 {len(screenings)} 人（重复发现合并 {merged} 次），随访 {follow_ups} 次，"
        f"预警 {alerts} 条，解除 {released} 人；卡口登记 {entries} 人次（超额放行 {breaches}）；"
        f"日报告 {reports} 份；用时 {time.monotonic() - started:.1f} 秒"
    )


def _date_history(event: Event) -> None:
    """Date the history versions the services wrote "now" at the day they stand for, so that the
    history of a demo screening reads like the autumn of 2022 (found, then released) and point-in-time
    reads of the outbreak ledgers work on past dates."""
    opened = _at(event.started_on, 8)
    for model in (Event, RiskArea, MeasureRule, PassRule, Checkpoint):
        history = model.history.model  # type: ignore[union-attr]
        history.objects.filter(
            **({"id": event.pk} if model is Event else {"event_id": event.pk}), history_type="+"
        ).update(history_date=opened)
    found = dict(
        Finding.objects.filter(screening__event=event)
        .values("screening_id")
        .annotate(first=Min("found_on"))
        .values_list("screening_id", "first")
    )
    history = Screening.history.model  # type: ignore[attr-defined]
    versions = list(
        history.objects.filter(event_id=event.pk).order_by("id", "history_id").only("history_id", "id", "status_since")
    )
    changed = []
    previous = opened
    previous_id = None
    for version in versions:
        first_day: dt.date = found.get(version.id) or version.status_since
        when = _at(first_day, 9)
        if version.id == previous_id:
            # A later version: the day its status began (release, transfer …), never before the one before it.
            when = max(_at(max(version.status_since, first_day), 17), previous + dt.timedelta(minutes=1))
        version.history_date = when
        changed.append(version)
        previous, previous_id = when, version.id
    history.objects.bulk_update(changed, ["history_date"], batch_size=1000)


def _event(district: OrgUnit) -> Event:
    """The district's event, its risk areas and its rules, entered by the district's demo login."""
    admin = _district_user(district)
    event = services.create_event(
        unit=district,
        name=EVENT_NAME,
        disease=DISEASE,
        started_on=STARTED,
        report_deadline=dt.time(17, 0),
        by=admin,
    )
    result = services.import_risk_areas(event=event, csv_text=RISK_AREAS_CSV, by=admin)
    assert not result.errors, result.errors
    for kind, level, measure, days in (
        (PersonKind.ARRIVAL, "high", Measure.CENTRAL_QUARANTINE, 7),
        (PersonKind.ARRIVAL, "medium", Measure.HOME_QUARANTINE, 7),
        (PersonKind.ARRIVAL, "low", Measure.HEALTH_MONITORING, 3),
        (PersonKind.CLOSE_CONTACT, "", Measure.CENTRAL_QUARANTINE, 5),
    ):
        services.set_measure_rule(event=event, person_kind=kind, risk_level=level, measure=measure, days=days, by=admin)
    return event


def _district_user(district: OrgUnit) -> User:
    """The district's demo login (demo_users resets it later), made the way familyplanning makes the street's."""
    from accounts.management.commands.demo_users import DEMO_PASSWORD, DEMO_USERS
    from accounts.models import User
    from accounts.services import create_user

    username, role, _where, full_name = next(u for u in DEMO_USERS if u[2] == "district")
    user = User.objects.filter(username=username).first()
    if user is None:
        return create_user(username=username, password=DEMO_PASSWORD, role=role, org_unit=district, full_name=full_name)
    if user.org_unit_id != district.pk or not user.is_active:
        user.role, user.org_unit, user.is_active = role, district, True
        user.save(update_fields=["role", "org_unit", "is_active"])
    return user


# ---- screenings -------------------------------------------------------------------------------------------------


def _name(rng: random.Random) -> str:
    given = rng.choice((GIVEN_MALE, GIVEN_FEMALE))
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _visitor_id(rng: random.Random, region: str, used: set[str]) -> str:
    while True:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 50))
        first17 = f"{region}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
        number = first17 + check_char(first17)
        if number not in used:
            used.add(number)
            return number


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(str(rng.randrange(10)) for _ in range(9))


def _day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _teams(rng: random.Random) -> list[Team]:
    return [Team(_name(rng), _name(rng), _name(rng)) for _ in range(4)]


@dataclass(frozen=True)
class Who:
    """A present resident as a plain row: thousands per community, model instances only for the chosen."""

    pk: int
    household_id: int | None
    relation: str
    name: str
    id_number: str
    phone: str


_PRESENT: dict[int, list[Who]] = {}


def _present(community: OrgUnit) -> list[Who]:
    if community.pk in _PRESENT:
        return _PRESENT[community.pk]
    rows = (
        Resident.objects.filter(
            unit__path__gte=community.path,
            unit__path__lt=community.path_end,
            retired_at__isnull=True,
            left_on__isnull=True,
            living_status__in=PRESENT_STATUSES,
        )
        .order_by("id")
        .values_list("id", "household_id", "relation", "name", "id_number", "phone")
    )
    _PRESENT[community.pk] = [Who(*row) for row in rows]
    return _PRESENT[community.pk]


def _load(people: list[Who]) -> dict[int, Resident]:
    return Resident.objects.select_related("household", "unit").in_bulk([p.pk for p in people])


def _screen(ctx: DemoContext, event: Event, unit: OrgUnit, data: ScreeningData, user: User) -> tuple[Screening, bool]:
    found = data.found_on or data.arrival_date
    return services.screen_person(event=event, unit=unit, data=data, by=user, today=min(found, ctx.on))


def _screenings(ctx: DemoContext, event: Event, communities: list[OrgUnit], user: User) -> tuple[list[Screening], int]:
    rng = ctx.rng
    used_ids: set[str] = set()
    made: list[Screening] = []
    again: list[tuple[OrgUnit, ScreeningData]] = []
    for k, community in enumerate(communities):
        teams = _teams(rng)
        people = _present(community)
        snapshot_ids: set[int] = set()
        if k == 0:
            snapshot = _snapshot(ctx, event, community, people, teams, used_ids, user)
            made += snapshot
            snapshot_ids = {s.person_id for s in snapshot if s.person_id}
        pool = [p for p in people if p.pk not in snapshot_ids]
        chosen = rng.sample(pool, min(len(pool), round(PER_COMMUNITY * 0.6)))
        loaded = _load(chosen)
        residents = [loaded[p.pk] for p in chosen]
        for n in range(PER_COMMUNITY):
            person = residents[n] if n < len(residents) else None
            close = rng.random() < 0.08
            origin, region, _w = rng.choices(ORIGINS, [w for *_x, w in ORIGINS])[0]
            arrival = _day(rng, SCREENING_FROM, SCREENING_TO)
            while k == 0 and SNAPSHOT - dt.timedelta(days=9) <= arrival <= SNAPSHOT:
                arrival = _day(rng, SCREENING_FROM, SCREENING_TO)  # the snapshot's figures are exactly the seed's
            team = rng.choice(teams)
            data = ScreeningData(
                from_area=LOCAL if close else origin,
                arrival_date=arrival,
                found_by="big_data" if close else rng.choices(*zip(*FOUND_BY, strict=True))[0],
                person_kind=PersonKind.CLOSE_CONTACT if close else PersonKind.ARRIVAL,
                person=person,
                name="" if person else _name(rng),
                id_number="" if person else _visitor_id(rng, region, used_ids),
                phone="" if person else _phone(rng),
                address=""
                if person
                else f"{community.name}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}0{rng.randint(1, 2)}",
                household_members=0 if person else rng.randint(0, 3),
                team_grid_worker=team.grid_worker,
                team_doctor=team.doctor,
                team_police=team.police,
                found_on=min(arrival + dt.timedelta(days=rng.choice((0, 0, 1, 2))), ctx.on),
            )
            screening, _merged = _screen(ctx, event, community, data, user)
            made.append(screening)
            if rng.random() < MERGED_SHARE:
                again.append((community, data))
    for community, data in again:
        # Found again by another channel (e.g. the big-data push after the grid visit): merged, not counted twice.
        second = ScreeningData(
            **{
                **data.__dict__,
                "found_by": "big_data" if data.found_by != "big_data" else "self_report",
                "found_on": min((data.found_on or data.arrival_date) + dt.timedelta(days=1), ctx.on),
            }
        )
        _s, merged = _screen(ctx, event, community, second, user)
        assert merged
    return made, len(again)


def _snapshot(
    ctx: DemoContext,
    event: Event,
    community: OrgUnit,
    people: list[Who],
    teams: list[Team],
    used_ids: set[str],
    user: User,
) -> list[Screening]:
    """Seed 004 on SNAPSHOT: 14 households (46 people) home-quarantined, 17 people centrally quarantined."""
    rng = ctx.rng
    by_household: dict[int, list[Who]] = defaultdict(list)
    for p in people:
        if p.household_id:
            by_household[p.household_id].append(p)
    households, members = SNAPSHOT_HOME
    sizes = sorted(split_quota(members, [1] * households), reverse=True)
    candidates = sorted(by_household.values(), key=lambda m: (-len(m), m[0].pk))
    chosen: list[list[Who]] = []
    for size in sizes:
        fits = [m for m in candidates if len(m) >= size and m not in chosen]
        if not fits:
            raise ValueError("the community has too few large households for seed 004's snapshot")
        family = rng.choice(fits[: max(len(fits) // 2, 1)])
        chosen.append(family)
    out = []
    medium = ["内蒙古自治区呼和浩特市新城区", "广东省广州市天河区", "河北省石家庄市长安区"]
    taken = {p.pk for family in chosen for p in family}
    contacts = rng.sample([p for p in people if p.pk not in taken], SNAPSHOT_CLOSE_CONTACTS)
    loaded = _load([p for family in chosen for p in family] + contacts)
    for family, size in zip(chosen, sizes, strict=True):
        arrival = SNAPSHOT - dt.timedelta(days=rng.randint(0, 6))
        origin = rng.choice(medium)
        team = rng.choice(teams)
        for p in sorted(family, key=lambda r: r.pk)[:size]:
            data = ScreeningData(
                from_area=origin,
                arrival_date=arrival,
                found_by="self_report",
                person=loaded[p.pk],
                household_members=size - 1,
                team_grid_worker=team.grid_worker,
                team_doctor=team.doctor,
                team_police=team.police,
                found_on=arrival,
            )
            out.append(_screen(ctx, event, community, data, user)[0])
    high = [o for o in ORIGINS if o[0] in ("内蒙古自治区呼和浩特市赛罕区", "新疆维吾尔自治区乌鲁木齐市天山区")]
    for n in range(SNAPSHOT_CENTRAL):
        contact = loaded[contacts[n].pk] if n < len(contacts) else None
        origin, region, _w = rng.choice(high)
        days_back = 4 if contact else 6
        arrival = SNAPSHOT - dt.timedelta(days=rng.randint(0, days_back))
        data = ScreeningData(
            from_area=LOCAL if contact else origin,
            arrival_date=arrival,
            found_by="big_data",
            person_kind=PersonKind.CLOSE_CONTACT if contact else PersonKind.ARRIVAL,
            person=contact,
            name="" if contact else _name(rng),
            id_number="" if contact else _visitor_id(rng, region, used_ids),
            phone="" if contact else _phone(rng),
            address="" if contact else "示范区隔离酒店",
            found_on=arrival,
        )
        out.append(_screen(ctx, event, community, data, user)[0])
    return out


# ---- follow-ups, alerts, releases -------------------------------------------------------------------------------


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


def _follow_ups(
    ctx: DemoContext, event: Event, screenings: list[Screening], snapshot_community: OrgUnit, user: User
) -> tuple[int, int]:
    """Twice a day for everyone tracked, a few missed; a few fevers and symptoms (through the service)."""
    rng = ctx.rng
    tracked = list(
        Screening.objects.filter(event=event, status=TrackingStatus.TRACKING).select_related("unit").order_by("id")
    )
    # The 失访 and 转运 cases are taken outside the snapshot community, so its figures stay the seed's.
    others = [
        s
        for s in tracked
        if not s.unit.path.startswith(snapshot_community.path)
        and s.measure_end is not None
        and (s.measure_end - s.measure_start).days >= 5
        and s.measure_end <= ctx.on
    ]
    lost = rng.choice(others) if others else None
    transferred = next((s for s in others if s is not lost), None)
    rows: list[FollowUp] = []
    special: list[tuple[Screening, dt.date, str, Decimal, list[str]]] = []
    for s in tracked:
        assert s.measure_end is not None
        last = min(s.measure_end - dt.timedelta(days=1), ctx.on)
        if s is lost:
            last = s.measure_start + dt.timedelta(days=1)  # not seen after the second day
        if s is transferred:
            last = s.measure_start + dt.timedelta(days=2)
        day = s.measure_start
        while day <= last:
            for slot in rules.slots_due(day, start=s.measure_start, end=s.measure_end, tracking=True):
                fever = (s is transferred and day == last and slot == "am") or rng.random() < FEVER_SHARE
                if fever:
                    t = Decimal(rng.choice(("37.4", "37.6", "37.8", "38.1", "38.5")))
                    special.append((s, day, slot, t, rng.choice(([], ["咳嗽"], ["乏力"]))))
                    continue
                if rng.random() < MISSED_SHARE:
                    continue
                t = Decimal(rng.randint(360, 371)) / 10
                symptoms = ["乏力"] if rng.random() < 0.002 else []
                if symptoms:
                    special.append((s, day, slot, t, symptoms))
                    continue
                rows.append(FollowUp(screening=s, date=day, slot=slot, temperature=t, symptoms=[], recorded_by=user))
            day += dt.timedelta(days=1)
    FollowUp.objects.bulk_create(rows, batch_size=2000)
    for s, day, slot, t, symptoms in special:
        now = _at(day, 8 if slot == "am" else 18, rng.randint(0, 50))
        services.record_follow_up(screening=s, date=day, slot=slot, temperature=t, symptoms=symptoms, by=user, now=now)
    alerts = list(Alert.objects.filter(screening__event=event).select_related("screening", "screening__unit"))
    for alert in alerts:
        services.handle_alert(alert=alert, handling="医生上门复测，已报告社区卫生服务中心", by=user)
        Alert.objects.filter(pk=alert.pk).update(handled_at=alert.raised_at + dt.timedelta(minutes=rng.randint(20, 90)))
    if transferred is not None:
        day = transferred.measure_start + dt.timedelta(days=2)
        services.change_status(
            screening=transferred, status=TrackingStatus.TRANSFERRED, on=day, note="发热，转运至定点医院", by=user
        )
    if lost is not None:
        seen = lost.measure_start + dt.timedelta(days=1)
        flagged = seen + dt.timedelta(days=event.lost_after_days)
        Alert.objects.create(
            screening=lost,
            kind=AlertKind.NOT_SEEN,
            detail=f"{lost.name}：已{event.lost_after_days}天未随访",
            raised_at=_at(flagged, 9),
            handled_at=_at(flagged, 16),
            handled_by=user,
            handling="电话无人接听，已报告派出所协查",
        )
        services.change_status(
            screening=lost, status=TrackingStatus.LOST, on=flagged, note="连续多日未见本人，电话不通", by=user
        )
    return len(rows) + len(special), Alert.objects.filter(screening__event=event).count()


def _releases(event: Event, user: User) -> int:
    """Everyone still tracked whose measure ended, released on the planned day (notices numbered in order)."""
    due = Screening.objects.filter(event=event, status=TrackingStatus.TRACKING, measure_end__lte=LAST_DAY)
    n = 0
    for s in due.order_by("measure_end", "id"):
        assert s.measure_end is not None
        services.release(screening=s, on=s.measure_end, by=user, note="管控期满，解除")
        n += 1
    return n


# ---- checkpoints ------------------------------------------------------------------------------------------------


def _checkpoints(
    ctx: DemoContext, event: Event, street: OrgUnit, communities: list[OrgUnit], user: User
) -> tuple[int, int]:
    """Two gates per community for a week: residents one per household every other day, couriers,
    supplies, a few strangers; one household's second exit allowed with a reason (seed 004)."""
    rng = ctx.rng
    week = [CHECKPOINT_WEEK + dt.timedelta(days=k) for k in range(7)]
    PassRule.objects.create(event=event, unit=street, max_exits=1, days=2, valid_from=week[0], valid_to=week[-1])
    rows: list[CheckpointEntry] = []
    shifts: list[DutyShift] = []
    serial = 0
    breach_case: tuple[Checkpoint, Who, dt.date] | None = None

    def add(cp: Checkpoint, at: dt.datetime, direction: str, **kw: Any) -> None:
        nonlocal serial
        serial += 1
        rows.append(
            CheckpointEntry(
                checkpoint=cp, client_id=f"demo-{event.pk}-{serial}", at=at, direction=direction, recorded_by=user, **kw
            )
        )

    for community in communities:
        gates = [
            Checkpoint.objects.create(unit=community, event=event, name=name, location=f"{community.name}{where}")
            for name, where in (("东门卡口", "东侧大门"), ("北门卡口", "北侧大门"))
        ]
        heads = [p for p in _present(community) if p.household_id and p.relation == "head"]
        families = rng.sample(heads, min(len(heads), HOUSEHOLDS_AT_GATES * len(gates)))
        for g, cp in enumerate(gates):
            for day in week:
                for start, end in ((8, 20), (20, 32)):
                    shifts.append(
                        DutyShift(
                            checkpoint=cp,
                            starts_at=_at(day, 0) + dt.timedelta(hours=start),
                            ends_at=_at(day, 0) + dt.timedelta(hours=end),
                            people=f"{_name(rng)}、{_name(rng)}（志愿者）",
                            phone=_phone(rng),
                        )
                    )
            mine = families[g::2]
            for k, head in enumerate(mine):
                for d, day in enumerate(week):
                    if (d + k) % 2:
                        continue  # every other day: 每户每两天一人
                    out_at = _at(day, rng.randint(8, 15), rng.randint(0, 59))
                    back = out_at + dt.timedelta(minutes=rng.randint(40, 150))
                    who: dict[str, Any] = {
                        "person_id": head.pk,
                        "household_id": head.household_id,
                        "name": head.name,
                        "id_number": head.id_number,
                        "phone": head.phone,
                        "temperature": Decimal(rng.randint(361, 369)) / 10,
                        "health_code": HealthCode.GREEN,
                    }
                    add(cp, out_at, Direction.OUT, purpose=rng.choice(PURPOSES), **who)
                    add(cp, back, Direction.IN, **who)
                    if breach_case is None and back.hour < 14:
                        breach_case = (cp, head, day)
            for day in week:
                for _n in range(rng.randint(3, 6)):
                    at = _at(day, rng.randint(9, 18), rng.randint(0, 59))
                    plate = f"蒙G{rng.randint(10000, 99999)}"
                    kind = rng.choice((VehicleType.EXPRESS, VehicleType.EXPRESS, VehicleType.SUPPLIES))
                    add(
                        cp,
                        at,
                        Direction.IN,
                        plate=plate,
                        vehicle_type=kind,
                        name=_name(rng),
                        purpose=rng.choice(COURIERS),
                    )
                    add(
                        cp, at + dt.timedelta(minutes=rng.randint(5, 25)), Direction.OUT, plate=plate, vehicle_type=kind
                    )
                if rng.random() < 0.5:
                    at = _at(day, rng.randint(9, 17), rng.randint(0, 59))
                    _origin, region, _w = rng.choice(ORIGINS[-3:])
                    stranger = {
                        "name": _name(rng),
                        "id_number": _visitor_id(rng, region, set()),
                        "phone": _phone(rng),
                        "temperature": Decimal(rng.randint(362, 368)) / 10,
                        "health_code": HealthCode.GREEN,
                    }
                    add(cp, at, Direction.IN, purpose="探望老人", destination=f"{community.name}", **stranger)
                    add(cp, at + dt.timedelta(hours=1), Direction.OUT, **stranger)
    CheckpointEntry.objects.bulk_create(rows, batch_size=2000)
    DutyShift.objects.bulk_create(shifts, batch_size=2000)
    breaches = 0
    if breach_case is not None:
        cp, head, day = breach_case
        resident = _load([head])[head.pk]
        # Seed 004: a second exit the same day (家里有人病重住院，需要来回取证件), let through with consent.
        result = services.register_crossing(
            checkpoint=cp,
            data=CrossingData(
                client_id=f"demo-{event.pk}-breach-out",
                direction=Direction.OUT,
                at=_at(day, 16, 10),
                person=resident,
                temperature="36.6",
                health_code=HealthCode.GREEN,
                purpose="就医",
                destination="示范区人民医院",
                allow_reason="家人病重住院，需回家取证件，经社区主任同意放行",
            ),
            by=user,
        )
        services.register_crossing(
            checkpoint=cp,
            data=CrossingData(
                client_id=f"demo-{event.pk}-breach-in", direction=Direction.IN, at=_at(day, 17, 40), person=resident
            ),
            by=user,
        )
        breaches = 1 if result.breach else 0
    return len(rows) + 2 * (breach_case is not None), breaches


# ---- daily reports ----------------------------------------------------------------------------------------------


def _counts_by_day(event: Event, community: OrgUnit, days: list[dt.date]) -> dict[dt.date, dict[str, int]]:
    """selectors.daily_counts for every day at once (a thousand reports would take ~12 s one by one).

    The same definitions, on rows read once; the demo's tests check the two agree.
    """
    inside = Q(unit__path__gte=community.path, unit__path__lt=community.path_end)
    people = list(
        Screening.objects.filter(inside, event=event).values_list(
            "id", "measure", "measure_start", "measure_end", "status", "released_on", "person_kind", "arrival_date"
        )
    )
    ids = [row[0] for row in people]
    first = dict(
        Finding.objects.filter(screening_id__in=ids)
        .values("screening_id")
        .annotate(first=Min("found_on"))
        .values_list("screening_id", "first")
    )
    tz = timezone.get_current_timezone()
    alerts = [
        (kind, timezone.localtime(at, tz).date())
        for kind, at in Alert.objects.filter(screening_id__in=ids).values_list("kind", "raised_at")
    ]
    out = {}
    for day in days:
        counts = dict.fromkeys(
            ("new_screened", "screened_total", "central_quarantine", "home_quarantine", "health_monitoring"), 0
        )
        counts.update(released=0, alerts=0, fever=0, close_contacts=0)
        for pk, measure, start, end, status, released_on, kind, arrival in people:
            found = first.get(pk)
            counts["new_screened"] += found == day
            counts["screened_total"] += found is not None and found <= day
            under = (status == TrackingStatus.TRACKING and (end is None or end > day)) or (
                status == TrackingStatus.RELEASED and released_on is not None and released_on > day
            )
            if under and start <= day and measure != Measure.NONE:
                counts[MEASURE_KEYS[measure]] += 1
            counts["released"] += released_on == day
            counts["close_contacts"] += kind == PersonKind.CLOSE_CONTACT and arrival <= day
        for kind, on in alerts:
            if on == day and kind != AlertKind.NOT_SEEN:
                counts["alerts"] += 1
                counts["fever"] += kind == AlertKind.FEVER
        out[day] = counts
    return out


MEASURE_KEYS: dict[str, str] = {
    Measure.CENTRAL_QUARANTINE: "central_quarantine",
    Measure.HOME_QUARANTINE: "home_quarantine",
    Measure.HEALTH_MONITORING: "health_monitoring",
}


def _reports(ctx: DemoContext, event: Event, communities: list[OrgUnit], user: User) -> int:
    """Every community's report for every day of the event; in December a few late, a few missing."""
    rng = ctx.rng
    rows: list[DailyReport] = []
    days = [STARTED + dt.timedelta(days=k) for k in range((LAST_DAY - STARTED).days + 1)]
    by_unit = {c.pk: _counts_by_day(event, c, days) for c in communities}
    corrections = 2
    for day in days:
        december = day.month == 12
        for community in communities:
            if december and rng.random() < 0.03:
                continue  # missing
            late = rng.random() < (0.06 if december else 0.01)
            if late:
                at = _at(day, 18, rng.randint(0, 59)) + dt.timedelta(hours=rng.randint(0, 3))
            else:
                at = _at(day, rng.randint(14, 16), rng.randint(0, 59))
            counts = by_unit[community.pk][day]
            quiet = not any(counts[k] for k in ("new_screened", "alerts", "released"))
            text = "" if quiet else "各项管控措施落实到位，无异常情况。"
            rows.append(
                DailyReport(
                    event=event,
                    unit=community,
                    date=day,
                    is_zero=quiet,
                    counts=counts,
                    text=text,
                    submitted_by=user,
                    submitted_at=at,
                )
            )
            if corrections and not quiet and december and rng.random() < 0.05:
                corrections -= 1
                rows.append(
                    DailyReport(
                        event=event,
                        unit=community,
                        date=day,
                        version=2,
                        counts=counts,
                        text=text + "（更正）",
                        correction_reason="情况说明漏报一名解除人员，补充更正",
                        submitted_by=user,
                        submitted_at=at + dt.timedelta(hours=2),
                    )
                )
    DailyReport.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def demo_event() -> Event | None:
    return Event.objects.filter(name=EVENT_NAME).first()
