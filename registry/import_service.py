"""The import workflow around registry.importing: batches, their status and progress, the error report."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccessAction
from accounts.services import log_access
from core.excel import workbook_bytes
from core.scoping import require_unit
from orgunits.models import OrgUnit
from registry.importing import RosterFileError, read_roster, run_import
from registry.models import ImportBatch, ImportStatus

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


@transaction.atomic
def create_batch(*, upload: UploadedFile, unit: OrgUnit, by: User) -> ImportBatch:
    """Store the upload and refuse at once what is not a roster (the message says why)."""
    require_unit(by, unit)
    if upload.size and upload.size > settings.YBZ_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("文件过大（%(size)s MB），最大允许 %(limit)s MB，请分成几个文件导入")
            % {"size": round(upload.size / 1024 / 1024, 1), "limit": round(settings.YBZ_MAX_UPLOAD_BYTES / 1024 / 1024)}
        )
    batch = ImportBatch(unit=unit, uploaded_by=by, original_name=upload.name or "roster")
    batch.file.save(upload.name or "roster", upload, save=False)
    try:
        roster = read_roster(batch.file.path, original_name=batch.original_name)
    except RosterFileError as exc:
        batch.file.delete(save=False)
        raise ValidationError(str(exc)) from None
    batch.rows_total = roster.count()
    batch.save()
    return batch


def _progress(batch: ImportBatch):  # type: ignore[no-untyped-def]
    def report(done: int, total: int) -> None:
        batch.rows_done, batch.rows_total = done, total
        batch.save(update_fields=["rows_done", "rows_total"])

    return report


def process_batch(*, batch_id: int, dry_run: bool) -> ImportBatch:
    """Check (dry run) or import a batch; the batch records the outcome or the failure."""
    batch = ImportBatch.objects.select_related("unit", "uploaded_by").get(pk=batch_id)
    batch.status = ImportStatus.CHECKING if dry_run else ImportStatus.IMPORTING
    batch.rows_done = 0
    batch.save(update_fields=["status", "rows_done"])
    try:
        summary = run_import(
            path=batch.file.path,
            original_name=batch.original_name,
            unit=batch.unit,
            by=batch.uploaded_by,
            dry_run=dry_run,
            progress=_progress(batch),
            reason=_("导入：%(name)s") % {"name": batch.original_name[:60]},
        )
    except RosterFileError as exc:
        batch.status, batch.error_message = ImportStatus.FAILED, str(exc)
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "error_message", "finished_at"])
        return batch
    except Exception as exc:  # a bug or a lost database: the batch says so, the worker goes on
        logger.exception("import batch %s failed", batch_id)
        batch.status = ImportStatus.FAILED
        batch.error_message = _(
            "导入中断：%(error)s。已完成的部分（按每5000行提交）保留，可修正后重新导入同一文件，不会重复登记。"
        ) % {"error": str(exc)[:200]}
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "error_message", "finished_at"])
        return batch
    data: dict[str, Any] = summary.as_dict()
    data["outcomes"] = summary.outcomes
    data["households_created"] = summary.households_created
    batch.summary = data
    batch.status = ImportStatus.CHECKED if dry_run else ImportStatus.DONE
    if not dry_run:
        batch.finished_at = timezone.now()
        log_access(
            user=batch.uploaded_by,
            action=AccessAction.IMPORT,
            object_type="import_batch",
            object_id=batch.pk,
            created=summary.created,
            updated=summary.updated,
            rejected=summary.rejected,
        )
    batch.save(update_fields=["summary", "status", "finished_at"])
    return batch


def start(*, batch: ImportBatch, dry_run: bool) -> ImportBatch:
    """Small rosters run in the request; large ones go to the background worker with a progress bar."""
    if batch.rows_total <= settings.YBZ_INLINE_IMPORT_ROWS:
        return process_batch(batch_id=batch.pk, dry_run=dry_run)
    from registry.tasks import process_import_batch

    batch.status = ImportStatus.CHECKING if dry_run else ImportStatus.IMPORTING
    batch.rows_done = 0
    batch.save(update_fields=["status", "rows_done"])
    process_import_batch.enqueue(batch.pk, dry_run)
    batch.refresh_from_db()
    return batch


def reject_batch(*, batch: ImportBatch, by: User) -> ImportBatch:
    require_unit(by, batch.unit)
    if batch.status != ImportStatus.CHECKED:
        raise ValidationError(_("只有校验完成、尚未导入的批次可以放弃"))
    batch.status = ImportStatus.REJECTED
    batch.finished_at = timezone.now()
    batch.save(update_fields=["status", "finished_at"])
    return batch


def error_report(batch: ImportBatch) -> bytes:
    """The rejected rows: row, column, reason, and the row's original cells."""
    errors = batch.summary.get("errors", [])
    originals: dict[int, list[Any]] = {}
    headers: list[str] = []
    wanted = {e["row"] for e in errors}
    try:
        roster = read_roster(batch.file.path, original_name=batch.original_name)
        headers = roster.headers
        for number, raw in roster._raw_rows():
            if number in wanted:
                originals[number] = list(raw)
    except (RosterFileError, OSError):
        pass
    rows = [[e["row"], e["column"], e["message"], *originals.get(e["row"], [])] for e in errors]
    return workbook_bytes(["行号", "列", "原因", *headers], rows, sheet_title="错误报告")
