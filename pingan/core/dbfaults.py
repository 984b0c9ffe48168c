"""The database is unreachable: one recognition, one answer.

While PostgreSQL restarts (or the network to it is cut), every request that touches the
database fails with a driver error. Those are not bugs of the request: the API answers them as
`503 {"error": {"code": "db_unavailable", ...}}` with `Retry-After`, pages as a Chinese 503
page, so a phone app retries later instead of reporting a server error — and a report that got
a 503 was not saved, so retrying it creates no duplicate.

- `is_unavailable(exc)`: the exception means "the database could not be reached or stopped
  answering" (Django's OperationalError and InterfaceError: a refused or broken connection, a
  pool timeout, a server shutting down; on SQLite, a database locked for longer than its
  timeout). Programming errors (ProgrammingError, IntegrityError, DataError) are not.
- `unavailable()`: the ServiceError the API maps (pingan/api.py).
- `api_response(status)`: the JSON envelope for the few answers made outside the API's own
  mapping (Django's handler404/500 for /api/ paths, pingan/core/pages.py).

How quickly a request gives up while the database is down and how fast the service recovers
are settings (pingan/settings.py: DB_CONNECT_TIMEOUT, DB_POOL_TIMEOUT, health checks).
"""

import json

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from pingan.core.errors import ServiceError

CODE = "db_unavailable"
MESSAGE = "数据库暂时不可用，请稍后重试"
# Seconds a client should wait before trying again: a restart takes a few.
RETRY_AFTER_SECONDS = 5

# What Django's own error views answer on /api/ paths (the API maps its own errors).
API_ERRORS = {
    404: ("not_found", "未找到该记录，或您无权查看"),
    500: ("server_error", "服务器内部错误，请稍后重试"),
    503: (CODE, MESSAGE),
}


def is_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def unavailable() -> ServiceError:
    return ServiceError(CODE, MESSAGE, status=503, retry_after=RETRY_AFTER_SECONDS)


def api_response(
    status: int, code: str = "", message: str = "", retry_after: int | None = None
) -> HttpResponse:
    """The API's error envelope, built without the API (core does not import it): for the
    answers middleware gives before a request reaches ninja."""
    default_code, default_message = API_ERRORS.get(status, ("http_error", "请求无法处理"))
    body = {"error": {"code": code or default_code, "message": message or default_message}}
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    if retry_after is None and status == 503:
        retry_after = RETRY_AFTER_SECONDS
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response
