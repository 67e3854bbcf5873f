"""Writes of a sampling table (采样台): open and close tubes, register batches of samples. The hot path.

A table's phone or tablet queues every scan and sends what it has every second or two as one batch;
each entry is answered on its own (``created`` / ``duplicate`` / ``refused`` with a Chinese reason
keyed by field), a refused entry never blocks the others, and the answer is given only after the
batch's transaction has committed, so whatever the table is told is stored is stored.

Who may work at a table (``require_table_duty``): every user whose org-unit subtree holds the table's
site unit (the street's and the community's staff, and so everyone whose subtree holds the round's
unit, since the site lies inside it), and the staff of the units below the site's unit (a grid worker
or village doctor staffs his community's site, as at the community's checkpoint gate). Read-only
roles may look but not register.

Tubes. A tube belongs to the table that opened it: the same barcode at another table is refused
("试管 X 已在 Y 使用"), opening again at the same table is harmless. A batch may name a tube the
server has not seen yet: the table opened it while offline, and the batch opens it (as ``open_tube``
would). Capacity is 10 for a pooled round (10合1混采), 1 for single sampling; ``filled`` grows under
a row lock on the tube (``SELECT … FOR UPDATE`` on PostgreSQL, ordered by barcode so that concurrent
batches lock in the same order; SQLite serialises writers), so no tube ever holds more than its
capacity. A tube that reaches its capacity is closed (封管) in the same update.

People. An entry names its person by a static-code ``token`` (registry.StaticCode), a roster row id
(``should_sample_id``, what the table's cached roster gives when part of an ID number is typed), or a
full ``id_number``. The person must be on the round's should-sample list (ShouldSample), exempt or not
(a quarantined person swabbed at the door counts like anyone). Someone not on the list is refused,
unless the table registers him as a person outside the list (名单外人员) with full name and a valid ID
number: then he is sampled and added to the round's list as an extra row (site and unit of the table's
site, note "采样台登记（名单外）"), so progress counts him once as should-sample and once as sampled.
A static code of a resident outside the round's scope is refused with that hint: nobody is turned
away from a swab, but nobody lands on the list without name and ID number either.

A person sampled earlier in the round (in another tube) is stored again (the swab exists) with
``repeat_of`` pointing at his first sample, and answered ``created`` with ``repeat: true``. The same
person twice in one tube is refused. The same ``client_id`` (the table's id for the scan) answers
``duplicate`` with the stored sample, never a second row.

Cost per batch, whatever its size: the tubes (one query, locked), the client ids already stored, the
people (static codes with their holders' roster rows, and roster rows by id or ID number: one query),
the earlier samples of these people, and the write: one multi-row INSERT of the samples that, on
PostgreSQL, also carries the UPDATE of the tubes (SQLite: one UPDATE per tube touched). New tubes
(one INSERT … ON CONFLICT DO NOTHING) and people outside the list add queries only to the batches that
carry them. The statements are plain SQL with one array parameter per list on PostgreSQL: compiling
the equivalent ORM queries cost more CPU than running them (bench/README.md). No history rows on
samples: they are never edited (corrections are separate records).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require
from core.scoping import unit_in_scope
from registry.models import Resident, StaticCode
from registry.rules import IdNumberError, normalise_other_id, parse_id_number
from testing.models import Round, RoundStatus, Sample, SamplingTable, ShouldSample, Tube

if TYPE_CHECKING:
    from accounts.models import User
    from orgunits.models import OrgUnit

MAX_BATCH = 500  # a table sends what it scanned since the last batch (normally 1–20, up to ~200 after an outage)
BARCODE_MAX = 40
CLIENT_ID_MAX = 64
# A phone's clock can be wrong: a sampling time later than this ahead of the server, or earlier than the
# day before the round, is replaced by the time the server received the entry.
CLOCK_SKEW = dt.timedelta(minutes=5)
EXTRA_ROSTER_NOTE = "采样台登记（名单外）"

# The hot path speaks SQL directly (compiling the equivalent ORM queries cost more than running them).
_TUBE = Tube._meta.db_table
_SAMPLE = Sample._meta.db_table
_ROSTER = ShouldSample._meta.db_table
_CODE = StaticCode._meta.db_table


def _any(column: str, values: Iterable[Any], kind: str) -> tuple[str, list[Any]]:
    """``column`` is one of ``values``: one array parameter on PostgreSQL (the same statement text whatever
    the count), a list of placeholders on SQLite."""
    items = list(values)
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{kind}[])", [items]
    return f"{column} IN ({', '.join(['%s'] * len(items))})", items


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _execute(sql: str, params: Sequence[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


CREATED = "created"
DUPLICATE = "duplicate"
REFUSED = "refused"


@dataclass(slots=True)
class Entry:
    """One scan of a table: a person swabbed into a tube."""

    client_id: str
    tube_barcode: str
    token: str = ""
    should_sample_id: int | None = None
    id_number: str = ""
    name: str = ""  # with id_number: a person outside the list (名单外人员)
    phone: str = ""
    door_to_door: bool = False
    make_up: bool = False
    taken_at: dt.datetime | None = None


@dataclass(slots=True)
class Outcome:
    """The answer to one entry. ``created`` and ``duplicate`` carry the stored sample."""

    client_id: str
    status: str
    sample_id: int | None = None
    tube: str = ""
    position: int | None = None
    repeat: bool = False
    repeat_of: int | None = None
    name: str = ""
    field: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        if self.status == REFUSED:
            return {"client_id": self.client_id, "status": REFUSED, "field": self.field, "message": self.message}
        return {
            "client_id": self.client_id,
            "status": self.status,
            "sample_id": self.sample_id,
            "tube": self.tube,
            "position": self.position,
            "repeat": self.repeat,
            "repeat_of": self.repeat_of,
            "name": self.name,
        }


@dataclass(slots=True)
class TubeState:
    id: int
    barcode: str
    table_id: int
    capacity: int
    filled: int
    closed_at: dt.datetime | None
    touched: bool = False  # filled or closed by this batch

    def as_dict(self) -> dict[str, Any]:
        return {
            "barcode": self.barcode,
            "filled": self.filled,
            "capacity": self.capacity,
            "closed": self.closed_at is not None,
        }


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    tubes: dict[str, TubeState] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(1 for o in self.outcomes if o.status == CREATED)


# ---- who may work at a table ---------------------------------------------------------------------------------------


def may_staff(user: User, unit: OrgUnit) -> bool:
    """A site's unit lies in the user's subtree, or the user belongs to a unit below it."""
    if unit_in_scope(user, unit):
        return True
    own = user.org_unit
    return bool(own is not None and user.is_active and own.path.startswith(unit.path))


def may_work_at(user: User, table: SamplingTable) -> bool:
    return may_staff(user, table.site.unit)


def require_table_duty(user: User, table: SamplingTable, *, write: bool = True) -> None:
    if not may_work_at(user, table):
        raise PermissionDenied(_("您不能在该采样台登记"))
    if write:
        require(user, "can_write")


def _check_open(round: Round, table: SamplingTable) -> None:
    if table.site.round_id != round.pk:
        raise ValidationError({"table": _("该采样台不属于本轮")})
    if round.status == RoundStatus.CLOSED:
        raise ValidationError({"round": _("本轮已结束，不能再登记采样")})
    if table.retired_at is not None or table.site.retired_at is not None:
        raise ValidationError({"table": _("该采样台已撤销，不能再登记")})


def table_label(table: SamplingTable) -> str:
    return _("%(site)s %(kind)s%(number)s号") % {
        "site": table.site.name,
        "kind": table.get_kind_display(),
        "number": table.number,
    }


def _other_table_message(barcode: str, table_id: int) -> str:
    other = SamplingTable.objects.select_related("site").get(pk=table_id)
    return _("试管 %(tube)s 已在 %(table)s 使用") % {"tube": barcode, "table": table_label(other)}


def _clean_barcode(raw: str) -> str:
    return "".join((raw or "").split()).upper()


def _clean_id(raw: str) -> str:
    return "".join((raw or "").split()).upper()


# ---- tubes ---------------------------------------------------------------------------------------------------------


def _lock_tubes(round_id: int, barcodes: Iterable[str]) -> dict[str, TubeState]:
    codes = list(barcodes)
    if not codes:
        return {}
    cond, params = _any("barcode", codes, "varchar")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = _fetch(
        f"SELECT id, barcode, table_id, capacity, filled, closed_at FROM {_TUBE} "  # noqa: S608
        f"WHERE round_id = %s AND {cond} ORDER BY barcode{lock}",
        [round_id, *params],
    )
    return {row[1]: TubeState(*row) for row in rows}


def _open_missing(
    round: Round, table: SamplingTable, barcodes: Iterable[str], by: User, at: dt.datetime
) -> dict[str, TubeState]:
    """Insert the tubes not seen yet, locked by this transaction as new rows are; a barcode another
    transaction opened at the same moment is not inserted twice but read, and locked, once it commits."""
    wanted = sorted(barcodes)
    opened = connection.ops.adapt_datetimefield_value(at)
    one = "(%s, %s, %s, %s, 0, %s, %s)"
    params: list[Any] = []
    for code in wanted:
        params += [round.pk, code, table.pk, round.tube_capacity, opened, by.pk]
    rows = _fetch(
        f"INSERT INTO {_TUBE} (round_id, barcode, table_id, capacity, filled, opened_at, opened_by_id) "  # noqa: S608
        f"VALUES {', '.join([one] * len(wanted))} ON CONFLICT (round_id, barcode) DO NOTHING "
        "RETURNING id, barcode, table_id, capacity, filled, closed_at",
        params,
    )
    states = {row[1]: TubeState(*row) for row in rows}
    if len(states) < len(wanted):
        states.update(_lock_tubes(round.pk, [code for code in wanted if code not in states]))
    return states


@transaction.atomic
def open_tube(
    *, round: Round, table: SamplingTable, barcode: str, by: User, at: dt.datetime | None = None
) -> tuple[Tube, bool]:
    """Open a tube at the table; ``(tube, created)``. Opening it again at the same table returns it."""
    require_table_duty(by, table)
    _check_open(round, table)
    code = _clean_barcode(barcode)
    if not code:
        raise ValidationError({"barcode": _("请扫描或输入试管条码")})
    if len(code) > BARCODE_MAX:
        raise ValidationError({"barcode": _("试管条码过长（最多40个字符）")})
    existing = _lock_tubes(round.pk, [code])
    created = False
    if code not in existing:
        existing = _open_missing(round, table, [code], by, _sane_time(at, round, timezone.now()))
        created = True
    state = existing[code]
    if state.table_id != table.pk:
        raise ValidationError({"barcode": _other_table_message(code, state.table_id)})
    return Tube.objects.get(pk=state.id), created


@transaction.atomic
def close_tube(*, round: Round, table: SamplingTable, barcode: str, by: User, at: dt.datetime | None = None) -> Tube:
    """封管: no more people in this tube. Closing a closed tube changes nothing."""
    require_table_duty(by, table)
    _check_open(round, table)
    code = _clean_barcode(barcode)
    state = _lock_tubes(round.pk, [code]).get(code)
    if state is None:
        raise ValidationError({"barcode": _("试管 %(tube)s 尚未在本轮登记") % {"tube": code}})
    if state.table_id != table.pk:
        raise ValidationError({"barcode": _other_table_message(code, state.table_id)})
    tube = Tube.objects.get(pk=state.id)
    if tube.closed_at is None:
        tube.closed_at = _sane_time(at, round, timezone.now())
        tube.save(update_fields=["closed_at"])
    return tube


# ---- samples -------------------------------------------------------------------------------------------------------


def _sane_time(at: dt.datetime | None, round: Round, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    earliest = dt.datetime.combine(round.starts_on - dt.timedelta(days=1), dt.time.min, tzinfo=now.tzinfo)
    if at > now + CLOCK_SKEW or at < earliest:
        return now
    return at


@dataclass(slots=True)
class _Person:
    roster_id: int | None
    resident_id: int | None
    name: str
    id_number: str
    phone: str


def _refuse(entry: Entry, field_name: str, message: str) -> Outcome:
    return Outcome(client_id=entry.client_id, status=REFUSED, field=field_name, message=message)


def _stranger_id(raw: str) -> str:
    """A person outside the list must give a valid ID number (a typo would make a person nobody can find)."""
    value = _clean_id(raw)
    looks_resident = len(value) in (15, 18) and value[:-1].isdigit()
    if looks_resident:
        return parse_id_number(value).number
    value = normalise_other_id(value)
    if len(value) < 5:
        raise IdNumberError(_("证件号码过短"))
    return value


def register_samples(*, round: Round, table: SamplingTable, entries: Sequence[Entry], by: User) -> list[Outcome]:
    """A batch of scans of one table; one outcome per entry, in order. See the module's docstring."""
    return register_batch(round=round, table=table, entries=entries, by=by).outcomes


