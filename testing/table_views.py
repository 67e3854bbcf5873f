"""采样台 pages: the tables a user may work at, and the table's screen (phone or tablet first).

The screen is one page that keeps working without the server: static/js/sampling_table.js keeps the
open tube, the queue of scans and the "需处理" list in the browser's localStorage, and sends the queue
in batches to the API (POST /api/testing/rounds/<round>/tables/<table>/samples, idempotent by each
scan's client id). Nothing on the table waits for the server: a scan joins the tube's list at once.
Typed parts of ID numbers are looked up in the site's roster cached on the device (GET …/roster:
masked ID numbers with their last six characters), then on the server when online (GET …/lookup).

Who may work at a table: see testing.registration.may_staff (the site's unit in the user's subtree,
or the user's unit below it). The reads the API shares live here, as outbreak.checkpoint_views does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from accounts.permissions import user_policy
from accounts.rules import mask_id_number
from core.http import AuthedRequest
from core.scoping import scoped
from orgunits.models import OrgUnit
from registry.models import StaticCode
from registry.rules import IdNumberError, parse_id_number
from testing.models import Exemption, Round, RoundStatus, Sample, SamplingSite, SamplingTable, ShouldSample, TableKind
from testing.registration import may_staff, table_label

LOOKUP_LIMIT = 10
TOKEN_LENGTH = 16  # registry static codes: secrets.token_urlsafe(12)
MIN_DIGITS = 4

# ---- reads shared with the API ---------------------------------------------------------------------------------


def tables_for(user: Any) -> QuerySet[SamplingTable]:
    """Tables of rounds not yet closed whose site the user may staff (his subtree, or the units above him)."""
    qs = (
        SamplingTable.objects.select_related("site__unit", "site__round")
        .filter(retired_at__isnull=True, site__retired_at__isnull=True)
        .exclude(site__round__status=RoundStatus.CLOSED)
        .order_by("-site__round__starts_on", "site__round_id", "site__name", "kind", "number")
    )
    own = user.org_unit
    if own is None or not user.is_active:
        return scoped(qs, user, "site__unit")
    ancestors = [int(seg) for seg in own.path.strip("/").split("/") if seg]
    return qs.filter(
        Q(site__unit_id__in=ancestors) | Q(site__unit__path__gte=own.path, site__unit__path__lt=own.path_end)
    )


# Table names from the models' meta.
_TABLE_SQL = (
    "SELECT t.id, t.kind, t.number, t.retired_at, s.id, s.name, s.retired_at, s.unit_id, u.path, u.name, u.level, "  # noqa: S608
    "r.id, r.unit_id, r.name, r.sample_type, r.status, r.starts_on, r.ends_on "
    f"FROM {SamplingTable._meta.db_table} t JOIN {SamplingSite._meta.db_table} s ON s.id = t.site_id "
    f"JOIN {OrgUnit._meta.db_table} u ON u.id = s.unit_id JOIN {Round._meta.db_table} r ON r.id = s.round_id "
    "WHERE t.id = %s AND s.round_id = %s"
)


def _date(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _loaded[M: Model](obj: M) -> M:
    obj._state.adding = False
    obj._state.db = "default"
    return obj


def get_table(user: Any, round_id: int, table_id: int) -> SamplingTable | None:
    """The round's table, with its site, the site's unit and the round, if the user may work there (closed
    rounds and retired tables included: the registration refuses them with a reason).

    Every batch of every table starts here, so it is one plain query (the equivalent select_related took
    longer to compile than the rest of a batch's reads together)."""
    with connection.cursor() as cursor:
        cursor.execute(_TABLE_SQL, [table_id, round_id])
        row = cursor.fetchone()
    if row is None:
        return None
    tid, kind, number, t_retired, sid, s_name, s_retired, unit_id, path, u_name, level, *r = row
    unit = _loaded(OrgUnit(id=unit_id, path=path, name=u_name, level=level))
    if not may_staff(user, unit):
        return None
    rnd = _loaded(
        Round(
            id=r[0],
            unit_id=r[1],
            name=r[2],
            sample_type=r[3],
            status=r[4],
            starts_on=_date(r[5]),
            ends_on=_date(r[6]),
        )
    )
    site = _loaded(SamplingSite(id=sid, round_id=rnd.pk, unit_id=unit_id, name=s_name, retired_at=s_retired))
    site.unit = unit
    site.round = rnd
    table = _loaded(SamplingTable(id=tid, site_id=sid, kind=kind, number=number, retired_at=t_retired))
    table.site = site
    return table


def round_for_duty(user: Any, round_id: int) -> Round | None:
    """The round, if the user may work at one of its sites (the lookup searches the whole round's list)."""
    rnd = Round.objects.filter(pk=round_id).select_related("unit").first()
    if rnd is None:
        return None
    sites = SamplingSite.objects.filter(round=rnd).select_related("unit")
    if any(may_staff(user, s.unit) for s in sites):
        return rnd
    return None


def table_row(t: SamplingTable) -> dict[str, Any]:
    rnd = t.site.round
    return {
        "id": t.pk,
        "round_id": rnd.pk,
        "round": rnd.name,
        "sample_type": rnd.sample_type,
        "capacity": rnd.tube_capacity,
        "site_id": t.site_id,
        "site": t.site.name,
        "unit": t.site.unit.name,
        "kind": t.kind,
        "number": t.number,
        "label": table_label(t),
    }


EXEMPTION_LABELS = dict(Exemption.choices)


def _rows(qs: QuerySet[ShouldSample], round_id: int) -> list[dict[str, Any]]:
    sampled = Exists(Sample.objects.filter(round_id=round_id, id_number=OuterRef("id_number")))
    out = []
    for pk, name, idn, building, exemption, door, was_sampled in qs.annotate(sampled=sampled).values_list(
        "id", "name", "id_number", "unit__name", "exemption", "needs_door_to_door", "sampled"
    ):
        out.append(
            {
                "id": pk,
                "name": name,
                "id_masked": mask_id_number(idn),
                "last6": idn[-6:],
                "building": building,
                "sampled": was_sampled,
                "exemption": str(EXEMPTION_LABELS.get(exemption, "")) if exemption else "",
                "door_to_door": door,
            }
        )
    return out


def roster_rows(table: SamplingTable) -> list[dict[str, Any]]:
    """The site's part of the round's list: people assigned to the site, and, when the list assigned no site,
    the people of the site's unit. Never the whole ID number."""
    site = table.site
    unit = site.unit
    qs = ShouldSample.objects.filter(round_id=site.round_id).filter(
        Q(site_id=site.pk) | Q(site__isnull=True, unit__path__gte=unit.path, unit__path__lt=unit.path_end)
    )
    return _rows(qs.order_by("unit__path", "name", "id"), site.round_id)


def _looks_like_digits(q: str) -> bool:
    return bool(q) and q[:-1].isdigit() and (q[-1].isdigit() or q[-1] == "X")


def lookup_rows(rnd: Round, raw: str) -> list[dict[str, Any]]:
    """A scanned static code, the last digits (at least four) or the whole of an ID number, or the start
    of a name, in the whole round's list (people may come to any site)."""
    q = " ".join((raw or "").split())
    if not q:
        return []
    qs = ShouldSample.objects.filter(round_id=rnd.pk)
    digits = q.replace(" ", "").upper()
    if len(q) == TOKEN_LENGTH and " " not in q and not _looks_like_digits(digits):
        holder = StaticCode.objects.filter(token=q, revoked_at__isnull=True).values("resident_id")
        found = _rows(qs.filter(resident_id__in=holder)[:1], rnd.pk)
        if found:
            return found
    if _looks_like_digits(digits):
        if len(digits) < MIN_DIGITS:
            return []  # three digits match half the site: wait for more
        if len(digits) in (15, 18):
            try:
                digits = parse_id_number(digits).number
            except IdNumberError:
                pass
            qs = qs.filter(id_number=digits)
        else:
            qs = qs.filter(id_number__endswith=digits)
    else:
        qs = qs.filter(name__startswith=q)
    return _rows(qs.order_by("name", "id")[:LOOKUP_LIMIT], rnd.pk)


# ---- pages -----------------------------------------------------------------------------------------------------------


@login_required
def table_list(request: AuthedRequest) -> HttpResponse:
    """The tables the user may work at, by round and site: pick one to open its screen."""
    rounds: list[dict[str, Any]] = []
    for t in tables_for(request.user)[:1000]:
        rnd = t.site.round
        if not rounds or rounds[-1]["round"].pk != rnd.pk:
            rounds.append({"round": rnd, "sites": []})
        sites = rounds[-1]["sites"]
        if not sites or sites[-1]["site"].pk != t.site_id:
            sites.append({"site": t.site, "tables": []})
        sites[-1]["tables"].append(t)
    return render(request, "testing/table_list.html", {"rounds": rounds})


def js_strings() -> dict[str, str]:
    """The screen's script speaks through these (translated here, not in the .js file)."""
    return {
        "scan_tube": _("扫描或输入试管条码"),
        "scan_person": _("扫码 / 身份证后几位 / 姓名"),
        "tube_open": _("试管 %(tube)s：%(n)s/%(cap)s"),
        "tube_full": _("试管 %(tube)s 已满，请扫描下一支试管"),
        "tube_closed": _("试管 %(tube)s 已封管，请扫描下一支试管"),
        "queued": _("待上传 %(n)s 条"),
        "all_sent": _("已全部上传"),
        "offline": _("网络已断开，采样先存在本机"),
        "retry_in": _("上传失败，%(s)s 秒后重试"),
        "attention": _("需处理"),
        "pending": _("待上传"),
        "stored": _("已上传"),
        "repeat": _("本轮已采过"),
        "refused": _("未登记"),
        "no_match": _("没有找到：请继续输入、联网后查找，或按名单外人员登记（换管请先点“封管”）"),
        "searching": _("正在服务器查找…"),
        "choose": _("请选择"),
        "already_in_tube": _("%(name)s 已在本管中"),
        "need_tube": _("请先扫描试管条码"),
        "stranger_title": _("名单外人员登记"),
        "stranger_need": _("请填写姓名和完整证件号码"),
        "delete": _("删除"),
        "delete_confirm": _("删除这条未登记的采样记录？（样本需另行处理）"),
        "as_stranger": _("按名单外人员登记"),
        "retry": _("重新提交"),
        "not_found": _("该采样台不在您的范围内"),
        "forbidden": _("没有权限登记"),
        "auth": _("登录已失效，采样仍保存在本机。请在新窗口重新登录后回到本页，将自动上传。"),
        "server_error": _("服务器暂时无法处理，稍后自动重试"),
        "token_label": _("二维码 …%(tail)s"),
        "door": _("上门"),
        "roster_count": _("本点应检 %(n)s 人（已缓存）"),
        "roster_none": _("尚未缓存应检名单：联网后自动下载"),
        "close_confirm": _("试管 %(tube)s 只有 %(n)s 人，确定封管？"),
        "closed_local": _("已封管"),
    }


@login_required
def table_screen(request: AuthedRequest, round_id: int, table_id: int) -> HttpResponse:
    table = get_table(request.user, round_id, table_id)
    if table is None:
        raise Http404
    rnd = table.site.round
    open_for_samples = rnd.status != RoundStatus.CLOSED and table.retired_at is None and table.site.retired_at is None
    api = f"/api/testing/rounds/{rnd.pk}"
    return render(
        request,
        "testing/table.html",
        {
            "table": table,
            "rnd": rnd,
            "label": table_label(table),
            "can_write": user_policy(request.user).can_write and open_for_samples,
            "closed": not open_for_samples,
            "make_up": request.GET.get("make_up") == "1",
            "config": {
                "round": rnd.pk,
                "table": table.pk,
                "capacity": rnd.tube_capacity,
                "mobile": table.kind == TableKind.MOBILE,
                # ?make_up=1 (the missed list's link): the scans are make-up sampling (补采).
                "make_up": request.GET.get("make_up") == "1",
                "samples_url": f"{api}/tables/{table.pk}/samples",
                "roster_url": f"{api}/tables/{table.pk}/roster",
                "lookup_url": f"{api}/lookup",
                "strings": js_strings(),
            },
        },
    )


urlpatterns: list[URLPattern] = [
    path("tables/", table_list, name="table_list"),
    path("rounds/<int:round_id>/tables/<int:table_id>/", table_screen, name="table_screen"),
]
