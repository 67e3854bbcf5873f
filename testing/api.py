"""全员核酸 over HTTP (/api/testing/): rounds, the list's counts by reason, live progress, the missed list,
results and their import, static-code coverage. The same selectors, services, scoping and masking as the
pages: ID numbers always masked, phones as the role's policy says. The sampling table's endpoints are in
api_sampling.py (same prefix), routine testing's in routine/api.py.
"""

# No `from __future__ import annotations`: ninja's @paginate wraps the views and must resolve the annotations.
import datetime as dt
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from accounts.permissions import require
from accounts.rules import mask_id_number, shown_phone
from core.http import AuthedRequest
from core.scoping import visible_units
from orgunits.models import OrgUnit
from testing import selectors, services
from testing.models import Round, ShouldSample

router = Router(tags=["全员核酸"])


def _round(request: AuthedRequest, pk: int) -> Round:
    return get_object_or_404(selectors.rounds_for(request.user), pk=pk)


def _unit(request: AuthedRequest, code: str) -> OrgUnit | None:
    if not code:
        return None
    unit = visible_units(request.user).filter(code=code).first()
    if unit is None:
        raise Http404
    return unit


class RoundOut(Schema):
    id: int
    unit_code: str
    unit_name: str
    name: str
    sample_type: str
    starts_on: dt.date
    ends_on: dt.date
    status: str
    scope: list[str]
    recent_test_hours: int
    previous_round_id: int | None
    table_rate_per_hour: int
    roster_built_at: dt.datetime | None

    @staticmethod
    def resolve_unit_code(obj: Round) -> str:
        return obj.unit.code

    @staticmethod
    def resolve_unit_name(obj: Round) -> str:
        return obj.unit.name

    @staticmethod
    def resolve_scope(obj: Round) -> list[str]:
        return [u.code for u in obj.scope_units.all()]


class TallyOut(Schema):
    listed: int
    not_needed: int
    exempt: dict[str, int]
    should: int
    sampled: int
    sampled_should: int
    sampled_exempt: int
    off_roster: int
    missed: int
    door_to_door: int
    make_up: int
    percent: float | None


class PlanOut(Schema):
    sites: int
    fixed_tables: int
    mobile_teams: int
    compounds: int
    staff: dict[str, int]
    samplers_ok: bool
    tables_without_sampler: int
    surplus_samplers: int
    expected_hours: float | None
    unassigned_people: int


class RoundDetailOut(RoundOut):
    plan: PlanOut
    figures: TallyOut


@router.get("/rounds", response=list[RoundOut], summary="全员核酸轮次（本单位及上级组织的）")
def list_rounds(request: AuthedRequest) -> Any:
    return selectors.rounds_for(request.user).prefetch_related("scope_units").order_by("-starts_on", "-id")


@router.get(
    "/rounds/{round_id}", response=RoundDetailOut, summary="轮次详情：计划（采样点、采样台、人员）与本辖区的数字"
)
def round_detail(request: AuthedRequest, round_id: int) -> Any:
    r = _round(request, round_id)
    p = selectors.plan(r)
    tally = selectors.total(selectors.round_counts(r, selectors.user_root(request.user)))
    r.plan = {  # type: ignore[attr-defined]
        "sites": len(p.sites),
        "fixed_tables": p.fixed,
        "mobile_teams": p.mobile,
        "compounds": p.compounds,
        "staff": p.staff,
        "samplers_ok": p.check.ok,
        "tables_without_sampler": len(p.check.without),
        "surplus_samplers": p.check.surplus,
        "expected_hours": round(p.hours, 2) if p.hours is not None else None,
        "unassigned_people": p.unassigned_people,
    }
    r.figures = tally.as_dict()  # type: ignore[attr-defined]
    return r


class ReasonOut(Schema):
    exemption: str
    label: str
    people: int


class RosterCountsOut(Schema):
    built_at: dt.datetime | None
    listed: int
    should: int
    not_needed: int
    needs_door_to_door: int
    reasons: list[ReasonOut]


@router.get(
    "/rounds/{round_id}/roster-counts", response=RosterCountsOut, summary="应检名单人数及无需采集原因（本辖区）"
)
def roster_counts(request: AuthedRequest, round_id: int) -> Any:
    from testing.models import Exemption
    from testing.rules import EXEMPTION_ORDER

    r = _round(request, round_id)
    t = selectors.total(selectors.round_counts(r, selectors.user_root(request.user)))
    return {
        "built_at": r.roster_built_at,
        "listed": t.listed,
        "should": t.should,
        "not_needed": t.not_needed,
        "needs_door_to_door": t.needs_door,
        "reasons": [
            {"exemption": k, "label": str(Exemption(k).label), "people": t.exempt.get(k, 0)}
            for k in (*EXEMPTION_ORDER, Exemption.OTHER)
        ],
    }