def register_batch(
    *,
    round: Round,
    table: SamplingTable,
    entries: Sequence[Entry],
    by: User,
    close: Sequence[str] = (),
    now: dt.datetime | None = None,
) -> BatchResult:
    """``register_samples`` with the tubes' state afterwards, and tubes to close (封管) after the entries."""
    require_table_duty(by, table)
    _check_open(round, table)
    if len(entries) > MAX_BATCH:
        raise ValidationError({"entries": _("一次最多提交%(n)s条") % {"n": MAX_BATCH}})
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _register(round, table, entries, by, close, now or timezone.now())
        except IntegrityError:
            # Only a race the locks do not cover (the same client id sent at once to two tubes, a roster row
            # added by two tables at once): the second attempt sees the winner's rows and answers with them.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _register(
    round: Round,
    table: SamplingTable,
    entries: Sequence[Entry],
    by: User,
    close: Sequence[str],
    now: dt.datetime,
) -> BatchResult:
    outcomes: list[Outcome | None] = [None] * len(entries)
    first_of: dict[str, int] = {}  # client id -> index of its first entry in the batch
    barcodes: set[str] = set()
    tokens: set[str] = set()
    roster_ids: set[int] = set()
    id_numbers: set[str] = set()
    cleaned: list[tuple[str, str]] = []  # (barcode, id_number) per entry
    for i, e in enumerate(entries):
        cid = (e.client_id or "").strip()
        e.client_id = cid
        code = _clean_barcode(e.tube_barcode)
        idn = _clean_id(e.id_number) if e.id_number else ""
        cleaned.append((code, idn))
        if not cid:
            outcomes[i] = _refuse(e, "client_id", _("缺少登记编号"))
            continue
        if len(cid) > CLIENT_ID_MAX:
            outcomes[i] = _refuse(e, "client_id", _("登记编号过长"))
            continue
        if cid in first_of:
            continue  # the same scan twice in one batch: answered like the first, below
        first_of[cid] = i
        if not code:
            outcomes[i] = _refuse(e, "tube_barcode", _("请先扫试管条码"))
        elif len(code) > BARCODE_MAX:
            outcomes[i] = _refuse(e, "tube_barcode", _("试管条码过长（最多40个字符）"))
        else:
            barcodes.add(code)
        token = (e.token or "").strip()
        e.token = token
        if token:
            tokens.add(token)
        elif e.should_sample_id is not None:
            roster_ids.add(e.should_sample_id)
        elif idn:
            id_numbers.add(idn)
        elif outcomes[i] is None:
            outcomes[i] = _refuse(e, "person", _("请扫码或输入证件号码"))

    # 1. The tubes, locked; then what is already stored (a resend waits on the lock and then sees it all).
    tubes = _lock_tubes(round.pk, barcodes) if barcodes else {}
    stored: dict[str, tuple[int, str, int, int | None, str]] = {}
    if first_of:
        cond, cids = _any("s.client_id", first_of, "varchar")
        for cid, sid, barcode, position, repeat_of, name in _fetch(
            f"SELECT s.client_id, s.id, t.barcode, s.position, s.repeat_of_id, s.name FROM {_SAMPLE} s "  # noqa: S608
            f"JOIN {_TUBE} t ON t.id = s.tube_id WHERE s.round_id = %s AND {cond}",
            [round.pk, *cids],
        ):
            stored[cid] = (sid, barcode, position, repeat_of, name)
    for cid, i in first_of.items():
        hit = stored.get(cid)
        if hit is not None:
            sid, barcode, position, repeat_of, name = hit
            outcomes[i] = Outcome(cid, DUPLICATE, sid, barcode, position, repeat_of is not None, repeat_of, name)

    # 2. New tubes: opened here by the batch that first names them.
    missing = {
        cleaned[i][0] for i in first_of.values() if outcomes[i] is None and cleaned[i][0] and cleaned[i][0] not in tubes
    }
    if missing:
        tubes.update(_open_missing(round, table, missing, by, now))

    # 3. People, in one query: the static codes with their holders' roster rows, and the roster rows asked for
    #    by id or ID number.
    resident_by_token: dict[str, int] = {}
    by_resident: dict[int, _Person] = {}
    by_roster_id: dict[int, _Person] = {}
    by_id_number: dict[str, _Person] = {}
    parts: list[str] = []
    params: list[Any] = []
    if tokens:
        cond, more = _any("c.token", tokens, "varchar")
        parts.append(
            f"SELECT c.token, c.resident_id, r.id, r.name, r.id_number, r.phone FROM {_CODE} c "  # noqa: S608
            f"LEFT JOIN {_ROSTER} r ON r.resident_id = c.resident_id AND r.round_id = %s "
            f"WHERE {cond} AND c.revoked_at IS NULL"
        )
        params += [round.pk, *more]
    conds: list[str] = []
    asked: list[Any] = [round.pk]
    for column, values, kind in (("id", roster_ids, "bigint"), ("id_number", id_numbers, "varchar")):
        if values:
            cond, more = _any(column, values, kind)
            conds.append(cond)
            asked += more
    if conds:
        parts.append(
            f"SELECT NULL, resident_id, id, name, id_number, phone FROM {_ROSTER} "  # noqa: S608
            f"WHERE round_id = %s AND ({' OR '.join(conds)})"
        )
        params += asked
    if parts:
        for token, res_id, rid, name, idn, phone in _fetch(" UNION ALL ".join(parts), params):
            if token is not None:
                resident_by_token[token] = res_id
            if rid is None:
                continue  # a valid code of someone not on this round's list
            on_list = _Person(rid, res_id, name, idn, phone)
            by_roster_id[rid] = on_list
            by_id_number[idn] = on_list
            if res_id is not None:
                by_resident[res_id] = on_list

    people: list[_Person | None] = [None] * len(entries)
    strangers: dict[str, _Person] = {}
    outside_tokens: list[int] = []
    for i in first_of.values():
        if outcomes[i] is not None:
            continue
        e = entries[i]
        person: _Person | None = None
        if e.token:
            res_id = resident_by_token.get(e.token)
            if res_id is None:
                outcomes[i] = _refuse(e, "token", _("二维码无效或已作废，请输入证件号码查找"))
                continue
            person = by_resident.get(res_id)
            if person is None:
                outside_tokens.append(i)
                continue
        elif e.should_sample_id is not None:
            person = by_roster_id.get(e.should_sample_id)
            if person is None:
                outcomes[i] = _refuse(e, "should_sample_id", _("本轮应检名单中没有此人，请重新查找"))
                continue
        else:
            idn = cleaned[i][1]
            person = by_id_number.get(idn)
            if person is None:
                name = " ".join((e.name or "").split())
                if not name:
                    outcomes[i] = _refuse(
                        e, "id_number", _("该证件号码不在本轮应检名单，如需采样请填写姓名，按名单外人员登记")
                    )
                    continue
                if len(name) > 50:
                    outcomes[i] = _refuse(e, "name", _("姓名过长"))
                    continue
                try:
                    number = _stranger_id(idn)
                except IdNumberError as exc:
                    outcomes[i] = _refuse(e, "id_number", str(exc))
                    continue
                person = by_id_number.get(number) or strangers.get(number)
                if person is None:
                    person = _Person(None, None, name, number, (e.phone or "").strip()[:20])
                    strangers[number] = person
        people[i] = person

    if outside_tokens:
        # Rare: a resident outside the round's list scanned his code. Name him in the refusal.
        names = dict(
            Resident.objects.filter(pk__in=[resident_by_token[entries[i].token] for i in outside_tokens]).values_list(
                "pk", "name"
            )
        )
        for i in outside_tokens:
            e = entries[i]
            outcomes[i] = _refuse(
                e,
                "person",
                _("%(name)s 不在本轮应检名单（检测范围外），如需采样请按名单外人员登记（姓名＋证件号码）")
                % {"name": names.get(resident_by_token[e.token], "")},
            )

    if strangers:
        _add_extra_roster_rows(round, table, strangers)

    # 4. Earlier samples of these people in the round: repeats, and "already in this tube".
    wanted = {p.id_number for p in people if p is not None}
    first_sample: dict[str, int] = {}
    in_tube: set[tuple[int, str]] = set()
    if wanted:
        cond, params = _any("id_number", wanted, "varchar")
        for idn, sid, tube_id, repeat_of in _fetch(
            f"SELECT id_number, id, tube_id, repeat_of_id FROM {_SAMPLE} "  # noqa: S608
            f"WHERE round_id = %s AND {cond} ORDER BY id",
            [round.pk, *params],
        ):
            if repeat_of is None:
                first_sample.setdefault(idn, sid)
            else:
                first_sample.setdefault(idn, repeat_of)
            in_tube.add((tube_id, idn))

    # 5. Place each person in his tube, in the batch's order.
    rows: list[list[Any]] = []
    placed: list[tuple[int, int]] = []  # (entry index, row index)
    later: list[tuple[int, int, str]] = []  # repeats of someone first sampled in this batch: (entry, row, id_number)
    first_in_batch: dict[str, int] = {}  # id_number -> entry index of his first sample in the batch
    adapt = connection.ops.adapt_datetimefield_value
    received = adapt(now)
    for i in first_of.values():
        who = people[i]
        if outcomes[i] is not None or who is None:
            continue
        e = entries[i]
        tube = tubes[cleaned[i][0]]
        if tube.table_id != table.pk:
            outcomes[i] = _refuse(e, "tube_barcode", _other_table_message(tube.barcode, tube.table_id))
            continue
        if tube.filled >= tube.capacity:
            outcomes[i] = _refuse(
                e,
                "tube_barcode",
                _("试管 %(tube)s 已满（%(n)s人），%(name)s 请用新试管重新采样")
                % {"tube": tube.barcode, "n": tube.capacity, "name": who.name},
            )
            continue
        if tube.closed_at is not None:
            outcomes[i] = _refuse(
                e,
                "tube_barcode",
                _("试管 %(tube)s 已封管，%(name)s 请用新试管重新采样") % {"tube": tube.barcode, "name": who.name},
            )
            continue
        idn = who.id_number
        if (tube.id, idn) in in_tube:
            outcomes[i] = _refuse(
                e, "person", _("%(name)s 已在试管 %(tube)s 中") % {"name": who.name, "tube": tube.barcode}
            )
            continue
        in_tube.add((tube.id, idn))
        tube.filled += 1
        tube.touched = True
        repeat_of = first_sample.get(idn)
        row = [
            round.pk,
            tube.id,
            tube.filled,
            e.client_id,
            who.resident_id,
            who.name,
            idn,
            who.phone,
            table.pk,
            bool(e.door_to_door),
            bool(e.make_up),
            adapt(_sane_time(e.taken_at, round, now)),
            received,
            by.pk,
            repeat_of,
        ]
        if repeat_of is None and idn in first_in_batch:
            later.append((i, len(rows), idn))
        elif repeat_of is None:
            first_in_batch[idn] = i
        placed.append((i, len(rows)))
        rows.append(row)
        outcomes[i] = Outcome(
            e.client_id, CREATED, None, tube.barcode, tube.filled, repeat_of is not None, repeat_of, who.name
        )

    # 6. Write: the tubes' new fill (and 封管), and the samples (repeats of a sample of this same batch after
    #    it, to know its id); on PostgreSQL the first INSERT carries the tubes' UPDATE (one statement).
    closing = {_clean_barcode(b) for b in close} - {""}
    if closing:
        for code in closing - set(tubes):
            tubes.update(_lock_tubes(round.pk, [code]))
        for code in closing:
            state = tubes.get(code)
            if state is not None and state.table_id == table.pk and state.closed_at is None:
                state.closed_at = now
                state.touched = True
    updates: list[tuple[int, int, Any]] = []
    for state in tubes.values():
        if state.touched:
            if state.filled >= state.capacity and state.closed_at is None:
                state.closed_at = now
            closed = adapt(state.closed_at) if isinstance(state.closed_at, dt.datetime) else state.closed_at
            updates.append((state.id, state.filled, closed))
    if rows:
        later_rows = {r for _i, r, _idn in later}
        ids = _insert_samples([row for n, row in enumerate(rows) if n not in later_rows], updates)
        if later:
            for i, r, idn in later:
                first_id = ids[entries[first_in_batch[idn]].client_id]
                rows[r][14] = first_id
                out = outcomes[i]
                assert out is not None
                out.repeat, out.repeat_of = True, first_id
            ids.update(_insert_samples([rows[r] for _i, r, _idn in later], []))
        for i, _r in placed:
            out = outcomes[i]
            assert out is not None
            out.sample_id = ids[out.client_id]
    elif updates:
        _update_tubes(updates)

    # The same client id twice in one batch: the later ones are answered like the first.
    final: list[Outcome] = []
    for i, e in enumerate(entries):
        out = outcomes[i]
        if out is None:
            first = outcomes[first_of[e.client_id]]
            assert first is not None
            out = replace(first)
            if out.status == CREATED:
                out.status = DUPLICATE
        final.append(out)
    return BatchResult(final, tubes)


