"""In a real browser: a community worker enrols a resident, submits the year's application, downloads the roster."""

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from core.tests.browser import browser_page, log_in
from familyplanning import services
from familyplanning.models import Application, Beneficiary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_enrol_submit_and_download_the_roster(live_server, world, password, tmp_path):
    scheme = services.create_scheme(
        code="disability",
        name="计生特别扶助（伤残）",
        short_name="伤残",
        category="special",
        payment_unit="person",
        period="monthly",
    )
    services.add_standard(scheme=scheme, amount=Decimal(520), valid_from=dt.date(2020, 1, 1))
    zhang = world.residents["zhang"]

    with browser_page() as page:
        page.on("dialog", lambda dialog: dialog.accept())  # "提交后不可修改，确定提交吗？"
        log_in(page, live_server.url, "carol", password)

        page.goto(live_server.url + "/familyplanning/beneficiaries/new/")
        page.select_option("#id_scheme", "disability")
        page.wait_for_url("**/beneficiaries/new/?scheme=disability")
        page.fill("#id_id_number", zhang.id_number)
        page.click("#lookup-btn")
        page.wait_for_selector("#person-found >> text=张伟")
        page.fill("#id_start_month", "2025-01")
        page.check("#enrol-form input[value=残疾证]")
        page.fill("#id_bank_account", "6222020200112233445")
        page.click("#save-btn")
        page.wait_for_selector("text=已登记扶助对象：张伟")
        assert Beneficiary.objects.get().documents == ["身份证", "户口簿", "残疾证"]

        page.goto(live_server.url + "/familyplanning/applications/new/")
        page.fill("#id_year", "2025")
        page.click("#preview-form button[type=submit]")
        assert page.inner_text("#preview-total") == "6240"
        page.click("#submit-btn")
        page.wait_for_selector("text=已提交 龙兴社区 2025 年度申报")
        assert Application.objects.get().total == 6240

        page.click("#roster-menu")
        with page.expect_download() as info:
            page.click(".roster-link[data-scheme=disability]")
        download = info.value
        path = tmp_path / download.suggested_filename
        download.save_as(path)

    assert download.suggested_filename.endswith("花名册.xlsx")
    rows = [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]
    zhang_row = next(r for r in rows if r[1] == "张伟")
    assert zhang_row[8] == 6240 and zhang.id_number not in str(rows)
