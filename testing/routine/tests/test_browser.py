"""On a phone: a community worker opens the overview, goes to the last cycle's missed list, calls the
person (a tel: link) and records the make-up with one tap; nothing is wider than the screen."""

import pytest

from core.tests.browser import browser_page, log_in
from testing.models import RoutineTest
from testing.routine.tests.factories import TODAY, mondays, routine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_community_worker_takes_a_make_up_from_the_missed_list(live_server, world, password, tmp_path):
    r = routine(world)
    monday = mondays(6)[5]  # this week's: its window is open until Sunday
    with browser_page(phone=True) as page:
        log_in(page, live_server.url, "carol", password)
        page.goto(f"{live_server.url}/testing/routine/")
        assert page.inner_text("[data-key=members]") == "2"
        assert fits(page)
        page.click(f"#recent-cycles tr[data-day='{monday.isoformat()}'] a")
        page.wait_for_selector("#missed-list")
        assert fits(page)
        row = page.locator(".missed-row", has_text="张伟")
        assert row.locator("a[href^='tel:']").inner_text() == "13800000001"
        page.screenshot(path=str(tmp_path / "cycle.png"), full_page=True)
        row.locator("button", has_text="今日已").click()  # 今日已检 on the cycle day, 今日已补检 after it
        page.wait_for_selector("#none-missed")
        assert RoutineTest.objects.get(member=r.members["zhang"]).tested_on == TODAY
        assert page.locator("#made-up-list, #on-time-list", has_text="张伟").count() == 1
