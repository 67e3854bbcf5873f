"""In a real browser on a phone: a grid worker records a fever; the street office sees the alert."""

import datetime as dt

import pytest
from django.utils import timezone

from core.tests.browser import browser_page, log_in
from outbreak import services
from outbreak.models import Alert, FollowUp
from outbreak.services import ScreeningData
from outbreak.tests.factories import event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_a_fever_recorded_on_a_phone_shows_on_the_streets_alert_list(live_server, world, password):
    ev = event(world)
    data = ScreeningData(
        from_area="湖北省武汉市江岸区",
        arrival_date=timezone.localdate() - dt.timedelta(days=2),
        found_by="grid",
        name="访客甲",
        id_number="11010519491231002X",
    )
    s, _merged = services.screen_person(event=ev, unit=world.east_b1, data=data, by=world.user("carol"))

    with browser_page(phone=True) as page:
        log_in(page, live_server.url, "dave", password)
        page.goto(live_server.url + "/outbreak/followups/")
        card = page.locator(f"#s-{s.pk}")
        morning = card.locator(".slot[data-slot=am] form")
        morning.locator("input[name=temperature]").fill("38.2")
        morning.locator("button[type=submit]").click()
        page.wait_for_selector("text=已登记 访客甲 上午体温 38.2℃")
        assert page.locator(f"#s-{s.pk} .slot[data-slot=am] .done-temp").inner_text() == "38.2℃"
        # The card still fits the phone's width: no sideways scrolling to reach the save button.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        bob = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        upstairs = bob.new_page()
        upstairs.set_default_timeout(15_000)
        log_in(upstairs, live_server.url, "bob", password)
        upstairs.goto(live_server.url + "/outbreak/alerts/")
        upstairs.wait_for_selector("#alerts >> text=访客甲：体温38.2℃")
        upstairs.goto(live_server.url + "/outbreak/")
        assert upstairs.inner_text("[data-key=open_alerts]") == "1"

    assert str(FollowUp.objects.get().temperature) == "38.2"
    assert Alert.objects.get().kind == "fever"
