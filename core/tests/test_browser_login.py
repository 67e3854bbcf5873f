"""The login screen in a real browser, and the lockout after repeated failures."""

import pytest

from core.tests.browser import browser_page, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("browser")]


def test_a_user_logs_in_and_sees_his_unit(live_server, world, password):
    with browser_page() as page:
        log_in(page, live_server.url, "carol", password)
        assert "龙兴社区" in page.inner_text("nav")
        assert "社区工作人员" in page.inner_text("nav")
