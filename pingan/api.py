"""The NinjaAPI: mounts each app's router, and turns every error into one JSON shape:

{"error": {"code": "machine_readable", "message": "中文说明", "details": [...]}}
"""

import functools
import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from pingan.core import dbfaults
from pingan.core.api_auth import AnonymousAllowed
from pingan.core.errors import ServiceError

log = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 text instead of \\u escapes: a third smaller for Chinese, readable in logs."""

    json_dumps_params = {"ensure_ascii": False}


# Every operation may answer these with the error envelope; the document says so, so that a
# client (and schemathesis) can tell a documented refusal from a broken answer.
ERROR_STATUSES = {
    400: "请求有误 · Bad request (malformed JSON or multipart, a refused value)",
    401: "未登录或令牌无效 · Not authenticated",
    403: "无权执行 · Forbidden",
    404: "不存在或无权查看 · Not found, or not in your scope",
    409: "状态冲突 · Conflict with the current state",
    413: "请求体过大 · Request body too large",
    422: "输入有误 · Invalid input (details name the fields)",
    423: "账号已锁定 · Locked",
    429: "请求过于频繁 · Too many requests (see Retry-After)",
    503: "数据库暂时不可用 · Database unavailable (see Retry-After)",
}
ERROR_SCHEMA = {
    "title": "ErrorOut",
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}


# Every write takes one (pingan/core/idempotency.py): documented so that clients generated
# from the document send it.
IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "A key of the client's choosing (a UUID), 1-100 printable ASCII characters: the same "
        "key again from the same account (or address) answers the stored answer, with "
        "`Idempotent-Replayed: true`, and changes nothing; with another request, 422 "
        "`idempotency_key_reused`. Kept IDEMPOTENCY_KEEP_HOURS (7 days)."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[!-~]+$"},
}


class PinganAPI(NinjaAPI):
    """ninja, plus what its document and its URL views leave out: the error statuses every
    operation may answer, optional authentication (an anonymous report) documented as such,
    and a 405 for a method a path does not take in the same JSON envelope as every error."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema["components"].setdefault("schemas", {})["ErrorOut"] = ERROR_SCHEMA
        optional = {
            self.get_openapi_operation_id(operation)
            for bound in self._get_bound_routers()
            for path_view in bound.path_operations.values()
            for operation in path_view.operations
            if any(isinstance(a, AnonymousAllowed) for a in operation.auth_callbacks or ())
        }
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for methods in schema["paths"].values():
            for method, operation in methods.items():
                if method in ("post", "put", "patch", "delete"):
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for status, description in ERROR_STATUSES.items():
                    operation["responses"].setdefault(
                        status, {"description": description, "content": error}
                    )
                if operation.get("operationId") in optional and operation.get("security"):
                    operation["security"].append({})  # no credentials is also accepted
        return schema

    def _get_urls(self):
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _json_not_allowed(url.callback)
        return urls


def _json_not_allowed(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        allowed = response.get("Allow", "")
        response = error_response(request, 405, "method_not_allowed", "不支持的请求方法")
        if allowed:
            response["Allow"] = allowed
        return response

    return wrapper


api = PinganAPI(
    renderer=ChineseJSONRenderer(),
    title="pingan 平安 API",
    version="1.0",
    description='社区与农村警务平台接口。错误统一为 {"error": {"code", "message"}}。',
    urls_namespace="api",
    # Swagger UI from ninja's own static files ("ninja" in INSTALLED_APPS): /api/docs works
    # offline. No validator badge: it would call validator.swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)


def error_response(request, status, code, message, details=None, retry_after=None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    response = api.create_response(request, body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    return response


def _field_path(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "payload", "query", "path", "form")]
    return ".".join(parts)


@api.exception_handler(ServiceError)
def on_service_error(request, exc: ServiceError):
    return error_response(
        request, exc.status, exc.code, exc.message, exc.details, getattr(exc, "retry_after", None)
    )


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [
        {"field": _field_path(err.get("loc", ())), "type": err.get("type"), "msg": err.get("msg")}
        for err in exc.errors
    ]
    fields = "、".join(sorted({d["field"] for d in details if d["field"]})) or "请求"
    return error_response(request, 422, "invalid_input", f"输入有误：{fields}", details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error_response(request, 401, "unauthorized", "请先登录或提供有效的令牌")


@api.exception_handler(Http404)
def on_404(request, exc):
    return error_response(request, 404, "not_found", "未找到该记录，或您无权查看")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    codes = {
        # django-ninja raises HttpError(400) when the body is not parseable JSON.
        400: ("malformed_json", "请求体不是有效的 JSON"),
        403: ("forbidden", "您无权执行此操作"),
        405: ("method_not_allowed", "不支持的请求方法"),
    }
    code, message = codes.get(exc.status_code, ("http_error", "请求无法处理"))
    return error_response(request, exc.status_code, code, message)


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request, exc):
    # e.g. Content-Type: multipart/form-data without a boundary: the client's fault, not ours.
    return error_response(request, 400, "malformed_multipart", "请求体不是有效的 multipart 表单")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request, exc):
    if isinstance(exc, RequestDataTooBig):
        return error_response(request, 413, "too_large", "请求体过大")
    log.warning("suspicious API request %s %s: %s", request.method, request.path, exc)
    return error_response(request, 400, "bad_request", "请求无法处理")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_db_unavailable(request, exc):
    """The database cannot be reached (restarting, pool exhausted): 503 with Retry-After, so
    the client retries later; nothing was saved by this request."""
    log.error("database unavailable: %s %s: %s", request.method, request.path, exc)
    return on_service_error(request, dbfaults.unavailable())


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    log.exception("unhandled API error")
    return error_response(request, 500, "server_error", "服务器内部错误，请稍后重试")


def _mount():
    from pingan.accounts.api import router as accounts_router
    from pingan.disputes.api import router as disputes_router
    from pingan.incidents.api import router as incidents_router
    from pingan.incidents.api import units_router
    from pingan.orgs.api import router as orgs_router
    from pingan.points.api import router as points_router
    from pingan.points.api_recognition import router as recognition_router
    from pingan.volunteers.api import router as volunteers_router

    api.add_router("/auth", accounts_router)
    api.add_router("/", orgs_router)
    api.add_router("/", incidents_router)
    api.add_router("/units", units_router)
    api.add_router("/disputes", disputes_router)
    api.add_router("/volunteers", volunteers_router)
    api.add_router("/points", points_router)
    api.add_router("/points", recognition_router)


_mount()
