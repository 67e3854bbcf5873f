"""卡口 pages: the list of checkpoints with today's traffic and duty roster, and the phone screen.

The screen is one page that works offline: static/js/checkpoint.js queues every entry in the phone's
localStorage and sends it to the API (POST /api/outbreak/checkpoints/<id>/crossings, idempotent by the
entry's client id), so the only server work here is the page itself and the instant lookup.

Who may use a checkpoint follows outbreak.services.require_checkpoint_duty: everyone whose subtree
holds it, and the staff of the units below it (a grid worker stands at his community's gate). The
lookup therefore searches the residents of the checkpoint's unit, not only the user's own subtree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import user_policy
from accounts.rules import mask_id_number
from core.db import prefix_q
from core.http import AuthedRequest
from core.scoping import scoped, unit_in_scope, visible_units
from orgunits.models import Level, OrgUnit
from outbreak.models import (
    Checkpoint,
    CheckpointEntry,
    Direction,
    DutyShift,
    EventStatus,
    HealthCode,
    PassRule,
    VehicleType,
)
from outbreak.selectors import events_for
from outbreak.services import add_duty_shift, create_checkpoint, pass_rule_for, require_checkpoint_duty
from registry.models import Resident, StaticCode

LOOKUP_LIMIT = 10
RECENT_ENTRIES = 20
# Static codes are secrets.token_urlsafe(12): 16 characters of [A-Za-z0-9_-].
TOKEN_LENGTH = 16


# ---- reads shared with the API ---------------------------------------------------------------------------------


def checkpoints_for(user: Any) -> QuerySet[Checkpoint]:
    """Checkpoints in the user's subtree, and those of the units above him (his community's gates)."""
    qs = Checkpoint.objects.select_related("unit", "event")
    own = user.org_unit
    if own is None or not user.is_active:
        return scoped(qs, user)
    ancestors = [int(seg) for seg in own.path.strip("/").split("/") if seg]
    return qs.filter(Q(unit_id__in=ancestors) | Q(unit__path__gte=own.path, unit__path__lt=own.path_end))


def get_checkpoint(user: Any, pk: int) -> Checkpoint:
    return get_object_or_404(checkpoints_for(user), pk=pk)


def checkpoint_for_crossings(user: Any, pk: int) -> Checkpoint:
    """``get_checkpoint`` for the crossing endpoints (the phones' hot path): the same scope, only the
    columns a crossing needs (its unit's path for the duty check, the event for the pass rule)."""
    qs = (
        checkpoints_for(user)
        .select_related(None)
        .select_related("unit")
        .only("id", "unit_id", "event_id", "retired_on", "unit__id", "unit__path")
    )
    return get_object_or_404(qs, pk=pk)


CROSSING_PERSON_FIELDS = ("id", "name", "id_number", "phone", "household_id")


def crossing_person(checkpoint: Checkpoint, *, resident_id: int | None, token: str) -> Resident | None:
    """Who crosses: the resident picked by id (404 outside the checkpoint's unit), or the holder of the
    scanned static code (422 when it is void or his home is elsewhere), or nobody (a stranger, a van).
    Only the columns an entry copies are loaded."""
    people = residents_at(checkpoint).select_related(None).only(*CROSSING_PERSON_FIELDS)
    if resident_id is not None:
        return get_object_or_404(people, pk=resident_id)
    if (token or "").strip():
        person = resident_by_token(checkpoint, token, people=people)
        if person is None:
            raise ValidationError({"token": _("二维码无效或已作废，或该居民不属于本卡口所在社区，请按陌生人登记")})
        return person
    return None


def residents_at(checkpoint: Checkpoint) -> QuerySet[Resident]:
    unit = checkpoint.unit
    return Resident.objects.filter(
        retired_at__isnull=True, left_on__isnull=True, unit__path__gte=unit.path, unit__path__lt=unit.path_end
    ).select_related("unit", "household", "household__unit")


def resident_by_token(
    checkpoint: Checkpoint, token: str, *, people: QuerySet[Resident] | None = None
) -> Resident | None:
    """The holder of an active static code, if he lives under the checkpoint's unit (among ``people``,
    by default ``residents_at(checkpoint)``)."""
    token = (token or "").strip()
    if not token:
        return None
    ids = StaticCode.objects.filter(token=token, revoked_at__isnull=True).values("resident_id")
    return (residents_at(checkpoint) if people is None else people).filter(pk__in=ids).first()


def _looks_like_digits(q: str) -> bool:
    return bool(q) and q[:-1].isdigit() and (q[-1].isdigit() or q[-1] == "X")


def lookup_people(checkpoint: Checkpoint, raw: str) -> list[Resident]:
    """A scanned static-code token, or the last digits / all of an ID number, or the start of a name."""
    q = " ".join((raw or "").split())
    if not q:
        return []
    if len(q) == TOKEN_LENGTH and " " not in q:
        holder = resident_by_token(checkpoint, q)
        if holder is not None:
            return [holder]
    people = residents_at(checkpoint)
    digits = q.replace(" ", "").replace("-", "").upper()
    if _looks_like_digits(digits):
        if len(digits) < 3:
            return []  # two digits match half the community: wait for more
        if len(digits) in (15, 18):
            people = people.filter(id_number=digits)
        else:
            people = people.filter(prefix_q("id_number_rev", digits[::-1]))
    else:
        people = people.filter(prefix_q("name", q))
    return list(people.order_by("name", "id")[:LOOKUP_LIMIT])


def last_crossings(id_numbers: list[str]) -> dict[str, CheckpointEntry]:
    """The latest crossing of each ID number (at any checkpoint: "already inside" is about the person)."""
    latest: dict[str, CheckpointEntry] = {}
    if not id_numbers:
        return latest
    for entry in (
        CheckpointEntry.objects.filter(id_number__in=id_numbers)
        .only("id_number", "direction", "at", "checkpoint_id")
        .order_by("-at", "-id")
    ):
        latest.setdefault(entry.id_number, entry)
        if len(latest) == len(id_numbers):
            break
    return latest


def person_row(r: Resident, last: CheckpointEntry | None) -> dict[str, Any]:
    hh = r.household
    return {
        "id": r.pk,
        "name": r.name,
        "id_number": mask_id_number(r.id_number),
        "sex": r.get_sex_display(),
        "household_id": hh.pk if hh else None,
        "household": hh.head_name if hh else "",
        "address": hh.address if hh else r.unit.name,
        "last_direction": last.direction if last else "",
        "last_direction_label": last.get_direction_display() if last else "",
        "last_at": timezone.localtime(last.at).isoformat() if last else None,
    }


def lookup_rows(checkpoint: Checkpoint, q: str) -> list[dict[str, Any]]:
    people = lookup_people(checkpoint, q)
    last = last_crossings([p.id_number for p in people])
    return [person_row(p, last.get(p.id_number)) for p in people]


def entry_row(e: CheckpointEntry) -> dict[str, Any]:
    return {
        "id": e.pk,
        "client_id": e.client_id,
        "at": timezone.localtime(e.at).isoformat(),
        "direction": e.direction,
        "direction_label": e.get_direction_display(),
        "name": e.name,
        "id_number": mask_id_number(e.id_number),
        "plate": e.plate,
        "vehicle_type": e.get_vehicle_type_display() if e.vehicle_type else "",
        "temperature": str(e.temperature) if e.temperature is not None else "",
        "health_code": e.get_health_code_display() if e.health_code else "",
        "purpose": e.purpose,
        "destination": e.destination,
        "breach": e.breach,
        "allowed_reason": e.allowed_reason,
    }


def recent_entries(checkpoint: Checkpoint, limit: int = RECENT_ENTRIES) -> list[CheckpointEntry]:
    return list(CheckpointEntry.objects.filter(checkpoint=checkpoint).order_by("-at", "-id")[:limit])


def today_counts(checkpoints: list[Checkpoint], on: dt.date) -> dict[int, dict[str, int]]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(on, dt.time.min, tzinfo=tz)
    rows = (
        CheckpointEntry.objects.filter(checkpoint__in=checkpoints, at__gte=start, at__lt=start + dt.timedelta(days=1))
        .order_by()
        .values("checkpoint_id")
        .annotate(
            n_in=Count("id", filter=Q(direction=Direction.IN)),
            n_out=Count("id", filter=Q(direction=Direction.OUT)),
            breaches=Count("id", filter=~Q(breach="")),
        )
    )
    return {r["checkpoint_id"]: {"in": r["n_in"], "out": r["n_out"], "breaches": r["breaches"]} for r in rows}


# ---- writes that only these pages make ---------------------------------------------------------------------------


def _parse_datetime(raw: str, field: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError({field: _("时间格式应为YYYY-MM-DD HH:MM")}) from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


# ---- pages -----------------------------------------------------------------------------------------------------------


def _checkpoint_units(request: AuthedRequest) -> list[OrgUnit]:
    """Where a checkpoint may stand: the communities (and grids) the user manages."""
    return list(
        visible_units(request.user)
        .filter(retired_on__isnull=True, level__in=[Level.COMMUNITY, Level.GRID])
        .select_related("parent")
        .order_by("path")[:2000]
    )


@login_required
def checkpoint_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    today = timezone.localdate()
    events = list(events_for(user).filter(status=EventStatus.ACTIVE))
    form: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("event", "unit", "name", "location")}
        try:
            event = next((e for e in events if str(e.pk) == form["event"]), None)
            unit = visible_units(user).filter(pk=form["unit"]).first() if form["unit"].isdigit() else None
            if event is None:
                raise ValidationError({"event": _("请选择疫情事件")})
            if unit is None:
                raise ValidationError({"unit": _("请选择所在单位")})
            cp = create_checkpoint(event=event, unit=unit, name=form["name"], location=form["location"], by=user)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("已新建卡口“%(name)s”") % {"name": cp.name})
            return redirect(reverse("outbreak:checkpoint_screen", args=[cp.pk]))
    show_retired = request.GET.get("retired") == "1"
    qs = checkpoints_for(user)
    if not show_retired:
        qs = qs.filter(Q(retired_on__isnull=True) | Q(retired_on__gt=today))
    checkpoints = list(qs.order_by("unit__path", "name")[:500])
    counts = today_counts(checkpoints, today)
    now = timezone.now()
    on_duty: dict[int, list[DutyShift]] = {}
    for shift in DutyShift.objects.filter(checkpoint__in=checkpoints, starts_at__lte=now, ends_at__gt=now):
        on_duty.setdefault(shift.checkpoint_id, []).append(shift)
    rows = [
        {
            "obj": cp,
            "counts": counts.get(cp.pk, {"in": 0, "out": 0, "breaches": 0}),
            "on_duty": on_duty.get(cp.pk, []),
        }
        for cp in checkpoints
    ]
    can_write = user_policy(user).can_write
    return render(
        request,
        "outbreak/checkpoint_list.html",
        {
            "rows": rows,
            "today": today,
            "events": events,
            "units": _checkpoint_units(request) if can_write else [],
            "can_write": can_write,
            "form": form,
            "errors": errors,
            "show_retired": show_retired,
        },
    )


def js_strings() -> dict[str, str]:
    """The screen's script speaks through these (translated here, not in the .js file)."""
    return {
        "queued": _("待上传 %(n)s 条"),
        "attention": _("需处理"),
        "allow": _("放行"),
        "reason": _("放行理由"),
        "reason_needed": _("请填写放行理由"),
        "cancel": _("取消"),
        "edit": _("修改后重登"),
        "cancel_confirm": _("确定取消这条登记？"),
        "pick_direction": _("请选择进或出"),
        "pick_person": _("请扫码或查找居民，或打开手工登记填写姓名或车牌号"),
        "no_match": _("没有找到，可打开“非本社区人员 / 车辆”手工登记"),
        "not_found": _("该卡口或居民不在您的范围内"),
        "forbidden": _("没有权限登记"),
        "server_error": _("服务器暂时无法处理，稍后自动重试"),
        "last": _("上次"),
        "pending": _("待上传"),
        "breach": _("违规"),
        "allowed_reason": _("放行理由"),
        "household": _("户主"),
        "no_camera": _("无法打开摄像头"),
        "empty": _("今天还没有登记。"),
        "in": _("进"),
        "out": _("出"),
    }


@login_required
def checkpoint_screen(request: AuthedRequest, pk: int) -> HttpResponse:
    user = request.user
    cp = get_checkpoint(user, pk)
    try:
        require_checkpoint_duty(user, cp)
    except PermissionDenied:
        raise Http404 from None
    today = timezone.localdate()
    now = timezone.now()
    rule: PassRule | None = pass_rule_for(cp, today)
    shifts = list(cp.shifts.filter(ends_at__gt=now - dt.timedelta(hours=12)).order_by("starts_at")[:20])
    retired = cp.retired_on is not None and cp.retired_on <= today
    return render(
        request,
        "outbreak/checkpoint_screen.html",
        {
            "cp": cp,
            "rule": rule,
            "entries": [entry_row(e) for e in recent_entries(cp)],
            "shifts": shifts,
            "counts": today_counts([cp], today).get(cp.pk, {"in": 0, "out": 0, "breaches": 0}),
            "can_write": user_policy(user).can_write and not retired,
            "may_plan": user_policy(user).can_write and unit_in_scope(user, cp.unit),
            "retired": retired,
            "vehicle_types": [c for c in VehicleType.choices if c[0]],
            "health_codes": HealthCode.choices,
            "config": {
                "checkpoint": cp.pk,
                "crossings_url": f"/api/outbreak/checkpoints/{cp.pk}/crossings",
                # A backlog goes up in batches (static/js/checkpoint.js), each entry answered on its own.
                "batch_url": f"/api/outbreak/checkpoints/{cp.pk}/crossings/batch",
                "lookup_url": reverse("outbreak:checkpoint_lookup", args=[cp.pk]),
                "entries_url": reverse("outbreak:checkpoint_entries", args=[cp.pk]),
                "strings": js_strings(),
            },
        },
    )


@login_required
@require_GET
def checkpoint_lookup(request: AuthedRequest, pk: int) -> JsonResponse:
    cp = get_checkpoint(request.user, pk)
    try:
        require_checkpoint_duty(request.user, cp)
    except PermissionDenied:
        raise Http404 from None
    return JsonResponse({"results": lookup_rows(cp, request.GET.get("q", ""))})


@login_required
@require_GET
def checkpoint_entries(request: AuthedRequest, pk: int) -> JsonResponse:
    """The last entries of the checkpoint, for the screen's list after each upload."""
    cp = get_checkpoint(request.user, pk)
    try:
        require_checkpoint_duty(request.user, cp)
    except PermissionDenied:
        raise Http404 from None
    today = timezone.localdate()
    return JsonResponse(
        {
            "entries": [entry_row(e) for e in recent_entries(cp)],
            "counts": today_counts([cp], today).get(cp.pk, {"in": 0, "out": 0, "breaches": 0}),
        }
    )


@login_required
@require_POST
def checkpoint_shift(request: AuthedRequest, pk: int) -> HttpResponse:
    cp = get_checkpoint(request.user, pk)
    post = request.POST
    try:
        add_duty_shift(
            checkpoint=cp,
            starts_at=_parse_datetime(post.get("starts_at", ""), "starts_at"),
            ends_at=_parse_datetime(post.get("ends_at", ""), "ends_at"),
            people=post.get("people", ""),
            phone=post.get("phone", ""),
            by=request.user,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已添加值班"))
    return redirect(reverse("outbreak:checkpoint_screen", args=[cp.pk]) + "#shifts")


urlpatterns: list[URLPattern] = [
    path("checkpoints/", checkpoint_list, name="checkpoint_list"),
    path("checkpoints/<int:pk>/", checkpoint_screen, name="checkpoint_screen"),
    path("checkpoints/<int:pk>/lookup", checkpoint_lookup, name="checkpoint_lookup"),
    path("checkpoints/<int:pk>/entries", checkpoint_entries, name="checkpoint_entries"),
    path("checkpoints/<int:pk>/shifts", checkpoint_shift, name="checkpoint_shift"),
]
