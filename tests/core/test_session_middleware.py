"""Pages keep their idle timeout (the session is saved on every page request); API calls write
the session only when they changed it."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pingan.core.middleware import SessionMiddleware

pytestmark = pytest.mark.django_db


def _session_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "django_session" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


@pytest.fixture
def logged_in(world):
    """A citizen's browser whose session expires in 5 minutes."""
    client = Client()
    client.force_login(world.citizen)
    key = client.session.session_key
    soon = timezone.now() + timedelta(minutes=5)
    Session.objects.filter(pk=key).update(expire_date=soon)
    return client, key, soon


def test_settings_use_this_middleware():
    assert "pingan.core.middleware.SessionMiddleware" in settings.MIDDLEWARE
    assert "django.contrib.sessions.middleware.SessionMiddleware" not in settings.MIDDLEWARE
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_a_page_request_extends_the_session(logged_in):
    client, key, soon = logged_in
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/my/reports/").status_code == 200
    assert _session_writes(ctx.captured_queries)
    expires = Session.objects.get(pk=key).expire_date
    assert expires > soon + timedelta(minutes=20)


def test_an_api_call_with_the_session_does_not_write_it(logged_in):
    client, key, soon = logged_in
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/api/auth/me")
    assert response.status_code == 200  # authenticated by the session it read
    assert response.json()["username"] == "citizen"
    assert _session_writes(ctx.captured_queries) == []
    assert Session.objects.get(pk=key).expire_date == soon
    assert "Cookie" in response.headers.get("Vary", "")  # the answer depends on the session


def test_an_api_call_that_logs_in_still_saves_the_session(world):
    def login_view(request):
        django_login(request, world.citizen, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponse("ok")

    request = RequestFactory().post("/api/auth/login")
    with CaptureQueriesContext(connection) as ctx:
        response = SessionMiddleware(login_view)(request)
    assert _session_writes(ctx.captured_queries)
    key = response.cookies[settings.SESSION_COOKIE_NAME].value
    saved = Session.objects.get(pk=key).get_decoded()
    assert saved["_auth_user_id"] == str(world.citizen.pk)


def test_an_api_call_that_changes_the_session_still_saves_it(logged_in):
    client, key, soon = logged_in

    def view(request):
        request.session["seen"] = True
        return HttpResponse("ok")

    request = RequestFactory().get("/api/anything")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = key
    SessionMiddleware(view)(request)
    row = Session.objects.get(pk=key)
    assert row.get_decoded()["seen"] is True
    assert row.expire_date > soon


def test_the_api_login_endpoint_still_works(world):
    from tests.conftest import PASSWORD

    response = Client().post(
        "/api/auth/login",
        {"username": "citizen", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["token"]
