"""Pages are Chinese only (docs/decisions.md): an English browser gets Chinese pages too, and
Django's own texts follow."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_an_english_browser_gets_chinese_pages():
    response = Client(headers={"Accept-Language": "en-US,en;q=0.9"}).get("/login/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


@pytest.mark.django_db
def test_a_language_cookie_changes_nothing():
    client = Client()
    client.cookies["django_language"] = "en"
    assert client.get("/login/")["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_there_is_no_language_switch():
    # Django's set_language view would only store a choice nothing reads.
    assert Client().post("/i18n/setlang/", {"language": "en"}).status_code == 404
