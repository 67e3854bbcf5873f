"""全员核酸 pages: the dashboard of rounds, a round's plan (sites, buildings, tables and mobile teams, staff),
its should-sample list, live progress (htmx, every 15 s), the missed list per grid (xlsx, print), results
with the positive pools and their handover, the round's summary, and static QR codes (coverage per
community, issue in bulk, printable sheets per resident and per household).

Reads go through testing.selectors (the user's subtree), writes through testing.services; a round or a
unit outside the subtree answers 404. The sampling-table screen is in table_views.py, routine testing
in routine/views.py.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import AccessAction
from accounts.permissions import require, user_policy
from accounts.rules import mask_id_number, shown_phone
from accounts.services import log_access
from core.excel import workbook_bytes, xlsx_response
from core.http import AuthedRequest
from core.pages import query_without_page, unit_param
from core.scoping import unit_in_scope, visible_units
from orgunits.models import Level, OrgUnit
from registry.models import Household, Resident, StaticCode
from testing import rules, selectors, services
from testing.forms import (
    BuildingsForm,
    CopyPlanForm,
    HandOverForm,
    ResultForm,
    RetireForm,
    RoundForm,
    SiteForm,
    StaffForm,
    TablesForm,
    UnitFilterForm,
    UploadForm,
)
from testing.models import (
    Exemption,
    Round,
    RoundStaff,
    RoundStatus,
    SamplingSite,
    SamplingTable,
    StaffRole,
    TableKind,
    Tube,
)
from testing.summary import round_paragraph

PAGE_SIZE = 50
POLL_SECONDS = 15
PROGRESS_CACHE_SECONDS = 10
PRINT_LIMIT = 2000  # codes on one print page (a building or a grid; a community is printed grid by grid)


# ---- helpers ------------------------------------------------------------------------------------------------------


def _round(request: AuthedRequest, pk: int) -> Round:
    try:
        return selectors.rounds_for(request.user).get(pk=pk)
    except Round.DoesNotExist:
        raise Http404 from None


def _can_manage(request: AuthedRequest, round_: Round) -> bool:
    return user_policy(request.user).can_manage_units and unit_in_scope(request.user, round_.unit)


def _require_manage(request: AuthedRequest, round_: Round) -> None:
    if not _can_manage(request, round_):
        raise PermissionDenied(_("只有组织本轮检测的街道（或上级）可以修改计划"))


def _posted_id(request: AuthedRequest, name: str) -> int:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        raise Http404 from None


def _errors(request: AuthedRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _add_errors(form: Any, exc: ValidationError) -> None:
    fields = set(form.fields)
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, msgs in exc.message_dict.items():
        form.add_error(key if key in fields else None, msgs)


def _home_unit(request: AuthedRequest) -> OrgUnit | None:
    user = request.user
    if user.org_unit is not None:
        return user.org_unit
    return visible_units(user).filter(parent__isnull=True).order_by("path").first()


def _organising_unit(request: AuthedRequest) -> OrgUnit | None:
    """Where a new round is organised: the user's own unit (a street), or ?unit= below it."""
    unit = unit_param(request) or request.user.org_unit
    return unit


def _scope_choices(unit: OrgUnit) -> QuerySet[OrgUnit]:
    return (
        OrgUnit.objects.filter(unit.subtree_q(), retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID])
        .select_related("parent")
        .order_by("path")
    )


def _base(request: AuthedRequest, round_: Round | None = None) -> dict[str, Any]:
    return {
        "round": round_,
        "policy": user_policy(request.user),
        "can_manage": round_ is not None and _can_manage(request, round_),
    }


def _round_counts(rounds: list[Round], user: Any) -> dict[int, selectors.Tally]:
    root = selectors.user_root(user)
    return {r.pk: selectors.round_total(r, root) for r in rounds}


# ---- dashboard ----------------------------------------------------------------------------------------------------


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    rounds = list(selectors.rounds_for(request.user).order_by("-starts_on", "-id")[:40])
    figures = _round_counts(rounds[:12], request.user)
    unit = _home_unit(request)
    may_create = user_policy(request.user).can_manage_units and request.user.org_unit is not None
    return render(
        request,
        "testing/dashboard.html",
        {
            **_base(request),
            "rows": [{"r": r, "t": figures.get(r.pk)} for r in rounds],
            "unit": unit,
            "may_create": may_create and request.user.org_unit.level != Level.BUILDING,  # type: ignore[union-attr]
            "running": [r for r in rounds if r.status == RoundStatus.RUNNING],
        },
    )