SAMPLE_COLUMNS = (
    "round_id",
    "tube_id",
    "position",
    "client_id",
    "resident_id",
    "name",
    "id_number",
    "phone",
    "table_id",
    "door_to_door",
    "make_up",
    "taken_at",
    "received_at",
    "operator_id",
    "repeat_of_id",
)


SAMPLE_TYPES = (
    "bigint",
    "bigint",
    "smallint",
    "varchar",
    "bigint",
    "varchar",
    "varchar",
    "varchar",
    "bigint",
    "boolean",
    "boolean",
    "timestamptz",
    "timestamptz",
    "bigint",
    "bigint",
)


_TUBE_UPDATE_PG = (
    f"UPDATE {_TUBE} t SET filled = v.filled, closed_at = v.closed_at "  # noqa: S608
    "FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[]) AS v(id, filled, closed_at) WHERE t.id = v.id"
)


def _update_tubes(updates: list[tuple[int, int, Any]]) -> None:
    if connection.vendor == "postgresql":
        _execute(_TUBE_UPDATE_PG, [list(column) for column in zip(*updates, strict=True)])
        return
    for pk, filled, closed in updates:
        _execute(f"UPDATE {_TUBE} SET filled = %s, closed_at = %s WHERE id = %s", [filled, closed, pk])  # noqa: S608


