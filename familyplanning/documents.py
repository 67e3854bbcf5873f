"""The documents an office hands to the district: the roster (花名册) per scheme as xlsx and the
disbursement report (拨款报告) as docx. Both are built from a submitted application only, so that
what is printed is what was frozen (plus the adjustments recorded since).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO
from typing import Any

import docx
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from accounts.rules import mask_id_number
from core.excel import workbook_bytes
from familyplanning.models import Application, PaymentPeriod, Scheme
from familyplanning.rules import money
from familyplanning.selectors import community_names
from orgunits.models import Level, OrgUnit

# ---- masking ----------------------------------------------------------------------------------------------------


def mask_bank_account(value: str) -> str:
    """6222021234567890123 -> ***************0123: the last four digits are what people check."""
    value = (value or "").strip()
    if len(value) <= 4:
        return value
    return "*" * (len(value) - 4) + value[-4:]


def shown_bank_account(value: str, *, reveal: bool) -> str:
    return value if reveal else mask_bank_account(value)


# ---- amounts in words -------------------------------------------------------------------------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_IN_GROUP = ["", "拾", "佰", "仟"]
_GROUPS = ["", "万", "亿", "万亿"]


def _group_words(n: int) -> str:
    out = ""
    pending_zero = False
    for pos in (3, 2, 1, 0):
        d = n // 10**pos % 10
        if d == 0:
            pending_zero = pending_zero or bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += _DIGITS[d] + _IN_GROUP[pos]
    return out


def rmb_upper(value: Decimal | int) -> str:
    """295510 -> 贰拾玖万伍仟伍佰壹拾元整 (the capital numerals of Chinese financial documents)."""
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount < 0:
        return "负" + rmb_upper(-amount)
    yuan = int(amount)
    cents = int((amount - yuan) * 100)
    groups = []
    n = yuan
    while n:
        groups.append(n % 10000)
        n //= 10000
    words = ""
    gap = False
    for i in reversed(range(len(groups))):
        g = groups[i]
        if g == 0:
            gap = True
            continue
        if words and (gap or g < 1000):
            words += "零"
        words += _group_words(g) + _GROUPS[i]
        gap = False
    if cents == 0:
        return (words or "零") + "元整"
    jiao, fen = divmod(cents, 10)
    out = words + "元" if words else ""
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif words:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    return out


# ---- roster -----------------------------------------------------------------------------------------------------


def roster_headers() -> list[str]:
    return [
        _("序号"),
        _("姓名"),
        _("身份证号"),
        _("所在社区"),
        _("类别"),
        _("人数"),
        _("月数"),
        _("标准（元）"),
        _("金额（元）"),
        _("补发（元）"),
        _("合计（元）"),
        _("银行账号"),
    ]


def _standards_text(breakdown: list[Any]) -> str:
    """[[1, "520"], …, [7, "520"]] -> "520"; two standards in the year -> "520/630"."""
    amounts = list(dict.fromkeys(Decimal(a) for _m, a in breakdown))
    return "/".join(money(a) for a in amounts)


def roster_title(application: Application, scheme: Scheme) -> str:
    return _("%(unit)s %(year)s年 %(scheme)s 花名册") % {
        "unit": application.unit.name,
        "year": application.year,
        "scheme": scheme.name,
    }


def roster_xlsx(application: Application, scheme: Scheme, *, reveal_ids: bool) -> bytes:
    """The roster of one scheme of a submitted application: one row per line, then the totals."""
    lines = list(
        application.lines.filter(scheme=scheme)
        .annotate(back_pay=Sum("adjustment_lines__amount"))
        .order_by("unit__path", "id")
    )
    communities = community_names({line.unit_id for line in lines})
    monthly = scheme.period == PaymentPeriod.MONTHLY
    rows: list[list[Any]] = []
    people = 0
    applied = back_paid = Decimal(0)
    for i, line in enumerate(lines, start=1):
        back_pay = line.back_pay or Decimal(0)  # type: ignore[attr-defined]
        category = f"{scheme.label}（{line.attribute_value}）" if line.attribute_value else scheme.label
        rows.append(
            [
                i,
                line.name,
                line.id_number if reveal_ids else mask_id_number(line.id_number),
                communities.get(line.unit_id, ""),
                category,
                line.people,
                line.months if monthly else "",
                _standards_text(line.breakdown),
                line.amount,
                back_pay,
                line.amount + back_pay,
                shown_bank_account(line.bank_account, reveal=reveal_ids),
            ]
        )
        people += line.people
        applied += line.amount
        back_paid += back_pay
    rows.append([_("合计"), "", "", "", "", people, "", "", applied, back_paid, applied + back_paid, ""])
    return workbook_bytes(roster_headers(), rows, sheet_title=scheme.label, title=roster_title(application, scheme))


# ---- disbursement report ------------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    scheme: Scheme
    households: set[int] = field(default_factory=set)
    people: int = 0
    applied: Decimal = Decimal(0)
    back_pay: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.applied + self.back_pay


def report_rows(application: Application) -> list[ReportRow]:
    """Per scheme: households, people (as frozen on the lines), amount applied and back-pay recorded since."""
    schemes = {s.pk: s for s in Scheme.objects.all()}
    rows: dict[int, ReportRow] = {}
    for scheme_id, beneficiary_id, household_id, people, amount, back_pay in application.lines.annotate(
        back_pay=Sum("adjustment_lines__amount")
    ).values_list("scheme_id", "beneficiary_id", "beneficiary__household_id", "people", "amount", "back_pay"):
        row = rows.setdefault(scheme_id, ReportRow(schemes[scheme_id]))
        # A person without a household is a household of his own.
        row.households.add(household_id or -beneficiary_id)
        row.people += people
        row.applied += amount
        row.back_pay += back_pay or Decimal(0)
    return sorted(rows.values(), key=lambda r: (r.scheme.sort_order, r.scheme.code))


def _district_of(unit: OrgUnit) -> OrgUnit | None:
    ids = [int(seg) for seg in unit.path.strip("/").split("/") if seg]
    return OrgUnit.objects.filter(pk__in=ids, level=Level.DISTRICT).first()


def _date_text(on: dt.date) -> str:
    return _("%(y)s年%(m)s月%(d)s日") % {"y": on.year, "m": on.month, "d": on.day}


def disbursement_docx(application: Application, *, today: dt.date | None = None) -> bytes:
    """关于申请拨付…资金的报告: the totals per scheme of a submitted application, with the back-pay since."""
    today = today or timezone.localdate()
    rows = report_rows(application)
    households = len(set().union(*(r.households for r in rows))) if rows else 0
    people = sum(r.people for r in rows)
    applied = sum((r.applied for r in rows), Decimal(0))
    back_pay = sum((r.back_pay for r in rows), Decimal(0))
    total = applied + back_pay
    unit = application.unit

    document: Any = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(14)
    style.font.name = "FangSong"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(_("关于申请拨付%(year)s年度计划生育奖励扶助资金的报告") % {"year": application.year})
    run.bold = True
    run.font.size = Pt(20)

    district = _district_of(unit)
    addressee = _("%(district)s卫生健康局：") % {"district": district.name} if district else _("区卫生健康局：")
    document.add_paragraph(addressee)
    summary = _(
        "根据计划生育奖励扶助和特别扶助政策，经逐户核实，%(unit)s%(year)s年度共有扶助对象%(households)s户%(people)s人，"
        "申报扶助资金%(applied)s元，补发%(back_pay)s元，合计%(total)s元（大写：%(words)s）。各项目明细如下："
    ) % {
        "unit": unit.name,
        "year": application.year,
        "households": households,
        "people": people,
        "applied": money(applied),
        "back_pay": money(back_pay),
        "total": money(total),
        "words": rmb_upper(total),
    }
    paragraph = document.add_paragraph(summary)
    paragraph.paragraph_format.first_line_indent = Pt(28)

    headers = [_("项目"), _("户数"), _("人数"), _("申报金额（元）"), _("补发金额（元）"), _("合计（元）")]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
        for r in cell.paragraphs[0].runs:
            r.bold = True
    for row in rows:
        values = [
            row.scheme.name,
            str(len(row.households)),
            str(row.people),
            money(row.applied),
            money(row.back_pay),
            money(row.total),
        ]
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text
    footer = [_("合计"), str(households), str(people), money(applied), money(back_pay), money(total)]
    for cell, text in zip(table.add_row().cells, footer, strict=True):
        cell.text = text

    closing = document.add_paragraph(_("特此报告，请予拨付。"))
    closing.paragraph_format.first_line_indent = Pt(28)
    document.add_paragraph()
    for text in (unit.name, _date_text(today)):
        p = document.add_paragraph(text)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    out = BytesIO()
    document.save(out)
    return out.getvalue()
