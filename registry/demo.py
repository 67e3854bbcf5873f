"""Demo households and residents reproducing seed 000's figures (scaled by --size).

Exact at any size: household places, occupied households, residents, floating population,
married women aged 15–49, people aged 18–59 and 60+ on the as-of date are quotas, not
probabilities. Everything else (families, names, phones, tags, dates) is drawn from the seeded
random generator, so the same seed and date give the same street.

Rows are written as plain tuples (core.bulk) with their creation versions dated when the record
became true (registry.services._creation_date: a household at occupation, a person at arrival),
because going through model instances would take most of the time budget at 100,000 people.
People who went away or left get a second, later version, so past-date counts stay right.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from core.bulk import concrete_columns, insert_rows, reserve_ids
from core.demo import DemoContext, demo_step, split_quota
from core.history import start_of_day
from orgunits.models import OrgUnit
from registry.models import Household, HouseholdType, LivingStatus, MaritalStatus, Relation, Resident, Sex, Tag
from registry.rules import age_on, check_char

REGION = "150599"  # the demo district's GB/T 2260 code, first six digits of every demo ID number
REASON = "演示数据"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫宇浩然轩博文晨阳峰斌海波志国建东亮成龙金宝永福"
GIVEN_FEMALE = "芳娜秀英敏静丽艳娟霞桂兰玉萍红梅欣怡佳琪涵雪琳婷慧颖洁倩淑凤春燕晶莉丹月"
TAGS = [
    ("age60", "60岁以上"),
    ("disabled", "残疾"),
    ("chronic", "慢病"),
    ("alone", "孤寡"),
    ("subsistence", "低保"),
    ("fp_special", "特扶家庭"),
]
DOORS_PER_ENTRANCE = 12  # six floors, two doors a floor
SHARE_80_PLUS = 0.15  # of the people aged 60+
AWAY_SHARE = 0.02  # registered working-age people away (外出)
LEAVER_SHARE = 0.005  # extra people who moved out or died in the past


@dataclass(slots=True)
class Person:
    sex: str
    birth: dt.date
    age: int
    marital: str = MaritalStatus.UNMARRIED
    name: str = ""
    hh: int = -1  # index of the household
    relation: str = Relation.OTHER
    status: str = LivingStatus.RESIDENT
    status_since: dt.date | None = None
    arrived: dt.date | None = None
    left: dt.date | None = None
    phone: str = ""
    id_number: str = ""
    tags: list[int] = field(default_factory=list)
    pk: int = 0


@dataclass(slots=True)
class Home:
    unit_id: int
    entrance: str
    door: str
    since: dt.date
    head: Person | None = None
    kind: str = HouseholdType.PERMANENT
    pk: int = 0


def _years_before(on: dt.date, years: int) -> dt.date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February
        return on.replace(year=on.year - years, day=28)


def _birth_for_age(rng: random.Random, on: dt.date, age: int) -> dt.date:
    """A birth date giving exactly ``age`` completed years on ``on``."""
    first = _years_before(on, age + 1) + dt.timedelta(days=1)
    last = _years_before(on, age)
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _ages(rng: random.Random, count: int, bands: list[tuple[int, int, float]]) -> list[int]:
    """``count`` ages drawn from weighted (lo, hi, weight) bands, uniform inside a band."""
    weights = [w for _lo, _hi, w in bands]
    out = []
    for lo, hi, _w in rng.choices(bands, weights, k=count):
        out.append(rng.randint(lo, hi))
    return out


@demo_step("registry", order=20)
def build_registry(ctx: DemoContext) -> None:
    streets: list[OrgUnit] = ctx.data["streets"]
    buildings_by_street: list[list[OrgUnit]] = ctx.data["buildings_by_street"]
    weights = [sum(b.capacity_households for b in bs) for bs in buildings_by_street]
    quotas = {
        key: split_quota(ctx.scaled(key), weights)
        for key in ("households", "residents", "floating", "married_women_15_49", "age_18_59", "age_60_plus")
    }
    tags = _demo_tags()
    now = timezone.now()
    writer = _Writer(now)
    used: dict[tuple[dt.date, str], set[int]] = defaultdict(set)
    phones: set[str] = set()
    totals: dict[str, int] = defaultdict(int)
    for i, (street, buildings) in enumerate(zip(streets, buildings_by_street, strict=True)):
        q = {key: values[i] for key, values in quotas.items()}
        homes, people = _street_people(ctx, buildings, q, tags)
        leavers = _leavers(ctx, homes, max(1, round(q["residents"] * LEAVER_SHARE)))
        for p in people + leavers:
            p.id_number = _id_number(ctx.rng, p, used)
            p.phone = _phone(ctx.rng, p, phones)
        writer.households(homes)
        writer.residents(people + leavers, homes)
        totals["households"] += len(homes)
        totals["residents"] += len(people)
        totals["floating"] += sum(1 for p in people if p.status == LivingStatus.FLOATING)
        totals["away"] += sum(1 for p in people if p.status == LivingStatus.AWAY)
        totals["leavers"] += len(leavers)
        totals["tagged"] += sum(1 for p in people if p.tags)
        ctx.log(f"  {street.name}：{len(homes)} 户，{len(people)} 人")
    ctx.data["registry"] = dict(totals)
    ctx.log(
        f"户：{totals['households']}；居民：{totals['residents']}（流动人口 {totals['floating']}，"
        f"外出 {totals['away']}，有重点人群标签 {totals['tagged']}）；已迁出/死亡（不计入人口）：{totals['leavers']}"
    )


def _demo_tags() -> dict[str, int]:
    """The key-group tags, found by name (an administrator may have added them already) or created."""
    out = {}
    for code, name in TAGS:
        tag = Tag.objects.filter(name=name).first() or Tag.objects.filter(code=code).first()
        if tag is None:
            tag = Tag.objects.create(code=code, name=name)
        out[code] = tag.pk
    return out


def _street_people(
    ctx: DemoContext, buildings: list[OrgUnit], q: dict[str, int], tags: dict[str, int]
) -> tuple[list[Home], list[Person]]:
    rng, on = ctx.rng, ctx.on
    people = _population(rng, on, q)
    homes = _homes(rng, on, buildings, q["households"])
    _families(rng, people, homes)
    _floating(rng, on, people, homes, q["floating"])
    _dates_and_status(rng, on, people, homes)
    for p in people:
        p.name = _name(rng, p.sex)
    for home in homes:
        assert home.head is not None
    _tags(ctx, people, homes, tags)
    return homes, people


def _population(rng: random.Random, on: dt.date, q: dict[str, int]) -> list[Person]:
    """People with exact counts of the seed's age groups and of married women aged 15–49."""
    n60 = q["age_60_plus"]
    n80 = round(n60 * SHARE_80_PLUS)
    n18_59 = q["age_18_59"]
    n_young = q["residents"] - n60 - n18_59
    if n_young < 0:
        raise ValueError("age quotas exceed the population")
    ages = (
        _ages(rng, n_young, [(0, 17, 1.0)])
        + _ages(rng, n18_59, [(18, 29, 0.25), (30, 44, 0.40), (45, 59, 0.35)])
        + _ages(rng, n60 - n80, [(60, 69, 0.6), (70, 79, 0.4)])
        + _ages(rng, n80, [(80, 89, 0.85), (90, 99, 0.15)])
    )
    people = []
    for k, age in enumerate(ages):
        sex = Sex.FEMALE if k % 2 == 0 else Sex.MALE  # each age group half women
        birth = _birth_for_age(rng, on, age)
        people.append(Person(sex=sex, birth=birth, age=age_on(birth, on)))
    rng.shuffle(people)
    # Married women aged 15–49 on the date: exactly the quota, chosen among those of legal age (20).
    women = [p for p in people if p.sex == Sex.FEMALE and 20 <= p.age <= 49]
    quota = q["married_women_15_49"]
    if quota > len(women):
        raise ValueError("not enough women aged 20–49 for the married-women quota")
    for p in rng.sample(women, quota):
        p.marital = MaritalStatus.MARRIED
    for p in people:
        if p.sex == Sex.FEMALE and 15 <= p.age <= 49:
            if p.marital != MaritalStatus.MARRIED and p.age >= 25:
                p.marital = MaritalStatus.DIVORCED if rng.random() < 0.15 else MaritalStatus.UNMARRIED
            continue
        if p.age < 20:
            continue
        married = 0.15 if p.age < 25 else 0.55 if p.age < 30 else 0.85 if p.age < 70 else 0.6
        widowed = 0.0 if p.age < 50 else 0.05 if p.age < 70 else 0.35
        r = rng.random()
        if r < married:
            p.marital = MaritalStatus.MARRIED
        elif r < married + widowed:
            p.marital = MaritalStatus.WIDOWED
        elif r < married + widowed + 0.05:
            p.marital = MaritalStatus.DIVORCED
    return people


