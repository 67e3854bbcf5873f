"""Import pages: upload, dry-run preview with progress, confirm or reject, error report, template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import require, user_policy
from core.excel import xlsx_response
from core.http import AuthedRequest
from core.scoping import scoped, visible_units
from orgunits.models import Level, OrgUnit
from registry import import_service
from registry.importing import COLUMNS, template_bytes
from registry.models import ImportBatch, ImportStatus

RUNNING = (ImportStatus.CHECKING, ImportStatus.IMPORTING)


def _batch(request: AuthedRequest, pk: int) -> ImportBatch:
    try:
        return scoped(ImportBatch.objects.select_related("unit", "uploaded_by"), request.user).get(pk=pk)  # type: ignore[arg-type]
    except ImportBatch.DoesNotExist:
        raise Http404 from None


def _target_units(request: AuthedRequest) -> list[OrgUnit]:
    return list(
        visible_units(request.user)  # type: ignore[arg-type]
        .filter(retired_on__isnull=True, level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY])
        .order_by("path")[:500]
    )


@login_required
def batch_list(request: AuthedRequest) -> HttpResponse:
    policy = user_policy(request.user)
    error = ""
    if request.method == "POST":
        require(request.user, "can_import")
        upload = request.FILES.get("file")
        try:
            unit = visible_units(request.user).get(pk=int(request.POST.get("unit") or 0))  # type: ignore[arg-type]
        except (ValueError, OrgUnit.DoesNotExist):
            unit = None
        if upload is None:
            error = _("请选择要导入的文件")
        elif unit is None:
            error = _("请选择导入到哪个单位（须在您的管辖范围内）")
        else:
            try:
                batch = import_service.create_batch(upload=upload, unit=unit, by=request.user)  # type: ignore[arg-type]
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                import_service.start(batch=batch, dry_run=True)
                return redirect("imports:detail", pk=batch.pk)
    batches = scoped(ImportBatch.objects.select_related("unit", "uploaded_by"), request.user)  # type: ignore[arg-type]
    page = Paginator(batches, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/list.html",
        {
            "page": page,
            "units": _target_units(request),
            "error": error,
            "policy": policy,
            "columns": COLUMNS,
            "query_string": "",
        },
        status=400 if error else 200,
    )


@login_required
def batch_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    outcomes = batch.summary.get("outcomes", [])
    only = request.GET.get("only", "")
    if only:
        outcomes = [o for o in outcomes if o["action"] == only]
    context = {
        "b": batch,
        "outcomes": outcomes,
        "only": only,
        "running": batch.status in RUNNING,
        "policy": user_policy(request.user),
    }
    if request.headers.get("HX-Request"):
        response = render(request, "imports/_progress.html", context)
        if batch.status not in RUNNING:
            response["HX-Refresh"] = "true"  # the job ended: show the full result page
        return response
    return render(request, "imports/detail.html", context)


@login_required
@require_POST
def batch_confirm(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    require(request.user, "can_import")
    if batch.status != ImportStatus.CHECKED:
        messages.error(request, _("该批次不能导入：只有校验完成的批次可以导入"))
    elif not (batch.summary.get("created") or batch.summary.get("updated")):
        messages.info(request, _("没有可导入的数据（全部未变化或被拒绝）"))
    else:
        batch = import_service.start(batch=batch, dry_run=False)
        if batch.status == ImportStatus.DONE:
            messages.success(
                request,
                _("导入完成：新增 %(c)s 人，更新 %(u)s 人，未变化 %(n)s 人，拒绝 %(r)s 行")
                % {
                    "c": batch.summary["created"],
                    "u": batch.summary["updated"],
                    "n": batch.summary["unchanged"],
                    "r": batch.summary["rejected"],
                },
            )
    return redirect("imports:detail", pk=batch.pk)


@login_required
@require_POST
def batch_reject(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    require(request.user, "can_import")
    try:
        import_service.reject_batch(batch=batch, by=request.user)  # type: ignore[arg-type]
        messages.info(request, _("已放弃本次导入，没有写入任何数据"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("imports:detail", pk=batch.pk)


@login_required
def batch_errors(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    return xlsx_response(f"导入错误报告_{batch.pk}.xlsx", import_service.error_report(batch))


@login_required
def roster_template(request: AuthedRequest) -> HttpResponse:
    return xlsx_response("居民花名册导入模板.xlsx", template_bytes())
