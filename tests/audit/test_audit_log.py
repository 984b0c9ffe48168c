"""The append-only audit log: what one entry records, and that nothing can rewrite it."""

import pytest
from django.contrib.admin.sites import site
from django.db.models.deletion import ProtectedError
from django.test import RequestFactory

from pingan.accounts.models import Role, User
from pingan.audit.models import AuditEntry, ChainHead, Checkpoint
from pingan.audit.services import client_ip, record
from tests.conftest import make_user


@pytest.fixture
def officer(db):
    return make_user("audit_officer", Role.OFFICER, display_name="张警官")


def test_record_keeps_who_what_when_and_where(officer):
    entry = record(
        officer,
        "view_party_data",
        "dispute",
        "JF20261123-000001",
        detail={"parties": [1, 2]},
        ip="10.0.0.7",
    )
    entry.refresh_from_db()
    assert entry.actor == officer and entry.actor_label == "张警官"
    assert (entry.action, entry.object_type, entry.object_ref) == (
        "view_party_data",
        "dispute",
        "JF20261123-000001",
    )
    assert entry.detail == {"parties": [1, 2]} and entry.ip == "10.0.0.7"
    assert entry.at is not None


def test_label_survives_a_rename(officer):
    entry = record(officer, "export", "stats", "2026-11")
    User.objects.filter(pk=officer.pk).update(display_name="改名后")
    entry.refresh_from_db()
    assert entry.actor_label == "张警官"


def test_system_actions_have_no_actor(db):
    entry = record(None, "sweep", "dispute", "x" * 100)
    assert entry.actor is None and entry.actor_label == ""
    assert len(entry.object_ref) == 64


def test_entries_cannot_be_changed_or_removed(officer):
    entry = record(officer, "view_party_data", "dispute", "JF1", ip="10.0.0.7")
    entry.action = "nothing"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        AuditEntry.objects.all().update(action="nothing")
    with pytest.raises(ValueError):
        AuditEntry.objects.filter(actor=officer).delete()
    # Nor can the person be deleted from under their entries.
    with pytest.raises(ProtectedError):
        officer.delete()
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.action == "view_party_data"


def test_nobody_edits_the_audit_in_the_admin(db):
    # Not even read-only: whoever may change permissions there must not read the audit (三员分立);
    # the audit administrator's own pages replace it (test_pages.py).
    assert not ({AuditEntry, ChainHead, Checkpoint} & set(site._registry))


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": "10.0.0.9"}, "10.0.0.9"),
        # Not from a trusted proxy (none by default): the header is not believed.
        (
            {"REMOTE_ADDR": "10.0.0.9", "HTTP_X_FORWARDED_FOR": "203.0.113.5, 10.0.0.1"},
            "10.0.0.9",
        ),
        ({"REMOTE_ADDR": ""}, None),
    ],
)
def test_client_ip(meta, expected):
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected


def test_client_ip_without_a_request():
    assert client_ip(None) is None
