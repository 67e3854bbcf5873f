"""The home page figures each user sees, drill-down and the as-of date."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccessLog


@pytest.mark.parametrize(("user", "residents"), [("alice", 3), ("bob", 2), ("carol", 1), ("gina", 1), ("dave", 1)])
def test_each_user_sees_the_population_of_his_unit(client, world, user, residents):
    client.force_login(world.user(user))
    response = client.get(reverse("home"))
    assert response.context["f"].residents == residents
    assert response.context["unit"] == world.user(user).org_unit


def test_drill_down_within_the_subtree_and_not_outside(client, world):
    client.force_login(world.user("bob"))
    response = client.get(reverse("home"))
    assert [(u.name, c["residents"]) for u, c in response.context["children"]] == [("龙兴社区", 1), ("泰丰社区", 1)]
    response = client.get(reverse("home"), {"unit": world.east_c2.pk})
    assert response.context["f"].residents == 1
    assert [u.name for u in response.context["crumbs"]] == ["东城街道", "泰丰社区"]
    assert client.get(reverse("home"), {"unit": world.west.pk}).status_code == 404


def test_as_of_date_and_future_date(client, world):
    client.force_login(world.user("alice"))
    response = client.get(reverse("home"), {"on": "2015-06-01"})
    assert response.context["f"].residents == 0  # everyone arrived in 2016
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    response = client.get(reverse("home"), {"on": tomorrow})
    assert "截至日期不能晚于今天" in response.text


def test_children_export_is_an_xlsx_and_is_logged(client, world):
    client.force_login(world.user("alice"))
    response = client.get(reverse("home"), {"export": 1})
    ws = load_workbook(BytesIO(response.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[1][:3] == ["单位", "区划代码", "层级"]
    assert [r[0] for r in rows[2:]] == ["东城街道", "西城街道"] and [r[4] for r in rows[2:]] == [2, 1]
    assert AccessLog.objects.filter(action="export", object_type="home").count() == 1
