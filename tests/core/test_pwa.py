"""The phone ends as an installable app: a manifest with icons that exist, a service worker at
the root that lists the shell by its hashed names and is never cached, an offline page."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_manifest_makes_the_site_installable(world):
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    body = json.loads(response.content)
    assert body["display"] == "standalone" and body["start_url"].startswith("/")
    assert body["short_name"] == "平安" and body["lang"] == "zh-CN"
    sizes = {icon["sizes"] for icon in body["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes  # what Chromium wants to offer installation
    assert any(icon.get("purpose") == "maskable" for icon in body["icons"])
    for icon in body["icons"]:
        path = icon["src"].removeprefix("/static/")
        assert finders.find(path), icon["src"]


def test_every_page_links_the_manifest_and_the_worker(world):
    page = Client().get("/login/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'data-sw="/sw.js"' in page


def test_the_service_worker_is_served_at_the_root_uncached_with_the_shell(world):
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    text = response.content.decode()
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", text).group(1))
    assert "/offline/" in shell
    for url in shell:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "/api/" in text  # API calls are left alone


def test_the_offline_page_speaks_chinese_and_offers_110(world):
    response = Client().get("/offline/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "当前没有网络" in page and 'href="tel:110"' in page
