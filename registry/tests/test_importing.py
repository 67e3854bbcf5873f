"""Roster import: the rows a user gets back, and what is (not) stored."""

import csv
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from core.testing import make_id_number
from registry.importing import RosterFileError, read_roster, run_import, template_bytes, write_sample_roster
from registry.models import Household, Resident, Tag
from registry.tests.fixtures.rosters import GOOD_A, GOOD_B, HEADERS, row, wrong_checksum, xlsx


@pytest.fixture
def tags(db):
    return [Tag.objects.create(code="chronic", name="慢病"), Tag.objects.create(code="disabled", name="残疾人")]


def import_(path, world, user="carol", dry_run=False, unit=None):
    return run_import(
        path=path,
        original_name=path.name,
        unit=unit or world.east_c1,
        by=world.user(user) if user else None,
        dry_run=dry_run,
    )


def test_valid_rows_create_residents_and_their_household(tmp_path, world):
    path = xlsx(tmp_path, [row("赵一", GOOD_A, 与户主关系="户主"), row("钱二", GOOD_B, 与户主关系="配偶")])
    summary = import_(path, world)
    assert summary.as_dict() == {"rows": 2, "created": 2, "updated": 0, "unchanged": 0, "rejected": 0, "errors": []}
    zhao = Resident.objects.get(id_number=GOOD_A)
    qian = Resident.objects.get(id_number=GOOD_B)
    assert zhao.unit == world.east_b1 and zhao.household == qian.household
    assert zhao.household.door == "302" and zhao.household.entrance == "2" and zhao.household.head_name == "赵一"
    assert (zhao.sex, zhao.birth_date) == ("M", dt.date(1985, 4, 1))
    version = zhao.history.get()
    assert version.history_user == world.user("carol") and version.history_change_reason == "导入"
    # Dated at arrival (birth here), so counts "as of" a past date include people entered today.
    assert timezone.localtime(version.history_date).date() == dt.date(1985, 4, 1)
    assert [o["action"] for o in summary.outcomes] == ["create", "create"]


def test_each_bad_row_is_rejected_with_row_column_and_reason_while_good_rows_import(tmp_path, world):
    future = timezone.localdate() + dt.timedelta(days=30)
    rows = [
        row("好人", GOOD_A),  # row 2
        row("错号", wrong_checksum(GOOD_B)),  # row 3
        row("错日期", GOOD_B, 出生日期="2022-02-30"),  # row 4
        row("重复", GOOD_A),  # row 5
        row("外社区", make_id_number(dt.date(1970, 1, 1), "F", serial=403), 社区="火星社区"),  # row 6
        row("公式", make_id_number(dt.date(1971, 1, 1), "F", serial=404), 备注="=HYPERLINK(1)"),  # row 7
        row("未来", "E1234567", 证件类型="护照", 性别="男", 出生日期=future.isoformat()),  # row 8
    ]
    summary = import_(xlsx(tmp_path, rows), world)
    errors = {(e.row, e.column): e.message for e in summary.errors}
    assert (summary.created, summary.rejected) == (1, 6)
    assert errors == {
        (3, "证件号码"): "身份证号校验位错误",
        (4, "出生日期"): "日期不存在：2022-02-30",
        (5, "证件号码"): "与第2行的证件号码重复",
        (6, "社区"): "社区“火星社区”不在龙兴社区辖区内",
        (7, "备注"): "单元格含公式，请粘贴为数值后再导入",
        (8, "出生日期"): "出生日期不能晚于今天",
    }
    assert list(Resident.objects.filter(name__in=["错号", "错日期", "重复", "外社区", "公式", "未来"])) == []
    assert Resident.objects.filter(name="好人").count() == 1


def test_real_formula_cells_are_found_in_the_xlsx(tmp_path, world):
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    ws.append(row("公式人", GOOD_A))
    ws["T2"] = "=1+1"
    path = tmp_path / "f.xlsx"
    wb.save(path)
    summary = import_(path, world)
    assert [(e.row, e.column) for e in summary.errors] == [(2, "备注")]


