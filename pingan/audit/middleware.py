"""Superuser use is audited, and the admin's bulk edits are not lost.

`AuditMiddleware` (in MIDDLEWARE and API_MIDDLEWARE, after AuthenticationMiddleware):
- makes the request known to entries recorded without one (context.py: their address);
- records `superuser_action` for every state-changing request (not GET, HEAD, OPTIONS) made by a
  superuser, signed in before the request or by it (a superuser's sign-in, a token login too);
- after a state-changing admin request, turns the admin LogEntry rows it wrote that no post_save
  saw (Django writes a bulk delete's with bulk_create) into audit entries.

An audit write that fails after the request's own work committed is logged, not turned into an
error answer: the work is done, and a retry would do it twice.
"""

import logging

from django.contrib.admin.models import LogEntry
from django.urls import NoReverseMatch, reverse

from . import context
from .models import Action, AuditEntry
from .receivers import admin_entry
from .services import record

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _superuser(request):
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_superuser:
        return user
    return None


def _admin_prefix() -> str | None:
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return None


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = _admin_prefix()

    def __call__(self, request):
        token = context.begin(request)
        try:
            if request.method in SAFE_METHODS:
                return self.get_response(request)
            return self._unsafe(request)
        finally:
            context.end(token)

    def _unsafe(self, request):
        before = _superuser(request)
        in_admin = bool(self.admin_prefix) and request.path_info.startswith(self.admin_prefix)
        mark = None
        if in_admin:
            mark = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
        response = self.get_response(request)
        state = context.current()
        try:
            if in_admin:
                self._bulk_admin_entries(request, mark or 0)
            actor = _superuser(request) or before or (state.superuser if state else None)
            if actor is not None:
                match = getattr(request, "resolver_match", None)
                record(
                    actor,
                    Action.SUPERUSER_ACTION,
                    "request",
                    f"{request.method} {request.path_info}",
                    detail={
                        "method": request.method,
                        "path": request.path_info[:300],
                        "view": getattr(match, "view_name", "") or "",
                        "status": response.status_code,
                    },
                    request=request,
                )
        except Exception:
            log.exception("audit: could not record %s %s", request.method, request.path_info)
        return response

    def _bulk_admin_entries(self, request, mark: int) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        state = context.current()
        seen = state.log_entries if state is not None else set()
        for entry in (
            LogEntry.objects.filter(pk__gt=mark, user_id=user.pk)
            .exclude(pk__in=list(seen))
            .select_related("content_type", "user")
            .order_by("pk")
        ):
            # Another request of the same person may have written it meanwhile.
            if not AuditEntry.objects.filter(detail__log_entry=entry.pk).exists():
                admin_entry(entry)
