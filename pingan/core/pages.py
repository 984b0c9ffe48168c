"""Errors on pages: one mapping from ServiceError to an error page, the 400/403/404/500 and
CSRF-failure views, and one log line per refused request.

The API (/api/) maps the same errors to JSON in pingan/api.py; this module is for pages only.

- `ServiceErrorPages` (middleware): a ServiceError a page view lets escape becomes the 404 page
  (NotFound, status 404), the 403 page (Forbidden, status 403) or the 400 page (anything else,
  with its own 4xx status, e.g. 409 for a Conflict), each showing the error's Chinese message.
  Forms that show an error next to the field keep catching it themselves.
- `bad_request` / `permission_denied` / `page_not_found` / `server_error`: Django's handler400/
  403/404/500 (pingan/urls.py), in the site's layout, showing the Chinese reason a view gave
  (`PermissionDenied("只有指挥员可以访问指挥台")`). On /api/ paths they answer the API's JSON
  envelope instead; an unhandled database outage is a 503 (pingan/core/dbfaults.py), with
  Retry-After, never a 500.
- `csrf_failure` (CSRF_FAILURE_VIEW): a form posted with a lost or stale CSRF cookie (a phone's
  browser cleared it, the session expired, WeChat's webview) is not thrown away. When the post
  came from our own pages, the failure page carries everything the user typed in a new form with
  a fresh token, so one tap sends it again.
- `OneLineRefusals` (logging filter on django.request and django.security.csrf): a 4xx is
  logged as one line (method, path, user id, status, code, reason) instead of a traceback.
"""

import logging
import re
import sys
from urllib.parse import urlsplit

from django.http import HttpResponsePermanentRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static

from pingan.core import dbfaults
from pingan.core.errors import ServiceError

API_PREFIX = "/api/"
# The (code, message) a page gave for refusing a request: read by OneLineRefusals.
REFUSAL_ATTR = "_pingan_refusal"

_CJK = re.compile(r"[\u3400-\u9fff]")
# Fields never sent back to the browser in the CSRF-failure page.
_NEVER_ECHO = re.compile(r"password|passwd|secret|token|csrfmiddlewaretoken", re.IGNORECASE)
_MAX_FIELDS = 200
_MAX_VALUE_CHARS = 20000

TITLES = {
    400: "请求无法完成",
    403: "无权访问",
    404: "页面不存在",
    500: "服务器出错了",
    503: "服务暂时不可用",
}
DEFAULT_MESSAGES = {
    400: "提交的内容有误，请返回修改后重试。",
    403: "您没有权限访问这个页面。如需办理，请使用有权限的账号登录。",
    404: "未找到该页面或记录，或您无权查看。请检查地址，或从首页重新进入。",
    500: "服务器暂时出了问题，请稍后再试。紧急情况请直接拨打 110。",
    503: "数据库暂时不可用，请稍等几秒后刷新页面重试。紧急情况请直接拨打 110。",
}


def _reason(exception) -> str:
    """The Chinese message a view gave, or "" (Django's own English messages are not shown)."""
    if exception is None:
        return ""
    message = getattr(exception, "message", None)
    if not isinstance(message, str):
        args = getattr(exception, "args", ())
        message = args[0] if args and isinstance(args[0], str) else ""
    return message if _CJK.search(message) else ""


def mark_refused(request, code: str, message: str = "") -> None:
    setattr(request, REFUSAL_ATTR, (code, message))


def error_page(request, status: int, *, message: str = "", code: str = "", template=None):
    mark_refused(request, code or str(status), message)
    context = {
        "status": status,
        "title": TITLES.get(status, TITLES[400]),
        "message": message or DEFAULT_MESSAGES.get(status, DEFAULT_MESSAGES[400]),
    }
    return render(request, template or f"{status}.html", context, status=status)


# --- Django's handlers (pingan/urls.py) ------------------------------------------------------


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request, exception=None):
    if _is_api(request):
        return dbfaults.api_response(400, "bad_request", _reason(exception) or "请求无法处理")
    return error_page(request, 400, message=_reason(exception), code="bad_request")


def permission_denied(request, exception=None):
    if _is_api(request):
        return dbfaults.api_response(403, "forbidden", _reason(exception) or "您无权执行此操作")
    return error_page(request, 403, message=_reason(exception), code="forbidden")


def page_not_found(request, exception=None):
    # An unknown /api/ path answers the API's JSON, never this HTML page.
    if _is_api(request):
        return dbfaults.api_response(404)
    return error_page(request, 404, message=_reason(exception), code="not_found")