def _homes(rng: random.Random, on: dt.date, buildings: list[OrgUnit], count: int) -> list[Home]:
    """Occupied households on random places of the buildings (never more than a building holds)."""
    slots = [(b.pk, k) for b in buildings for k in range(b.capacity_households)]
    if count > len(slots):
        raise ValueError("more households than household places")
    homes = []
    for unit_id, k in sorted(rng.sample(slots, count)):
        entrance, place = divmod(k, DOORS_PER_ENTRANCE)
        floor, door = divmod(place, 2)
        since = on - dt.timedelta(days=rng.randint(30, 25 * 365))
        homes.append(Home(unit_id=unit_id, entrance=str(entrance + 1), door=f"{floor + 1}0{door + 1}", since=since))
    return homes


MAX_HOUSEHOLD = 7  # members; larger households are rare enough to leave out of the demo


def _pick(
    rng: random.Random, by_age: dict[int, list[int]], sizes: list[int], lo: int, hi: int, tries: int = 8
) -> int | None:
    """A random household, not yet full, whose head's age is within [lo, hi]."""
    if hi < lo:
        return None
    for _ in range(tries):
        bucket = by_age.get(rng.randint(lo, hi))
        if bucket:
            i = rng.choice(bucket)
            if sizes[i] < MAX_HOUSEHOLD:
                return i
    return None


