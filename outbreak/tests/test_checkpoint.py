"""卡口 pages and static codes as the users see them: who sees which checkpoint, the instant lookup
(by static code, by the last digits of an ID number, by name), the duty roster and today's counts."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from accounts.rules import mask_id_number
from outbreak import services
from outbreak.models import Checkpoint, CheckpointEntry, DutyShift, PassRule
from outbreak.tests.factories import event
from registry.models import StaticCode
from registry.services import issue_static_code

LIST = reverse("outbreak:checkpoint_list")
TODAY = timezone.localdate()


def screen_url(cp):
    return reverse("outbreak:checkpoint_screen", args=[cp.pk])


def lookup(client, cp, q):
    return client.get(reverse("outbreak:checkpoint_lookup", args=[cp.pk]), {"q": q})


@pytest.fixture
def gates(world):
    ev = event(world)
    north = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    west = Checkpoint.objects.create(unit=world.west_c1, event=ev, name="西门")
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=TODAY - dt.timedelta(days=5))
    return north, west


def as_user(client, world, username):
    client.force_login(world.user(username))
    return client


@pytest.mark.parametrize(
    ("username", "visible"),
    [
        ("alice", {"北门", "西门"}),
        ("bob", {"北门"}),
        ("carol", {"北门"}),
        ("dave", {"北门"}),  # a grid worker stands at his community's gate
        ("erin", {"西门"}),
        ("frank", {"西门"}),
        ("gina", {"西门"}),
    ],
)
def test_each_user_sees_the_checkpoints_of_his_subtree_and_community(client, world, gates, username, visible):
    as_user(client, world, username)
    page = client.get(LIST)
    assert {row["obj"].name for row in page.context["rows"]} == visible
    for cp in gates:
        assert client.get(screen_url(cp)).status_code == (200 if cp.name in visible else 404)
        assert lookup(client, cp, "张").status_code == (200 if cp.name in visible else 404)


def test_lookup_by_static_code_by_last_digits_and_by_name(client, world, gates):
    north, _ = gates
    zhang = world.residents["zhang"]
    code = issue_static_code(resident=zhang, by=world.user("carol"))
    as_user(client, world, "dave")
    [row] = lookup(client, north, code.token).json()["results"]
    assert (row["id"], row["id_number"], row["last_direction"]) == (zhang.pk, mask_id_number(zhang.id_number), "")
    assert row["address"] == world.households["zhang"].address
    assert [r["name"] for r in lookup(client, north, zhang.id_number[-6:]).json()["results"]] == ["张伟"]
    assert [r["name"] for r in lookup(client, north, "张").json()["results"]] == ["张伟"]
    assert lookup(client, north, "12").json()["results"] == []  # too few digits to mean anyone
    # 李娜 lives in 泰丰社区: not found at 龙兴社区's gate, even by her street's staff.
    li = world.residents["li"]
    as_user(client, world, "bob")
    assert lookup(client, north, li.id_number[-6:]).json()["results"] == []
    assert lookup(client, north, "李").json()["results"] == []


def test_lookup_shows_the_last_crossing_direction(client, world, gates):
    north, _ = gates
    zhang = world.residents["zhang"]
    services.register_crossing(
        checkpoint=north,
        data=services.CrossingData(client_id="c-1", direction="out", person=zhang),
        by=world.user("dave"),
    )
    as_user(client, world, "carol")
    [row] = lookup(client, north, zhang.id_number[-4:]).json()["results"]
    assert (row["last_direction"], row["last_direction_label"]) == ("out", "出")


def test_a_grid_worker_of_the_community_may_register_on_the_screen(client, world, gates):
    north, _ = gates
    as_user(client, world, "dave")
    page = client.get(screen_url(north))
    assert page.context["can_write"] is True
    assert b'id="cp-form"' in page.content
    assert "每户每2天可出门1人次" in page.content.decode()
    answer = client.post(
        f"/api/outbreak/checkpoints/{north.pk}/crossings",
        {"client_id": "screen-1", "direction": "out", "resident_id": world.residents["zhang"].pk},
        content_type="application/json",
    )
    assert answer.status_code == 201
    entry = CheckpointEntry.objects.get()
    assert (entry.recorded_by.username, entry.household_id) == ("dave", world.households["zhang"].pk)
    entries = client.get(reverse("outbreak:checkpoint_entries", args=[north.pk])).json()
    assert [e["client_id"] for e in entries["entries"]] == ["screen-1"]
    assert entries["counts"] == {"in": 0, "out": 1, "breaches": 0}
    assert "张伟" in client.get(screen_url(north)).content.decode()


def test_the_read_only_leader_sees_the_screen_without_the_form(client, world, gates):
    _, west = gates
    as_user(client, world, "frank")
    page = client.get(screen_url(west))
    assert page.status_code == 200 and page.context["can_write"] is False
    assert b'id="cp-form"' not in page.content
    assert b"new-checkpoint" not in client.get(LIST).content


def test_community_staff_create_a_checkpoint_and_a_duty_shift(client, world, gates):
    north, _ = gates
    as_user(client, world, "carol")
    bad = client.post(LIST, {"event": north.event_id, "unit": world.east_c1.pk, "name": " "})
    assert bad.status_code == 200 and bad.context["errors"] == {"name": ["请填写卡口名称"]}
    outside = client.post(LIST, {"event": north.event_id, "unit": world.west_c1.pk, "name": "东门"})
    assert outside.context["errors"] == {"unit": ["请选择所在单位"]}
    made = client.post(LIST, {"event": north.event_id, "unit": world.east_c1.pk, "name": "东门", "location": "东路"})
    east_gate = Checkpoint.objects.get(name="东门")
    assert made.status_code == 302 and made["Location"] == screen_url(east_gate)
    now = timezone.localtime()
    shift = {
        "starts_at": (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M"),
        "people": "刘强、陈静",
        "phone": "13700000000",
    }
    client.post(reverse("outbreak:checkpoint_shift", args=[east_gate.pk]), {**shift, "people": ""})
    assert DutyShift.objects.count() == 0
    client.post(reverse("outbreak:checkpoint_shift", args=[east_gate.pk]), shift)
    rows = {row["obj"].name: row for row in client.get(LIST).context["rows"]}
    assert [s.people for s in rows["东门"]["on_duty"]] == ["刘强、陈静"]
    assert rows["北门"]["on_duty"] == []


def test_the_list_counts_todays_crossings_and_breaches(client, world, gates):
    north, _ = gates
    zhang = world.residents["zhang"]
    dave = world.user("dave")
    earlier = timezone.now() - dt.timedelta(minutes=30)
    for cid, direction, reason, at in (("a", "out", "", earlier), ("b", "in", "", None), ("c", "out", "送医", None)):
        services.register_crossing(
            checkpoint=north,
            data=services.CrossingData(client_id=cid, direction=direction, person=zhang, allow_reason=reason, at=at),
            by=dave,
        )
    as_user(client, world, "bob")
    [row] = client.get(LIST).context["rows"]
    assert row["counts"] == {"in": 1, "out": 2, "breaches": 1}


def test_a_new_static_code_revokes_the_old_one_and_never_shows_the_id_number(world):
    zhang = world.residents["zhang"]
    first = issue_static_code(resident=zhang, by=world.user("carol"))
    second = issue_static_code(resident=zhang, by=world.user("carol"))
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert first.token != second.token and zhang.id_number[-6:] not in second.token
    assert StaticCode.objects.filter(resident=zhang, revoked_at__isnull=True).count() == 1
    with pytest.raises(IntegrityError):
        StaticCode.objects.create(resident=zhang, token="duplicate-active", issued_at=timezone.now())


def test_a_static_code_outside_the_users_unit_is_refused(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        issue_static_code(resident=world.residents["wang"], by=world.user("carol"))
    assert not StaticCode.objects.exists()


# ---- register_crossing's idempotency without a lookup first, and the nearest pass rule -------------------------------


def van(client_id, plate="蒙G12345"):
    return services.CrossingData(client_id=client_id, direction="in", plate=plate, vehicle_type="express")


def test_an_entry_colliding_on_its_client_id_is_answered_with_the_stored_one(world, gates):
    """A van's resend passes every check, so the unique client id decides at the insert; the caller's
    transaction (here the test's) goes on working after the collision."""
    north, west = gates
    dave = world.user("dave")
    first = services.register_crossing(checkpoint=north, data=van("v-1"), by=dave)
    again = services.register_crossing(checkpoint=north, data=van("v-1", plate="蒙G99999"), by=dave)
    assert (first.created, again.created, again.entry.pk, again.entry.plate) == (
        True,
        False,
        first.entry.pk,
        "蒙G12345",
    )
    assert CheckpointEntry.objects.count() == 1
    with pytest.raises(ValidationError) as err:
        services.register_crossing(checkpoint=west, data=van("v-1"), by=world.user("erin"))
    assert "client_id" in err.value.message_dict
    assert services.register_crossing(checkpoint=north, data=van("v-2"), by=dave).created


@pytest.mark.django_db(transaction=True)
def test_outside_any_transaction_a_collision_is_answered_too(world, gates):
    north, _ = gates
    dave = world.user("dave")
    first = services.register_crossing(checkpoint=north, data=van("v-1"), by=dave)
    again = services.register_crossing(checkpoint=north, data=van("v-1"), by=dave)
    assert (again.created, again.entry.pk) == (False, first.entry.pk)
    assert services.register_crossing(checkpoint=north, data=van("v-2"), by=dave).created
    assert CheckpointEntry.objects.count() == 2


def test_a_resend_to_a_checkpoint_retired_since_is_answered_and_a_new_entry_refused(world, gates):
    north, _ = gates
    dave = world.user("dave")
    first = services.register_crossing(checkpoint=north, data=van("v-1"), by=dave)
    north.retired_on = TODAY
    north.save(update_fields=["retired_on"])
    assert services.register_crossing(checkpoint=north, data=van("v-1"), by=dave).entry.pk == first.entry.pk
    with pytest.raises(ValidationError, match="已撤除"):
        services.register_crossing(checkpoint=north, data=van("v-2"), by=dave)


def test_the_nearest_units_pass_rule_applies(world, gates):
    north, _ = gates
    ev = north.event
    # The street allows 3 exits a day; 龙兴社区 (the fixture's rule) 1 in 2 days: the community's is nearer.
    PassRule.objects.create(event=ev, unit=world.east, max_exits=3, days=1, valid_from=TODAY - dt.timedelta(days=5))
    rule = services.pass_rule_for(north, TODAY)
    assert rule is not None and (rule.unit_id, rule.max_exits, rule.days) == (world.east_c1.pk, 1, 2)
    PassRule.objects.filter(unit=world.east_c1).update(valid_to=TODAY - dt.timedelta(days=1))
    rule = services.pass_rule_for(north, TODAY)
    assert rule is not None and (rule.unit_id, rule.max_exits) == (world.east.pk, 3)
    assert services.pass_rule_for(gates[1], TODAY) is None  # nothing for 辽河社区 or above it
