"""Resident search and the registry's list reads, as the pages use them."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.testing import make_id_number
from registry.models import Tag
from registry.selectors import (
    filter_households,
    filter_residents,
    resident_versions,
    search_residents,
    status_history,
)
from registry.services import ResidentData, change_living_status, create_household, create_resident, update_resident


def names(qs):
    return {r.name for r in qs}


@pytest.fixture
def alice(world):
    return world.user("alice")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张", {"张伟"}),
        ("王芳", {"王芳"}),
        ("伟", set()),  # names are searched by their beginning
        ("0001", {"张伟"}),  # last digits of the phone
        ("13800000003", {"王芳"}),  # a whole phone number
        ("138-0000-0002", {"李娜"}),  # typed with dashes
        ("龙兴", {"张伟"}),  # community name
        ("3号楼", {"王芳"}),  # building name
        ("1号楼 101", {"张伟"}),  # building and door
        ("东城 李", {"李娜"}),  # street and name
        ("泰丰 张", set()),
        ("1单元 301", {"王芳"}),
    ],
)
def test_search_words(world, alice, query, expected):
    assert names(search_residents(alice, query)) == expected


def test_search_by_full_id_number_tail_and_legacy_15_digits(world, alice):
    wang = world.residents["wang"]
    assert names(search_residents(alice, wang.id_number)) == {"王芳"}
    assert names(search_residents(alice, wang.id_number[-4:])) == {"王芳"}
    legacy = wang.id_number[:6] + wang.id_number[8:17]  # the pre-1999 form: no century, no check digit
    assert names(search_residents(alice, legacy)) == {"王芳"}
    wrong_check_digit = wang.id_number[:-1] + ("0" if wang.id_number[-1] != "0" else "1")
    assert names(search_residents(alice, wrong_check_digit)) == set()


def test_search_finds_an_x_check_digit_typed_in_lower_case(world, alice):
    number = next(
        make_id_number(dt.date(1970, 1, 1), "M", serial=n)
        for n in range(1, 500)
        if make_id_number(dt.date(1970, 1, 1), "M", serial=n).endswith("X")
    )
    create_resident(data=ResidentData(name="赵强", id_number=number), unit=world.east_b1, by=alice)
    assert names(search_residents(alice, number.lower())) == {"赵强"}
    assert names(search_residents(alice, number[-4:].lower())) == {"赵强"}


def test_search_is_scoped_and_narrowed_by_unit(world):
    bob, carol = world.user("bob"), world.user("carol")
    assert names(search_residents(bob, "王")) == set()
    assert names(search_residents(bob, world.residents["wang"].id_number)) == set()
    assert names(search_residents(carol, "")) == {"张伟"}
    assert names(search_residents(bob, "", unit=world.east_c2)) == {"李娜"}
    # A unit name outside the user's subtree is not an address he can search by.
    assert names(search_residents(bob, "辽河")) == set()


# Searches of every kind: name prefixes, ID and phone tails, unit names, entrances, doors, mixed words.
# (No unit above a user's own: a name he cannot see is no address for him, test_search_is_scoped...)
SCOPE_QUERIES = ["张", "李娜", "王", "0001", "13800000003", "泰丰", "第一网格", "3号楼", "1单元 301", "1单元", "101"]


@pytest.mark.parametrize("username", ["alice", "bob", "carol", "dave", "erin", "frank", "gina"])
def test_search_with_a_term_keeps_to_the_users_subtree(world, username):
    # On SQLite a district or street user's subtree condition is kept off the path index when a
    # term is given (registry.selectors._path_index_for): it must still exclude every row outside.
    user, alice = world.user(username), world.user("alice")  # alice sees the whole test district
    inside = {r.name for r in world.residents.values() if r.unit.path.startswith(user.org_unit.path)}
    outside_found = 0
    for query in SCOPE_QUERIES:
        everywhere = names(search_residents(alice, query))
        assert names(search_residents(user, query)) == everywhere & inside, query
        for key, resident in world.residents.items():
            tail = resident.id_number[-4:]
            assert names(search_residents(user, tail)) == ({resident.name} & inside), (key, tail)
        outside_found += len(everywhere - inside)
    if username != "alice":
        assert outside_found  # the queries do find people outside this user's subtree, so the test bites


def test_search_with_a_term_keeps_to_the_chosen_unit(world, alice):
    bob = world.user("bob")
    zhang_tail = world.residents["zhang"].phone[-4:]
    assert names(search_residents(alice, "王", unit=world.west)) == {"王芳"}  # a street: off the index on SQLite
    assert names(search_residents(alice, "张", unit=world.west)) == set()
    assert names(search_residents(alice, zhang_tail, unit=world.west)) == set()
    assert names(search_residents(alice, zhang_tail, unit=world.east)) == {"张伟"}
    assert names(search_residents(alice, "李", unit=world.east_b2)) == {"李娜"}  # a building: on the index
    assert names(search_residents(alice, "李", unit=world.east_b1)) == set()
    assert names(search_residents(bob, "李", unit=world.east_c1)) == set()
    assert names(search_residents(bob, "李", unit=world.east_c2)) == {"李娜"}
    # A unit outside the user's subtree adds nothing to what he may see.
    assert names(search_residents(bob, "王", unit=world.west)) == set()


def test_search_with_a_term_finds_nothing_for_users_without_scope(world):
    dave = world.user("dave")
    dave.is_active = False
    assert names(search_residents(dave, "张")) == set()
    bob = world.user("bob")
    bob.org_unit = None
    assert names(search_residents(bob, "张")) == set()
    assert names(search_residents(bob, world.residents["zhang"].id_number[-4:])) == set()


def _count_sql(qs):
    with CaptureQueriesContext(connection) as ctx:
        qs.count()
    return ctx.captured_queries[-1]["sql"]


def test_search_in_a_large_subtree_starts_from_the_terms_index(world, alice):
    """On SQLite the path range of a district or street stays off the index when a term is given.

    Without it SQLite drove the search's COUNT from the org-unit path range, reading every
    resident of the district (2-5 s at a million, bench/README.md). PostgreSQL keeps the
    plain condition (its planner has statistics on ranges).
    """
    off_index = '+"orgunits_orgunit"."path" >='
    district_sql = _count_sql(search_residents(alice, "王芳"))
    street_sql = _count_sql(search_residents(alice, "0001", unit=world.east))
    community_sql = _count_sql(search_residents(world.user("carol"), "王芳"))
    list_sql = _count_sql(search_residents(alice, ""))
    if connection.vendor != "sqlite":
        assert off_index not in district_sql + street_sql + community_sql + list_sql
        return
    assert off_index in district_sql
    assert off_index in street_sql
    assert off_index not in community_sql  # a small subtree is still faster read from its units
    assert off_index not in list_sql  # the plain list is ordered by unit path: the index serves it
    with connection.cursor() as cursor:
        for sql, index in [(district_sql, "resident_name_prefix"), (street_sql, "resident_phone_rev_prefix")]:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = " | ".join(row[3] for row in cursor.fetchall())
            assert index in plan, plan
            assert "orgunits_orgunit_path" not in plan, plan


def test_filters(world, alice):
    tag = Tag.objects.create(code="elderly", name="60岁以上")
    wang = world.residents["wang"]
    wang.tags.add(tag)
    today = timezone.localdate()
    child = create_resident(
        data=ResidentData(
            name="张小宝", id_number=make_id_number(today - dt.timedelta(days=400), "M"), registered=False
        ),
        unit=world.east_b1,
        by=alice,
    )
    assert names(filter_residents(alice, {"tag": "elderly"})) == {"王芳"}
    assert names(filter_residents(alice, {"age": "60+"})) == {"王芳"}
    assert names(filter_residents(alice, {"age": "0-14"})) == {"张小宝"}
    assert names(filter_residents(alice, {"age": "15-49"})) == {"张伟", "李娜"}  # born 1980 and 1990
    assert names(filter_residents(alice, {"age": "50-59"})) == set()
    assert names(filter_residents(alice, {"age": "80+"})) == set()
    assert names(filter_residents(alice, {"sex": "F"})) == {"李娜", "王芳"}
    assert names(filter_residents(alice, {"registered": "0"})) == {"张小宝"}
    assert names(filter_residents(alice, {"marital_status": "married"})) == {"张伟", "李娜", "王芳"}
    change_living_status(resident=child, status="moved_out", on=today, by=alice, reason="随父母迁走")
    # People who left are not in the list unless their status is chosen.
    assert "张小宝" not in names(filter_residents(alice, {}))
    assert names(filter_residents(alice, {"living_status": "moved_out"})) == {"张小宝"}


def test_versions_read_as_labels_and_values_with_who_and_why(world):
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    update_resident(
        resident=zhang,
        data=ResidentData(
            name="张伟",
            id_number=zhang.id_number,
            phone="13900000009",
            relation="head",
            marital_status="divorced",
            arrived_on=zhang.arrived_on,
        ),
        by=carol,
        reason="入户核实",
    )
    change_living_status(resident=zhang, status="away", on=timezone.localdate(), by=carol, reason="外出务工")
    versions = resident_versions(zhang, show_phone=lambda p: p[:3] + "****" + p[-4:])
    latest, update, created = versions
    assert (latest.by, latest.reason, latest.kind) == ("carol", "外出务工", "~")
    assert ("居住状态", "常住", "外出") in {(c.label, c.old, c.new) for c in latest.changes}
    assert {(c.label, c.old, c.new) for c in update.changes} == {
        ("联系电话", "138****0001", "139****0009"),
        ("婚姻状况", "已婚", "离婚"),
    }
    assert created.kind == "+" and created.changes == []
    moves = status_history(versions)
    assert [m.living_status_label for m in moves] == ["常住", "外出"]


def test_households_by_head_name_address_and_type(world, alice):
    create_household(unit=world.east_b1, door="102", entrance="1", household_type="rented", head_name="陈", by=alice)
    assert {h.head_name for h in filter_households(alice, query="张")} == {"张伟"}
    assert {h.head_name for h in filter_households(alice, query="龙兴")} == {"张伟", "陈"}
    assert {h.head_name for h in filter_households(alice, query="1号楼 102")} == {"陈"}
    assert {h.head_name for h in filter_households(alice, household_type="rented")} == {"陈"}
    assert {h.head_name for h in filter_households(world.user("gina"))} == {"王芳"}
    counts = {h.head_name: h.member_count for h in filter_households(alice, unit=world.east_b1)}
    assert counts == {"张伟": 1, "陈": 0}


def test_tag_changes_read_as_tag_names(world):
    Tag.objects.create(code="lonely", name="孤寡")
    zhang = world.residents["zhang"]
    data = ResidentData(
        name="张伟",
        id_number=zhang.id_number,
        phone=zhang.phone,
        relation="head",
        marital_status="married",
        arrived_on=zhang.arrived_on,
        tags=["孤寡"],
    )
    update_resident(resident=zhang, data=data, by=world.user("carol"))
    changes = {(c.label, c.old, c.new) for v in resident_versions(zhang, show_phone=str) for c in v.changes}
    assert ("重点人群", "—", "孤寡") in changes
    tag_version = next(v for v in resident_versions(zhang, show_phone=str) if v.changes)
    assert tag_version.by == "carol"