def test_dates_in_the_usual_spellings_and_real_date_cells(tmp_path, world):
    ids = [make_id_number(dt.date(1980, 1, 2), "F", serial=410 + i) for i in range(4)]
    rows = [
        row("甲", ids[0], 迁入日期="2022-03-08", door="1"),
        row("乙", ids[1], 迁入日期="2022/3/8", door="2"),
        row("丙", ids[2], 迁入日期="20220308", door="3"),
        row("丁", ids[3], 迁入日期=dt.datetime(2022, 3, 8), door="4"),
    ]
    assert import_(xlsx(tmp_path, rows), world).created == 4
    assert set(Resident.objects.filter(id_number__in=ids).values_list("arrived_on", flat=True)) == {dt.date(2022, 3, 8)}


def test_a_unit_given_only_as_community_places_the_person_there(tmp_path, world):
    import_(xlsx(tmp_path, [row("赵一", GOOD_A, grid="", building="", door="", 单元="")]), world)
    zhao = Resident.objects.get(id_number=GOOD_A)
    assert zhao.unit == world.east_c1 and zhao.household is None


def test_reimporting_the_same_file_changes_nothing(tmp_path, world, tags):
    path = xlsx(tmp_path, [row("赵一", GOOD_A, 重点人群="慢病"), row("钱二", GOOD_B)])
    import_(path, world)
    versions = Resident.history.count()
    households = Household.objects.count()
    again = import_(path, world)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Resident.history.count() == versions and Household.objects.count() == households


def test_a_changed_phone_updates_only_that_person_with_a_history_version(tmp_path, world):
    import_(xlsx(tmp_path, [row("赵一", GOOD_A), row("钱二", GOOD_B)]), world)
    summary = import_(
        xlsx(tmp_path, [row("赵一", GOOD_A, 联系电话="13700000000"), row("钱二", GOOD_B)], "v2.xlsx"), world
    )
    assert (summary.updated, summary.unchanged) == (1, 1)
    zhao = Resident.objects.get(id_number=GOOD_A)
    assert zhao.phone == "13700000000"
    latest = zhao.history.first()
    assert latest.history_type == "~" and latest.phone == "13700000000"
    assert latest.history_user == world.user("carol") and latest.history_change_reason == "导入"
    assert Resident.objects.get(id_number=GOOD_B).history.count() == 1
    assert Resident.objects.filter(phone_rev="00000000731").count() == 1  # last-digit search index follows


def test_an_existing_person_is_updated_and_an_empty_cell_keeps_what_is_stored(tmp_path, world):
    zhang = world.residents["zhang"]
    summary = import_(xlsx(tmp_path, [row("张伟", zhang.id_number, 联系电话="", 备注="新备注", door="101")]), world)
    assert summary.updated == 1
    zhang.refresh_from_db()
    assert zhang.note == "新备注" and zhang.phone == "13800000001"


def test_a_tag_only_change_gets_a_history_version(tmp_path, world, tags):
    import_(xlsx(tmp_path, [row("赵一", GOOD_A)]), world)
    summary = import_(xlsx(tmp_path, [row("赵一", GOOD_A, 重点人群="慢病、残疾人")], "v2.xlsx"), world)
    zhao = Resident.objects.get(id_number=GOOD_A)
    assert summary.updated == 1
    assert sorted(zhao.tags.values_list("name", flat=True)) == ["慢病", "残疾人"]
    assert zhao.history.count() == 2


def test_entrance_written_with_its_suffix_finds_the_same_household(tmp_path, world):
    import_(xlsx(tmp_path, [row("赵一", GOOD_A)]), world)
    import_(xlsx(tmp_path, [row("钱二", GOOD_B, 单元="2单元")], "v2.xlsx"), world)
    assert Resident.objects.get(id_number=GOOD_A).household == Resident.objects.get(id_number=GOOD_B).household


def test_dry_run_writes_nothing(tmp_path, world):
    residents, versions, households = Resident.objects.count(), Resident.history.count(), Household.objects.count()
    summary = import_(xlsx(tmp_path, [row("赵一", GOOD_A)]), world, dry_run=True)
    assert summary.created == 1
    assert (Resident.objects.count(), Resident.history.count(), Household.objects.count()) == (
        residents,
        versions,
        households,
    )


