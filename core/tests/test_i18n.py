"""Chinese by default, English available."""

from django.urls import reverse


def test_chinese_is_the_default_and_english_is_available(client, world):
    client.force_login(world.user("carol"))
    assert "流动人口" in client.get(reverse("home")).text
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("home"))
    assert "Floating population" in page.text and 'lang="en"' in page.text


def test_api_docs_page_uses_local_assets(client, world):
    client.force_login(world.user("carol"))
    page = client.get("/api/docs")
    assert page.status_code == 200 and "/static/ninja/swagger-ui-bundle.js" in page.text
