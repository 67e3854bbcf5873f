"""Dose records imported from xlsx (接种记录导入): all rows or none.

Each row names a person by ID number (the name must match the registry), the product, the dose
number and date (接种单位, 上门接种 and 备注 optional). Every row is checked with the services' rules
(rules.dose_problems, against the person's doses on file and the earlier rows of the file); any error
(row, column, reason) stores nothing. A row identical to a dose on file (same person, number, date and
product) is "already recorded" and skipped, so importing the same file twice changes nothing; a row
that contradicts a dose on file is an error (corrections are made on the person's card).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.scoping import scoped
from registry.importing import CellError, RowError, parse_date, text
from registry.models import IdType, Resident
from registry.rules import IdNumberError, parse_id_number
from vaccination import rules
from vaccination.models import Dose, VaccineProduct
from vaccination.services import product_rule, refresh_summaries

if TYPE_CHECKING:
    from accounts.models import User

# (header, key, required)
COLUMNS: list[tuple[str, str, bool]] = [
    ("姓名", "name", True),
    ("证件号码", "id_number", True),
    ("疫苗", "product", True),
    ("剂次", "dose_number", True),
    ("接种日期", "date", True),
    ("接种单位", "site", False),
    ("上门接种", "door_to_door", False),
    ("备注", "note", False),
]
REQUIRED = [h for h, _k, required in COLUMNS if required]
MAX_ROWS = 20_000
YES = {"是", "上门", "y", "yes", "1", "true"}
NO = {"", "否", "n", "no", "0", "false"}


class DoseFileError(ValueError):
    """The file as a whole cannot be read; the message is for the user, in Chinese."""


@dataclass
class DoseImport:
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
        }


@dataclass
class _Row:
    number: int
    resident: Resident
    product: VaccineProduct
    dose_number: int
    date: dt.date
    site: str
    door_to_door: bool
    note: str


def _product_index() -> dict[str, VaccineProduct]:
    """A product by its code, its "名称（生产企业）" or its manufacturer alone (unique among products)."""
    out: dict[str, VaccineProduct] = {}
    makers: dict[str, list[VaccineProduct]] = defaultdict(list)
    for p in VaccineProduct.objects.all():
        out[p.code.lower()] = p
        out[str(p)] = p
        out[f"{p.name}({p.manufacturer})"] = p
        makers[p.manufacturer].append(p)
    for maker, products in makers.items():
        if len(products) == 1:
            out.setdefault(maker, products[0])
    return out


def read_rows(content: bytes) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Headers and (row number, cells) of the first sheet of an xlsx file."""
    if len(content) > settings.YBZ_MAX_UPLOAD_BYTES:
        raise DoseFileError(_("文件过大，请分成几个文件导入"))
    if not content.startswith(b"PK\x03\x04"):
        raise DoseFileError(_("不是有效的Excel文件（.xlsx），请用下载的模板填写后导入"))
    try:
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
        raw = list(sheet.iter_rows())
    except Exception:  # calamine raises several error types for files that are not workbooks
        raise DoseFileError(_("不是有效的Excel文件（.xlsx），请用下载的模板填写后导入")) from None
    if not raw:
        raise DoseFileError(_("文件是空的"))
    headers = [text(c) for c in raw[0]]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise DoseFileError(
            _("缺少必填列：%(columns)s（第1行应为表头，请使用下载的模板）") % {"columns": "、".join(missing)}
        )
    rows = [(n, list(cells)) for n, cells in enumerate(raw[1:], start=2) if any(text(c) for c in cells)]
    if not rows:
        raise DoseFileError(_("文件中没有数据行（只有表头）"))
    if len(rows) > MAX_ROWS:
        raise DoseFileError(_("一次最多导入%(n)s行，请分成几个文件") % {"n": MAX_ROWS})
    return headers, rows


