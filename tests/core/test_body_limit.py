"""Request bodies are judged by their Content-Length before anything reads them (security
review F3): over the route's maximum → 413, and not one byte of the body is read."""

import asyncio
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from pingan.core.bodylimit import AsgiBodyLimit, route_maximum
from pingan.wsgi import application
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class CountingBody:
    """A request body that counts how often it is read (and holds nothing): a refused body
    must be refused by its header alone, with no read at all."""

    def __init__(self):
        self.reads = 0

    def read(self, size=-1):
        self.reads += 1
        return b""

    def readline(self, size=-1):
        return self.read(size)


def wsgi_call(path, length, *, content_type="application/json", cookies=None):
    body = CountingBody()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.errors": io.StringIO(),
        "CONTENT_LENGTH": str(length),
        "CONTENT_TYPE": content_type,
    }
    if cookies:
        environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    started = {}
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)

    try:
        content = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content, body.reads


def test_an_oversized_api_body_is_refused_unread():
    status, headers, content, reads = wsgi_call("/api/incidents", 60 * MB)
    assert status == 413
    assert reads == 0
    assert headers["Content-Type"].startswith("application/json")
    error = json.loads(content)["error"]
    assert error["code"] == "request_too_large"
    assert "1 MB" in error["message"]


def test_an_oversized_page_post_gets_the_chinese_page_unread():
    status, headers, content, reads = wsgi_call(
        "/login/", 60 * MB, content_type="application/x-www-form-urlencoded"
    )
    assert status == 413
    assert reads == 0
    assert headers["Content-Type"].startswith("text/html")
    assert "提交的内容过大" in content.decode()


def test_photo_routes_allow_the_photos_and_no_more(settings):
    settings.PHOTO_MAX_COUNT, settings.PHOTO_MAX_BYTES = 6, 5 * MB
    allowed = settings.REQUEST_MAX_BYTES + 30 * MB
    assert route_maximum("/report/", commander=False) == allowed
    assert route_maximum("/api/incidents/JQ20261204-000001/photos", commander=False) == allowed
    assert route_maximum("/api/volunteers/tasks/RW20261204-0001/report", commander=False) == allowed
    status, _, _, reads = wsgi_call(
        "/report/", allowed + 1, content_type="multipart/form-data; boundary=x"
    )
    assert status == 413 and reads == 0


def test_a_photo_route_reads_a_body_within_its_allowance(world):
    """2 MB (over the 1 MB default) on the report page is not refused for its size."""
    photo = SimpleUploadedFile("a.jpg", b"\xff\xd8" + b"\0" * (2 * MB), "image/jpeg")
    form = {
        "category": "020100",
        "description": "有人打架",
        "lat": "26.3",
        "lng": "114.3",
        "crs": "wgs84",
    }
    response = Client().post("/report/", {**form, "photos": [photo]})
    assert response.status_code == 400  # judged (not an image), not refused unread
    assert "不是有效的图片" in response.content.decode()


def test_the_grid_import_allowance_is_for_commanders_only(world):
    commander, officer = Client(), Client()
    assert commander.login(username=world.commander.username, password=PASSWORD)
    assert officer.login(username=world.officer_a.username, password=PASSWORD)
    length = 5 * MB
    kind = "multipart/form-data; boundary=x"
    status, _, _, reads = wsgi_call(
        "/console/grids/import/",
        length,
        content_type=kind,
        cookies={"sessionid": officer.cookies["sessionid"].value},
    )
    assert status == 413 and reads == 0
    # The commander's body is not refused by its size: it is read (here: found empty).
    status, _, _, reads = wsgi_call(
        "/console/grids/import/",
        length,
        content_type=kind,
        cookies={"sessionid": commander.cookies["sessionid"].value},
    )
    assert status != 413 and reads > 0


def test_a_small_body_passes(world):
    response = Client().post(
        "/api/incidents",
        {"category": "020100", "description": "x" * 100, "location": {"lat": 26.3, "lng": 114.3}},
        content_type="application/json",
    )
    assert response.status_code == 201


# --- the ASGI app, which would buffer the body before Django runs ------------------------------


def run_asgi(path, headers, chunks):
    sent, handed_to_app = [], []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            handed_to_app.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if message["type"] == "http.disconnect":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    queue = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    pulled = []

    async def receive():
        message = queue.pop(0)
        pulled.append(message)
        return message

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "method": "POST", "headers": headers}
    asyncio.run(AsgiBodyLimit(app)(scope, receive, send))
    return sent, pulled


def test_asgi_refuses_a_declared_oversize_without_receiving(settings):
    sent, pulled = run_asgi("/api/incidents", [(b"content-length", str(60 * MB).encode())], [b"x"])
    assert sent[0]["status"] == 413
    assert pulled == []
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_too_large"


def test_asgi_cuts_an_undeclared_stream_at_the_limit(settings):
    settings.REQUEST_MAX_BYTES = 10
    sent, pulled = run_asgi("/api/incidents", [], [b"12345678", b"12345678", b"12345678"])
    assert sent[0]["status"] == 413
    assert len(pulled) == 2  # the third chunk was never asked for


def test_asgi_passes_a_body_within_the_limit():
    sent, _ = run_asgi("/api/incidents", [(b"content-length", b"4")], [b"{}{}"])
    assert sent[0]["status"] == 200
