"""The audit administrator's pages (三员分立): search the log, one entry, the search as Excel.

Only the audit administrator opens them; everyone else gets 403, superusers and the security
administrator included (whoever can change permissions must not read the audit), and the refused
attempt is itself an entry. Each search, each entry looked at and each export is recorded.

Named pages.py, not views.py: pingan.audit is one of the domain packages the import contract
keeps free of view modules (.importlinter), like pingan.core.pages.
"""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from pingan.accounts.roles import is_audit_admin

from . import export
from .forms import SearchForm
from .models import Action, Outcome
from .services import Search, entry_by_seq, record, search

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require_audit_admin(request) -> None:
    if not is_audit_admin(request.user):
        record(
            request.user,
            Action.AUDIT_VIEWED,
            "audit",
            request.path_info,
            request=request,
            outcome=Outcome.DENIED,
        )
        raise PermissionDenied("只有审计管理员可以查阅审计日志")


def _form(request) -> SearchForm:
    params = request.GET.copy()
    params.pop("page", None)
    return SearchForm(params or None, auto_id="f-%s")


def _query(request) -> str:
    """The search's own query string, for the pager and the export link."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _refused(request, form, message: str = ""):
    """The search page with the form's errors (or `message`), and no results."""
    context = {"form": form, "page": None, "query": _query(request), "error": message}
    return render(request, "audit/search.html", context, status=400)


def _filters(form) -> Search:
    return form.search() if form.is_bound else Search()


@login_required
@require_GET
def search_page(request):
    _require_audit_admin(request)
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _refused(request, form)
    filters = _filters(form)
    page = Paginator(search(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    record(
        request.user,
        Action.AUDIT_VIEWED,
        "audit",
        "search",
        detail={"filters": filters.as_detail(), "page": page.number, "count": page.paginator.count},
        request=request,
    )
    return render(
        request,
        "audit/search.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": _query(request),
            "retention_days": settings.AUDIT_RETENTION_DAYS,
        },
    )


@login_required
@require_GET
def entry_page(request, seq: int):
    _require_audit_admin(request)
    entry = entry_by_seq(seq) if seq < 2**63 else None
    if entry is None:
        raise Http404("未找到该审计记录（可能已归档）")
    record(request.user, Action.AUDIT_VIEWED, "audit", str(seq), request=request)
    detail = json.dumps(entry.detail, ensure_ascii=False, indent=2, sort_keys=True)
    return render(request, "audit/entry.html", {"entry": entry, "detail": detail})


@login_required
@require_GET
def export_xlsx(request):
    _require_audit_admin(request)
    form = _form(request)
    if form.is_bound and not form.is_valid():
        return _refused(request, form)
    filters = _filters(form)
    entries = search(filters)
    count = entries.count()
    if count > export.MAX_ROWS:
        return _refused(
            request,
            form,
            f"查询结果共 {count} 条，超过单次导出上限 {export.MAX_ROWS} 条，请缩小时间范围后再导出",
        )
    body = export.workbook_bytes(entries.iterator(chunk_size=2000))
    record(
        request.user,
        Action.AUDIT_EXPORTED,
        "audit",
        "export",
        detail={"filters": filters.as_detail(), "count": count},
        request=request,
    )
    response = HttpResponse(body, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = export.content_disposition(stamp)
    response["Cache-Control"] = "no-store"
    return response
