"""Org-unit administration (区划调整): tree, create, rename, move, merge, retire, history."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require, user_policy
from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import LEVEL_ORDER, Level, OrgUnit
from orgunits.selectors import children
from orgunits.services import create_unit, merge_units, move_unit, rename_unit, retire_unit


def _unit(request: AuthedRequest, pk: int | str | None) -> OrgUnit:
    try:
        if pk in (None, ""):
            unit = request.user.org_unit or visible_units(request.user).filter(parent__isnull=True).first()
            if unit is None:
                raise Http404
            return unit
        return visible_units(request.user).get(pk=int(pk))  # type: ignore[arg-type]
    except (ValueError, OrgUnit.DoesNotExist):
        raise Http404 from None


@login_required
def tree(request: AuthedRequest) -> HttpResponse:
    unit = _unit(request, request.GET.get("unit"))
    show_retired = request.GET.get("retired") == "1"
    kids = children(unit, include_retired=show_retired)
    own = request.user.org_unit
    crumbs = [u for u in unit.ancestors() if own is None or u.path.startswith(own.path)]
    level_idx = LEVEL_ORDER.index(Level(unit.level))
    child_level = LEVEL_ORDER[level_idx + 1] if level_idx + 1 < len(LEVEL_ORDER) else None
    same_level = (
        visible_units(request.user)
        .filter(level=unit.level, retired_on__isnull=True)
        .exclude(pk=unit.pk)
        .order_by("path")[:500]
    )
    parents = (
        visible_units(request.user)
        .filter(level=LEVEL_ORDER[level_idx - 1], retired_on__isnull=True)
        .order_by("path")[:500]
        if level_idx > 0
        else []
    )
    versions = unit.history.select_related("history_user").order_by("-history_date", "-history_id")[:30]
    return render(
        request,
        "orgunits/tree.html",
        {
            "unit": unit,
            "kids": kids,
            "crumbs": crumbs,
            "show_retired": show_retired,
            "child_level": child_level,
            "child_level_label": Level(child_level).label if child_level else "",
            "same_level": same_level,
            "parents": parents,
            "versions": versions,
            "policy": user_policy(request.user),
            "today": timezone.localdate(),
            "is_own": own is not None and own.pk == unit.pk,
        },
    )


def _done(request: AuthedRequest, unit: OrgUnit, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(f"{reverse('orgunits:tree')}?unit={unit.pk}")


def _fail(request: AuthedRequest, unit: OrgUnit, exc: ValidationError | PermissionDenied) -> HttpResponse:
    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)
    return redirect(f"{reverse('orgunits:tree')}?unit={unit.pk}")


def _date(raw: str | None) -> dt.date:
    try:
        on = dt.date.fromisoformat(raw or "")
    except ValueError:
        raise ValidationError(_("请填写日期")) from None
    if on > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天"))
    return on


@login_required
@require_POST
def act(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    unit = _unit(request, pk)
    require(request.user, "can_manage_units")
    post = request.POST
    reason = post.get("reason", "").strip()
    try:
        if action == "create":
            capacity = int(post.get("capacity_households") or 0)
            child = create_unit(
                name=post.get("name", ""),
                level=post.get("level", ""),
                parent=unit,
                code=post.get("code", "").strip(),
                capacity_households=capacity,
                established_on=timezone.localdate(),
                by=request.user,
            )
            return _done(request, unit, _("已新建：%(name)s（%(code)s）") % {"name": child.name, "code": child.code})
        if action == "rename":
            rename_unit(unit=unit, name=post.get("name", ""), by=request.user, reason=reason)
            return _done(request, unit, _("已更名"))
        if action == "move":
            if request.user.org_unit_id == unit.pk:
                raise ValidationError(_("不能调整自己所属单位的上级"))
            target = _unit(request, post.get("parent"))
            move_unit(unit=unit, new_parent=target, by=request.user, reason=reason)
            return _done(request, unit, _("已调整到：%(name)s") % {"name": target.name})
        if action == "merge":
            if request.user.org_unit_id == unit.pk:
                raise ValidationError(_("不能合并自己所属的单位"))
            target = _unit(request, post.get("target"))
            merge_units(source=unit, target=target, on=_date(post.get("on")), reason=reason, by=request.user)
            return _done(request, target, _("已将%(a)s并入%(b)s") % {"a": unit.name, "b": target.name})
        if action == "retire":
            if request.user.org_unit_id == unit.pk:
                raise ValidationError(_("不能撤销自己所属的单位"))
            retire_unit(unit=unit, on=_date(post.get("on")), reason=reason, by=request.user)
            return _done(request, unit.parent or unit, _("已撤销：%(name)s") % {"name": unit.name})
    except ValueError:
        return _fail(request, unit, ValidationError(_("可容纳户数应为整数")))
    except (ValidationError, PermissionDenied) as exc:
        return _fail(request, unit, exc)
    raise Http404