def test_an_id_registered_in_another_unit_is_rejected_without_details(tmp_path, world):
    wang = world.residents["wang"]  # lives in the west street
    summary = import_(xlsx(tmp_path, [row("冒名", wang.id_number)]), world)
    assert [e.as_dict() for e in summary.errors] == [
        {"row": 2, "column": "证件号码", "message": "该证件号码已在其他单位登记"}
    ]
    assert "西城" not in json.dumps(summary.outcomes, ensure_ascii=False)
    wang.refresh_from_db()
    assert wang.name == "王芳"


def test_carol_cannot_import_into_the_west_street(tmp_path, world):
    with pytest.raises(PermissionDenied):
        import_(xlsx(tmp_path, [row("赵一", GOOD_A, community="辽河社区", building="3号楼")]), world, unit=world.west)
    assert not Resident.objects.filter(id_number=GOOD_A).exists()


def test_a_west_unit_named_in_an_east_import_is_an_error_not_a_new_unit(tmp_path, world):
    summary = import_(
        xlsx(tmp_path, [row("赵一", GOOD_A, community="辽河社区", building="3号楼")]),
        world,
        user="bob",
        unit=world.east,
    )
    assert [(e.column, e.message) for e in summary.errors] == [("社区", "社区“辽河社区”不在东城街道辖区内")]


def test_csv_in_gbk_and_utf8_with_bom_import_too(tmp_path, world):
    for encoding, name, id_number in (("gbk", "gbk.csv", GOOD_A), ("utf-8-sig", "bom.csv", GOOD_B)):
        out = StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerow(row("孙三", id_number))
        path = tmp_path / name
        path.write_bytes(out.getvalue().encode(encoding))
        assert import_(path, world).created == 1


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "a.xlsx", "文件是空的"),
        (b"%PDF-1.4 not a roster", "a.pdf", "不是表格文件"),
        (b"%PDF-1.4 not a roster", "a.xlsx", "不是表格文件"),  # the name says xlsx, the content does not
        (b"PK\x03\x04 broken zip", "a.xlsx", "文件已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 100, "a.xls", "不支持旧版 .xls"),
        ("姓名,证件号码\n".encode(), "a.csv", "缺少必填列：社区"),
        (",".join(HEADERS).encode() + b"\n", "a.csv", "没有数据行"),
    ],
)
def test_files_that_are_not_rosters_are_refused(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RosterFileError, match=message):
        read_roster(path, original_name=name)


def test_a_header_only_xlsx_is_refused(tmp_path):
    with pytest.raises(RosterFileError, match="没有数据行"):
        read_roster(xlsx(tmp_path, []), original_name="roster.xlsx")


def test_too_big_files_are_refused_before_parsing(tmp_path, settings):
    settings.YBZ_MAX_UPLOAD_BYTES = 1000
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2000)  # not even a roster: the size is checked first
    with pytest.raises(RosterFileError, match="文件过大"):
        read_roster(path, original_name="big.csv")


def test_the_template_has_headers_an_example_row_and_explanations():
    from io import BytesIO

    wb = load_workbook(BytesIO(template_bytes()))
    sheet, notes = wb.worksheets
    assert [c.value for c in sheet[1]] == HEADERS and sheet.max_row == 2
    assert "居民身份证/护照/港澳台居民证件/其他证件" in " ".join(str(c.value) for c in notes["C"] if c.value)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_sample_roster_generator_writes_valid_rows(tmp_path, world, suffix):
    path = write_sample_roster(tmp_path / f"sample{suffix}", rows=30, unit=world.east, bad_rows=2)
    summary = import_(path, world, user="bob", unit=world.east, dry_run=True)
    assert (summary.rows, summary.created, summary.rejected) == (30, 28, 2)