def import_doses(*, content: bytes, by: User, today: dt.date | None = None) -> DoseImport:
    """Check every row; store them all (in one transaction) only when none has an error."""
    require(by, "can_import")
    today = today or timezone.localdate()
    headers, raw_rows = read_rows(content)
    index = {h: i for i, h in enumerate(headers)}
    header_of = {key: header for header, key, _r in COLUMNS}
    result = DoseImport(rows=len(raw_rows))
    products = _product_index()
    parsed: list[tuple[int, dict[str, Any]]] = []
    numbers: set[str] = set()
    for number, cells in raw_rows:
        values = {key: (cells[index[h]] if h in index and index[h] < len(cells) else "") for h, key, _r in COLUMNS}
        row, errors = _parse(number, values, products, today)
        result.errors.extend(errors)
        if row is not None:
            parsed.append((number, row))
            numbers.add(row["id_number"])
    people: dict[str, Resident] = {}
    for chunk in _chunks(sorted(numbers)):
        for r in scoped(Resident.objects.filter(id_type=IdType.RESIDENT_ID, id_number__in=chunk), by).filter(
            retired_at__isnull=True
        ):
            people[r.id_number] = r
    rows: list[_Row] = []
    for number, v in parsed:
        resident = people.get(v["id_number"])
        if resident is None:
            result.errors.append(RowError(number, header_of["id_number"], _("辖区内没有该证件号码的居民")))
            continue
        if v["name"] != resident.name:
            result.errors.append(
                RowError(number, header_of["name"], _("姓名与证件号码不符（登记为%(name)s）") % {"name": resident.name})
            )
            continue
        rows.append(_Row(number, resident, v["product"], v["dose_number"], v["date"], v["site"], v["door"], v["note"]))
    new = _check_against_file(rows, result, today)
    if result.errors:
        result.errors.sort(key=lambda e: (e.row, e.column))
        return result
    _store(new, by)
    result.created = len(new)
    return result


def _chunks(values: list[str], size: int = 900) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _parse(
    number: int, v: dict[str, Any], products: dict[str, VaccineProduct], today: dt.date
) -> tuple[dict[str, Any] | None, list[RowError]]:
    errors: list[RowError] = []
    out: dict[str, Any] = {"name": text(v["name"]), "site": text(v["site"]), "note": text(v["note"])}
    if not out["name"]:
        errors.append(RowError(number, "姓名", _("姓名为空")))
    try:
        out["id_number"] = parse_id_number(text(v["id_number"]), today=today).number
    except IdNumberError as exc:
        errors.append(RowError(number, "证件号码", str(exc)))
    product_text = text(v["product"])
    product = products.get(product_text) or products.get(product_text.lower())
    if product is None:
        errors.append(
            RowError(
                number, "疫苗", _("没有这个疫苗：%(value)s（填写代码或生产企业，见模板说明）") % {"value": product_text}
            )
        )
    out["product"] = product
    raw_number = text(v["dose_number"]).removeprefix("第").removesuffix("剂").removesuffix("针")
    if raw_number.isdigit() and 1 <= int(raw_number) <= 9:
        out["dose_number"] = int(raw_number)
    else:
        errors.append(RowError(number, "剂次", _("剂次应为1到9的数字：%(value)s") % {"value": text(v["dose_number"])}))
    try:
        out["date"] = parse_date(v["date"])
        if out["date"] is None:
            errors.append(RowError(number, "接种日期", _("接种日期为空")))
    except CellError as exc:
        errors.append(RowError(number, "接种日期", str(exc)))
    door = text(v["door_to_door"]).lower()
    if door in YES:
        out["door"] = True
    elif door in NO:
        out["door"] = False
    else:
        errors.append(RowError(number, "上门接种", _("应填“是”或“否”：%(value)s") % {"value": door}))
    if len(out["site"]) > 100:
        errors.append(RowError(number, "接种单位", _("接种单位过长（最多100个字）")))
    if len(out["note"]) > 200:
        errors.append(RowError(number, "备注", _("备注过长（最多200个字）")))
    return (None, errors) if errors else (out, [])


