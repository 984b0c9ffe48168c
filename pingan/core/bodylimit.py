"""Request body limits, applied before anything reads the body.

A request's body is judged by its `Content-Length` before authentication, routing or parsing
read a byte of it: over the route's maximum it is answered 413 (JSON under /api/, the Chinese
error page elsewhere) and never read. Without such a cap, eight anonymous 60 MB posts held a
gigabyte of memory (security review F3).

- Every route: REQUEST_MAX_BYTES (1 MB): JSON and form posts are small. Django enforces the same
  figure once more when a body is parsed (DATA_UPLOAD_MAX_MEMORY_SIZE) and streams uploaded
  files above FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file instead of memory.
- Routes that take photos (the report page, a report's photos, a volunteer's task report):
  PHOTO_MAX_COUNT × PHOTO_MAX_BYTES more.
- The GeoJSON grid import page: GEOJSON_MAX_BYTES more, for commanders only (the session's
  user is known here; reading it reads no body). Anyone else gets the default.

Under WSGI (gunicorn, pingan/wsgi.py) a body is read only when the view asks for it, so the
Django middleware is the check. The ASGI app (pingan/asgi.py) reads the whole body before Django
sees the request, so `AsgiBodyLimit` applies the route's largest maximum in front of it, from
the header or, for a body sent without one (chunked), by counting what arrives.
"""

import json
import re

from django.conf import settings
from django.http import HttpResponse

API_PREFIX = "/api/"

# Routes with a larger allowance (paths only: the core knows no view).
PHOTO_ROUTES = (
    re.compile(r"^/report/$"),
    re.compile(r"^/api/incidents/[^/]+/photos$"),
    re.compile(r"^/api/volunteers/tasks/[^/]+/report$"),
    re.compile(r"^/volunteer/tasks/[^/]+/$"),
)
GEOJSON_ROUTES = (re.compile(r"^/console/grids/import/$"),)


def _photos_allowance() -> int:
    return settings.PHOTO_MAX_COUNT * settings.PHOTO_MAX_BYTES


def route_maximum(path: str, *, commander: bool | None) -> int:
    """The largest body `path` accepts. `commander=None`: whoever asks (the ASGI guard, which
    does not know the user yet, applies the larger figure and leaves the rest to Django)."""
    base = settings.REQUEST_MAX_BYTES
    if any(p.match(path) for p in PHOTO_ROUTES):
        return base + _photos_allowance()
    if commander is not False and any(p.match(path) for p in GEOJSON_ROUTES):
        return base + settings.GEOJSON_MAX_BYTES
    return base


def declared_length(value) -> int:
    """The Content-Length header as a number (absent or malformed: 0, as Django reads it)."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _message(limit: int) -> str:
    megabytes = limit / 1024 / 1024
    return f"提交的内容过大（上限 {megabytes:.0f} MB），未处理。请减少或压缩照片、文件后重试"


def json_body(limit: int) -> bytes:
    error = {"code": "request_too_large", "message": _message(limit)}
    return json.dumps({"error": error}, ensure_ascii=False).encode()


def too_large(request, limit: int) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        return HttpResponse(
            json_body(limit), status=413, content_type="application/json; charset=utf-8"
        )
    from .pages import error_page

    return error_page(
        request, 413, message=_message(limit), code="request_too_large", template="400.html"
    )


class RequestBodyLimitMiddleware:
    """Refuses a body over its route's maximum from the header alone. Place it after the
    authentication middleware (the grid import's allowance depends on the user) and before
    anything that reads the body (CSRF's view check reads POST, after every middleware's
    request phase)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = declared_length(request.META.get("CONTENT_LENGTH"))
        if length > settings.REQUEST_MAX_BYTES:
            user = getattr(request, "user", None)
            commander = bool(getattr(user, "is_authenticated", False)) and bool(
                getattr(user, "is_commander", False)
            )
            limit = route_maximum(request.path_info, commander=commander)
            if length > limit:
                return too_large(request, limit)
        return self.get_response(request)


class AsgiBodyLimit:
    """The same limit in front of the ASGI app (which buffers bodies before Django runs)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = route_maximum(scope.get("path", ""), commander=None)
        headers = dict(scope.get("headers") or ())
        if b"content-length" in headers:
            if declared_length(headers[b"content-length"].decode("latin-1")) > limit:
                return await self._refuse(send, limit)
            return await self.app(scope, receive, send)
        # No length declared (chunked): count what arrives and stop at the limit.
        received = 0
        cut = False
        started = False

        async def counting_receive():
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def watching_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, watching_send)
        if cut and not started:
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send, limit: int) -> None:
        body = json_body(limit)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