def _families(rng: random.Random, people: list[Person], homes: list[Home]) -> None:
    """Couples head the households, then children, parents and others join by age."""
    men = sorted((p for p in people if p.sex == Sex.MALE and p.marital == MaritalStatus.MARRIED), key=lambda p: p.birth)
    women = sorted(
        (p for p in people if p.sex == Sex.FEMALE and p.marital == MaritalStatus.MARRIED), key=lambda p: p.birth
    )
    couples = list(zip(men, women, strict=False))  # similar ages: paired in order of birth
    rng.shuffle(couples)
    singles = [p for p in people if p.age >= 20 and p.marital != MaritalStatus.MARRIED]
    singles.sort(key=lambda p: -p.age - rng.random() * 30)  # older single people head their households first
    placed: set[int] = set()
    next_single = iter(singles)
    for i, home in enumerate(homes):
        if i < len(couples):
            man, woman = couples[i]
            head, spouse = (man, woman) if rng.random() < 0.7 else (woman, man)
            spouse.hh, spouse.relation = i, Relation.SPOUSE
            placed.add(id(spouse))
        else:
            single = next(next_single, None)
            if single is None:
                raise ValueError("not enough adults to head every household")
            head = single
        head.hh, head.relation = i, Relation.HEAD
        home.head = head
        placed.add(id(head))
    by_age: dict[int, list[int]] = defaultdict(list)
    for i, home in enumerate(homes):
        assert home.head is not None
        by_age[home.head.age].append(i)
    oldest = max(by_age)
    sizes = [0] * len(homes)
    for p in people:
        if id(p) in placed:
            sizes[p.hh] += 1
    for p in people:
        if id(p) in placed:
            continue
        target: int | None = None
        if p.age < 20 or (p.age < 55 and rng.random() < 0.5):
            target = _pick(rng, by_age, sizes, p.age + 20, p.age + 45)
            relation = Relation.CHILD
            if target is None:
                target = _pick(rng, by_age, sizes, p.age + 46, oldest)
                relation = Relation.GRANDCHILD
        else:
            target = _pick(rng, by_age, sizes, max(20, p.age - 40), p.age - 20)
            relation = Relation.PARENT
            if target is None:
                target = _pick(rng, by_age, sizes, max(20, p.age - 8), p.age + 8)
                relation = Relation.SIBLING
        while target is None or sizes[target] >= MAX_HOUSEHOLD:
            target, relation = rng.randrange(len(homes)), Relation.OTHER
        p.hh, p.relation = target, relation
        sizes[target] += 1


