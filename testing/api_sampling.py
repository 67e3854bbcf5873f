"""The sampling table over HTTP (/api/testing/): tubes, batches of samples, the site's roster, lookup.

A table's phone queues every scan and POSTs what it has as one batch every second or two; each
entry is answered on its own, after the batch's transaction has committed (see testing/registration.py):

    POST /api/testing/rounds/<round>/tables/<table>/samples
    {"entries": [{"client_id": "…", "tube_barcode": "…", "token": "…" | "should_sample_id": 12 |
                  "id_number": "…" (+ "name", "phone" for a person outside the list),
                  "door_to_door": false, "taken_at": "2022-04-10T08:01:02+08:00"}, …],
     "close": ["<barcode>", …]}
    -> 200 {"outcomes": [{"client_id": "…", "status": "created" | "duplicate", "sample_id": …, "tube": "…",
                          "position": 3, "repeat": false, "repeat_of": null, "name": "…"}
                         | {"client_id": "…", "status": "refused", "field": "…", "message": "中文原因"}, …],
            "tubes": [{"barcode": "…", "filled": 3, "capacity": 10, "closed": false}, …], "created": 1}

Auth as every API: ``Authorization: Bearer <token>``, or the browser's session with the CSRF header.
A table outside the user's reach answers 404; a read-only role 403. ID numbers leave the server only
masked, with their last six characters for typed search on the table's cached roster; never whole.

The batch answer is written by hand (one ``json.dumps`` of plain dicts): ninja's response schemas
validated every outcome again, which cost more than the batch's own SQL. The schemas below still
document the shapes (OpenAPI) and parse the request.
"""

# No `from __future__ import annotations`: ninja reads the annotations of the views at import time.
import datetime as dt
import json
from typing import Any

from django.http import Http404, HttpResponse
from ninja import Router, Schema, Status

from core.http import AuthedRequest
from testing import registration, table_views
from testing.models import SamplingTable, Tube

router = Router(tags=["核酸采样台"])


def _table(request: AuthedRequest, round_id: int, table_id: int) -> SamplingTable:
    """The table of the round, if the user may work there (else 404: nothing is said about other units)."""
    table = table_views.get_table(request.user, round_id, table_id)
    if table is None:
        raise Http404
    return table


class TableOut(Schema):
    id: int
    round_id: int
    round: str
    sample_type: str
    capacity: int
    site_id: int
    site: str
    unit: str
    kind: str
    number: int
    label: str


@router.get("/my-tables", response=list[TableOut], summary="我可以登记的采样台（未结束的轮次）")
def my_tables(request: AuthedRequest) -> Any:
    return [table_views.table_row(t) for t in table_views.tables_for(request.user)]


class TubeIn(Schema):
    barcode: str
    opened_at: dt.datetime | None = None


class TubeOut(Schema):
    id: int
    barcode: str
    table_id: int
    capacity: int
    filled: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None


@router.post(
    "/rounds/{round_id}/tables/{table_id}/tubes",
    response={200: TubeOut, 201: TubeOut},
    summary="开管（同一采样台重复开管返回 200；条码已在其他采样台使用则 422）",
)
def open_tube(request: AuthedRequest, round_id: int, table_id: int, payload: TubeIn) -> Any:
    table = _table(request, round_id, table_id)
    tube, created = registration.open_tube(
        round=table.site.round, table=table, barcode=payload.barcode, by=request.user, at=payload.opened_at
    )
    return Status(201 if created else 200, tube)


@router.post(
    "/rounds/{round_id}/tables/{table_id}/tubes/{barcode}/close",
    response=TubeOut,
    summary="封管（重复封管不变）",
)
def close_tube(
    request: AuthedRequest, round_id: int, table_id: int, barcode: str, closed_at: dt.datetime | None = None
) -> Tube:
    """``closed_at`` (query, optional): when the table closed it, if it was offline then."""
    table = _table(request, round_id, table_id)
    return registration.close_tube(round=table.site.round, table=table, barcode=barcode, by=request.user, at=closed_at)


class EntryIn(Schema):
    """One scan. The person: a static-code ``token``, a roster row (``should_sample_id``), or ``id_number``
    (with ``name`` and ``phone`` for a person outside the round's list)."""

    client_id: str = ""  # missing: that entry alone is refused (in Chinese), not the whole batch
    tube_barcode: str = ""
    token: str = ""
    should_sample_id: int | None = None
    id_number: str = ""
    name: str = ""
    phone: str = ""
    door_to_door: bool = False
    make_up: bool = False
    taken_at: dt.datetime | None = None


class BatchIn(Schema):
    entries: list[EntryIn]
    close: list[str] = []


class OutcomeOut(Schema):
    client_id: str
    status: str  # created / duplicate / refused
    sample_id: int | None = None
    tube: str | None = None
    position: int | None = None
    repeat: bool | None = None
    repeat_of: int | None = None
    name: str | None = None
    field: str | None = None  # refused: the field at fault
    message: str | None = None  # refused: why, in Chinese


class TubeStateOut(Schema):
    barcode: str
    filled: int
    capacity: int
    closed: bool


class BatchOut(Schema):
    outcomes: list[OutcomeOut]
    tubes: list[TubeStateOut]
    created: int


@router.post(
    "/rounds/{round_id}/tables/{table_id}/samples",
    response=BatchOut,
    summary="登记一批采样（每条单独答复：created / duplicate / refused；client_id 幂等；提交成功后才答复）",
)
def register_samples(request: AuthedRequest, round_id: int, table_id: int, payload: BatchIn) -> HttpResponse:
    table = _table(request, round_id, table_id)
    entries = [
        registration.Entry(
            e.client_id,
            e.tube_barcode,
            e.token,
            e.should_sample_id,
            e.id_number,
            e.name,
            e.phone,
            e.door_to_door,
            e.make_up,
            e.taken_at,
        )
        for e in payload.entries
    ]
    result = registration.register_batch(
        round=table.site.round, table=table, entries=entries, by=request.user, close=payload.close
    )
    body = {
        "outcomes": [o.as_dict() for o in result.outcomes],
        "tubes": [t.as_dict() for t in result.tubes.values() if t.touched],
        "created": result.created,
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")


class RosterRowOut(Schema):
    id: int
    name: str
    id_masked: str
    last6: str
    building: str
    sampled: bool
    exemption: str
    door_to_door: bool


@router.get(
    "/rounds/{round_id}/tables/{table_id}/roster",
    response=list[RosterRowOut],
    summary="采样点应检名单（供采样台离线查找；证件号码脱敏，附后6位）",
)
def roster(request: AuthedRequest, round_id: int, table_id: int) -> Any:
    return table_views.roster_rows(_table(request, round_id, table_id))


@router.get(
    "/rounds/{round_id}/lookup",
    response=list[RosterRowOut],
    summary="本轮应检名单查人（二维码、证件号码后几位或完整号码、姓名开头；最多10人；证件号码脱敏）",
)
def lookup(request: AuthedRequest, round_id: int, q: str = "") -> Any:
    rnd = table_views.round_for_duty(request.user, round_id)
    if rnd is None:
        raise Http404
    return table_views.lookup_rows(rnd, q)
