"""Home page: the population figures of the user's unit, drill-down through the tree, as-of date."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessAction
from accounts.permissions import require
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import OrgUnit
from registry.selectors import home_figures, population_figures


def _selected_unit(request: AuthedRequest) -> OrgUnit | None:
    user = request.user
    raw = request.GET.get("unit")
    if raw:
        try:
            return visible_units(user).get(pk=int(raw))  # type: ignore[arg-type]
        except (ValueError, OrgUnit.DoesNotExist):
            raise Http404 from None
    return user.org_unit or visible_units(user).filter(parent__isnull=True).first()  # type: ignore[union-attr, arg-type]


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    unit = _selected_unit(request)
    today = timezone.localdate()
    on = today
    error = ""
    if request.GET.get("on"):
        try:
            on = dt.date.fromisoformat(request.GET["on"])
        except ValueError:
            error, on = _("日期格式不正确"), today
        if on > today:
            error, on = _("截至日期不能晚于今天"), today
    if unit is None:
        return render(request, "core/home.html", {"unit": None})
    if on == today:
        figures, children = home_figures(unit)
    else:
        figures, children = population_figures(unit, on=on), []
    if request.GET.get("export"):
        require(request.user, "can_export")
        rows = [
            [u.name, u.code, u.get_level_display(), f["households"], f["residents"], f["floating"]] for u, f in children
        ]
        log_access(user=request.user, action=AccessAction.EXPORT, object_type="home", object_id=unit.pk, rows=len(rows))
        content = workbook_bytes(
            ["单位", "区划代码", "层级", "户数", "人口", "流动人口"],
            rows,
            sheet_title="人口概况",
            title=f"{unit.name} 人口概况（{on:%Y-%m-%d}）",
        )
        return xlsx_response(f"人口概况_{unit.name}_{on:%Y%m%d}.xlsx", content)
    own = request.user.org_unit  # type: ignore[union-attr]
    crumbs = [u for u in unit.ancestors() if own is None or u.path.startswith(own.path)]
    chart = {
        "names": [u.name for u, _f in children],
        "residents": [f["residents"] for _u, f in children],
        "floating": [f["floating"] for _u, f in children],
    }
    occupancy = (
        round(100 * figures.households_occupied / figures.households_capacity, 1)
        if figures.households_capacity
        else None
    )
    return render(
        request,
        "core/home.html",
        {
            "unit": unit,
            "f": figures,
            "children": children,
            "crumbs": crumbs,
            "on": on,
            "today": today,
            "error": error,
            "chart": chart,
            "occupancy": occupancy,
        },
    )
