"""The annual work summary page and its downloads (.md, .docx).

The unit is any unit of the user's subtree (?unit=<id>, default the user's own); a unit outside
answers 404. The year (?year=) defaults to last year, the one an office sums up in January.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import OrgUnit
from registry.selectors import filter_unit_choices
from reports.docx import markdown_docx
from reports.sections import blocks, build_summary

FIRST_YEAR = 1949
YEARS_OFFERED = 10
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FORMATS = ("md", "docx")


def _unit(request: AuthedRequest) -> OrgUnit | None:
    raw = request.GET.get("unit")
    if raw:
        try:
            return visible_units(request.user).get(pk=int(raw))
        except (ValueError, OrgUnit.DoesNotExist):
            raise Http404 from None
    if request.user.org_unit is not None:
        return request.user.org_unit
    # A superuser without a unit sees the whole tree: start from its top.
    return visible_units(request.user).filter(parent__isnull=True).order_by("path").first()


def _year(request: AuthedRequest, today: dt.date) -> tuple[int, str]:
    """The requested year, or last year with the reason the request's one was not taken."""
    default = today.year - 1
    raw = (request.GET.get("year") or "").strip()
    if not raw:
        return default, ""
    if not raw.isdigit():
        return default, _("年度“%(value)s”格式不对，应为四位年份") % {"value": raw}
    year = int(raw)
    if not FIRST_YEAR <= year <= today.year:
        return default, _("年度应在%(first)s年到%(last)s年之间") % {"first": FIRST_YEAR, "last": today.year}
    return year, ""


@login_required
def summary(request: AuthedRequest) -> HttpResponse:
    today = timezone.localdate()
    unit = _unit(request)
    year, error = _year(request, today)
    document = build_summary(unit, year) if unit is not None else None
    units = list(filter_unit_choices(request.user))
    if unit is not None and unit not in units:
        units.append(unit)
    years = list(range(today.year, today.year - YEARS_OFFERED, -1))
    if year not in years:
        years.append(year)
    return render(
        request,
        "reports/summary.html",
        {
            "unit": unit,
            "year": year,
            "error": error,
            "units": units,
            "years": years,
            "document": document,
            "blocks": blocks(document.markdown()) if document else [],
        },
    )


@login_required
def summary_download(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_export")
    unit = _unit(request)
    if unit is None:
        raise Http404
    year, error = _year(request, timezone.localdate())
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")
    fmt = request.GET.get("format", "md")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(
            _("格式“%(value)s”不支持，应为 md 或 docx") % {"value": fmt}, content_type="text/plain; charset=utf-8"
        )
    document = build_summary(unit, year)
    markdown = document.markdown()
    if fmt == "docx":
        response = HttpResponse(markdown_docx(markdown), content_type=DOCX_CONTENT_TYPE)
    else:
        response = HttpResponse(markdown, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{document.title}.{fmt}')}"
    return response
