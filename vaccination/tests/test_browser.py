"""In a browser: the coverage chart draws, and a village doctor records a dose on a phone from the
reconciliation's named list, after which only the others stay unexplained."""

import datetime as dt

import pytest

from core.tests.browser import browser_page, log_in
from vaccination.models import Dose
from vaccination.tests.factories import doses, person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_chart_and_a_dose_recorded_on_a_phone(live_server, world, password):
    old = person(world, "west_b1", "老未", dt.date(1945, 3, 1), phone="13900000055")
    doses(world, old, [dt.date(2021, 5, 1)])
    with browser_page() as page:
        log_in(page, live_server.url, "gina", password)
        page.goto(f"{live_server.url}/vaccination/")
        page.wait_for_selector("#chart-coverage canvas")
    with browser_page(phone=True) as page:
        log_in(page, live_server.url, "erin", password)
        page.goto(f"{live_server.url}/vaccination/reconciliation/?group=age_60_plus&level=full_course")
        page.click("#people >> text=老未")
        page.wait_for_selector("#dose-form")
        assert page.input_value("#id_dose_number") == "2"
        page.fill("#id_site", "辽河社区卫生服务站")
        page.check("#id_door_to_door")
        page.click("#dose-form button")
        page.wait_for_selector("text=已登记第2剂")
        assert Dose.objects.filter(resident=old, dose_number=2, door_to_door=True).exists()
        page.goto(f"{live_server.url}/vaccination/reconciliation/?group=age_60_plus&level=full_course")
        names = page.inner_text("#people")
        assert "王芳" in names and "老未" not in names  # the world's 王芳 has no dose, nothing recorded
