"""In a real browser (Debian's chromium, headless): log in, search a resident, import a roster with a bad row."""

import datetime as dt

import pytest
from openpyxl import Workbook

from core.testing import make_id_number
from core.tests.browser import browser_page, log_in
from registry.importing import COLUMNS
from registry.models import Resident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_log_in_search_and_import_a_roster_with_one_bad_row(live_server, world, password, tmp_path):
    headers = [h for h, _k, _r in COLUMNS]
    good = make_id_number(dt.date(1988, 6, 1), "M", serial=451)
    bad = make_id_number(dt.date(1990, 1, 2), "F", serial=452)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for name, number in (("周新", good), ("吴错", bad)):
        cells = dict.fromkeys(headers, "")
        cells.update(
            {"姓名": name, "证件号码": number, "社区": "龙兴社区", "网格": "第一网格", "楼栋": "1号楼", "门牌号": "501"}
        )
        ws.append([cells[h] for h in headers])
    roster = tmp_path / "花名册.xlsx"
    wb.save(roster)

    with browser_page(phone=True) as page:
        log_in(page, live_server.url, "carol", password)
        assert "1" in page.inner_text("[data-key=residents]")

        page.goto(live_server.url + "/registry/residents/")
        page.fill("#id_q", "张")
        page.wait_for_selector("#resident-table >> text=张伟")
        assert page.locator("#resident-table tbody tr").count() == 1
        assert "********" in page.inner_text("#resident-table")

        page.goto(live_server.url + "/imports/")
        page.set_input_files("#id_file", str(roster))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#summary")
        assert page.inner_text("#n-created") == "1" and page.inner_text("#n-rejected") == "1"
        assert "身份证号校验位错误" in page.inner_text("#outcomes")
        assert not Resident.objects.filter(name="周新").exists()  # nothing written before confirmation

        page.click("#confirm-import")
        page.wait_for_selector("text=导入完成")
        assert Resident.objects.filter(name="周新").exists()
        assert not Resident.objects.filter(name="吴错").exists()
