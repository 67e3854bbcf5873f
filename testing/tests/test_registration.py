"""The sampling table's writes: tubes and batches of samples (testing/registration.py)."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import StaticCode
from testing import registration
from testing.models import RoundStatus, Sample, SampleType, ShouldSample, Tube
from testing.registration import CREATED, DUPLICATE, REFUSED, Entry, close_tube, open_tube, register_batch
from testing.tests.factories import add_residents, make_table, sampling_world, static_code

pytestmark = pytest.mark.django_db


def cid() -> str:
    return str(uuid.uuid4())


def by_roster(sw, resident, tube="T0001", **kw) -> Entry:
    return Entry(client_id=cid(), tube_barcode=tube, should_sample_id=sw.row(resident).pk, **kw)


def register(sw, entries, user, table=None, **kw):
    return registration.register_samples(round=sw.round, table=table or sw.table1, entries=entries, by=user, **kw)


@pytest.fixture
def sw(world):
    return sampling_world(world)


def test_a_batch_by_token_roster_row_and_id_number_fills_one_tube(world, sw):
    bob = world.user("bob")
    zhang, li, third = sw.residents[0], sw.residents[1], sw.residents[2]
    code = static_code(world, zhang)
    taken = timezone.now() - dt.timedelta(minutes=3)
    entries = [
        Entry(client_id=cid(), tube_barcode=" t0001 ", token=code.token, taken_at=taken),
        by_roster(sw, li, door_to_door=True),
        Entry(client_id=cid(), tube_barcode="T0001", id_number=third.id_number.lower()),
    ]
    outcomes = register(sw, entries, bob)
    assert [(o.status, o.tube, o.position, o.repeat) for o in outcomes] == [
        (CREATED, "T0001", 1, False),
        (CREATED, "T0001", 2, False),
        (CREATED, "T0001", 3, False),
    ]
    tube = Tube.objects.get(round=sw.round, barcode="T0001")
    assert (tube.table_id, tube.capacity, tube.filled, tube.closed_at, tube.opened_by_id) == (
        sw.table1.pk,
        10,
        3,
        None,
        bob.pk,
    )
    first = Sample.objects.get(pk=outcomes[0].sample_id)
    assert (first.resident_id, first.name, first.id_number, first.phone) == (
        zhang.pk,
        "张伟",
        zhang.id_number,
        zhang.phone,
    )
    assert (first.table_id, first.operator_id, first.taken_at, first.door_to_door) == (
        sw.table1.pk,
        bob.pk,
        taken,
        False,
    )
    assert Sample.objects.get(pk=outcomes[1].sample_id).door_to_door is True
    assert outcomes[0].name == "张伟"


def test_a_resent_batch_answers_duplicate_with_the_stored_samples(world, sw):
    bob = world.user("bob")
    entries = [by_roster(sw, r) for r in sw.residents[:4]]
    first = register(sw, entries, bob)
    again = register(sw, entries, bob)
    assert {o.status for o in again} == {DUPLICATE}
    assert [(o.sample_id, o.tube, o.position) for o in again] == [(o.sample_id, o.tube, o.position) for o in first]
    assert Sample.objects.count() == 4
    assert Tube.objects.get(barcode="T0001").filled == 4


def test_the_same_client_id_twice_in_one_batch_is_stored_once(world, sw):
    e = by_roster(sw, sw.residents[0])
    outcomes = register(sw, [e, replace(e)], world.user("bob"))
    assert [o.status for o in outcomes] == [CREATED, DUPLICATE]
    assert outcomes[0].sample_id == outcomes[1].sample_id
    assert Sample.objects.count() == 1


def test_an_eleventh_person_on_a_pooled_tube_is_refused_and_the_tube_closes_at_ten(world, sw):
    outcomes = register(sw, [by_roster(sw, r) for r in sw.residents[:11]], world.user("bob"))
    assert [o.status for o in outcomes] == [CREATED] * 10 + [REFUSED]
    assert outcomes[-1].field == "tube_barcode"
    assert "已满" in outcomes[-1].message and sw.residents[10].name in outcomes[-1].message
    tube = Tube.objects.get(barcode="T0001")
    assert (tube.filled, tube.closed_at is not None) == (10, True)
    assert sorted(Sample.objects.values_list("position", flat=True)) == list(range(1, 11))
    # The next batch to the full tube: refused too; a new tube takes the person.
    late = register(
        sw, [by_roster(sw, sw.residents[11]), by_roster(sw, sw.residents[12], tube="T0002")], world.user("bob")
    )
    assert [o.status for o in late] == [REFUSED, CREATED]


def test_a_single_sample_round_has_tubes_of_one(world):
    sw = sampling_world(world, sample_type=SampleType.SINGLE, extra=1)
    outcomes = register(sw, [by_roster(sw, sw.residents[0]), by_roster(sw, sw.residents[1])], world.user("bob"))
    assert [o.status for o in outcomes] == [CREATED, REFUSED]
    assert Tube.objects.get(barcode="T0001").capacity == 1


def test_a_tube_belongs_to_the_table_that_opened_it(world, sw):
    bob = world.user("bob")
    tube, created = open_tube(round=sw.round, table=sw.table1, barcode="T0001", by=bob)
    assert created and tube.table_id == sw.table1.pk
    again, created = open_tube(round=sw.round, table=sw.table1, barcode="t0001", by=bob)
    assert (again.pk, created) == (tube.pk, False)
    with pytest.raises(ValidationError) as exc:
        open_tube(round=sw.round, table=sw.table2, barcode="T0001", by=bob)
    assert "试管 T0001 已在 龙兴社区广场采样点 固定采样台1号 使用" in exc.value.message_dict["barcode"][0]
    outcomes = register(sw, [by_roster(sw, sw.residents[0])], bob, table=sw.table2)
    assert (outcomes[0].status, outcomes[0].field) == (REFUSED, "tube_barcode")
    assert "已在 龙兴社区广场采样点 固定采样台1号 使用" in outcomes[0].message
    assert Sample.objects.count() == 0


def test_a_tube_first_named_by_a_batch_of_another_table_is_refused_there(world, sw):
    bob = world.user("bob")
    register(sw, [by_roster(sw, sw.residents[0])], bob)  # opened offline at table 1, arrives with its batch
    out = register(sw, [by_roster(sw, sw.residents[1])], bob, table=sw.table2)
    assert out[0].status == REFUSED and "固定采样台1号" in out[0].message


def test_a_person_sampled_again_in_the_round_is_stored_and_flagged(world, sw):
    bob = world.user("bob")
    zhang = sw.residents[0]
    first = register(sw, [by_roster(sw, zhang, tube="A1")], bob)[0]
    again = register(sw, [by_roster(sw, zhang, tube="A2")], bob)[0]
    assert (again.status, again.repeat, again.repeat_of) == (CREATED, True, first.sample_id)
    assert Sample.objects.get(pk=again.sample_id).repeat_of_id == first.sample_id
    # Twice in one batch, in two tubes: the second points at the first of the same batch.
    li = sw.residents[1]
    both = register(sw, [by_roster(sw, li, tube="A2"), by_roster(sw, li, tube="A3")], bob)
    assert [(o.status, o.repeat) for o in both] == [(CREATED, False), (CREATED, True)]
    assert both[1].repeat_of == both[0].sample_id
    assert Sample.objects.get(pk=both[1].sample_id).repeat_of_id == both[0].sample_id
    # A third time: still points at the first sample.
    third = register(sw, [by_roster(sw, zhang, tube="A3")], bob)[0]
    assert third.repeat_of == first.sample_id


def test_the_same_person_twice_in_one_tube_is_refused(world, sw):
    bob = world.user("bob")
    zhang = sw.residents[0]
    out = register(sw, [by_roster(sw, zhang), by_roster(sw, zhang)], bob)
    assert [o.status for o in out] == [CREATED, REFUSED]
    assert "已在试管 T0001 中" in out[1].message
    later = register(sw, [by_roster(sw, zhang)], bob)
    assert later[0].status == REFUSED
    assert Tube.objects.get(barcode="T0001").filled == 1


def test_people_outside_the_list(world, sw):
    bob = world.user("bob")
    wang = world.residents["wang"]  # 西城街道: not in this round
    code = static_code(world, wang)
    out = register(
        sw,
        [
            Entry(client_id=cid(), tube_barcode="T1", token=code.token),
            Entry(client_id=cid(), tube_barcode="T1", id_number=wang.id_number),
            Entry(client_id=cid(), tube_barcode="T1", id_number="110101199003074514", name="外来 人员", phone="139"),
            Entry(client_id=cid(), tube_barcode="T1", id_number="110101199003074518", name="错号"),
            Entry(client_id=cid(), tube_barcode="T1", should_sample_id=999999),
            Entry(client_id=cid(), tube_barcode="T1", id_number=wang.id_number, name="王芳"),
        ],
        bob,
    )
    assert [(o.status, o.field) for o in out] == [
        (REFUSED, "person"),
        (REFUSED, "id_number"),
        (CREATED, ""),
        (REFUSED, "id_number"),
        (REFUSED, "should_sample_id"),
        (CREATED, ""),
    ]
    assert "王芳 不在本轮应检名单" in out[0].message
    assert "按名单外人员登记" in out[1].message
    assert "校验位" in out[3].message
    extra = ShouldSample.objects.get(round=sw.round, id_number="110101199003074514")
    assert (extra.name, extra.resident_id, extra.site_id, extra.unit_id, extra.exemption) == (
        "外来 人员",
        None,
        sw.site.pk,
        sw.site.unit_id,
        "",
    )
    assert extra.exemption_note == registration.EXTRA_ROSTER_NOTE
    wang_row = ShouldSample.objects.get(round=sw.round, id_number=wang.id_number)
    assert wang_row.resident_id == wang.pk  # linked to the registry
    assert Sample.objects.get(pk=out[5].sample_id).resident_id == wang.pk
    # Once on the list, his code works like anyone's.
    again = register(sw, [Entry(client_id=cid(), tube_barcode="T2", token=code.token)], bob)
    assert (again[0].status, again[0].repeat) == (CREATED, True)


def test_unknown_and_revoked_tokens_are_refused(world, sw):
    bob = world.user("bob")
    zhang = sw.residents[0]
    old = static_code(world, zhang)
    new = static_code(world, zhang)  # the lost card stops working
    assert StaticCode.objects.get(pk=old.pk).revoked_at is not None
    out = register(
        sw,
        [
            Entry(client_id=cid(), tube_barcode="T1", token="nosuchtoken00000"),
            Entry(client_id=cid(), tube_barcode="T1", token=old.token),
            Entry(client_id=cid(), tube_barcode="T1", token=new.token),
        ],
        bob,
    )
    assert [(o.status, o.field) for o in out] == [(REFUSED, "token"), (REFUSED, "token"), (CREATED, "")]
    assert "二维码无效" in out[0].message


def test_a_closed_tube_takes_nobody_and_closing_is_idempotent(world, sw):
    bob = world.user("bob")
    register(sw, [by_roster(sw, r) for r in sw.residents[:3]], bob)
    tube = close_tube(round=sw.round, table=sw.table1, barcode="T0001", by=bob)
    closed_at = tube.closed_at
    assert closed_at is not None
    assert close_tube(round=sw.round, table=sw.table1, barcode="T0001", by=bob).closed_at == closed_at
    out = register(sw, [by_roster(sw, sw.residents[3])], bob)
    assert out[0].status == REFUSED and "已封管" in out[0].message
    with pytest.raises(ValidationError):
        close_tube(round=sw.round, table=sw.table2, barcode="T0001", by=bob)
    with pytest.raises(ValidationError):
        close_tube(round=sw.round, table=sw.table1, barcode="NOPE", by=bob)


def test_a_batch_can_close_its_tubes_after_its_entries(world, sw):
    bob = world.user("bob")
    result = register_batch(
        round=sw.round, table=sw.table1, entries=[by_roster(sw, r) for r in sw.residents[:3]], by=bob, close=["t0001"]
    )
    assert result.created == 3
    assert result.tubes["T0001"].as_dict() == {"barcode": "T0001", "filled": 3, "capacity": 10, "closed": True}
    assert Tube.objects.get(barcode="T0001").closed_at is not None


def test_refused_entries_never_block_the_others(world, sw):
    bob = world.user("bob")
    register(sw, [by_roster(sw, sw.residents[0], tube="OTHER")], bob, table=sw.table2)
    entries = [
        by_roster(sw, sw.residents[1]),
        Entry(client_id=cid(), tube_barcode="T0001", token="unknown-token-00"),
        by_roster(sw, sw.residents[2], tube="OTHER"),  # another table's tube
        Entry(client_id=cid(), tube_barcode="", should_sample_id=sw.row(sw.residents[3]).pk),
        Entry(client_id="", tube_barcode="T0001", should_sample_id=sw.row(sw.residents[4]).pk),
        Entry(client_id=cid(), tube_barcode="T0001"),
        by_roster(sw, sw.residents[5]),
    ]
    out = register(sw, entries, bob)
    assert [(o.status, o.field) for o in out] == [
        (CREATED, ""),
        (REFUSED, "token"),
        (REFUSED, "tube_barcode"),
        (REFUSED, "tube_barcode"),
        (REFUSED, "client_id"),
        (REFUSED, "person"),
        (CREATED, ""),
    ]
    assert [o.position for o in out if o.status == CREATED] == [1, 2]
    assert Tube.objects.get(barcode="T0001").filled == 2


def test_nothing_is_acknowledged_when_the_transaction_fails(world, sw):
    bob = world.user("bob")

    def lose_the_database_at_the_tube_update(execute, sql, params, many, context):
        if "UPDATE testing_tube" in sql:
            raise OperationalError("the database went away")
        return execute(sql, params, many, context)

    # The tube was opened (and, on SQLite, the samples inserted), then the tube's update fails: the whole batch
    # is rolled back and no outcome is returned (the table keeps the entries queued and sends them again).
    with connection.execute_wrapper(lose_the_database_at_the_tube_update), pytest.raises(OperationalError):
        register(sw, [by_roster(sw, r) for r in sw.residents[:3]], bob)
    assert Sample.objects.count() == 0
    assert not Tube.objects.exists()
    out = register(sw, [by_roster(sw, r) for r in sw.residents[:3]], bob)
    assert [o.status for o in out] == [CREATED] * 3


def test_a_race_on_a_unique_key_is_retried_once(world, sw, monkeypatch):
    from django.db import IntegrityError

    calls = []
    real = registration._register

    def flaky(*args):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(*args)

    monkeypatch.setattr(registration, "_register", flaky)
    out = register(sw, [by_roster(sw, sw.residents[0])], world.user("bob"))
    assert out[0].status == CREATED and len(calls) == 2


def test_a_clock_in_the_future_is_replaced_by_the_receiving_time(world, sw):
    later = timezone.now() + dt.timedelta(hours=3)
    out = register(sw, [by_roster(sw, sw.residents[0], taken_at=later)], world.user("bob"))
    assert Sample.objects.get(pk=out[0].sample_id).taken_at < later - dt.timedelta(hours=2)


def test_who_may_register(world, sw):
    entries = [by_roster(sw, sw.residents[0])]
    for name in ("frank", "erin", "gina"):
        with pytest.raises(PermissionDenied):
            register(sw, entries, world.user(name))
    # Grid workers below the site's community staff its tables, as do the community, street and district.
    for n, name in enumerate(("dave", "carol", "bob", "alice")):
        out = register(sw, [by_roster(sw, sw.residents[n], tube=f"S{n}")], world.user(name))
        assert out[0].status == CREATED, name


def test_a_closed_round_or_retired_table_takes_nothing(world, sw):
    bob = world.user("bob")
    sw.round.status = RoundStatus.CLOSED
    sw.round.save()
    with pytest.raises(ValidationError):
        register(sw, [by_roster(sw, sw.residents[0])], bob)
    sw.round.status = RoundStatus.RUNNING
    sw.round.save()
    sw.table2.retired_at = timezone.now()
    sw.table2.save()
    with pytest.raises(ValidationError):
        register(sw, [by_roster(sw, sw.residents[0])], bob, table=sw.table2)
    with pytest.raises(ValidationError):
        register(sw, [by_roster(sw, sw.residents[0])] * (registration.MAX_BATCH + 1), bob)


def test_the_number_of_queries_does_not_grow_with_the_batch(world, sw):
    bob = world.user("bob")
    more = add_residents(world, world.east_b1, 40, surname="孙")
    rows = {r.resident_id: r for r in ShouldSample.objects.filter(round=sw.round)}
    for r in more:
        rows[r.pk] = ShouldSample.objects.create(
            round=sw.round, resident=r, name=r.name, id_number=r.id_number, unit=r.unit, site=sw.site
        )
    codes = {r.pk: static_code(world, r).token for r in more}
    register(sw, [by_roster(sw, sw.residents[0], tube="WARM")], bob)  # tube WARM exists now

    def batch(people, tubes):
        entries = []
        for n, r in enumerate(people):
            tube = tubes[n // 10]
            if n % 2:
                entries.append(Entry(client_id=cid(), tube_barcode=tube, token=codes[r.pk]))
            else:
                entries.append(Entry(client_id=cid(), tube_barcode=tube, should_sample_id=rows[r.pk].pk))
        return entries

    # Existing tubes (opened by an earlier batch), so only the steady state is counted.
    for t in ("Q1", "Q2", "Q3", "Q4", "Q5"):
        open_tube(round=sw.round, table=sw.table1, barcode=t, by=bob)
    with CaptureQueriesContext(connection) as small:
        out = register(sw, batch(more[:4], ["Q1"]), bob)
    assert {o.status for o in out} == {CREATED}
    with CaptureQueriesContext(connection) as large:
        out = register(sw, batch(more[4:40], ["Q2", "Q3", "Q4", "Q5"]), bob)
    assert {o.status for o in out} == {CREATED}
    # Tubes (locked), stored client ids, the people (codes and roster rows), their earlier samples, the INSERT
    # of the samples and the UPDATE of the tubes: one statement on PostgreSQL, one UPDATE per tube on SQLite.
    per_tube = 0 if connection.vendor == "postgresql" else 1
    assert len(large) - len(small) == 3 * per_tube, [q["sql"][:80] for q in large.captured_queries]
    work = [q["sql"] for q in small.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(work) == (5 if connection.vendor == "postgresql" else 6), work


def test_a_mobile_team_registers_door_to_door(world, sw):
    team = make_table(sw.site, 1, kind="mobile")
    out = register(
        sw, [by_roster(sw, sw.residents[0], tube="M1", door_to_door=True, make_up=True)], world.user("dave"), table=team
    )
    sample = Sample.objects.get(pk=out[0].sample_id)
    assert (sample.table_id, sample.door_to_door, sample.make_up) == (team.pk, True, True)


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_never_overfill_a_tube(world):
    """Four tables' worth of batches for the same tube at once (PostgreSQL: row locks; SQLite: one writer)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the in-memory SQLite test database is one connection)")
    sw = sampling_world(world, extra=11)
    bob = world.user("bob")
    open_tube(round=sw.round, table=sw.table1, barcode="HOT", by=bob)
    groups = [sw.residents[i : i + 6] for i in (0, 6, 12, 18)]
    results: list = []
    errors: list = []
    barrier = threading.Barrier(len(groups))

    def send(people):
        try:
            barrier.wait()
            results.extend(register(sw, [by_roster(sw, r, tube="HOT") for r in people], bob))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(g,)) for g in groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(1 for o in results if o.status == CREATED) == 10
    assert sum(1 for o in results if o.status == REFUSED) == 14
    tube = Tube.objects.get(barcode="HOT")
    assert (tube.filled, Sample.objects.filter(tube=tube).count()) == (10, 10)
    assert sorted(Sample.objects.filter(tube=tube).values_list("position", flat=True)) == list(range(1, 11))
