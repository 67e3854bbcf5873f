"""The roster (xlsx) and the disbursement report (docx) of a submitted application, opened as the district would."""

import datetime as dt
from decimal import Decimal
from io import BytesIO

import docx
import pytest
from openpyxl import load_workbook

from core.testing import make_id_number
from familyplanning import services
from familyplanning.documents import disbursement_docx, mask_bank_account, rmb_upper, roster_xlsx
from registry.services import ResidentData, create_resident

YEAR = 2025


def _masked(number):
    return number[:6] + "********" + number[-4:]


@pytest.fixture
def application(world):
    """东城街道 2025: 伤残 张伟 and his wife at 520/month all year, 李娜's household an only-child girl (240/year)."""
    alice, bob = world.user("alice"), world.user("bob")
    disability = services.create_scheme(
        code="disability",
        name="计生特别扶助（伤残）",
        short_name="伤残",
        category="special",
        payment_unit="person",
        period="monthly",
        sort_order=1,
    )
    services.add_standard(scheme=disability, amount=Decimal(520), valid_from=dt.date(2020, 1, 1))
    only_child = services.create_scheme(
        code="only-child",
        name="独生子女奖励金",
        category="only_child",
        payment_unit="household",
        period="yearly",
        attribute_label="子女性别",
        attribute_values="男、女",
        sort_order=2,
    )
    services.add_standard(scheme=only_child, attribute_value="女", amount=Decimal(240), valid_from=dt.date(2020, 1, 1))
    zhang = world.residents["zhang"]
    spouse = create_resident(
        data=ResidentData(
            name="刘梅",
            id_number=make_id_number(dt.date(1982, 2, 3), "F", serial=322),
            relation="spouse",
            arrived_on=dt.date(2016, 1, 1),
        ),
        unit=zhang.unit,
        household=zhang.household,
        by=alice,
    )
    start = dt.date(YEAR, 1, 1)
    services.enroll(scheme=disability, person=zhang, start_month=start, bank_account="6222020200112233445", by=bob)
    services.enroll(scheme=disability, person=spouse, start_month=start, by=bob)
    li = world.residents["li"]
    daughter = create_resident(
        data=ResidentData(
            name="李小红",
            id_number=make_id_number(dt.date(2015, 4, 1), "F", serial=323),
            relation="child",
            arrived_on=dt.date(2016, 1, 1),
        ),
        unit=li.unit,
        household=li.household,
        by=alice,
    )
    services.enroll(
        scheme=only_child, person=li, start_month=start, attribute_value="女", members=[li, daughter], by=bob
    )
    return services.submit_application(unit=world.east, year=YEAR, by=bob)


def _rows(content):
    ws = load_workbook(BytesIO(content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_roster_has_a_title_the_office_columns_one_row_per_person_and_the_total(world, application):
    disability = application.lines.get(name="张伟").scheme
    rows = _rows(roster_xlsx(application, disability, reveal_ids=False))
    assert rows[0][0] == "东城街道 2025年 计生特别扶助（伤残） 花名册"
    assert rows[1] == [
        "序号",
        "姓名",
        "身份证号",
        "所在社区",
        "类别",
        "人数",
        "月数",
        "标准（元）",
        "金额（元）",
        "补发（元）",
        "合计（元）",
        "银行账号",
    ]
    zhang = world.residents["zhang"]
    body = {r[1]: r for r in rows[2:-1]}
    assert set(body) == {"张伟", "刘梅"}
    assert body["张伟"][2:] == [
        _masked(zhang.id_number),
        "龙兴社区",
        "伤残",
        1,
        12,
        "520",
        6240,
        0,
        6240,
        "***************3445",
    ]
    assert rows[-1] == ["合计", None, None, None, None, 2, None, None, 12480, 0, 12480, None]
    assert zhang.id_number not in str(rows) and "6222020200112233445" not in str(rows)


def test_roster_reveals_ids_and_accounts_only_when_asked(world, application):
    disability = application.lines.get(name="张伟").scheme
    rows = _rows(roster_xlsx(application, disability, reveal_ids=True))
    zhang = next(r for r in rows if r[1] == "张伟")
    assert zhang[2] == world.residents["zhang"].id_number and zhang[11] == "6222020200112233445"


def test_roster_of_a_yearly_household_scheme_shows_the_category_and_people(world, application):
    only_child = application.lines.get(name="李娜").scheme
    rows = _rows(roster_xlsx(application, only_child, reveal_ids=False))
    assert rows[2][1:9] == [
        "李娜",
        _masked(world.residents["li"].id_number),
        "泰丰社区",
        "独生子女奖励金（女）",
        2,
        None,
        "240",
        240,
    ]
    assert rows[-1][5] == 2 and rows[-1][10] == 240


def test_roster_carries_the_back_pay_recorded_after_a_raise(world, application):
    disability = application.lines.get(name="张伟").scheme
    services.add_standard(scheme=disability, amount=Decimal(630), valid_from=dt.date(YEAR, 7, 1))
    services.record_back_pay(application=application, reason="提高特扶标准", by=world.user("bob"))
    rows = _rows(roster_xlsx(application, disability, reveal_ids=False))
    zhang = next(r for r in rows if r[1] == "张伟")
    assert zhang[7:11] == ["520", 6240, 660, 6900]  # the roster shows the standard as applied, plus the back-pay
    assert rows[-1][8:11] == [12480, 1320, 13800]


def test_disbursement_report_has_title_summary_and_a_row_per_scheme(world, application):
    document = docx.Document(BytesIO(disbursement_docx(application, today=dt.date(2026, 1, 15))))
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == "关于申请拨付2025年度计划生育奖励扶助资金的报告"
    assert texts[1] == "示范区卫生健康局："
    summary = texts[2]
    assert "东城街道2025年度共有扶助对象2户4人" in summary and "合计12720元（大写：壹万贰仟柒佰贰拾元整）" in summary
    [table] = document.tables
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells == [
        ["项目", "户数", "人数", "申报金额（元）", "补发金额（元）", "合计（元）"],
        ["计生特别扶助（伤残）", "1", "2", "12480", "0", "12480"],
        ["独生子女奖励金", "1", "2", "240", "0", "240"],
        ["合计", "2", "4", "12720", "0", "12720"],
    ]
    assert texts[-2:] == ["东城街道", "2026年1月15日"]


def test_disbursement_report_adds_the_back_pay(world, application):
    disability = application.lines.get(name="张伟").scheme
    services.add_standard(scheme=disability, amount=Decimal(630), valid_from=dt.date(YEAR, 7, 1))
    services.record_back_pay(application=application, reason="提标", by=world.user("bob"))
    document = docx.Document(BytesIO(disbursement_docx(application)))
    cells = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert cells[1][3:] == ["12480", "1320", "13800"] and cells[-1][3:] == ["12720", "1320", "14040"]


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("295510", "贰拾玖万伍仟伍佰壹拾元整"),
        ("600", "陆佰元整"),
        ("11220", "壹万壹仟贰佰贰拾元整"),
        ("100001000", "壹亿零壹仟元整"),
        ("1010", "壹仟零壹拾元整"),
        ("1.05", "壹元零伍分"),
        ("123.40", "壹佰贰拾叁元肆角"),
        ("0", "零元整"),
    ],
)
def test_amounts_in_chinese_capital_numerals(amount, words):
    assert rmb_upper(Decimal(amount)) == words


def test_bank_accounts_keep_only_the_last_four_digits():
    assert mask_bank_account("6222020200112233445") == "*" * 15 + "3445"
    assert mask_bank_account("123") == "123" and mask_bank_account("") == ""