# ---- the round ----------------------------------------------------------------------------------------------------


def _round_data(cd: dict[str, Any]) -> services.RoundData:
    return services.RoundData(
        name=cd["name"],
        sample_type=cd["sample_type"],
        starts_on=cd["starts_on"],
        ends_on=cd["ends_on"],
        scope_units=list(cd["scope_units"]),
        recent_test_hours=cd["recent_test_hours"],
        previous_round=cd.get("previous_round"),
        table_rate_per_hour=cd["table_rate_per_hour"],
        note=cd.get("note") or "",
    )


@login_required
def round_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, "can_manage_units")
    unit = _organising_unit(request)
    if unit is None:
        raise Http404
    today = timezone.localdate()
    form = RoundForm(
        request.POST or None,
        units=_scope_choices(unit),
        rounds=Round.objects.filter(unit=unit).order_by("-starts_on"),
        initial={
            "starts_on": today,
            "ends_on": today,
            "scope_units": list(_scope_choices(unit).filter(level=Level.COMMUNITY)),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            round_ = services.create_round(unit=unit, data=_round_data(form.cleaned_data), by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request, _("已创建：%(name)s。请添加采样点、分配楼栋并生成应检名单。") % {"name": round_.name}
            )
            return redirect("testing:round_detail", pk=round_.pk)
    return render(
        request,
        "testing/round_form.html",
        {**_base(request), "form": form, "unit": unit},
        status=400 if form.errors else 200,
    )


@login_required
def round_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    initial = {
        "name": round_.name,
        "sample_type": round_.sample_type,
        "starts_on": round_.starts_on,
        "ends_on": round_.ends_on,
        "scope_units": list(round_.scope_units.all()),
        "recent_test_hours": round_.recent_test_hours,
        "previous_round": round_.previous_round,
        "table_rate_per_hour": round_.table_rate_per_hour,
        "note": round_.note,
    }
    form = RoundForm(
        request.POST or None,
        units=_scope_choices(round_.unit),
        rounds=Round.objects.filter(unit=round_.unit).exclude(pk=round_.pk).order_by("-starts_on"),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_round(round_=round_, data=_round_data(form.cleaned_data), by=request.user)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("testing:round_detail", pk=round_.pk)
    return render(
        request,
        "testing/round_form.html",
        {**_base(request, round_), "form": form, "unit": round_.unit},
        status=400 if form.errors else 200,
    )


@login_required
def round_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    plan = selectors.plan(round_)
    tally = selectors.round_total(round_, selectors.user_root(request.user))
    tables = {t.pk: t for t in SamplingTable.objects.filter(pk__in=plan.check.without).select_related("site")}
    extra_tables = SamplingTable.objects.in_bulk(list(plan.check.extra))
    sources = selectors.rounds_for(request.user).filter(unit=round_.unit).exclude(pk=round_.pk).order_by("-starts_on")
    return render(
        request,
        "testing/round_detail.html",
        {
            **_base(request, round_),
            "plan": plan,
            "tally": tally,
            "reasons": [
                (Exemption(r).label, tally.exempt.get(r, 0)) for r in (*rules.EXEMPTION_ORDER, Exemption.OTHER)
            ],
            "without": [tables[t] for t in plan.check.without if t in tables],
            "extra": [(extra_tables[t], n) for t, n in plan.check.extra.items() if t in extra_tables],
            "roles": [(StaffRole(r).label, plan.staff.get(r, 0)) for r in rules.ROLES],
            "scope": list(round_.scope_units.all()),
            "site_form": SiteForm(units=_site_units(round_)),
            "upload_form": UploadForm(),
            "copy_form": CopyPlanForm(rounds=sources),
            "has_sources": sources.exists(),
            "summary": round_paragraph(round_, selectors.user_root(request.user)) if round_.roster_built_at else "",
            "statuses": RoundStatus,
        },
    )


@login_required
@require_POST
def round_status(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    try:
        services.set_status(round_=round_, status=request.POST.get("status", ""), by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("状态已更新"))
    return redirect("testing:round_detail", pk=round_.pk)


@login_required
@require_POST
def roster_build(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    try:
        built = services.build_roster(round_=round_, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        if built.mode == "added":
            messages.success(
                request,
                _("已开始采样，名单只增不改：新增%(n)s人，名单共%(total)s人")
                % {"n": built.added, "total": built.people},
            )
        else:
            messages.success(
                request,
                _("已生成应检名单：%(total)s人，其中无需采集%(exempt)s人，需上门采集%(door)s人（用时%(s)s秒）")
                % {
                    "total": built.people,
                    "exempt": sum(built.by_exemption.values()),
                    "door": built.door_to_door,
                    "s": built.seconds,
                },
            )
    return redirect("testing:round_detail", pk=round_.pk)


def _template_response(headers: tuple[str, ...], example: list[Any], name: str) -> HttpResponse:
    return xlsx_response(name, workbook_bytes(list(headers), [example], sheet_title=name.removesuffix(".xlsx")))


@login_required
def roster_template(request: AuthedRequest, pk: int) -> HttpResponse:
    _round(request, pk)
    return _template_response(
        rules.EXTRA_HEADERS,
        ["张三", "150599198001010011", "13900000000", "1号楼", "某某超市", "商铺"],
        _("从业人员导入模板.xlsx"),
    )


@login_required
@require_POST
def roster_import(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要导入的文件"))
        return redirect("testing:round_detail", pk=round_.pk)
    content, name = form.content()
    try:
        result = services.import_extra_people(round_=round_, content=content, filename=name, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("testing:round_detail", pk=round_.pk)
    log_access(
        user=request.user,
        action=AccessAction.IMPORT,
        object_type="should_sample",
        object_id=round_.pk,
        rows=result.created,
        errors=len(result.errors),
    )
    if result.errors:
        return render(
            request,
            "testing/import_errors.html",
            {**_base(request, round_), "errors": result.errors, "title": _("从业人员导入未完成")},
            status=400,
        )
    messages.success(request, _("已导入%(n)s人") % {"n": result.created})
    return redirect("testing:round_detail", pk=round_.pk)


@login_required
@require_POST
def copy_plan(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    form = CopyPlanForm(
        request.POST, rounds=selectors.rounds_for(request.user).filter(unit=round_.unit).exclude(pk=round_.pk)
    )
    if form.is_valid():
        try:
            n = services.copy_plan(source=form.cleaned_data["source"], target=round_, by=request.user)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("已复制%(n)s个采样点及其楼栋、采样台和工作人员") % {"n": n})
    return redirect("testing:round_detail", pk=round_.pk)


# ---- sites, buildings, tables -------------------------------------------------------------------------------------


def _site_units(round_: Round) -> list[OrgUnit]:
    units: list[OrgUnit] = []
    for scope in round_.scope_units.all():
        units += list(
            OrgUnit.objects.filter(scope.subtree_q(), retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID])
            .select_related("parent")
            .order_by("path")
        )
    return units


def _site(round_: Round, site_pk: int) -> SamplingSite:
    try:
        return SamplingSite.objects.select_related("unit").get(pk=site_pk, round=round_)
    except SamplingSite.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def site_add(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    _require_manage(request, round_)
    form = SiteForm(request.POST, units=_site_units(round_))
    if form.is_valid():
        cd = form.cleaned_data
        unit = OrgUnit.objects.filter(pk=cd["unit"]).first()
        try:
            if unit is None:
                raise ValidationError({"unit": _("请选择所在社区")})
            site = services.add_site(
                round_=round_,
                unit=unit,
                name=cd["name"],
                location=cd["location"],
                leader=cd["leader"],
                leader_phone=cd["leader_phone"],
                by=request.user,
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("已添加采样点：%(name)s。请分配楼栋、添加采样台。") % {"name": site.name})
            return redirect("testing:site_detail", pk=round_.pk, site=site.pk)
    else:
        messages.error(request, _("请填写采样点名称和所在社区"))
    return redirect("testing:round_detail", pk=round_.pk)


def _free_buildings(round_: Round, site: SamplingSite, community: OrgUnit | None) -> QuerySet[OrgUnit]:
    through = SamplingSite.buildings.through
    taken = through.objects.filter(samplingsite__round=round_, samplingsite__retired_at__isnull=True).values(
        "orgunit_id"
    )
    base = community or site.unit
    return (
        OrgUnit.objects.filter(base.subtree_q(), level=Level.BUILDING, retired_on__isnull=True)
        .exclude(pk__in=taken)
        .select_related("parent")
        .order_by("path")
    )


@login_required
def site_detail(request: AuthedRequest, pk: int, site: int) -> HttpResponse:
    round_ = _round(request, pk)
    s = _site(round_, site)
    community = unit_param(request)
    if community is not None and not any(community.is_within(u) for u in round_.scope_units.all()):
        raise Http404
    buildings_form = BuildingsForm(buildings=_free_buildings(round_, s, community))
    if request.method == "POST":
        _require_manage(request, round_)
        action = request.POST.get("action")
        try:
            if action == "edit":
                form = SiteForm(request.POST, units=_site_units(round_))
                if form.is_valid():
                    cd = form.cleaned_data
                    services.update_site(
                        site=s,
                        name=cd["name"],
                        location=cd["location"],
                        leader=cd["leader"],
                        leader_phone=cd["leader_phone"],
                        by=request.user,
                    )
                    messages.success(request, _("已保存"))
            elif action == "buildings":
                buildings_form = BuildingsForm(request.POST, buildings=_scope_buildings(round_))
                if buildings_form.is_valid():
                    n = services.assign_buildings(
                        site=s, buildings=list(buildings_form.cleaned_data["buildings"]), by=request.user
                    )
                    messages.success(request, _("已分配%(n)s栋楼") % {"n": n})
                else:
                    messages.error(request, _("请选择楼栋"))
            elif action == "unassign":
                building = OrgUnit.objects.filter(pk=_posted_id(request, "building"), level=Level.BUILDING).first()
                if building is None:
                    raise Http404
                services.unassign_building(site=s, building=building, by=request.user)
                messages.success(request, _("已取消：%(name)s") % {"name": building.name})
            elif action == "tables":
                tables_form = TablesForm(request.POST)
                if tables_form.is_valid():
                    made = services.add_tables(
                        site=s,
                        kind=tables_form.cleaned_data["kind"],
                        count=tables_form.cleaned_data["count"],
                        by=request.user,
                    )
                    messages.success(request, _("已添加%(n)s个") % {"n": len(made)})
            elif action == "retire_table":
                table = SamplingTable.objects.filter(pk=_posted_id(request, "table"), site=s).first()
                if table is None:
                    raise Http404
                services.retire_table(table=table, reason=request.POST.get("reason", ""), by=request.user)
                messages.success(request, _("已撤销：%(t)s") % {"t": str(table)})
            elif action == "retire":
                services.retire_site(site=s, reason=request.POST.get("reason", ""), by=request.user)
                messages.success(request, _("已撤销采样点：%(name)s") % {"name": s.name})
                return redirect("testing:round_detail", pk=round_.pk)
        except ValidationError as exc:
            _errors(request, exc)
        return redirect(reverse("testing:site_detail", args=[round_.pk, s.pk]))
    tables = list(s.tables.order_by("retired_at", "kind", "number"))
    staff = list(s.staff.filter(retired_at__isnull=True).select_related("table"))
    return render(
        request,
        "testing/site_detail.html",
        {
            **_base(request, round_),
            "s": s,
            "buildings": list(s.buildings.select_related("parent").order_by("path")),
            "tables": tables,
            "staff": [{"p": p, "phone": shown_phone(request.user.role, p.phone)} for p in staff],
            "edit_form": SiteForm(
                units=_site_units(round_),
                initial={
                    "name": s.name,
                    "unit": s.unit_id,
                    "location": s.location,
                    "leader": s.leader,
                    "leader_phone": s.leader_phone,
                },
            ),
            "buildings_form": buildings_form,
            "tables_form": TablesForm(),
            "retire_form": RetireForm(),
            "communities": [u for u in _site_units(round_) if u.level == Level.COMMUNITY],
            "community": community,
            "table_url": "testing:table_screen",
        },
    )


def _scope_buildings(round_: Round) -> QuerySet[OrgUnit]:
    q = services.scope_q(round_, prefix="")
    return OrgUnit.objects.filter(q, level=Level.BUILDING, retired_on__isnull=True).select_related("parent")


# ---- staff --------------------------------------------------------------------------------------------------------


@login_required
def staff_list(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    form = StaffForm(round_=round_)
    if request.method == "POST":
        _require_manage(request, round_)
        action = request.POST.get("action")
        if action == "retire":
            person = RoundStaff.objects.filter(pk=_posted_id(request, "staff"), round=round_).first()
            if person is None:
                raise Http404
            try:
                services.retire_staff(staff=person, reason=request.POST.get("reason", ""), by=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("已撤销：%(name)s") % {"name": person.name})
            return redirect("testing:staff_list", pk=round_.pk)
        if action == "import":
            upload = UploadForm(request.POST, request.FILES)
            if not upload.is_valid():
                messages.error(request, _("请选择要导入的文件"))
                return redirect("testing:staff_list", pk=round_.pk)
            content, name = upload.content()
            try:
                result = services.import_staff(round_=round_, content=content, filename=name, by=request.user)
            except ValidationError as exc:
                _errors(request, exc)
                return redirect("testing:staff_list", pk=round_.pk)
            if result.errors:
                return render(
                    request,
                    "testing/import_errors.html",
                    {**_base(request, round_), "errors": result.errors, "title": _("工作人员导入未完成")},
                    status=400,
                )
            messages.success(request, _("已导入%(n)s名工作人员") % {"n": result.created})
            return redirect("testing:staff_list", pk=round_.pk)
        form = StaffForm(request.POST, round_=round_)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                person = services.add_staff(
                    round_=round_,
                    data=services.StaffData(
                        role=cd["role"],
                        name=cd["name"],
                        phone=cd["phone"],
                        organisation=cd["organisation"],
                        vehicle_plate=cd["vehicle_plate"],
                        site=cd["site"],
                        table=cd["table"],
                    ),
                    by=request.user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("已登记：%(p)s") % {"p": str(person)})
                return redirect("testing:staff_list", pk=round_.pk)
    role = request.GET.get("role", "")
    qs = RoundStaff.objects.filter(round=round_, retired_at__isnull=True).select_related("site", "table")
    if role in StaffRole.values:
        qs = qs.filter(role=role)
    page = Paginator(qs.order_by("role", "site__name", "name", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    plan = selectors.plan(round_)
    return render(
        request,
        "testing/staff.html",
        {
            **_base(request, round_),
            "form": form,
            "upload_form": UploadForm(),
            "page": page,
            "rows": [{"p": p, "phone": shown_phone(request.user.role, p.phone)} for p in page.object_list],
            "roles": [(r, StaffRole(r).label, plan.staff.get(r, 0)) for r in rules.ROLES],
            "role": role,
            "vehicles": plan.staff["vehicles"],
            "check": plan.check,
            "query_string": query_without_page(request),
        },
        status=400 if form.errors else 200,
    )


@login_required
def staff_template(request: AuthedRequest, pk: int) -> HttpResponse:
    _round(request, pk)
    return _template_response(
        rules.STAFF_HEADERS,
        ["李四", "采样", "13900000001", "新城卫生服务中心", "龙兴一号点", "固定1", ""],
        _("工作人员导入模板.xlsx"),
    )


# ---- progress and the missed list ---------------------------------------------------------------------------------


def _progress_unit(request: AuthedRequest, round_: Round) -> OrgUnit | None:
    unit = unit_param(request)
    if unit is not None and not (unit.is_within(round_.unit) or round_.unit.is_within(unit)):
        raise Http404
    return unit


def _chart(progress: selectors.Progress) -> dict[str, Any]:
    return {
        "names": [u.name for u, _t in progress.children],
        "sampled": [t.sampled_should for _u, t in progress.children],
        "missed": [t.missed for _u, t in progress.children],
        "not_needed": [t.not_needed for _u, t in progress.children],
        "labels": {"sampled": _("已采"), "missed": _("未采"), "not_needed": _("无需采集")},
    }


def _progress(request: AuthedRequest, round_: Round, unit: OrgUnit | None) -> selectors.Progress:
    """While a round runs, every open progress page polls: the figures of a part of the round are computed
    at most once per PROGRESS_CACHE_SECONDS (per server process) and shared by everyone looking at it."""
    if round_.status != RoundStatus.RUNNING:
        return selectors.progress(round_, request.user, unit)
    root = selectors.user_root(request.user)
    where = f"{root.path if root else '*'}:{unit.pk if unit else ''}"
    key = f"testing:progress:{round_.pk}:{round_.created_at.timestamp()}:{where}"
    p = cache.get(key)
    if p is None:
        p = selectors.progress(round_, request.user, unit)
        cache.set(key, p, PROGRESS_CACHE_SECONDS)
    return p  # type: ignore[no-any-return]


def _progress_context(request: AuthedRequest, round_: Round) -> dict[str, Any]:
    unit = _progress_unit(request, round_)
    p = _progress(request, round_, unit)
    return {
        **_base(request, round_),
        "p": p,
        "unit": unit,
        "chart": _chart(p),
        "poll": POLL_SECONDS if round_.status == RoundStatus.RUNNING else 0,
        "child_links": [(u, t, u.level != Level.BUILDING) for u, t in p.children],
    }


@login_required
def progress(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    return render(request, "testing/progress.html", _progress_context(request, round_))


@login_required
def progress_live(request: AuthedRequest, pk: int) -> HttpResponse:
    """htmx: the figures and tables of the progress page, polled while the round runs."""
    round_ = _round(request, pk)
    return render(request, "testing/_progress_live.html", _progress_context(request, round_))


def _missed_units(request: AuthedRequest, round_: Round) -> list[OrgUnit]:
    own = request.user.org_unit
    units: list[OrgUnit] = []
    for scope in round_.scope_units.all():
        qs = OrgUnit.objects.filter(scope.subtree_q(), retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID])
        if own is not None:
            qs = qs.filter(own.subtree_q())
        units += list(qs.select_related("parent").order_by("path"))
    return units


def _missed_rows(request: AuthedRequest, rows: Any) -> list[dict[str, Any]]:
    role = request.user.role
    return [
        {
            "r": r,
            "address": selectors.address(r),
            "phone": shown_phone(role, r.phone),
            "id_number": mask_id_number(r.id_number),
        }
        for r in rows
    ]


def _missed_filter(request: AuthedRequest, round_: Round) -> tuple[UnitFilterForm, OrgUnit | None]:
    units = _missed_units(request, round_)
    form = UnitFilterForm(request.GET or None, units=units)
    unit = unit_param(request)
    if unit is not None and unit not in units and not any(unit.is_within(u) for u in units):
        raise Http404
    return form, unit


@login_required
def missed(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    form, unit = _missed_filter(request, round_)
    qs = selectors.missed(round_, request.user, unit)
    printing = request.GET.get("print") == "1"
    page = Paginator(qs, 5000 if printing else PAGE_SIZE).get_page(request.GET.get("page"))
    mobile = (
        SamplingTable.objects.filter(
            site__round=round_, kind=TableKind.MOBILE, retired_at__isnull=True, site__retired_at__isnull=True
        )
        .select_related("site")
        .order_by("site__name", "number")
    )
    return render(
        request,
        "testing/missed.html",
        {
            **_base(request, round_),
            "form": form,
            "unit": unit,
            "page": page,
            "rows": _missed_rows(request, page.object_list),
            "query_string": query_without_page(request),
            "printing": printing,
            "mobile": list(mobile[:50]),
            "printed_at": timezone.localtime(),
        },
    )


@login_required
def missed_export(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, "can_export")
    round_ = _round(request, pk)
    _form, unit = _missed_filter(request, round_)
    rows = _missed_rows(request, selectors.missed(round_, request.user, unit).iterator(chunk_size=2000))
    headers = [_("姓名"), _("证件号码"), _("联系电话"), _("网格"), _("住址"), _("采样点"), _("需上门采集")]
    data = [
        [
            x["r"].name,
            x["id_number"],
            x["phone"],
            x["r"].unit.parent.name if x["r"].unit.parent_id else "",
            x["address"],
            x["r"].site.name if x["r"].site_id else "",
            _("是") if x["r"].needs_door_to_door else "",
        ]
        for x in rows
    ]
    title = _("%(round)s 应检未检名单 %(unit)s") % {"round": round_.name, "unit": unit.name if unit else ""}
    content = workbook_bytes(headers, data, sheet_title=_("应检未检"), title=title.strip())
    log_access(user=request.user, action=AccessAction.EXPORT, object_type="missed", object_id=round_.pk, rows=len(data))
    return xlsx_response(_("应检未检_%(date)s.xlsx") % {"date": f"{timezone.localdate():%Y%m%d}"}, content)


# ---- results ------------------------------------------------------------------------------------------------------


def _active_events(request: AuthedRequest) -> list[Any]:
    from outbreak.models import EventStatus
    from outbreak.selectors import events_for

    return list(events_for(request.user).filter(status=EventStatus.ACTIVE).order_by("-started_on"))


@login_required
def results(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    positives = selectors.positive_tubes(round_, request.user)
    role = request.user.role
    return render(
        request,
        "testing/results.html",
        {
            **_base(request, round_),
            "status": selectors.result_status(round_),
            "positives": [
                {
                    "p": p,
                    "members": [
                        {"s": s, "phone": shown_phone(role, s.phone), "id_number": mask_id_number(s.id_number)}
                        for s in p.members
                    ],
                }
                for p in positives
            ],
            "resample": [
                {"s": s, "phone": shown_phone(role, s.phone), "id_number": mask_id_number(s.id_number)}
                for s in selectors.resample_list(round_, request.user)
            ],
            "upload_form": UploadForm(),
            "handover_form": HandOverForm(events=_active_events(request)),
            "has_events": bool(_active_events(request)),
            "result_form": ResultForm(),
            "may_import": user_policy(request.user).can_import and unit_in_scope(request.user, round_.unit),
        },
    )


@login_required
@require_POST
def results_import(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("请选择要导入的文件"))
        return redirect("testing:results", pk=round_.pk)
    content, name = form.content()
    try:
        result = services.import_results(round_=round_, content=content, filename=name, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
        return redirect("testing:results", pk=round_.pk)
    if result.errors:
        return render(
            request,
            "testing/import_errors.html",
            {**_base(request, round_), "errors": result.errors, "title": _("检测结果导入未完成")},
            status=400,
        )
    messages.success(
        request,
        _("已导入：新增%(c)s条，更正%(u)s条，相同未变%(n)s条")
        % {"c": result.created, "u": result.updated, "n": result.unchanged},
    )
    return redirect("testing:results", pk=round_.pk)


def _tube(round_: Round, tube_pk: int) -> Tube:
    try:
        return Tube.objects.select_related("round").get(pk=tube_pk, round=round_)
    except Tube.DoesNotExist:
        raise Http404 from None


@login_required
@require_POST
def handover(request: AuthedRequest, pk: int, tube: int) -> HttpResponse:
    round_ = _round(request, pk)
    t = _tube(round_, tube)
    events = _active_events(request)
    form = HandOverForm(request.POST, events=events)
    if not form.is_valid():
        messages.error(request, _("请选择疫情事件和管控措施"))
        return redirect("testing:results", pk=round_.pk)
    event = next(e for e in events if e.pk == form.cleaned_data["event"])
    try:
        out = services.hand_over_positive(tube=t, event=event, measure=form.cleaned_data["measure"], by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(
            request,
            _("已移交%(n)s人到“%(event)s”（其中%(m)s人已在摸排中，已合并）")
            % {"n": len(out.screenings), "event": event.name, "m": out.merged},
        )
    return redirect("testing:results", pk=round_.pk)


@login_required
@require_POST
def result_correct(request: AuthedRequest, pk: int, tube: int) -> HttpResponse:
    round_ = _round(request, pk)
    t = _tube(round_, tube)
    form = ResultForm(request.POST)
    if form.is_valid():
        cd = form.cleaned_data
        try:
            services.correct_result(
                tube=t,
                result=cd["result"],
                tested_at=cd["tested_at"],
                lab=cd["lab"],
                reason=cd["reason"],
                by=request.user,
            )
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("已登记试管%(b)s的结果") % {"b": t.barcode})
    else:
        messages.error(request, _("请填写结果和检测时间"))
    return redirect("testing:results", pk=round_.pk)


# ---- the round's summary ------------------------------------------------------------------------------------------


@login_required
def round_summary(request: AuthedRequest, pk: int) -> HttpResponse:
    round_ = _round(request, pk)
    return render(
        request,
        "testing/round_summary.html",
        {**_base(request, round_), "text": round_paragraph(round_, selectors.user_root(request.user))},
    )


# ---- static QR codes ----------------------------------------------------------------------------------------------


def _codes_unit(request: AuthedRequest) -> OrgUnit:
    unit = unit_param(request) or _home_unit(request)
    if unit is None:
        raise Http404
    return unit


@login_required
def codes(request: AuthedRequest) -> HttpResponse:
    unit = _codes_unit(request)
    whole, rows = selectors.code_coverage(unit)
    return render(
        request,
        "testing/codes.html",
        {
            **_base(request),
            "unit": unit,
            "whole": whole,
            "rows": rows,
            "crumbs": [
                u for u in unit.ancestors() if request.user.org_unit is None or u.is_within(request.user.org_unit)
            ],
            "printable": unit.level in (Level.GRID, Level.BUILDING),
            "may_issue": user_policy(request.user).can_write,
        },
    )


@login_required
@require_POST
def codes_issue(request: AuthedRequest) -> HttpResponse:
    unit = _codes_unit(request)
    try:
        n = services.issue_static_codes(unit=unit, by=request.user)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("已为%(unit)s发放静态二维码%(n)s个") % {"unit": unit.name, "n": n})
    return redirect(f"{reverse('testing:codes')}?unit={unit.pk}")


def qr_svg(token: str) -> str:
    """The code as inline SVG (segno, pure Python): the token only, never the ID number."""
    import segno

    out = BytesIO()
    segno.make(token, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, omitsize=True)
    return out.getvalue().decode()


def _cards(residents: list[Resident], role: str) -> list[dict[str, Any]]:
    tokens = dict(
        StaticCode.objects.filter(resident__in=residents, revoked_at__isnull=True).values_list("resident_id", "token")
    )
    return [
        {
            "r": r,
            "id_number": mask_id_number(r.id_number),
            "svg": qr_svg(tokens[r.pk]) if r.pk in tokens else "",
        }
        for r in residents
    ]


@login_required
def codes_print(request: AuthedRequest) -> HttpResponse:
    """Printable code cards: one per resident of a grid or building (?unit=), or a household sheet
    (?household=) with every member's code on one page."""
    household_pk = request.GET.get("household")
    role = request.user.role
    if household_pk:
        try:
            household = (
                Household.objects.filter(unit__in=visible_units(request.user))
                .select_related("unit")
                .get(pk=int(household_pk))
            )
        except (ValueError, Household.DoesNotExist):
            raise Http404 from None
        people = list(
            household.members.filter(retired_at__isnull=True, left_on__isnull=True).order_by("relation", "birth_date")
        )
        return render(
            request,
            "testing/codes_print.html",
            {"households": [{"h": household, "cards": _cards(people, role)}], "unit": household.unit, "missing": 0},
        )
    unit = _codes_unit(request)
    if unit.level not in (Level.GRID, Level.BUILDING):
        messages.error(request, _("请选择一个网格或楼栋打印（社区、街道人数太多，请分网格打印）"))
        return redirect(f"{reverse('testing:codes')}?unit={unit.pk}")
    people = list(
        Resident.objects.filter(unit.subtree_q("unit__"), retired_at__isnull=True, left_on__isnull=True)
        .select_related("household", "unit")
        .order_by("unit__path", "household__entrance", "household__door", "household_id", "relation", "id")[
            :PRINT_LIMIT
        ]
    )
    cards = _cards(people, role)
    by_household: dict[Any, list[dict[str, Any]]] = {}
    for card in cards:
        by_household.setdefault(card["r"].household, []).append(card)
    per_household = request.GET.get("kind") == "household"
    return render(
        request,
        "testing/codes_print.html",
        {
            "unit": unit,
            "households": [{"h": h, "cards": c} for h, c in by_household.items()] if per_household else [],
            "cards": [] if per_household else cards,
            "missing": sum(1 for c in cards if not c["svg"]),
            "truncated": len(people) >= PRINT_LIMIT,
        },
    )


urlpatterns: list[URLPattern] = [
    path("", dashboard, name="dashboard"),
    path("rounds/new/", round_create, name="round_create"),
    path("rounds/<int:pk>/", round_detail, name="round_detail"),
    path("rounds/<int:pk>/edit/", round_edit, name="round_edit"),
    path("rounds/<int:pk>/status/", round_status, name="round_status"),
    path("rounds/<int:pk>/roster/build/", roster_build, name="roster_build"),
    path("rounds/<int:pk>/roster/import/", roster_import, name="roster_import"),
    path("rounds/<int:pk>/roster/template/", roster_template, name="roster_template"),
    path("rounds/<int:pk>/copy-plan/", copy_plan, name="copy_plan"),
    path("rounds/<int:pk>/sites/new/", site_add, name="site_add"),
    path("rounds/<int:pk>/sites/<int:site>/", site_detail, name="site_detail"),
    path("rounds/<int:pk>/staff/", staff_list, name="staff_list"),
    path("rounds/<int:pk>/staff/template/", staff_template, name="staff_template"),
    path("rounds/<int:pk>/progress/", progress, name="progress"),
    path("rounds/<int:pk>/progress/live/", progress_live, name="progress_live"),
    path("rounds/<int:pk>/missed/", missed, name="missed"),
    path("rounds/<int:pk>/missed/export/", missed_export, name="missed_export"),
    path("rounds/<int:pk>/results/", results, name="results"),
    path("rounds/<int:pk>/results/import/", results_import, name="results_import"),
    path("rounds/<int:pk>/results/<int:tube>/handover/", handover, name="handover"),
    path("rounds/<int:pk>/results/<int:tube>/correct/", result_correct, name="result_correct"),
    path("rounds/<int:pk>/summary/", round_summary, name="round_summary"),
    path("codes/", codes, name="codes"),
    path("codes/issue/", codes_issue, name="codes_issue"),
    path("codes/print/", codes_print, name="codes_print"),
]