class UnitProgressOut(Schema):
    unit_id: int
    name: str
    level: str
    figures: TallyOut


class SiteProgressOut(Schema):
    site_id: int | None
    name: str
    figures: TallyOut


class ProgressOut(Schema):
    at: dt.datetime
    figures: TallyOut
    swabs: int
    repeats: int
    children: list[UnitProgressOut]
    sites: list[SiteProgressOut]


@router.get(
    "/rounds/{round_id}/progress", response=ProgressOut, summary="实时进度：应采、已采、未采（按下级单位和采样点）"
)
def progress(request: AuthedRequest, round_id: int, unit: str = "") -> Any:
    r = _round(request, round_id)
    within = _unit(request, unit)
    p = selectors.progress(r, request.user, within)
    return {
        "at": p.at,
        "figures": p.total.as_dict(),
        "swabs": p.swabs,
        "repeats": p.repeats,
        "children": [
            {"unit_id": u.id, "name": u.name, "level": u.level, "figures": t.as_dict()} for u, t in p.children
        ],
        "sites": [
            {"site_id": s.pk if s else None, "name": s.name if s else "", "figures": t.as_dict()} for s, t in p.sites
        ],
    }


class MissedOut(Schema):
    id: int
    name: str
    id_number: str
    phone: str
    unit_id: int
    grid: str
    address: str
    site: str
    needs_door_to_door: bool
    resident_id: int | None

    @staticmethod
    def resolve_id_number(obj: ShouldSample) -> str:
        return mask_id_number(obj.id_number)

    @staticmethod
    def resolve_phone(obj: ShouldSample, context: Any) -> str:
        return shown_phone(context["request"].user.role, obj.phone)

    @staticmethod
    def resolve_grid(obj: ShouldSample) -> str:
        return obj.unit.parent.name if obj.unit.parent_id and obj.unit.parent else ""

    @staticmethod
    def resolve_address(obj: ShouldSample) -> str:
        return selectors.address(obj)

    @staticmethod
    def resolve_site(obj: ShouldSample) -> str:
        return obj.site.name if obj.site_id and obj.site else ""


@router.get("/rounds/{round_id}/missed", response=list[MissedOut], summary="应检未检名单（证件号码脱敏，电话按角色）")
@paginate(LimitOffsetPagination)
def missed(request: AuthedRequest, round_id: int, unit: str = "") -> Any:
    r = _round(request, round_id)
    return selectors.missed(r, request.user, _unit(request, unit))


class ResultStatusOut(Schema):
    tubes: int
    closed: int
    with_result: int
    pending: int
    negative: int
    positive: int
    invalid: int
    corrected: int
    positive_tubes: list[str]


@router.get("/rounds/{round_id}/results", response=ResultStatusOut, summary="检测结果导入情况与阳性试管")
def results(request: AuthedRequest, round_id: int) -> Any:
    r = _round(request, round_id)
    s = selectors.result_status(r)
    return {
        "tubes": s.tubes,
        "closed": s.closed,
        "with_result": s.with_result,
        "pending": s.pending,
        "negative": s.by_result.get("negative", 0),
        "positive": s.by_result.get("positive", 0),
        "invalid": s.by_result.get("invalid", 0),
        "corrected": s.corrected,
        "positive_tubes": [p.tube.barcode for p in selectors.positive_tubes(r, request.user)],
    }


class ResultsIn(Schema):
    csv: str


class ImportOut(Schema):
    created: int
    updated: int
    unchanged: int
    errors: list[dict[str, Any]]


@router.post(
    "/rounds/{round_id}/results",
    response={200: ImportOut, 422: ImportOut},
    summary="导入检测结果（CSV：试管条码,检测结果,检测时间,检测机构[,更正原因]；全部正确才导入）",
)
def import_results(request: AuthedRequest, round_id: int, payload: ResultsIn) -> Any:
    r = _round(request, round_id)
    require(request.user, "can_import")
    result = services.import_results(round_=r, content=payload.csv.encode(), filename="results.csv", by=request.user)
    body = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "errors": result.errors,
    }
    return Status(422 if result.errors else 200, body)


class CoverageOut(Schema):
    unit_code: str
    name: str
    residents: int
    with_code: int
    percent: float | None


@router.get("/codes/coverage", response=list[CoverageOut], summary="静态二维码预约人数（本单位及各下级）")
def code_coverage(request: AuthedRequest, unit: str = "") -> Any:
    root = _unit(request, unit) or request.user.org_unit
    if root is None:
        raise Http404
    whole, rows = selectors.code_coverage(root)
    return [
        {
            "unit_code": c.unit.code,
            "name": c.unit.name,
            "residents": c.residents,
            "with_code": c.with_code,
            "percent": c.percent,
        }
        for c in [whole, *rows]
    ]
