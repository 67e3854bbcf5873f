"""Background jobs of the registry (django.tasks; the db_worker runs them beside the web server)."""

from __future__ import annotations

from django.tasks import task

from registry.import_service import process_batch


@task()
def process_import_batch(batch_id: int, dry_run: bool) -> None:
    process_batch(batch_id=batch_id, dry_run=dry_run)
