"""API tokens: each worker keeps a token's user for TOKEN_CACHE_SECONDS (the checkpoint phones post several
times a second), so a token revoked behind its back (the admin's revoked_at, a deactivated user) is refused
once that window is over, and revoke_token refuses it at once; a token call still records its user on the
history rows it writes, and the browser's session still needs the CSRF token for writes."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from accounts import services
from accounts.models import ApiToken, User
from accounts.services import issue_token, revoke_token, user_for_token


@pytest.fixture
def clock(monkeypatch):
    """The token cache's clock, moved on by hand."""
    now = [1000.0]
    monkeypatch.setattr(services, "monotonic", lambda: now[0])
    return now


def bearer(key):
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_revoke_token_refuses_it_at_once(world):
    key = issue_token(user=world.user("carol"), name="phone")
    api = bearer(key)
    assert api.get("/api/me").status_code == 200  # now cached
    revoke_token(token=ApiToken.objects.get())
    assert api.get("/api/me").status_code == 401


def test_a_token_revoked_in_the_database_is_refused_after_the_cache_window(world, clock):
    key = issue_token(user=world.user("carol"), name="phone")
    api = bearer(key)
    assert api.get("/api/me").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())  # as the admin page does: no cache to tell
    clock[0] += services.TOKEN_CACHE_SECONDS - 1
    assert api.get("/api/me").status_code == 200  # the documented window
    clock[0] += 2
    assert api.get("/api/me").status_code == 401
    assert api.get("/api/me").status_code == 401


def test_a_deactivated_user_or_a_new_unit_counts_after_the_cache_window(world, clock):
    carol = world.user("carol")
    api = bearer(issue_token(user=carol, name="phone"))
    assert api.get("/api/me").json()["org_unit"]["name"] == "龙兴社区"
    User.objects.filter(pk=carol.pk).update(org_unit=world.east_c2)
    clock[0] += services.TOKEN_CACHE_SECONDS + 1
    assert api.get("/api/me").json()["org_unit"]["name"] == "泰丰社区"
    User.objects.filter(pk=carol.pk).update(is_active=False)
    clock[0] += services.TOKEN_CACHE_SECONDS + 1
    assert api.get("/api/me").status_code == 401


def test_without_the_cache_every_request_asks_the_database(world, monkeypatch):
    monkeypatch.setattr(services, "TOKEN_CACHE_SECONDS", 0)
    api = bearer(issue_token(user=world.user("carol"), name="phone"))
    assert api.get("/api/me").status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    assert api.get("/api/me").status_code == 401


def test_each_request_gets_its_own_copy_of_the_cached_user(world):
    key = issue_token(user=world.user("carol"), name="phone")
    first, second = user_for_token(key), user_for_token(key)
    assert first is not None and second is not None and first is not second
    first.full_name = "changed by one request"
    assert second.full_name != "changed by one request"
    assert user_for_token(key).full_name != "changed by one request"  # type: ignore[union-attr]
    assert user_for_token("ybz_unknown") is None


def test_last_used_is_stamped_and_not_on_every_request(world, django_assert_max_num_queries):
    key = issue_token(user=world.user("carol"), name="phone")
    assert ApiToken.objects.get().last_used_at is None
    user_for_token(key)
    stamped = ApiToken.objects.get().last_used_at
    assert stamped is not None and timezone.now() - stamped < dt.timedelta(minutes=1)
    with django_assert_max_num_queries(0):
        user_for_token(key)


def test_a_token_call_records_its_user_on_the_history_rows_it_writes(world):
    """The history middleware still sees the request, and the request's user is the token's."""
    carol = world.user("carol")
    zhang = world.residents["zhang"]
    seen = []

    def record(sender, **kwargs):
        request = getattr(HistoricalRecords.context, "request", None)
        seen.append(getattr(getattr(request, "user", None), "pk", None))

    pre_create_historical_record.connect(record)
    try:
        answer = bearer(issue_token(user=carol, name="phone")).patch(
            f"/api/residents/{zhang.pk}", {"note": "随访", "reason": "电话随访"}, content_type="application/json"
        )
    finally:
        pre_create_historical_record.disconnect(record)
    assert answer.status_code == 200
    assert seen and set(seen) == {carol.pk}
    latest = zhang.history.order_by("-history_date", "-history_id").first()
    assert (latest.note, latest.history_user) == ("随访", carol)


def test_the_browser_session_still_needs_csrf_for_api_writes_and_a_token_does_not(world):
    zhang = world.residents["zhang"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.user("carol"))
    refused = browser.patch(f"/api/residents/{zhang.pk}", {"note": "x"}, content_type="application/json")
    assert refused.status_code in (401, 403)
    browser.get("/")  # the page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    ok = browser.patch(
        f"/api/residents/{zhang.pk}", {"note": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert ok.status_code == 200
    machine = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {issue_token(user=world.user('carol'), name='m')}"
    )
    assert (
        machine.patch(f"/api/residents/{zhang.pk}", {"note": "y"}, content_type="application/json").status_code == 200
    )