def _floating(rng: random.Random, on: dt.date, people: list[Person], homes: list[Home], quota: int) -> None:
    """Exactly ``quota`` floating people, living in whole rented or floating households."""
    members: dict[int, list[Person]] = defaultdict(list)
    for p in people:
        members[p.hh].append(p)
    left = quota
    for i in rng.sample(range(len(homes)), len(homes)):
        if left <= 0:
            break
        home = homes[i]
        home.kind = HouseholdType.RENTED if rng.random() < 0.6 else HouseholdType.FLOATING
        home.since = on - dt.timedelta(days=rng.randint(20, 6 * 365))  # floating households came recently
        for p in members[i][:left]:
            p.status = LivingStatus.FLOATING
        left -= len(members[i])


def _dates_and_status(rng: random.Random, on: dt.date, people: list[Person], homes: list[Home]) -> None:
    for p in people:
        home = homes[p.hh]
        # Born into the household after it moved in, or arrived with it (a few joined later).
        arrived = max(p.birth, home.since)
        if arrived < on and rng.random() < 0.1 and p.relation != Relation.HEAD:
            arrived += dt.timedelta(days=rng.randint(0, (on - arrived).days))
        p.arrived = p.status_since = arrived
        if p.status == LivingStatus.RESIDENT and 18 <= p.age <= 59 and rng.random() < AWAY_SHARE:
            p.status = LivingStatus.AWAY
            p.status_since = max(arrived, on - dt.timedelta(days=rng.randint(10, 700)))


def _tags(ctx: DemoContext, people: list[Person], homes: list[Home], tags: dict[str, int]) -> None:
    rng = ctx.rng
    members: dict[int, list[Person]] = defaultdict(list)
    for p in people:
        members[p.hh].append(p)
    for p in people:
        if p.age >= 60:
            p.tags.append(tags["age60"])
        if rng.random() < (0.25 if p.age >= 60 else 0.05 if p.age >= 35 else 0.005):
            p.tags.append(tags["chronic"])
        if rng.random() < (0.04 if p.age >= 60 else 0.012):
            p.tags.append(tags["disabled"])
    for i in range(len(homes)):
        group = members[i]
        if len(group) == 1 and group[0].age >= 65 and group[0].marital != MaritalStatus.MARRIED:
            group[0].tags.append(tags["alone"])
    for i in rng.sample(range(len(homes)), max(1, round(len(homes) * 0.02))):
        for p in members[i]:
            p.tags.append(tags["subsistence"])
    # Seed 000: 16 households, 28 people under special family-planning assistance (12 couples, 4 alone).
    couples = [i for i in range(len(homes)) if _couple_aged(members[i], 49)]
    alone = [i for i in range(len(homes)) if len(members[i]) == 1 and members[i][0].age >= 49]
    for i in rng.sample(couples, min(len(couples), max(1, round(12 * ctx.factor / len(ctx.data["streets"]))))):
        for p in members[i]:
            if p.relation in (Relation.HEAD, Relation.SPOUSE):
                p.tags.append(tags["fp_special"])
    for i in rng.sample(alone, min(len(alone), round(4 * ctx.factor / len(ctx.data["streets"])))):
        members[i][0].tags.append(tags["fp_special"])


def _couple_aged(group: list[Person], min_age: int) -> bool:
    heads = [p for p in group if p.relation in (Relation.HEAD, Relation.SPOUSE)]
    return len(heads) == 2 and all(p.age >= min_age for p in heads)


