"""Import pages: upload → dry-run preview → confirm or reject, progress, error report, scoping."""

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AccessLog
from registry.models import ImportBatch, ImportStatus, Resident
from registry.tests.fixtures.rosters import GOOD_A, GOOD_B, HEADERS, row, wrong_checksum, xlsx


def upload(client, path, unit):
    with open(path, "rb") as fh:
        return client.post(reverse("imports:list"), {"file": fh, "unit": unit.pk})


@pytest.fixture
def carol(client, world):
    client.force_login(world.user("carol"))
    return client


def test_upload_preview_confirm_and_done(carol, world, tmp_path):
    path = xlsx(tmp_path, [row("赵一", GOOD_A), row("错号", wrong_checksum(GOOD_B))])
    response = upload(carol, path, world.east_c1)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and batch.status == ImportStatus.CHECKED
    page = carol.get(reverse("imports:detail", args=[batch.pk])).text
    assert "身份证号校验位错误" in page and "导入有效数据" in page and "放弃本次导入" in page
    assert not Resident.objects.filter(name="赵一").exists()  # the check wrote nothing

    response = carol.post(reverse("imports:confirm", args=[batch.pk]), follow=True)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and batch.summary["created"] == 1 and batch.summary["rejected"] == 1
    assert "导入完成：新增 1 人" in response.text
    assert Resident.objects.get(name="赵一").history.get().history_user == world.user("carol")
    assert not Resident.objects.filter(name="错号").exists()
    log = AccessLog.objects.get(action="import")
    assert log.user == world.user("carol") and log.detail["created"] == 1

    # A done batch cannot be imported twice.
    carol.post(reverse("imports:confirm", args=[batch.pk]))
    assert Resident.objects.filter(name="赵一").count() == 1


def test_reject_writes_nothing(carol, world, tmp_path):
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.east_c1)
    batch = ImportBatch.objects.get()
    response = carol.post(reverse("imports:reject", args=[batch.pk]), follow=True)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.REJECTED and "已放弃本次导入" in response.text
    assert not Resident.objects.filter(name="赵一").exists()
    carol.post(reverse("imports:confirm", args=[batch.pk]))
    assert not Resident.objects.filter(name="赵一").exists()


def test_the_error_report_lists_row_column_reason_and_the_original_cells(carol, world, tmp_path):
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A), row("错号", wrong_checksum(GOOD_B))]), world.east_c1)
    batch = ImportBatch.objects.get()
    response = carol.get(reverse("imports:errors", args=[batch.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    assert [c.value for c in sheet[1]] == ["行号", "列", "原因", *HEADERS]
    values = [c.value for c in sheet[2]]
    assert values[:3] == [3, "证件号码", "身份证号校验位错误"]
    assert values[3] == "错号" and values[5] == wrong_checksum(GOOD_B)
    assert sheet.max_row == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x00\x01\x02binary", "notes.txt", "不是表格文件"),
        (b"", "empty.csv", "文件是空的"),
        (",".join(HEADERS).encode() + b"\n", "header.csv", "没有数据行"),
    ],
)
def test_bad_files_show_the_reason_on_the_upload_page_and_keep_nothing(carol, world, tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    response = upload(carol, path, world.east_c1)
    assert response.status_code == 400 and message in response.text
    assert ImportBatch.objects.count() == 0


def test_a_too_big_upload_is_refused_on_the_page(carol, world, tmp_path, settings):
    settings.YBZ_MAX_UPLOAD_BYTES = 1000
    response = upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)] * 3), world.east_c1)
    assert response.status_code == 400 and "文件过大" in response.text
    assert ImportBatch.objects.count() == 0


def test_carol_cannot_import_into_the_west_street(carol, world, tmp_path):
    response = upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.west_c1)
    assert response.status_code == 400 and "管辖范围" in response.text
    assert ImportBatch.objects.count() == 0


def test_an_id_registered_in_the_west_is_rejected_for_carol_without_details(carol, world, tmp_path):
    wang = world.residents["wang"]
    upload(carol, xlsx(tmp_path, [row("冒名", wang.id_number)]), world.east_c1)
    page = carol.get(reverse("imports:detail", args=[ImportBatch.objects.get().pk])).text
    assert "该证件号码已在其他单位登记" in page
    assert "王芳" not in page and "辽河" not in page and "西城" not in page


def test_roles_without_the_import_right_cannot_upload(client, world, tmp_path):
    client.force_login(world.user("dave"))
    assert upload(client, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.east_g1).status_code == 403
    assert "上传并校验" not in client.get(reverse("imports:list")).text


def test_batches_are_seen_only_inside_the_users_subtree(carol, client, world, tmp_path):
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.east_c1)
    batch = ImportBatch.objects.get()
    assert "roster.xlsx" in carol.get(reverse("imports:list")).text
    client.force_login(world.user("gina"))
    assert "roster.xlsx" not in client.get(reverse("imports:list")).text
    assert client.get(reverse("imports:detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("imports:errors", args=[batch.pk])).status_code == 404
    assert client.post(reverse("imports:confirm", args=[batch.pk])).status_code == 404
    client.force_login(world.user("bob"))  # the street above carol's community sees it
    assert "roster.xlsx" in client.get(reverse("imports:list")).text


def test_the_login_is_required(client, world):
    response = client.get(reverse("imports:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_large_files_run_as_a_background_task_with_progress(carol, world, tmp_path, settings):
    settings.YBZ_INLINE_IMPORT_ROWS = 1  # the test backend runs the task at once, through the same path
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A), row("钱二", GOOD_B)]), world.east_c1)
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.CHECKED and (batch.rows_done, batch.rows_total) == (2, 2)
    carol.post(reverse("imports:confirm", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and Resident.objects.filter(name__in=["赵一", "钱二"]).count() == 2


def test_a_running_batch_shows_a_progress_bar_polled_by_htmx(carol, world, tmp_path):
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.east_c1)
    batch = ImportBatch.objects.get()
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.IMPORTING, rows_done=40, rows_total=100)
    page = carol.get(reverse("imports:detail", args=[batch.pk])).text
    assert 'hx-trigger="every 1s"' in page and "width: 40%" in page
    partial = carol.get(reverse("imports:detail", args=[batch.pk]), headers={"HX-Request": "true"})
    assert "width: 40%" in partial.text and "HX-Refresh" not in partial
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.DONE)
    partial = carol.get(reverse("imports:detail", args=[batch.pk]), headers={"HX-Request": "true"})
    assert partial["HX-Refresh"] == "true"  # finished: the page reloads to show the result


def test_a_failure_during_the_import_marks_the_batch_failed_with_the_message(carol, world, tmp_path, monkeypatch):
    upload(carol, xlsx(tmp_path, [row("赵一", GOOD_A)]), world.east_c1)
    batch = ImportBatch.objects.get()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("registry.importing._write", broken)
    response = carol.post(reverse("imports:confirm", args=[batch.pk]), follow=True)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED and "disk full" in batch.error_message
    assert "导入中断" in response.text
    assert not Resident.objects.filter(name="赵一").exists()


def test_the_template_download_has_the_headers(carol):
    ws = load_workbook(BytesIO(carol.get(reverse("imports:template")).content)).active
    assert [c.value for c in ws[1]] == HEADERS
