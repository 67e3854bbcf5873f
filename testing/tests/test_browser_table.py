"""On a phone at 龙兴社区's sampling site: a grid worker fills a 10-in-1 tube by typing the last digits of
ID numbers and scanning a static code, with the network cut for part of it; back online, exactly ten
samples are stored and the tube is closed. A refused scan waits in "需处理" with its reason."""

import time

import pytest

from core.tests.browser import browser_page, log_in
from testing.models import Sample, Tube
from testing.tests.factories import sampling_world, static_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def scan(page, text):
    page.fill("#st-q", text)
    page.press("#st-q", "Enter")  # as a keyboard-wedge scanner does


def test_a_pooled_tube_of_ten_with_the_network_cut_in_the_middle(live_server, world, password):
    sw = sampling_world(world)
    people = sw.residents[:10]
    code = static_code(world, people[9])
    with browser_page(phone=True) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, live_server.url, "dave", password)
        page.goto(f"{live_server.url}/testing/tables/")
        page.click(f"a.table-link[data-table='{sw.table1.pk}']")
        page.wait_for_selector("#st-roster >> text=本点应检 24 人")  # the site's roster is cached on the phone

        scan(page, "p0001")
        page.wait_for_selector("#st-tube-code >> text=P0001")
        for person in people[:3]:
            scan(page, person.id_number[-6:])
        page.wait_for_selector("#st-tube-count >> text=3/10")
        wait_for(lambda: Sample.objects.count() == 3)
        page.wait_for_selector("#st-queue", state="hidden")

        page.context.set_offline(True)
        page.wait_for_selector("#st-offline", state="visible")
        for person in people[3:9]:
            scan(page, person.id_number[-6:])
        page.wait_for_selector("#st-tube-count >> text=9/10")
        page.wait_for_selector("#st-queue >> text=待上传 6 条")
        scan(page, code.token)  # the tenth: his static code; the tube closes itself
        page.wait_for_selector("#st-tube-count >> text=0/10")
        page.wait_for_selector("#st-mode >> text=扫描或输入试管条码")
        page.wait_for_selector(".st-tube-row[data-tube='P0001'] >> text=10/10")
        time.sleep(1.0)
        assert Sample.objects.count() == 3

        # The network is back but the server still unreachable; the page is reloaded: the queue is still there.
        page.route("**/samples", lambda route: route.abort())
        page.context.set_offline(False)
        page.reload()
        page.wait_for_selector("#st-queue >> text=待上传 7 条")
        page.wait_for_selector("#st-retry", state="visible")  # retried with backoff
        assert Sample.objects.count() == 3
        page.unroute("**/samples")
        wait_for(lambda: Sample.objects.count() == 10, timeout=40)
        page.wait_for_selector("#st-queue", state="hidden")
        page.wait_for_selector("#st-list .st-member >> nth=9")
        assert page.locator("#st-list .st-pending").count() == 0
        page.wait_for_selector("#st-list >> text=" + people[9].name)  # the token's holder, named by the server

        # A code that does not work lands in 需处理 with the reason and stays there.
        scan(page, "p0002")
        scan(page, "nosuchtoken12345")
        card = page.wait_for_selector(".st-attention-item")
        assert "二维码无效" in card.inner_text()
        page.reload()
        page.wait_for_selector(".st-attention-item >> text=二维码无效")

    tube = Tube.objects.get(round=sw.round, barcode="P0001")
    assert (tube.filled, tube.closed_at is not None, tube.table_id) == (10, True, sw.table1.pk)
    samples = Sample.objects.filter(tube=tube).order_by("position")
    assert [s.resident_id for s in samples] == [p.pk for p in people]
    assert {s.operator_id for s in samples} == {world.user("dave").pk}
    assert Sample.objects.count() == 10
