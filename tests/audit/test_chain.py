"""The HMAC-SM3 chain: every entry linked to the one before, and `audit_verify` naming the first
link a direct edit of the table broke."""

from datetime import date
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from django.core.management import CommandError, call_command

from pingan.accounts.models import Role
from pingan.audit import chain, integrity
from pingan.audit.models import AuditEntry, ChainHead
from pingan.audit.services import record
from tests.conftest import make_user

from .helpers import raw_sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(db):
    return make_user("chain_officer", Role.OFFICER, display_name="李警官")


def five(officer):
    return [
        record(officer, "view_personal_data", "dispute", f"JF20261205-00000{i}", ip="10.0.0.7")
        for i in range(1, 6)
    ]


def verify_fails_at(seq: int, kind: str) -> str:
    with pytest.raises(CommandError) as failed:
        call_command("audit_verify")
    assert failed.value.returncode == 1
    message = str(failed.value)
    assert f"第 {seq} 条" in message and f"[{kind}]" in message, message
    return message


def test_sm3_hmac_is_available_from_cryptography():
    # The GB/T 32905 test vector: SM3("abc").
    assert chain.sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    signer = hmac.HMAC(b"k" * 32, hashes.SM3())
    signer.update(b"abc")
    assert len(signer.finalize()) == 32


def test_entries_are_numbered_and_linked(officer):
    entries = five(officer)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_mac == chain.GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_mac == before.mac
    head = ChainHead.objects.get()
    assert (head.seq, head.mac) == (5, entries[-1].mac)
    key_id, key = chain.current_key()
    for entry in AuditEntry.objects.all():
        assert entry.key_id == key_id
        assert chain.compute_mac(chain.values_of(entry), key) == entry.mac
    report = integrity.verify()
    assert report.ok and report.checked == 5


def test_verify_passes_and_says_so(officer, capsys):
    five(officer)
    call_command("audit_verify")
    assert "审计链完整" in capsys.readouterr().out


def test_values_survive_the_database_round_trip(officer):
    # Whatever a caller hands over, the MAC is of what the database gives back.
    record(
        officer,
        "export",
        "stats",
        "x",
        detail={"day": date(2026, 12, 5), "amount": Decimal("12.50"), "ids": (1, 2), 3: "三"},
        ip="2001:db8::0:1",
    )
    record(officer, "export", "stats", "y\x00z", detail={"text": "a\x00b"}, ip="not an address")
    entry = AuditEntry.objects.get(seq=1)
    assert entry.detail == {"day": "2026-12-05", "amount": "12.50", "ids": [1, 2], "3": "三"}
    assert entry.ip == "2001:db8::1"
    second = AuditEntry.objects.get(seq=2)
    assert (second.object_ref, second.detail, second.ip) == ("yz", {"text": "ab"}, None)
    assert integrity.verify().ok


def test_an_edited_entry_is_named_by_the_verifier(officer):
    five(officer)
    table = AuditEntry._meta.db_table
    assert raw_sql(f"UPDATE {table} SET actor_label = %s WHERE seq = 3", ["(tampered)"]) == 1
    message = verify_fails_at(3, "mac_mismatch")
    assert "本条内容被改动" in message


def test_an_edited_address_is_found_too(officer):
    five(officer)
    raw_sql(f"UPDATE {AuditEntry._meta.db_table} SET ip = %s WHERE seq = 2", ["198.51.100.1"])
    verify_fails_at(2, "mac_mismatch")


def test_a_deleted_entry_is_a_gap(officer):
    five(officer)
    raw_sql(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 2")
    message = verify_fails_at(3, "gap")
    assert "缺少第 2 至 2 条" in message


def test_a_cut_off_tail_is_a_gap_against_the_head(officer):
    five(officer)
    raw_sql(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq >= 4")
    verify_fails_at(4, "gap")


def test_a_renumbered_entry_breaks_the_link(officer):
    # Two entries swapped by their numbers: the one now in second place does not follow the
    # first, whatever its MAC.
    five(officer)
    table = AuditEntry._meta.db_table
    raw_sql(f"UPDATE {table} SET seq = -2 WHERE seq = 2")
    raw_sql(f"UPDATE {table} SET seq = 2 WHERE seq = 4")
    raw_sql(f"UPDATE {table} SET seq = 4 WHERE seq = -2")
    verify_fails_at(2, "broken_link")


def test_a_recomputed_entry_without_the_key_still_breaks_the_next_link(officer):
    # Someone rewrites entry 2 and gives it a fresh SHA-256 "MAC": without the key it cannot
    # match, and entry 3 no longer follows it either.
    five(officer)
    table = AuditEntry._meta.db_table
    raw_sql(f"UPDATE {table} SET mac = %s WHERE seq = 2", ["f" * 64])
    verify_fails_at(2, "mac_mismatch")


def test_keys_rotate_and_old_entries_verify_with_the_old_key(officer, settings):
    old = "o" * 40
    settings.AUDIT_HMAC_KEY = old
    record(officer, "export", "stats", "1")
    settings.AUDIT_HMAC_KEY = "n" * 40
    record(officer, "export", "stats", "2")
    first, second = AuditEntry.objects.order_by("seq")
    assert first.key_id != second.key_id
    # Without the old key the first entry cannot be checked, and the verifier says why.
    verify_fails_at(1, "unknown_key")
    settings.AUDIT_HMAC_OLD_KEYS = [old]
    assert integrity.verify().ok


def test_a_wrong_key_is_not_a_valid_chain(officer, settings):
    settings.AUDIT_HMAC_KEY = "a" * 40
    five(officer)
    settings.AUDIT_HMAC_KEY = "b" * 40
    settings.AUDIT_HMAC_OLD_KEYS = []
    verify_fails_at(1, "unknown_key")


def test_the_chain_continues_after_the_head_row_is_lost(officer):
    five(officer)
    raw_sql(f"DELETE FROM {ChainHead._meta.db_table}")
    entry = record(officer, "export", "stats", "after")
    assert entry.seq == 6 and entry.prev_mac == AuditEntry.objects.get(seq=5).mac
    assert integrity.verify().ok
