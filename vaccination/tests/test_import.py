"""Importing doses from xlsx: all rows or none, errors by row, column and reason; a second import of
the same file changes nothing; a row contradicting a dose on file is refused."""

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from vaccination import importing
from vaccination.importing import DoseFileError, import_doses
from vaccination.models import Dose, DoseSummary
from vaccination.tests.factories import doses

D = dt.date
HEADERS = ["姓名", "证件号码", "疫苗", "剂次", "接种日期", "接种单位", "上门接种", "备注"]


def xlsx(rows, headers=HEADERS):
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def good_rows(world):
    zhang, li = world.residents["zhang"], world.residents["li"]
    return [
        ["张伟", zhang.id_number, "bibp", 1, "2021-05-01", "卫生服务中心", "否", ""],
        ["张伟", zhang.id_number, "国药集团北京生物", 2, D(2021, 6, 1), "卫生服务中心", "", ""],
        ["李娜", li.id_number, "sinovac", "第1剂", "2021年5月3日", "", "是", "行动不便"],
    ]


def test_a_valid_file_is_stored_and_a_second_import_changes_nothing(world):
    content = xlsx(good_rows(world))
    result = import_doses(content=content, by=world.user("bob"))
    assert (result.rows, result.created, result.errors) == (3, 3, [])
    assert Dose.objects.filter(door_to_door=True).get().resident.name == "李娜"
    assert DoseSummary.objects.get(resident=world.residents["zhang"]).doses == 2
    version = Dose.objects.first().history.get()
    assert version.history_user == world.user("bob")
    again = import_doses(content=content, by=world.user("bob"))
    assert (again.created, again.unchanged, again.errors) == (0, 3, [])
    assert Dose.objects.count() == 3


def test_an_invalid_file_names_row_column_and_reason_and_stores_nothing(world):
    zhang, wang = world.residents["zhang"], world.residents["wang"]
    rows = [
        *good_rows(world),
        ["张三", zhang.id_number, "bibp", 3, "2022-01-01", "", "", ""],  # name does not match
        ["王芳", wang.id_number, "bibp", 1, "2021-05-01", "", "", ""],  # outside bob's street
        ["张伟", "110105194912310029", "bibp", 1, "2021-05-01", "", "", ""],  # bad check digit
        ["李娜", world.residents["li"].id_number, "mrna", 2, "2021-13-01", "", "也许", ""],
        ["张伟", zhang.id_number, "bibp", 2, "2021-06-02", "", "", ""],  # dose 2 twice in the file
    ]
    result = import_doses(content=xlsx(rows), by=world.user("bob"))
    got = {(e.row, e.column) for e in result.errors}
    assert got == {
        (5, "姓名"),
        (6, "证件号码"),
        (7, "证件号码"),
        (8, "疫苗"),
        (8, "接种日期"),
        (8, "上门接种"),
        (9, "剂次"),
    }
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert messages[(5, "姓名")] == "姓名与证件号码不符（登记为张伟）"
    assert messages[(6, "证件号码")] == "辖区内没有该证件号码的居民"
    assert messages[(9, "剂次")] == "与第3行重复（同一人同一剂次）"
    assert result.created == 0 and not Dose.objects.exists()


def test_rules_of_a_dose_apply_to_the_file_and_to_doses_on_file(world):
    zhang = world.residents["zhang"]
    doses(world, zhang, [D(2021, 5, 1)])
    rows = [
        ["张伟", zhang.id_number, "bibp", 1, "2021-05-02", "", "", ""],  # contradicts dose 1 on file
        ["张伟", zhang.id_number, "bibp", 3, "2021-12-01", "", "", ""],  # no dose 2
        ["李娜", world.residents["li"].id_number, "bibp", 1, "2999-01-01", "", "", ""],  # future
    ]
    result = import_doses(content=xlsx(rows), by=world.user("alice"))
    messages = {(e.row, e.column): e.message for e in result.errors}
    assert messages[(2, "剂次")].startswith("第1剂已登记为2021-05-01")
    assert messages[(3, "剂次")] == "尚未登记第2剂，请先登记前一剂"
    assert messages[(4, "接种日期")] == "接种日期不能晚于今天"
    assert Dose.objects.count() == 1


def test_files_that_cannot_be_read(world):
    with pytest.raises(DoseFileError, match="缺少必填列：疫苗"):
        import_doses(content=xlsx([["a"]], headers=["姓名", "证件号码", "剂次", "接种日期"]), by=world.user("bob"))
    with pytest.raises(DoseFileError, match="不是有效的Excel文件"):
        import_doses(content=b"name,id\n", by=world.user("bob"))
    with pytest.raises(DoseFileError, match="没有数据行"):
        import_doses(content=xlsx([]), by=world.user("bob"))


def test_the_import_page_and_its_template(client, world):
    client.force_login(world.user("dave"))  # grid workers do not import
    assert client.get(reverse("vaccination:import")).status_code == 403
    client.force_login(world.user("carol"))
    template = client.get(reverse("vaccination:import_template"))
    wb = load_workbook(BytesIO(template.content))
    assert [c.value for c in wb["接种记录"][1]] == [h for h, _k, _r in importing.COLUMNS]
    assert any(row[0].value == "zf2001" for row in wb["填写说明"].iter_rows())
    bad = [["张伟", world.residents["zhang"].id_number, "bibp", 2, "2021-05-01", "", "", ""]]
    upload = BytesIO(xlsx(bad))
    upload.name = "doses.xlsx"
    page = client.post(reverse("vaccination:import"), {"file": upload})
    assert page.status_code == 400 and "尚未登记第1剂" in page.text and not Dose.objects.exists()
    upload = BytesIO(xlsx([["张伟", world.residents["zhang"].id_number, "bibp", 1, "2021-05-01", "", "", ""]]))
    upload.name = "doses.xlsx"
    assert client.post(reverse("vaccination:import"), {"file": upload}).status_code == 302
    assert Dose.objects.count() == 1