def test_progress_is_reported(tmp_path, world, monkeypatch):
    monkeypatch.setattr("registry.importing.CHUNK_ROWS", 10)
    path = write_sample_roster(tmp_path / "p.csv", rows=25, unit=world.east)
    calls = []
    run_import(
        path=path,
        original_name="p.csv",
        unit=world.east,
        by=None,
        dry_run=True,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls[0] == (10, 25) and calls[-1] == (25, 25)


def test_a_failure_mid_import_keeps_earlier_chunks_and_rolls_back_the_current_one(tmp_path, world, monkeypatch):
    import registry.importing as importing

    monkeypatch.setattr(importing, "CHUNK_ROWS", 10)
    real_write, calls = importing._write, []

    def failing_write(*args, **kwargs):
        calls.append(1)
        real_write(*args, **kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")

    monkeypatch.setattr(importing, "_write", failing_write)
    path = write_sample_roster(tmp_path / "f.csv", rows=25, unit=world.east)
    before = Resident.objects.count()
    with pytest.raises(RuntimeError):
        run_import(path=path, original_name="f.csv", unit=world.east, by=None, dry_run=False)
    assert Resident.objects.count() == before + 10  # the first chunk; the second was rolled back
    monkeypatch.setattr(importing, "_write", real_write)
    again = run_import(path=path, original_name="f.csv", unit=world.east, by=None, dry_run=False)
    assert (again.unchanged, again.created) == (10, 15)


# ---- command line ---------------------------------------------------------------------------------------


def test_command_prints_the_json_summary(tmp_path, world, capsys):
    path = xlsx(tmp_path, [row("赵一", GOOD_A), row("错号", wrong_checksum(GOOD_B))])
    call_command("import_residents", str(path), "--unit", world.east_c1.code, "--json")
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 1,
        "errors": [{"row": 3, "column": "证件号码", "message": "身份证号校验位错误"}],
    }
    version = Resident.objects.get(id_number=GOOD_A).history.get()
    assert version.history_user is None and version.history_change_reason == "命令行导入"


def test_command_as_a_user_records_who(tmp_path, world, capsys):
    path = xlsx(tmp_path, [row("赵一", GOOD_A)])
    call_command("import_residents", str(path), "--unit", world.east_c1.code, "--user", "carol", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1
    assert Resident.objects.get(id_number=GOOD_A).history.get().history_user == world.user("carol")


def test_command_dry_run_writes_nothing(tmp_path, world, capsys):
    path = xlsx(tmp_path, [row("赵一", GOOD_A)])
    call_command("import_residents", str(path), "--unit", world.east_c1.code, "--dry-run", "--json")
    assert json.loads(capsys.readouterr().out)["created"] == 1
    assert not Resident.objects.filter(id_number=GOOD_A).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "999999"], "区划代码“999999”不存在"),
        (["--unit", "EAST_C1", "--user", "gina"], "该单位不在此用户的管辖范围内"),
        (["--unit", "EAST_C1", "--user", "nobody"], "用户“nobody”不存在或已停用"),
    ],
)
def test_command_refuses_bad_arguments_with_a_json_error(tmp_path, world, capsys, args, message):
    path = xlsx(tmp_path, [row("赵一", GOOD_A)])
    args = [a.replace("EAST_C1", world.east_c1.code) for a in args]
    with pytest.raises(SystemExit) as exit_:
        call_command("import_residents", str(path), *args, "--json")
    assert exit_.value.code == 1
    assert json.loads(capsys.readouterr().out) == {"error": message}


def test_command_exits_non_zero_when_the_file_is_refused(tmp_path, world, capsys):
    path = tmp_path / "notes.xlsx"
    path.write_bytes(b"hello")
    with pytest.raises(SystemExit) as exit_:
        call_command("import_residents", str(path), "--unit", world.east_c1.code, "--json")
    assert exit_.value.code == 1
    assert "不是表格文件" in json.loads(capsys.readouterr().out)["error"]
    with pytest.raises(SystemExit):
        call_command("import_residents", str(tmp_path / "missing.xlsx"), "--unit", world.east_c1.code, "--json")
    assert "文件不存在" in json.loads(capsys.readouterr().out)["error"]


def test_a_csv_whose_encoding_changes_after_the_start_is_refused_with_the_row(tmp_path, world):
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for i in range(700):  # more than the 64 KB the encoding is guessed from
        writer.writerow(row("赵" + str(i), GOOD_A, 备注="很长的备注" * 10))
    path = tmp_path / "mixed.csv"
    path.write_bytes(out.getvalue().encode("utf-8") + "孙三,".encode("gbk") + b"\n")
    with pytest.raises(RosterFileError, match="行附近的文字编码无法识别"):
        run_import(path=path, original_name="mixed.csv", unit=world.east_c1, by=None, dry_run=True)