def _check_against_file(rows: list[_Row], result: DoseImport, today: dt.date) -> list[_Row]:
    """The rules of a new dose, per person in dose-number order: doses on file, then the file's earlier rows."""
    by_person: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_person[row.resident.pk].append(row)
    on_file: dict[int, dict[int, Dose]] = defaultdict(dict)
    ids = sorted(by_person)
    for i in range(0, len(ids), 900):
        for d in Dose.objects.filter(resident_id__in=ids[i : i + 900], retired_at__isnull=True).select_related(
            "product"
        ):
            on_file[d.resident_id][d.dose_number] = d
    new: list[_Row] = []
    for pid, person_rows in by_person.items():
        existing = on_file.get(pid, {})
        earlier = {n: d.date for n, d in existing.items()}
        first = existing.get(1)
        seen: dict[int, int] = {}
        for row in sorted(person_rows, key=lambda r: (r.dose_number, r.number)):
            if row.dose_number in seen:
                result.errors.append(
                    RowError(
                        row.number, "剂次", _("与第%(row)s行重复（同一人同一剂次）") % {"row": seen[row.dose_number]}
                    )
                )
                continue
            seen[row.dose_number] = row.number
            stored = existing.get(row.dose_number)
            if stored is not None:
                if stored.date == row.date and stored.product_id == row.product.pk:
                    result.unchanged += 1
                    continue
                result.errors.append(
                    RowError(
                        row.number,
                        "剂次",
                        _("第%(n)s剂已登记为%(date)s %(product)s，与表中不一致；如需更正请在接种卡上更正")
                        % {"n": row.dose_number, "date": stored.date.isoformat(), "product": stored.product.name},
                    )
                )
                continue
            course_product = first.product if first is not None else (row.product if row.dose_number == 1 else None)
            course = product_rule(course_product or row.product)
            errors, warnings = rules.dose_problems(
                birth=row.resident.birth_date,
                number=row.dose_number,
                date=row.date,
                today=today,
                earlier=earlier,
                course=course,
            )
            problems = errors or warnings
            if problems:
                for key, message in problems.items():
                    column = {"date": "接种日期", "dose_number": "剂次"}.get(key, key)
                    result.errors.append(RowError(row.number, column, message))
                continue
            earlier[row.dose_number] = row.date
            if row.dose_number == 1:
                first = Dose(product=row.product)
            new.append(row)
    return new


@transaction.atomic
def _store(rows: list[_Row], by: User) -> None:
    from simple_history.utils import bulk_create_with_history

    now = timezone.now()
    doses = [
        Dose(
            resident=row.resident,
            product=row.product,
            dose_number=row.dose_number,
            date=row.date,
            site=row.site,
            door_to_door=row.door_to_door,
            note=row.note,
            recorded_by=by,
            recorded_at=now,
        )
        for row in rows
    ]
    bulk_create_with_history(doses, Dose, batch_size=500, default_user=by, default_change_reason=_("导入接种记录"))
    refresh_summaries(row.resident.pk for row in rows)


def template_bytes() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "接种记录"
    ws.append([h for h, _k, _r in COLUMNS])
    notes = wb.create_sheet("填写说明")
    notes.append(["列", "是否必填", "说明"])
    explanations = {
        "姓名": "须与人口登记中的姓名一致",
        "证件号码": "18位居民身份证号（15位旧号自动升位），须是本辖区已登记的居民",
        "疫苗": "填写下表中的代码或生产企业",
        "剂次": "1、2、3…；须先有前一剂",
        "接种日期": "如 2022-03-08，不能晚于今天，不早于出生日期；相邻剂次间隔须符合疫苗的规定",
        "上门接种": "是/否，空白为否",
    }
    for header, _key, required in COLUMNS:
        notes.append([header, "必填" if required else "", explanations.get(header, "")])
    notes.append([])
    notes.append(["代码", "疫苗", "生产企业", "全程剂次", "最短间隔（天）", "加强针"])
    for p in VaccineProduct.objects.filter(retired_on__isnull=True).order_by("id"):
        notes.append(
            [
                p.code,
                p.name,
                p.manufacturer,
                p.course_doses,
                p.min_interval_days,
                f"全程后{p.booster_interval_days}天" if p.booster_needed else "无需加强",
            ]
        )
    notes.append([])
    notes.append(["全部行无误才会导入；有任何错误时不导入任何一行，请按提示的行、列改正后重新导入。"])
    notes.append(["同一文件再次导入不会重复登记：与已登记完全相同的剂次自动跳过。"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
