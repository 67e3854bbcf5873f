"""Org-unit administration pages: who may change the tree, and the messages they get."""

import datetime as dt

from django.urls import reverse

from orgunits.models import OrgUnit


def act(unit, action):
    return reverse("orgunits:act", args=[unit.pk, action])


def test_street_staff_create_rename_and_move_inside_their_street(client, world):
    client.force_login(world.user("bob"))
    client.post(act(world.east_c1, "create"), {"name": "第二网格", "level": "grid"})
    grid = OrgUnit.objects.get(name="第二网格")
    assert grid.parent == world.east_c1 and grid.code == world.east_c1.code + "02"
    client.post(act(grid, "rename"), {"name": "第二网格（新）", "reason": "调整"})
    client.post(act(grid, "move"), {"parent": world.east_c2.pk, "reason": "划转"})
    grid.refresh_from_db()
    assert grid.name == "第二网格（新）" and grid.parent == world.east_c2
    page = client.get(reverse("orgunits:tree"), {"unit": grid.pk})
    assert "划转" in page.text and "bob" in page.text


def test_units_outside_the_subtree_are_not_found_and_targets_outside_are_refused(client, world):
    client.force_login(world.user("bob"))
    assert client.post(act(world.west_c1, "rename"), {"name": "x"}).status_code == 404
    assert client.get(reverse("orgunits:tree"), {"unit": world.west.pk}).status_code == 404
    assert client.post(act(world.east_g1, "move"), {"parent": world.west_c1.pk}).status_code == 404
    assert OrgUnit.objects.get(pk=world.east_g1.pk).parent == world.east_c1


def test_roles_without_the_right_see_the_tree_read_only(client, world):
    client.force_login(world.user("dave"))
    page = client.get(reverse("orgunits:tree"))
    assert page.status_code == 200 and "create-form" not in page.text
    assert client.post(act(world.east_g1, "rename"), {"name": "x"}).status_code == 403
    client.force_login(world.user("carol"))
    assert client.post(act(world.east_g1, "create"), {"name": "9号楼", "level": "building"}).status_code == 403


def test_bad_changes_show_the_chinese_reason(client, world):
    client.force_login(world.user("alice"))
    response = client.post(
        act(world.east_c1, "merge"),
        {"target": world.east_g2.pk, "reason": "x", "on": dt.date.today().isoformat()},
        follow=True,
    )
    assert "只能合并同一层级的单位" in response.text
    response = client.post(
        act(world.east_b1, "retire"), {"reason": "拆迁", "on": dt.date.today().isoformat()}, follow=True
    )
    assert "在册的户或居民" in response.text


def test_merge_moves_people_and_keeps_the_past(client, world):
    client.force_login(world.user("alice"))
    client.post(
        act(world.east_c2, "merge"),
        {"target": world.east_c1.pk, "reason": "区划调整", "on": dt.date.today().isoformat()},
    )
    source = OrgUnit.objects.get(pk=world.east_c2.pk)
    assert source.retired_on == dt.date.today() and source.merged_into == world.east_c1
    home = client.get(reverse("home"), {"unit": world.east_c1.pk})
    assert home.context["f"].residents == 2