def _insert_samples(rows: list[list[Any]], updates: list[tuple[int, int, Any]]) -> dict[str, int]:
    """One INSERT … RETURNING id, client_id for the batch (Django's bulk_create prepares each value: too slow
    here), and the tubes' ``updates`` (id, filled, closed_at). PostgreSQL gets one array per column (the same
    statement text whatever the batch's size) and the tubes' UPDATE in the same statement."""
    columns = ", ".join(SAMPLE_COLUMNS)
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in SAMPLE_TYPES)
        params: list[Any] = []
        prefix = ""
        if updates:
            prefix = f"WITH tubes AS ({_TUBE_UPDATE_PG}) "
            params += [list(column) for column in zip(*updates, strict=True)]
        params += [list(column) for column in zip(*rows, strict=True)]
        sql = f"{prefix}INSERT INTO {_SAMPLE} ({columns}) SELECT * FROM unnest({arrays}) RETURNING id, client_id"  # noqa: S608
        return {client_id: pk for pk, client_id in _fetch(sql, params)}
    one = "(" + ", ".join(["%s"] * len(SAMPLE_COLUMNS)) + ")"
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {_SAMPLE} ({columns}) VALUES {values} RETURNING id, client_id"  # noqa: S608
    ids = {client_id: pk for pk, client_id in _fetch(sql, [value for row in rows for value in row])}
    if updates:
        _update_tubes(updates)
    return ids


def _add_extra_roster_rows(round: Round, table: SamplingTable, strangers: dict[str, _Person]) -> None:
    """People outside the list sampled at the table join the round's list (linked to the registry when known)."""
    residents = dict(
        Resident.objects.filter(id_number__in=list(strangers), retired_at__isnull=True).values_list("id_number", "pk")
    )
    site = table.site
    rows = []
    for number, person in strangers.items():
        person.resident_id = residents.get(number)
        rows.append(
            ShouldSample(
                round_id=round.pk,
                resident_id=person.resident_id,
                name=person.name,
                id_number=number,
                phone=person.phone,
                unit_id=site.unit_id,
                site_id=site.pk,
                exemption_note=EXTRA_ROSTER_NOTE,
            )
        )
    ShouldSample.objects.bulk_create(rows, ignore_conflicts=True)
