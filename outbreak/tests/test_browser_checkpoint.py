"""On a phone at 龙兴社区's gate: a grid worker registers exits, meets the pass quota, lets one through
with a reason, and keeps registering while the network is down (sent once when it returns)."""

import datetime as dt
import time

import pytest
from django.utils import timezone

from core.tests.browser import browser_page, log_in
from outbreak.models import Checkpoint, CheckpointEntry, PassRule
from outbreak.tests.factories import event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def entries() -> int:
    """The stored entries, read from the test thread. With SQLite's shared in-memory test database a read
    while the live server's thread writes the table fails at once ("table is locked") instead of waiting."""
    from django.db import OperationalError

    for _attempt in range(50):
        try:
            return CheckpointEntry.objects.count()
        except OperationalError:
            time.sleep(0.1)
    return CheckpointEntry.objects.count()


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def find_and_pick(page, digits):
    page.fill("#cp-q", digits)
    page.press("#cp-q", "Enter")  # as a scanner does: a single match is taken at once
    page.wait_for_selector("#cp-selected >> text=张伟")


def test_quota_breach_allowed_with_a_reason_and_an_offline_entry_arrives_once(live_server, world, password):
    ev = event(world)
    gate = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    today = timezone.localdate()
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=today - dt.timedelta(days=3))
    zhang = world.residents["zhang"]

    with browser_page(phone=True) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, live_server.url, "dave", password)
        page.goto(f"{live_server.url}/outbreak/checkpoints/{gate.pk}/")

        find_and_pick(page, zhang.id_number[-6:])
        assert page.is_checked("#cp-out")  # never crossed: going out is the likely direction
        page.fill("#cp-temp", "36.5")
        page.click("label[for=cp-hc-green]")
        page.fill("#cp-purpose", "购买生活物资")
        page.click("#cp-submit")
        wait_for(lambda: entries() == 1)
        page.wait_for_selector("#cp-recent >> text=张伟")

        find_and_pick(page, zhang.id_number[-6:])
        page.click("label[for=cp-out]")
        page.fill("#cp-temp", "36.6")
        page.click("#cp-submit")
        card = page.wait_for_selector(".cp-attention-item")
        assert "超过每2天1人次" in card.inner_text()
        assert entries() == 1
        page.fill(".cp-attention-item .cp-reason", "就医")
        page.click(".cp-attention-item .cp-allow")
        wait_for(lambda: entries() == 2)
        page.wait_for_selector(".cp-attention-item", state="detached")
        second = CheckpointEntry.objects.order_by("id").last()
        assert (bool(second.breach), second.allowed_reason, str(second.temperature)) == (True, "就医", "36.6")

        page.context.set_offline(True)
        page.check("#cp-stranger")
        page.fill("#cp-name", "快递员")
        page.fill("#cp-plate", "蒙G12345")
        page.select_option("#cp-vehicle", "express")
        page.click("label[for=cp-in]")
        page.click("#cp-submit")
        page.wait_for_selector("#cp-queue >> text=待上传 1 条")
        page.wait_for_selector("#cp-recent .cp-pending >> text=快递员")
        time.sleep(0.5)
        assert entries() == 2
        page.context.set_offline(False)
        wait_for(lambda: CheckpointEntry.objects.filter(name="快递员").exists())
        page.wait_for_selector("#cp-queue", state="hidden")
        page.wait_for_selector("#cp-recent >> text=快递员")
        page.reload()  # nothing left in the phone's queue to send again
        page.wait_for_selector("#cp-recent >> text=快递员")
        time.sleep(0.5)

    van = CheckpointEntry.objects.get(name="快递员")
    assert (van.plate, van.vehicle_type, van.direction) == ("蒙G12345", "express", "in")
    assert entries() == 3


def test_a_backlog_goes_up_in_one_batch_and_a_refused_entry_holds_up_none(live_server, world, password):
    ev = event(world)
    gate = Checkpoint.objects.create(unit=world.east_c1, event=ev, name="北门")
    today = timezone.localdate()
    PassRule.objects.create(event=ev, unit=world.east_c1, max_exits=1, days=2, valid_from=today - dt.timedelta(days=3))
    zhang = world.residents["zhang"]

    with browser_page(phone=True) as page:
        log_in(page, live_server.url, "dave", password)
        page.goto(f"{live_server.url}/outbreak/checkpoints/{gate.pk}/")
        posted = []
        page.on("request", lambda r: posted.append(r.url.split("/crossings")[-1]) if "/crossings" in r.url else None)
        # The uplink is down (the lookup still answers from the community's wifi): every upload fails.
        page.route("**/crossings**", lambda route: route.abort())
        for _ in range(2):
            find_and_pick(page, zhang.id_number[-6:])
            page.click("label[for=cp-out]")
            page.click("#cp-submit")
        page.check("#cp-stranger")
        page.fill("#cp-name", "快递员")
        page.fill("#cp-plate", "蒙G54321")
        page.click("label[for=cp-in]")
        page.click("#cp-submit")
        page.wait_for_selector("#cp-queue >> text=待上传 3 条")
        assert entries() == 0
        posted.clear()
        page.unroute("**/crossings**")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        wait_for(lambda: entries() == 2)
        card = page.wait_for_selector(".cp-attention-item")
        assert "超过每2天1人次" in card.inner_text()
        page.wait_for_selector("#cp-queue", state="hidden")
        page.wait_for_selector("#cp-recent >> text=快递员")
        assert posted[0] == "/batch"  # the three went up together
        page.fill(".cp-attention-item .cp-reason", "送医")
        page.click(".cp-attention-item .cp-allow")
        wait_for(lambda: entries() == 3)
        assert posted[-1] == ""  # one entry alone goes to the single endpoint

    assert sorted(CheckpointEntry.objects.values_list("name", "allowed_reason")) == [
        ("张伟", ""),
        ("张伟", "送医"),
        ("快递员", ""),
    ]