def _leavers(ctx: DemoContext, homes: list[Home], count: int) -> list[Person]:
    """People who moved out or died in the past: kept in the registry, not in the present counts."""
    rng, on = ctx.rng, ctx.on
    out = []
    for k in range(count):
        sex = Sex.FEMALE if k % 2 else Sex.MALE
        birth = _birth_for_age(rng, on, rng.randint(20, 95))
        age = age_on(birth, on)
        p = Person(sex=sex, birth=birth, age=age, name=_name(rng, sex), marital=MaritalStatus.UNKNOWN)
        p.hh = rng.randrange(len(homes))
        p.arrived = max(birth, homes[p.hh].since, on - dt.timedelta(days=rng.randint(3 * 365, 15 * 365)))
        p.left = min(on - dt.timedelta(days=1), p.arrived + dt.timedelta(days=rng.randint(200, 2 * 365)))
        p.left = max(p.left, p.arrived)
        p.status = LivingStatus.DECEASED if age > 75 else LivingStatus.MOVED_OUT
        p.status_since = p.left
        out.append(p)
    return out


def _name(rng: random.Random, sex: str) -> str:
    pool = GIVEN_FEMALE if sex == Sex.FEMALE else GIVEN_MALE
    return rng.choice(SURNAMES) + "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))


def _id_number(rng: random.Random, p: Person, used: dict[tuple[dt.date, str], set[int]]) -> str:
    """A valid, unused ID number: the demo region, the birth date, a random sequence number of the right parity.

    Real sequence numbers spread over 001–999 (they also encode the registering police station),
    so searches by the last four digits find as few people as they would in a real registry.
    """
    taken = used[(p.birth, p.sex)]
    if len(taken) >= 450:  # of 500 numbers per day and sex: keep the random draw quick
        raise ValueError("too many people born on one day")
    while True:
        seq = rng.randrange(1 if p.sex == Sex.MALE else 2, 1000, 2)  # odd for men, even for women
        if seq not in taken:
            taken.add(seq)
            break
    first17 = f"{REGION}{p.birth:%Y%m%d}{seq:03d}"
    return first17 + check_char(first17)


def _phone(rng: random.Random, p: Person, phones: set[str]) -> str:
    if p.status == LivingStatus.DECEASED or (p.age < 16 and rng.random() > 0.2):
        return ""
    while True:
        phone = "1" + rng.choice("3578") + f"{rng.randrange(10**9):09d}"
        if phone not in phones:
            phones.add(phone)
            return phone


