"""Demo 计生 ledgers reproducing seed 000's 2022 figures on the demo street (scaled by --size).

Exact at any size, as quotas: births by sex and by birth order (both margins hold), birth-service
registrations by order. At the default size the money case is the seed's own: 17 伤残 and 11 失独
people among the residents the registry demo tagged 特扶家庭 (12 couples and 4 people alone, 16
households, 28 people), one 失独 couple's one-time assistance, four only-child households
(3 boys, 1 girl); the year's application is submitted at the old standards, then the raise of
1 July is entered and the back-pay recorded, as the street office did.

The year is 2022 when the demo's as-of date is at or after the end of 2022, else the last
complete year before it. Births and registrations are many, so they are written with
bulk_create (with their history); the few assistance records go through the services, as a
street worker's clicks would.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.audit import stamp
from core.demo import DemoContext, demo_step, split_quota
from core.history import start_of_day
from core.scoping import unit_in_scope
from familyplanning import services
from familyplanning.models import (
    Adjustment,
    Application,
    Beneficiary,
    Birth,
    BirthPolicy,
    BirthServiceRegistration,
    RegistrationStatus,
    Scheme,
)
from orgunits.models import OrgUnit
from registry.demo import GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from registry.models import MaritalStatus, Relation, Resident, Sex

if TYPE_CHECKING:
    from accounts.models import User

REASON = "演示数据"
SEED_YEAR = 2022
# Seed 000, 计生方面 (2022).
BIRTHS = 883
BIRTHS_BY_SEX = (455, 428)  # boys, girls
BIRTHS_BY_ORDER = (631, 242, 10)  # 一孩, 二孩, 三孩
REGISTRATIONS_BY_ORDER = (588, 176, 5)
LINKED_REGISTRATIONS = 0.85  # share of the year's registrations whose child was born the same year
LATE_SHARE = 0.10  # births entered 60–200 days late (the seed: 新生儿录入不够及时)
SPECIAL_TAG = "特扶家庭"
# The money case: (couples, people alone) per scheme; 7×2+3 = 17 伤残, 5×2+1 = 11 失独.
DISABILITY_TARGET = (7, 3)
BEREAVED_TARGET = (5, 1)
ONLY_CHILD_SEXES = ("男", "男", "男", "女")
PLACES = ["示范区妇幼保健院", "示范区人民医院", "市第一人民医院", "市中医院", "新城街道社区卫生服务中心"]

# code, name, short name, category, payment unit, period, attribute label, attribute values
SCHEMES = [
    ("sa_disability", "计划生育特别扶助（伤残）", "伤残", "special", "person", "monthly", "", ""),
    ("sa_bereaved", "计划生育特别扶助（失独）", "失独", "special", "person", "monthly", "", ""),
    ("sa_complication", "计划生育手术并发症扶助", "手术并发症", "special", "person", "monthly", "", ""),
    ("one_time", "一次性扶助金", "一次性扶助金", "one_time", "household", "one_time", "", ""),
    ("reward", "计划生育家庭奖励扶助", "奖扶", "reward", "person", "yearly", "", ""),
    ("reward_expanded", "计划生育家庭奖励扶助（扩面）", "扩面奖扶", "reward", "person", "yearly", "", ""),
    ("only_child_reward", "独生子女奖励金", "独生子女奖励金", "only_child", "household", "yearly",
     "子女性别", "男、女"),
    ("only_child_health", "独生子女保健费", "独生子女保健费", "only_child", "household", "yearly", "", ""),
]  # fmt: skip

# Festival dates (lunar ones looked up per year); a year not listed falls back to a typical date.
SPRING_FESTIVAL = {
    2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12), 2022: (2, 1),
    2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17),
}  # fmt: skip
DRAGON_BOAT = {
    2018: (6, 18), 2019: (6, 7), 2020: (6, 25), 2021: (6, 14), 2022: (6, 3),
    2023: (6, 22), 2024: (6, 10), 2025: (5, 31), 2026: (6, 19),
}  # fmt: skip
MID_AUTUMN = {
    2018: (9, 24), 2019: (9, 13), 2020: (10, 1), 2021: (9, 21), 2022: (9, 10),
    2023: (9, 29), 2024: (9, 17), 2025: (10, 6), 2026: (9, 25),
}  # fmt: skip


def demo_year(on: dt.date) -> int:
    """The year the demo's 计生 records are for: 2022 (the seed's), or the last complete year before ``on``."""
    last_complete = on.year if (on.month, on.day) == (12, 31) else on.year - 1
    return min(SEED_YEAR, last_complete)


@dataclass(slots=True)
class Person:
    pk: int
    name: str
    id_number: str
    sex: str
    birth: dt.date
    unit_id: int
    household_id: int | None
    relation: str
    marital: str


@dataclass
class Street:
    """The residents of one street, grouped for finding mothers, fathers and only-child households."""

    people: list[Person]
    members: dict[int, list[Person]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        for p in self.people:
            if p.household_id is not None:
                self.members[p.household_id].append(p)

    def couple(self, p: Person) -> Person | None:
        """The married partner heading the household with ``p`` (head and spouse), if any."""
        if p.household_id is None or p.relation not in (Relation.HEAD, Relation.SPOUSE):
            return None
        for other in self.members[p.household_id]:
            if (
                other is not p
                and other.relation in (Relation.HEAD, Relation.SPOUSE)
                and other.sex != p.sex
                and other.marital == MaritalStatus.MARRIED
            ):
                return other
        return None

    def children_before(self, mother: Person, on: dt.date) -> int:
        """Children of the couple heading the mother's household born before ``on``."""
        if mother.household_id is None or mother.relation not in (Relation.HEAD, Relation.SPOUSE):
            return 0
        return sum(1 for p in self.members[mother.household_id] if p.relation == Relation.CHILD and p.birth < on)


