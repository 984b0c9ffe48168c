"""Security headers on every response (issue 11, point 6): the Content Security Policy, the
Permissions-Policy, Referrer-Policy and frame refusal, on pages, the API (its own short
middleware stack, pingan/wsgi.py), static files and Swagger UI."""

import pytest

from pingan.core import headers
from tests.core.test_wsgi import call

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


REQUIRED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def assert_policy(policy: str) -> dict[str, list[str]]:
    found = directives(policy)
    for name, values in REQUIRED.items():
        assert found.get(name) == values, (name, policy)
    # No way for a script to come from anywhere but our own files.
    assert "'unsafe-inline'" not in found["script-src"]
    assert "'unsafe-eval'" not in found["script-src"]
    assert {"'self'", "data:", "blob:"} <= set(found["img-src"])
    assert "'self'" in found["connect-src"]
    return found


@pytest.mark.parametrize("path", ["/login/", "/report/", "/api/docs", "/api/categories"])
def test_every_response_carries_the_policies(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert_policy(response["Content-Security-Policy"])
    permissions = response["Permissions-Policy"]
    for feature in ("geolocation=(self)", "camera=(self)", "microphone=()", "payment=()", "usb=()"):
        assert feature in permissions
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_refuse_framing(client):
    assert client.get("/login/")["X-Frame-Options"] == "DENY"


def test_the_api_handler_sends_them_too(world):
    """The API's own middleware stack (gunicorn's /api/ handler), not only the test client's."""
    status, sent, _ = call("/api/categories")
    assert status == 200
    assert_policy(sent["Content-Security-Policy"])
    assert "geolocation=(self)" in sent["Permissions-Policy"]
    assert sent["Referrer-Policy"] == "same-origin"


def test_static_files_carry_them(client):
    response = client.get("/static/pingan/app.js")
    assert response.status_code == 200
    assert_policy(response["Content-Security-Policy"])


def test_the_live_socket_on_its_own_port_is_allowed(client, settings):
    settings.LIVE_SOCKET_PORT = 8001
    found = assert_policy(
        client.get("/login/", HTTP_HOST="localhost:8000")["Content-Security-Policy"]
    )
    assert {"ws://localhost:8001", "wss://localhost:8001"} <= set(found["connect-src"])


def test_the_socket_behind_a_proxy_is_on_the_page_origin(client, settings):
    settings.LIVE_SOCKET_PORT = 0
    found = assert_policy(client.get("/login/", HTTP_HOST="localhost")["Content-Security-Policy"])
    assert {"ws://localhost", "wss://localhost"} <= set(found["connect-src"])


def test_an_unknown_host_names_no_socket_origin(settings):
    """A forged Host header must not widen connect-src."""
    settings.LIVE_SOCKET_PORT = 8001
    _, sent, _ = call("/api/categories", headers={"Host": "evil.example"})
    found = directives(sent["Content-Security-Policy"])
    assert found["connect-src"] == ["'self'"]


def test_map_tiles_from_the_configured_server(client, settings):
    settings.MAP_TILE_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&z={z}"
    found = assert_policy(client.get("/report/")["Content-Security-Policy"])
    assert "https://*.tianditu.gov.cn" in found["img-src"]


@pytest.mark.parametrize(
    "url, source",
    [
        ("", None),
        ("/tiles/{z}/{x}/{y}.png", None),  # our own origin: 'self'
        ("https://tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn"),
        ("http://10.0.0.5:8080/{z}/{x}/{y}.png", "http://10.0.0.5:8080"),
        ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "https://*.is.autonavi.com"),
    ],
)
def test_tile_sources(url, source):
    assert headers.tile_source(url) == source
