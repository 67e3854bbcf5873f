"""Login, logout and lockout after repeated failures."""

from django.urls import reverse


def test_login_page_is_in_chinese_and_login_leads_home(client, world, password):
    page = client.get(reverse("login"))
    assert "登录" in page.text
    response = client.post(reverse("login"), {"username": "carol", "password": password})
    assert response.status_code == 302 and response.url == reverse("home")


def test_pages_need_a_login(client, world):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, world, password):
    for _ in range(5):
        client.post(reverse("login"), {"username": "dave", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "dave", "password": password})
    assert response.status_code == 429
    assert "锁定" in response.text
    # Another user is not affected.
    ok = client.post(reverse("login"), {"username": "carol", "password": password})
    assert ok.status_code == 302


def test_logout_needs_post_and_ends_the_session(client, world):
    client.force_login(world.user("carol"))
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