def _street_people(street: OrgUnit) -> Street:
    rows = (
        Resident.objects.filter(
            unit__path__gte=street.path,
            unit__path__lt=street.path_end,
            retired_at__isnull=True,
            left_on__isnull=True,
        )
        .order_by("id")
        .values_list(
            "id", "name", "id_number", "sex", "birth_date", "unit_id", "household_id", "relation", "marital_status"
        )
    )
    return Street([Person(*row) for row in rows])


@demo_step("familyplanning", order=30)
def build_familyplanning(ctx: DemoContext) -> None:
    year = demo_year(ctx.on)
    streets: list[OrgUnit] = ctx.data["streets"]
    user = _demo_user(ctx.data["street"])
    _policies(user)
    schemes, fresh = _schemes(user, year)
    weights = [sum(b.capacity_households for b in bs) for bs in ctx.data["buildings_by_street"]]
    cells = _birth_cells(round(BIRTHS * ctx.factor))
    regs = split_quota(round(sum(REGISTRATIONS_BY_ORDER) * ctx.factor), list(REGISTRATIONS_BY_ORDER))
    per_street_cells = {key: split_quota(n, weights) for key, n in cells.items()}
    per_street_regs = [split_quota(n, weights) for n in regs]
    totals: Counter[str] = Counter()
    first: Street | None = None
    for i, street in enumerate(streets):
        people = _street_people(street)
        first = first or people
        made = _births_and_registrations(
            ctx,
            people,
            year,
            {key: values[i] for key, values in per_street_cells.items()},
            [values[i] for values in per_street_regs],
            user,
        )
        totals.update(made)
    assert first is not None
    money = _assistance(ctx, ctx.data["street"], first, year, schemes, fresh, user)
    ctx.data["familyplanning"] = {"year": year, **totals, **money}
    ctx.log(
        f"计生（{year}年）：出生 {totals['births']} 人（在册居民 {totals['linked']}），"
        f"生育服务登记 {totals['registrations']} 个；特扶 {money['special_people']} 人，"
        f"申报 {money['applied']} 元，补发 {money['back_pay']} 元；慰问 {money['visits']} 次"
    )


# ---- who records, and the shared data (policies, schemes) ------------------------------------------------------


def _demo_user(street: OrgUnit) -> User:
    """The street's demo login (demo_users later resets it): a street worker records the demo's ledgers.

    ``make run`` loads the demo before it makes the demo users, so the step makes this one user
    itself, the way demo_users would; records then show who entered them, as real ones do.
    """
    from accounts.management.commands.demo_users import DEMO_PASSWORD, DEMO_USERS
    from accounts.models import User
    from accounts.services import create_user

    username, role, _where, full_name = next(u for u in DEMO_USERS if u[2] == "street")
    user = User.objects.filter(username=username).first()
    if user is None:
        return create_user(username=username, password=DEMO_PASSWORD, role=role, org_unit=street, full_name=full_name)
    if not unit_in_scope(user, street):
        user.role, user.org_unit, user.is_active = role, street, True
        user.save(update_fields=["role", "org_unit", "is_active"])
    return user


