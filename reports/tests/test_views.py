"""The work-summary page and its downloads: scoped to the user's subtree, the text of the records."""

import datetime as dt
from io import BytesIO
from urllib.parse import unquote

import docx
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.services import create_user
from familyplanning.services import BirthData, Parent, record_birth

PAGE = reverse("reports:summary")
DOWNLOAD = reverse("reports:summary_download")
LAST_YEAR = timezone.localdate().year - 1


@pytest.fixture
def births(world):
    """Two births in the east street last year (the page's default year), one in the west."""
    for unit, name, sex, by in (
        (world.east_b1, "小明", "M", "bob"),
        (world.east_b2, "小红", "F", "bob"),
        (world.west_b1, "小西", "F", "gina"),
    ):
        data = BirthData(
            child_name=name,
            sex=sex,
            birth_date=dt.date(LAST_YEAR, 6, 1),
            birth_order=1,
            mother=Parent(name=f"{name}妈"),
        )
        record_birth(data=data, unit=unit, by=world.user(by))


def test_the_page_shows_the_users_street_for_last_year(client, world, births):
    client.force_login(world.user("bob"))
    response = client.get(PAGE)
    assert response.status_code == 200
    assert (response.context["unit"], response.context["year"]) == (world.east, LAST_YEAR)
    html = response.content.decode()
    assert f"{LAST_YEAR}年东城街道工作总结" in html
    assert "全年共出生2人，按性别分：男孩1人，女孩1人，按孩次分：一孩：2人。" in html
    assert 'id="download-docx"' in html and f"unit={world.east.pk}&year={LAST_YEAR}&format=docx" in html


def test_a_unit_outside_the_subtree_is_not_found(client, world, births):
    client.force_login(world.user("bob"))
    for url in (PAGE, DOWNLOAD):
        assert client.get(url, {"unit": world.west.pk}).status_code == 404
        assert client.get(url, {"unit": world.district.pk}).status_code == 404
        assert client.get(url, {"unit": "abc"}).status_code == 404
    client.force_login(world.user("carol"))  # community staff of east_c1: not her street
    assert client.get(PAGE, {"unit": world.east.pk}).status_code == 404


def test_the_district_may_sum_up_any_street_and_itself(client, world, births):
    client.force_login(world.user("alice"))
    west = client.get(PAGE, {"unit": world.west.pk, "year": LAST_YEAR}).content.decode()
    assert "全年共出生1人，按性别分：女孩1人" in west and "东城街道" not in west.split('id="summary-text"')[1]
    district = client.get(PAGE).content.decode()
    assert "全年共出生3人" in district


def test_downloads_give_the_same_text_as_markdown_and_word(client, world, births):
    client.force_login(world.user("bob"))
    response = client.get(DOWNLOAD, {"unit": world.east.pk, "year": LAST_YEAR, "format": "md"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    assert unquote(response["Content-Disposition"]).endswith(f"{LAST_YEAR}年东城街道工作总结.md")
    markdown = response.content.decode()
    assert markdown.startswith(f"# {LAST_YEAR}年东城街道工作总结\n\n## 计生方面\n\n")
    response = client.get(DOWNLOAD, {"unit": world.east.pk, "year": LAST_YEAR, "format": "docx"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert unquote(response["Content-Disposition"]).endswith(".docx")
    texts = [p.text for p in docx.Document(BytesIO(response.content)).paragraphs]
    lines = [line.lstrip("# ") for line in markdown.splitlines() if line.strip()]
    assert texts == lines


def test_bad_year_or_format_is_explained(client, world, births):
    client.force_login(world.user("bob"))
    response = client.get(PAGE, {"year": "20x2"})
    assert response.status_code == 200 and response.context["year"] == LAST_YEAR
    assert "格式不对" in response.content.decode()
    response = client.get(PAGE, {"year": str(LAST_YEAR + 5)})
    assert "年度应在" in response.content.decode()
    response = client.get(DOWNLOAD, {"format": "pdf"})
    assert response.status_code == 400 and "md 或 docx" in response.content.decode()
    assert client.get(DOWNLOAD, {"year": "1800"}).status_code == 400


def test_a_year_with_nothing_to_report_and_a_user_without_unit(client, world):
    client.force_login(world.user("bob"))
    html = client.get(PAGE, {"year": 1990}).content.decode()  # nobody lived in the street yet
    assert "东城街道 1990年还没有可写入工作总结的数据" in html and 'id="download-md"' not in html
    nobody = create_user(username="nobody", password="pass-1234-word", role=Role.LEADER_READONLY, org_unit=None)
    client.force_login(nobody)
    html = client.get(PAGE).content.decode()
    assert "还没有所属单位" in html
    assert client.get(DOWNLOAD).status_code == 404


def test_login_is_required(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "login" in response["Location"]
