"""The HTTP workers' WSGI application: /api/ through the short middleware stack, pages through
the whole one, and both authenticate as before (bearer token; session with its CSRF check)."""

import io
import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from pingan.accounts.services import issue_token
from pingan.wsgi import application
from tests.conftest import GA1_CENTER, PASSWORD

pytestmark = pytest.mark.django_db


def call(path, *, method="GET", body=b"", headers=None, cookies=None):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    started = {}
    # As Django's test client does: the test's transaction owns the connection, so the
    # handler must not close it at the request's start and end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


def report_body():
    return json.dumps(
        {
            "category": "020100",
            "description": "村口有人打架",
            "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
        }
    ).encode()


def test_a_bearer_report_through_the_api_handler(world):
    token = issue_token(world.citizen).token
    status, headers, content = call(
        "/api/incidents",
        method="POST",
        body=report_body(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert status == 201, content
    assert json.loads(content)["status"] == "dispatched"
    assert headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware still runs


def test_a_session_api_call_needs_its_csrf_token_and_works_with_it(world):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=world.citizen.username, password=PASSWORD)
    session = browser.cookies["sessionid"].value
    status, _, _ = call("/api/auth/me", cookies={"sessionid": session})
    assert status == 200
    refused, _, _ = call(
        "/api/incidents", method="POST", body=report_body(), cookies={"sessionid": session}
    )
    assert refused == 403
    browser.get("/report/")  # the page sets the CSRF cookie, as a browser would have it
    csrf = browser.cookies["csrftoken"].value
    status, _, content = call(
        "/api/incidents",
        method="POST",
        body=report_body(),
        headers={"X-CSRFToken": csrf},
        cookies={"sessionid": session, "csrftoken": csrf},
    )
    assert status == 201, content


def test_pages_keep_the_whole_stack(world):
    status, headers, _ = call("/login/")
    assert status == 200
    assert headers["X-Frame-Options"] == "DENY"  # clickjacking middleware: pages only
    assert "Content-Language" in headers  # locale middleware: pages only