def server_error(request):
    """Django's handler500: an exception no view or middleware handled. Django calls it inside
    its `except` block, so the exception is at hand: a database that cannot be reached is a 503
    (JSON on /api/ paths, the Chinese 503 page elsewhere), never a 500."""
    down = dbfaults.is_unavailable(sys.exc_info()[1])
    status = 503 if down else 500
    if _is_api(request):
        return dbfaults.api_response(status)
    # No request context: whatever failed (the database, a context processor) must not fail
    # the error page too. base.html then draws the anonymous top bar.
    template = loader.get_template(f"{status}.html")
    context = {"status": status, "title": TITLES[status], "message": DEFAULT_MESSAGES[status]}
    response = HttpResponseServerError(template.render(context), status=status)
    if down:
        response["Retry-After"] = str(dbfaults.RETRY_AFTER_SECONDS)
    return response


# --- ServiceError → page ---------------------------------------------------------------------


def response_for_service_error(request, exc: ServiceError):
    if exc.status == 404:
        return error_page(request, 404, message=exc.message, code=exc.code)
    if exc.status == 403:
        return error_page(request, 403, message=exc.message, code=exc.code)
    status = exc.status if 400 <= exc.status < 500 else 400
    response = error_page(request, status, message=exc.message, code=exc.code, template="400.html")
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response["Retry-After"] = str(max(1, int(retry_after)))
    return response


class ServiceErrorPages:
    """A ServiceError escaping a page view becomes its error page (the API maps its own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceError) or request.path_info.startswith(API_PREFIX):
            return None
        return response_for_service_error(request, exception)


# --- CSRF failure ------------------------------------------------------------------------------


def _same_origin(request) -> bool:
    """The post came from one of our own pages: the browser's Origin (or, without one, the
    Referer) names this host. A cross-site post must never be offered for resubmission."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return bool(parts.netloc) and parts.netloc == request.get_host()


def _kept_fields(request) -> list[tuple[str, str]]:
    kept = []
    for name, values in request.POST.lists():
        if _NEVER_ECHO.search(name):
            continue
        for value in values:
            kept.append((name[:200], value[:_MAX_VALUE_CHARS]))
            if len(kept) >= _MAX_FIELDS:
                return kept
    return kept


def _preview(fields) -> list[str]:
    """What the user typed, to show on the page: text, not ids, coordinates or flags."""
    shown = []
    for _name, value in fields:
        text = value.strip()
        if len(text) >= 2 and not re.fullmatch(r"[\d\s.,:+\-]*|on|true|false|wgs84|gcj02", text):
            shown.append(text if len(text) <= 300 else text[:300] + "…")
    return shown[:10]


def csrf_failure(request, reason=""):
    fields = _kept_fields(request) if request.method == "POST" else []
    same_origin = _same_origin(request)
    # A login or password form is not re-sent without its password: the user opens it again.
    had_password = any(_NEVER_ECHO.search(n) for n in request.POST if n != "csrfmiddlewaretoken")
    resubmit = bool(fields) and same_origin and not had_password
    referer = urlsplit(request.headers.get("Referer") or "")
    back = referer.path if same_origin and referer.path.startswith("/") else ""
    mark_refused(request, "csrf", reason)
    context = {
        "status": 403,
        "title": "页面已过期",
        "resubmit": resubmit,
        "fields": fields if resubmit else [],
        "preview": _preview(fields) if resubmit else [],
        "action": request.get_full_path(),
        "back": back or request.get_full_path(),
        "had_files": bool(request.FILES),
        "had_password": had_password,
    }
    return render(request, "csrf_failure.html", context, status=403)


# --- logging ---------------------------------------------------------------------------------


def _printable(text: str, limit: int = 300) -> str:
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text)[:limit])
    return text


class OneLineRefusals(logging.Filter):
    """Rewrites a refused request's log record (status 4xx) as one line without a traceback:

        refused 403 GET /console/ user=12 code=forbidden 只有指挥员可以访问指挥台

    Server errors (5xx) keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        if request is None or not isinstance(status, int) or status >= 500:
            return True
        code, message = getattr(request, REFUSAL_ATTR, ("", ""))
        if not message and record.exc_info and record.exc_info[1] is not None:
            message = str(record.exc_info[1])
        user = getattr(request, "user", None)
        user_id = getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None
        parts = [
            "refused",
            str(status),
            getattr(request, "method", "?") or "?",
            _printable(getattr(request, "path", "")),
            f"user={user_id if user_id is not None else '-'}",
        ]
        if code:
            parts.append(f"code={_printable(code, 60)}")
        if message:
            parts.append(_printable(message))
        record.msg = " ".join(parts)
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def favicon(request):
    """Browsers (and the admin, whose pages have no <link rel="icon">) ask for /favicon.ico;
    send them to the site's icon under its hashed, long-cached name."""
    return HttpResponsePermanentRedirect(static("pingan/favicon.svg"))