def _policies(user: User) -> None:
    if BirthPolicy.objects.exists():  # policies are shared data: an administrator's ones are kept
        return
    services.create_policy(
        name="全面两孩政策", max_children=2, valid_from=dt.date(2016, 1, 1), valid_to=dt.date(2021, 5, 30), by=user
    )
    services.create_policy(name="三孩政策", max_children=3, valid_from=dt.date(2021, 5, 31), by=user)


def _schemes(user: User, year: int) -> tuple[dict[str, Scheme], set[str]]:
    """The schemes (kept if they exist) and the standards in force before the year's July raise."""
    out: dict[str, Scheme] = {}
    fresh: set[str] = set()
    for k, (code, name, short, category, unit, period, label, values) in enumerate(SCHEMES, start=1):
        scheme = Scheme.objects.filter(code=code).first()
        if scheme is None:
            scheme = services.create_scheme(
                code=code,
                name=name,
                short_name=short,
                category=category,
                payment_unit=unit,
                period=period,
                attribute_label=label,
                attribute_values=values,
                sort_order=k,
                by=user,
            )
        if not scheme.standards.exists():
            fresh.add(code)
        out[code] = scheme
    base = dt.date(min(2021, year - 1), 1, 1)
    initial = [
        ("sa_disability", "", 520, "特扶标准"),
        ("sa_bereaved", "", 655, "特扶标准"),
        ("one_time", "", 82_510, "一次性扶助标准"),
        ("only_child_reward", "男", 120, "独生子女奖励金标准"),
        ("only_child_reward", "女", 240, "独生子女奖励金标准"),
    ]
    for code, attribute, amount, reason in initial:
        if code in fresh:
            services.add_standard(
                scheme=out[code],
                amount=Decimal(amount),
                valid_from=base,
                attribute_value=attribute,
                reason=reason,
                by=user,
            )
    return out, fresh


# ---- births and registrations ------------------------------------------------------------------------------------


def _birth_cells(total: int) -> dict[tuple[str, int], int]:
    """Births by (sex, order) such that both the sex totals and the order totals are the seed's, scaled."""
    boys, girls = split_quota(total, list(BIRTHS_BY_SEX))
    orders = split_quota(total, list(BIRTHS_BY_ORDER))
    boys_by_order = split_quota(boys, orders)
    out = {}
    for k, order in enumerate((1, 2, 3)):
        out[(Sex.MALE.value, order)] = boys_by_order[k]
        out[(Sex.FEMALE.value, order)] = orders[k] - boys_by_order[k]
    assert sum(v for (s, _o), v in out.items() if s == Sex.FEMALE) == girls
    return out


@dataclass
class _Planned:
    sex: str
    birth_date: dt.date
    mother: Person
    child: Person | None
    natural: int  # the order the household suggests: 1 + the couple's older children
    order: int = 1