class _Writer:
    """Inserts households, residents, their tags and history versions as plain rows."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._stored: dict[dt.datetime, Any] = {}
        self.now_stored = self.stored(now)

    def stored(self, when: dt.datetime) -> Any:
        """The database form of an aware datetime, computed once per value (most dates repeat)."""
        value = self._stored.get(when)
        if value is None:
            # SQLite keeps naive UTC text (what Django writes); PostgreSQL's COPY takes the datetime.
            value = timezone.make_naive(when, dt.UTC).isoformat(sep=" ") if connection.vendor == "sqlite" else when
            self._stored[when] = value
        return value

    def day(self, on: dt.date) -> Any:
        return self.stored(start_of_day(on))

    def households(self, homes: list[Home]) -> None:
        for pk, home in zip(reserve_ids(Household, len(homes)), homes, strict=True):
            home.pk = pk

        def values(home: Home) -> dict[str, Any]:
            assert home.head is not None
            return {
                "id": home.pk,
                "unit_id": home.unit_id,
                "entrance": home.entrance,
                "door": home.door,
                "household_type": str(home.kind),
                "head_name": home.head.name,
                "occupied_since": home.since,
                "created_at": self.now_stored,
                "updated_at": self.now_stored,
            }

        _insert(Household, (values(h) for h in homes))
        _insert_history(Household, ((values(h), self.day(h.since), "+") for h in homes), len(homes))

    def residents(self, people: list[Person], homes: list[Home]) -> None:
        for pk, p in zip(reserve_ids(Resident, len(people)), people, strict=True):
            p.pk = pk

        def values(p: Person) -> dict[str, Any]:
            home = homes[p.hh]
            return {
                "id": p.pk,
                "name": p.name,
                "id_type": "resident_id",
                "id_number": p.id_number,
                "id_number_rev": p.id_number[::-1],
                "sex": str(p.sex),
                "birth_date": p.birth,
                "phone": p.phone,
                "phone_rev": p.phone[::-1],
                "unit_id": home.unit_id,
                "household_id": home.pk,
                "relation": str(p.relation),
                "registered": p.status != LivingStatus.FLOATING,
                "living_status": str(p.status),
                "status_since": p.status_since,
                "arrived_on": p.arrived,
                "left_on": p.left,
                "marital_status": str(p.marital),
                "created_at": self.now_stored,
                "updated_at": self.now_stored,
            }

        def versions() -> Iterator[tuple[dict[str, Any], Any, str]]:
            for p in people:
                row = values(p)
                assert p.arrived is not None and p.status_since is not None
                if p.status in (LivingStatus.RESIDENT, LivingStatus.FLOATING):
                    yield row, self.day(p.arrived), "+"
                    continue
                # Went away or left later: present from arrival, then the change on its date.
                first = dict(row, living_status=LivingStatus.RESIDENT.value, status_since=p.arrived, left_on=None)
                yield first, self.day(p.arrived), "+"
                yield row, self.day(p.status_since), "~"

        _insert(Resident, (values(p) for p in people))
        count = sum(1 if p.status in (LivingStatus.RESIDENT, LivingStatus.FLOATING) else 2 for p in people)
        history_ids = _insert_history(Resident, versions(), count)
        self._tags(people, history_ids)

    def _tags(self, people: list[Person], history_ids: list[int]) -> None:
        through: type[models.Model] = Resident.tags.through
        pairs = [(p.pk, tag_id) for p in people for tag_id in dict.fromkeys(p.tags)]
        through_ids = reserve_ids(through, len(pairs))
        insert_rows(
            through, ["id", "resident_id", "tag_id"], ([i, r, t] for i, (r, t) in zip(through_ids, pairs, strict=True))
        )
        # Every history version of a tagged person lists the person's tags (simple-history's m2m history).
        by_resident: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for through_id, (resident_id, tag_id) in zip(through_ids, pairs, strict=True):
            by_resident[resident_id].append((through_id, tag_id))
        versions_per_person = [1 if p.status in (LivingStatus.RESIDENT, LivingStatus.FLOATING) else 2 for p in people]
        rows = []
        k = 0
        for p, n in zip(people, versions_per_person, strict=True):
            for history_id in history_ids[k : k + n]:
                for through_id, tag_id in by_resident.get(p.pk, ()):
                    rows.append((through_id, p.pk, tag_id, history_id))
            k += n
        m2m_history = apps.get_model("registry", "HistoricalResident_tags")  # made by simple-history
        if not rows:
            return
        ids = reserve_ids(m2m_history, len(rows))
        insert_rows(
            m2m_history,
            ["m2m_history_id", "id", "resident_id", "tag_id", "history_id"],
            ([hid, *row] for hid, row in zip(ids, rows, strict=True)),
        )


def _insert(model: type[models.Model], records: Iterable[dict[str, Any]]) -> None:
    fields = concrete_columns(model)
    defaults = {f.attname: f.get_default() for f in fields}
    names = [f.attname for f in fields]
    insert_rows(model, [str(f.column) for f in fields], ([r.get(n, defaults[n]) for n in names] for r in records))


def _insert_history(
    model: type[models.Model], versions: Iterable[tuple[dict[str, Any], Any, str]], count: int
) -> list[int]:
    """``count`` history rows, one per (values, stored date, type); returns their history ids in order."""
    history = model.history.model  # type: ignore[attr-defined]
    own = {f.attname for f in model._meta.concrete_fields}
    tracked = [f for f in concrete_columns(history) if f.attname in own]
    defaults = {f.attname: f.get_default() for f in tracked}
    names = [f.attname for f in tracked]
    ids = reserve_ids(history, count)
    columns = ["history_id", *(str(f.column) for f in tracked), "history_date", "history_change_reason", "history_type"]

    def make(history_id: int, version: tuple[dict[str, Any], Any, str]) -> list[Any]:
        values, date, kind = version
        return [history_id, *(values.get(n, defaults[n]) for n in names), date, REASON, kind]

    insert_rows(history, columns, (make(hid, v) for hid, v in zip(ids, versions, strict=True)))
    return ids
