"""The NinjaAPI: mounts each app's router, and turns every error into one JSON shape:

{"error": {"code": "machine_readable", "message": "中文说明", "details": [...]}}
"""

import logging

from django.http import Http404
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from pingan.core.errors import ServiceError

log = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 text instead of \\u escapes: a third smaller for Chinese, readable in logs."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
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