def _random_day(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _name(rng: random.Random, surname: str, sex: str) -> str:
    pool = GIVEN_MALE if sex == Sex.MALE else GIVEN_FEMALE
    return surname + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


def _births_and_registrations(
    ctx: DemoContext,
    street: Street,
    year: int,
    cells: dict[tuple[str, int], int],
    regs_by_order: list[int],
    user: User,
) -> Counter[str]:
    rng, on = ctx.rng, ctx.on
    first, last = dt.date(year, 1, 1), min(dt.date(year, 12, 31), on)
    # Mothers aged 20–45 on every day of the year, married; each has one birth or one registration.
    pool = [
        p
        for p in street.people
        if p.sex == Sex.FEMALE
        and p.marital == MaritalStatus.MARRIED
        and dt.date(year - 45, 1, 1) <= p.birth <= dt.date(year - 20, 1, 1)
    ]
    rng.shuffle(pool)
    used: set[int] = set()
    spare = iter(pool)

    def any_mother() -> Person | None:
        for p in spare:
            if p.pk not in used:
                used.add(p.pk)
                return p
        return None

    def household_mother(child: Person) -> Person | None:
        if child.household_id is None:
            return None
        for p in street.members[child.household_id]:
            if (
                p.pk not in used
                and p.sex == Sex.FEMALE
                and p.marital == MaritalStatus.MARRIED
                and p.relation in (Relation.HEAD, Relation.SPOUSE)
                and 20 <= _age(p.birth, child.birth) <= 45
            ):
                used.add(p.pk)
                return p
        return None

    planned: list[_Planned] = []
    for sex in (Sex.MALE.value, Sex.FEMALE.value):
        quota = sum(n for (s, _o), n in cells.items() if s == sex)
        born = [p for p in street.people if p.sex == sex and first <= p.birth <= last]
        chosen = sorted(rng.sample(born, min(quota, len(born))), key=lambda p: p.pk)
        group: list[_Planned] = []
        for child in chosen:
            mother = household_mother(child) or any_mother()
            if mother is None:
                break
            group.append(_Planned(sex, child.birth, mother, child, 1 + street.children_before(mother, child.birth)))
        while len(group) < quota:  # not enough residents born that year: births of children not in the registry
            mother = any_mother()
            if mother is None:
                raise ValueError("not enough married women aged 20–45 for the demo births")
            day = _random_day(rng, first, last)
            group.append(_Planned(sex, day, mother, None, 1 + street.children_before(mother, day)))
        # Higher orders go to the mothers with more older children, so the ledger agrees with the households.
        ranked = sorted(group, key=lambda b: (-b.natural, rng.random()))
        k = 0
        for order in (3, 2, 1):
            for b in ranked[k : k + cells[(sex, order)]]:
                b.order = order
            k += cells[(sex, order)]
        planned += group
    planned.sort(key=lambda b: (b.birth_date, b.mother.pk))

    # Registrations: most were made earlier in the year for a child born that year; the rest await a birth.
    registrations: list[BirthServiceRegistration] = []
    linked_to: dict[int, BirthServiceRegistration] = {}
    for order, quota in zip((1, 2, 3), regs_by_order, strict=True):
        eligible = [b for b in planned if b.order == order and b.birth_date >= dt.date(year, 2, 15)]
        linked = rng.sample(eligible, min(len(eligible), round(quota * LINKED_REGISTRATIONS)))
        for b in sorted(linked, key=lambda b: (b.birth_date, b.mother.pk)):
            lo = max(first, b.birth_date - dt.timedelta(days=240))
            reg = _registration(street, b.mother, order, _random_day(rng, lo, b.birth_date - dt.timedelta(days=30)))
            reg.status = RegistrationStatus.BORN
            registrations.append(reg)
            linked_to[id(b)] = reg
        for _k in range(quota - len(linked)):
            mother = any_mother()
            if mother is None:
                raise ValueError("not enough married women aged 20–45 for the demo registrations")
            registrations.append(_registration(street, mother, order, _random_day(rng, first, last)))
    for reg in registrations:
        reg.created_by = user
        stamp(reg, by=user, reason=REASON, when=start_of_day(reg.registered_on))
    bulk_create_with_history(registrations, BirthServiceRegistration, batch_size=500)

    births = []
    late = {id(b) for b in rng.sample(planned, round(len(planned) * LATE_SHARE))}
    for b in planned:
        delay = rng.randint(60, 200) if id(b) in late else rng.randint(1, 30)
        father = street.couple(b.mother)
        surname = (father or b.mother).name[0]
        birth = Birth(
            unit_id=(b.child or b.mother).unit_id,
            child_id=b.child.pk if b.child else None,
            child_name=b.child.name if b.child else _name(rng, surname, b.sex),
            sex=b.sex,
            birth_date=b.birth_date,
            birth_order=b.order,
            place=rng.choice(PLACES),
            mother_id=b.mother.pk,
            mother_name=b.mother.name,
            mother_id_number=b.mother.id_number,
            father_id=father.pk if father else None,
            father_name=father.name if father else _name(rng, rng.choice(SURNAMES), Sex.MALE),
            father_id_number=father.id_number if father else "",
            registration=linked_to.get(id(b)),
            entered_on=min(on, b.birth_date + dt.timedelta(days=delay)),
            created_by=user,
        )
        stamp(birth, by=user, reason=REASON, when=start_of_day(birth.entered_on))
        births.append(birth)
    bulk_create_with_history(births, Birth, batch_size=500)
    return Counter(
        births=len(births),
        linked=sum(1 for b in births if b.child_id),
        registrations=len(registrations),
    )


def _registration(street: Street, mother: Person, order: int, on: dt.date) -> BirthServiceRegistration:
    father = street.couple(mother)
    return BirthServiceRegistration(
        unit_id=mother.unit_id,
        mother_id=mother.pk,
        mother_name=mother.name,
        mother_id_number=mother.id_number,
        father_id=father.pk if father else None,
        father_name=father.name if father else "",
        father_id_number=father.id_number if father else "",
        birth_order=order,
        registered_on=on,
    )


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


# ---- assistance, the application and its back-pay, visits ---------------------------------------------------------


def _split(available: int, target: int, other_target: int) -> int:
    """How many of ``available`` go to the scheme wanting ``target`` when another wants ``other_target``."""
    if available >= target + other_target:
        return target
    return min(target, round(available * target / (target + other_target)))


def _assistance(
    ctx: DemoContext,
    street: OrgUnit,
    people: Street,
    year: int,
    schemes: dict[str, Scheme],
    fresh: set[str],
    user: User,
) -> dict[str, Any]:
    rng = ctx.rng
    residents = {
        r.pk: r
        for r in Resident.objects.filter(
            tags__name=SPECIAL_TAG,
            unit__path__gte=street.path,
            unit__path__lt=street.path_end,
            left_on__isnull=True,
            retired_at__isnull=True,
        )
        .select_related("unit", "household")
        .order_by("id")
    }
    by_household: dict[int, list[Resident]] = defaultdict(list)
    for r in residents.values():
        by_household[r.household_id or -r.pk].append(r)
    couples = [group for group in by_household.values() if len(group) == 2]
    alone = [group for group in by_household.values() if len(group) == 1]
    rng.shuffle(couples)
    rng.shuffle(alone)
    # 失独 first when few are tagged: the bereaved couple also carries the one-time assistance.
    bereaved_couples = _split(len(couples), BEREAVED_TARGET[0], DISABILITY_TARGET[0]) or min(1, len(couples))
    disability_couples = min(DISABILITY_TARGET[0], len(couples) - bereaved_couples)
    disability_alone = _split(len(alone), DISABILITY_TARGET[1], BEREAVED_TARGET[1])
    bereaved_alone = min(BEREAVED_TARGET[1], len(alone) - disability_alone)
    groups = {
        "sa_bereaved": couples[:bereaved_couples] + alone[disability_alone : disability_alone + bereaved_alone],
        "sa_disability": couples[bereaved_couples : bereaved_couples + disability_couples] + alone[:disability_alone],
    }
    documents = {
        "sa_disability": ["身份证", "户口簿", "独生子女父母光荣证", "残疾证"],
        "sa_bereaved": ["身份证", "户口簿", "独生子女父母光荣证", "子女死亡证明"],
    }
    special: list[Resident] = []
    for code, families in groups.items():
        for family in families:
            start = dt.date(year - rng.randint(1, 8), rng.randint(1, 12), 1)
            for person in family:
                services.enroll(
                    scheme=schemes[code],
                    person=person,
                    start_month=start,
                    documents=documents[code],
                    bank_account=_bank_account(rng),
                    by=user,
                )
                special.append(person)
    if groups["sa_bereaved"] and len(groups["sa_bereaved"][0]) == 2:
        couple = sorted(groups["sa_bereaved"][0], key=lambda r: r.relation != Relation.HEAD)
        services.enroll(
            scheme=schemes["one_time"],
            person=couple[0],
            household=couple[0].household,
            members=couple,
            start_month=dt.date(year, rng.randint(2, 10), 1),
            documents=["身份证", "户口簿", "子女死亡证明", "一次性扶助申请表"],
            bank_account=_bank_account(rng),
            by=user,
        )
    _only_child(rng, people, residents, year, schemes["only_child_reward"], user)

    applied = back_pay = Decimal(0)
    if not Application.objects.filter(unit=street, year=year).exists() and _has_beneficiaries(street):
        application = services.submit_application(
            unit=street, year=year, by=user, today=dt.date(year + 1, 1, 6), note=REASON
        )
        # Entered in the spring of the year at the standards then in force, as the seed tells it.
        Application.objects.filter(pk=application.pk).update(
            submitted_at=timezone.make_aware(dt.datetime(year, 3, 15, 9, 30))
        )
        applied = application.total
        # The July raise, announced after the application went in at last year's standards.
        for code, amount in (("sa_disability", 630), ("sa_bereaved", 795)):
            if code in fresh:
                services.add_standard(
                    scheme=schemes[code],
                    amount=Decimal(amount),
                    valid_from=dt.date(year, 7, 1),
                    reason=f"{year}年7月1日起提高计划生育特别扶助标准",
                    by=user,
                )
        if services.preview_back_pay(application=application, by=user):
            adjustment = services.record_back_pay(
                application=application, reason=f"{year}年7月起提高特扶标准，补发7—12月差额", by=user
            )
            Adjustment.objects.filter(pk=adjustment.pk).update(
                created_at=timezone.make_aware(dt.datetime(year, 12, 20, 15, 0))
            )
            back_pay = adjustment.total
    visits = _visits(ctx, street, year, special, user)
    households = {r.household_id or -r.pk for r in special}
    return {
        "special_households": len(households),
        "special_people": len(special),
        "applied": applied,
        "back_pay": back_pay,
        "visits": visits,
    }


def _has_beneficiaries(street: OrgUnit) -> bool:
    return Beneficiary.objects.filter(unit__path__gte=street.path, unit__path__lt=street.path_end).exists()


def _bank_account(rng: random.Random) -> str:
    return "6217" + "".join(str(rng.randrange(10)) for _ in range(15))


def _only_child(
    rng: random.Random,
    people: Street,
    special: dict[int, Resident],
    year: int,
    scheme: Scheme,
    user: User,
) -> None:
    """Four households whose couple has one child under 18 (3 boys, 1 girl), rewarded per household."""
    special_households = {r.household_id for r in special.values()}
    candidates: dict[str, list[tuple[Person, Person, Person]]] = {"男": [], "女": []}
    for household_id, members in people.members.items():
        if household_id in special_households:
            continue
        children = [p for p in members if p.relation == Relation.CHILD]
        if len(children) != 1:
            continue
        child = children[0]
        if not (dt.date(year - 17, 1, 1) <= child.birth < dt.date(year, 1, 1)):
            continue
        mother = next(
            (p for p in members if p.sex == Sex.FEMALE and p.relation in (Relation.HEAD, Relation.SPOUSE)), None
        )
        father = people.couple(mother) if mother else None
        if mother is None or father is None:
            continue
        candidates["男" if child.sex == Sex.MALE else "女"].append((mother, father, child))
    wanted = Counter(ONLY_CHILD_SEXES)
    for sex, n in wanted.items():
        for mother, father, child in rng.sample(candidates[sex], min(n, len(candidates[sex]))):
            loaded = Resident.objects.select_related("unit", "household").in_bulk([mother.pk, father.pk])
            resident_mother, resident_father = loaded[mother.pk], loaded[father.pk]
            start = dt.date(child.birth.year, child.birth.month, 1) + dt.timedelta(days=32)
            services.enroll(
                scheme=scheme,
                person=resident_mother,
                household=resident_mother.household,
                members=[resident_mother, resident_father],
                attribute_value=sex,
                start_month=start.replace(day=1),
                documents=["身份证", "户口簿", "独生子女父母光荣证"],
                bank_account=_bank_account(rng),
                by=user,
            )


def _festival(table: dict[int, tuple[int, int]], year: int, fallback: tuple[int, int]) -> dt.date:
    month, day = table.get(year, fallback)
    return dt.date(year, month, day)


def _visits(ctx: DemoContext, street: OrgUnit, year: int, people: list[Resident], user: User) -> int:
    """The seed's five visits to the special-assistance families: 春节, 母亲节, 端午节, 中秋节, 元旦."""
    if not people:
        return 0
    may_first = dt.date(year, 5, 1)
    mothers_day = may_first + dt.timedelta(days=(6 - may_first.weekday()) % 7 + 7)  # the second Sunday of May
    visits = [
        (_festival(SPRING_FESTIVAL, year, (2, 1)) - dt.timedelta(days=5), "春节", "大米、面粉、食用油及慰问金"),
        (mothers_day - dt.timedelta(days=2), "母亲节", "鲜花、保健品"),
        (_festival(DRAGON_BOAT, year, (6, 10)) - dt.timedelta(days=2), "端午节", "粽子、鸡蛋"),
        (_festival(MID_AUTUMN, year, (9, 20)) - dt.timedelta(days=3), "中秋节", "月饼、水果"),
        (dt.date(year, 12, 29), "元旦", "米、油及慰问金"),
    ]
    for on, occasion, given in visits:
        services.record_visit(
            unit=street, date=on, occasion=occasion, given=given, people=people, by=user, today=ctx.on, note=REASON
        )
    return len(visits)
