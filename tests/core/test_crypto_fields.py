"""Personal data at rest in the database (pingan/core/fields.py): the columns hold SM4
ciphertext and no plaintext digits, callers still see plaintext, exact search goes through the
blind index (and nothing else is searchable), the data migrations convert existing rows both
ways, and `manage.py rotate_data_keys` re-encrypts and re-indexes, resumably."""

import base64
import re
import secrets
from io import StringIO

import pytest
from django import forms
from django.core.exceptions import FieldError, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Q
from django.test import override_settings

from pingan.accounts.models import User
from pingan.core import crypto
from pingan.core.fields import blind_lookup, blind_q, convert_rows, with_blind_indexes
from pingan.core.management.commands import rotate_data_keys
from pingan.disputes.models import Dispute, Handoff, Party
from pingan.disputes.services import PartyInput
from pingan.disputes.validation import party_key
from pingan.incidents.models import Incident
from pingan.notify.models import OutboundMessage
from pingan.notify.services import queue_message
from pingan.points.services import find_resident_by_phone
from pingan.volunteers.models import VolunteerProfile
from pingan.volunteers.services import save_profile
from tests.disputes.helpers import file
from tests.incidents.helpers import report_at

ID = "11010519491231002X"
PHONE = "+8613800138000"


def keyspec(kid: str) -> str:
    return f"{kid}:{base64.b64encode(secrets.token_bytes(16)).decode()}"


def raw_row(model, pk) -> dict:
    """The row as stored, read past the ORM."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def digit_runs(value: str, length=6) -> set[str]:
    digits = re.sub(r"\D", "", value)
    return {digits[i : i + length] for i in range(len(digits) - length + 1)}


def assert_no_plaintext(row: dict, *values: str) -> None:
    stored = " ".join(str(v) for v in row.values())
    for value in values:
        for run in digit_runs(value):
            assert run not in stored, f"{run} of {value} is stored in clear"


def party_dispute(world, **party):
    party = {"name": "王大山", "role": "applicant", "id_number": ID, "phone": PHONE, **party}
    return file(
        world, parties=[PartyInput(**party), PartyInput(name="李小河", phone="13900139002")]
    )


# --- at rest -----------------------------------------------------------------------------------


def test_columns_hold_ciphertext_and_no_plaintext_digits(world):
    world.citizen.phone = PHONE
    world.citizen.save()
    profile = save_profile(world.volunteer, real_name="赵义警", phone="13700137000")
    dispute = party_dispute(world)
    wang = dispute.parties.get(name="王大山")
    incident = report_at(reporter_phone="+8613600136000").incident
    message = queue_message("+8613500135000", "【平安】测试")
    handoff = Handoff.objects.create(
        dispute=dispute,
        at=dispute.reported_at,
        route="judicial",
        body_kind="people_mediation",
        body_name="司法所",
        contact_name="周所长",
        contact_phone="+8613300133000",
    )
    Dispute.objects.filter(pk=dispute.pk).update(handoff_phone="+8613300133000")

    checks = [
        (User, world.citizen.pk, ["phone"], [PHONE]),
        (VolunteerProfile, profile.pk, ["phone"], ["+8613700137000"]),
        (Party, wang.pk, ["phone", "id_number"], [PHONE, ID]),
        (Incident, incident.pk, ["reporter_phone"], ["+8613600136000"]),
        (OutboundMessage, message.pk, ["phone"], ["+8613500135000"]),
        (Handoff, handoff.pk, ["contact_phone"], ["+8613300133000"]),
        (Dispute, dispute.pk, ["handoff_phone"], ["+8613300133000"]),
    ]
    for model, pk, columns, values in checks:
        row = raw_row(model, pk)
        for column in columns:
            assert row[column].startswith("sm4g1:"), (model, column)
        # Anywhere in the row: the column, its blind index, Party.key.
        assert_no_plaintext(row, *values)
        # The ORM gives the plaintext back.
        obj = model.objects.get(pk=pk)
        assert [getattr(obj, c) for c in columns] == values
    assert list(Party.objects.filter(pk=wang.pk).values_list("id_number", "phone")) == [(ID, PHONE)]
    # An absent value is stored as it is.
    assert raw_row(Party, dispute.parties.get(name="李小河").pk)["id_number"] == ""


def test_a_tampered_column_is_refused_on_read(world):
    world.citizen.phone = PHONE
    world.citizen.save()
    stored = raw_row(User, world.citizen.pk)["phone"]
    head, body = stored.rsplit(":", 1)
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s",
            [f"{head}:{base64.b64encode(bytes(raw)).decode()}", world.citizen.pk],
        )
    with pytest.raises(crypto.DecryptionError):
        User.objects.get(pk=world.citizen.pk)
    # Plaintext written past the application is not taken for data either.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s", [PHONE, world.citizen.pk]
        )
    with pytest.raises(crypto.DecryptionError):
        User.objects.get(pk=world.citizen.pk)


def test_the_plaintext_length_is_still_validated(world):
    field = Party._meta.get_field("id_number")
    assert isinstance(field.formfield(), forms.CharField)
    assert field.formfield().max_length == 18
    party = Party(dispute=party_dispute(world), kind="person", role="other", name="x", id_number=ID)
    party.full_clean(exclude=["key"])
    party.id_number = ID + "0"
    with pytest.raises(ValidationError):
        party.full_clean(exclude=["key"])


# --- search -----------------------------------------------------------------------------------


def test_exact_search_goes_through_the_blind_index(world):
    world.citizen.phone = PHONE
    world.citizen.save()
    save_profile(world.volunteer, real_name="赵义警", phone="13700137000")
    assert list(User.objects.filter(phone=PHONE)) == [world.citizen]
    # However it is typed (the app's normaliser: E.164).
    assert list(User.objects.filter(phone="138 0013 8000")) == [world.citizen]
    assert not User.objects.filter(phone="+8613800138001").exists()
    # Across a relation, in Q objects, negated.
    assert list(User.objects.filter(Q(volunteer_profile__phone="13700137000"))) == [world.volunteer]
    found = User.objects.filter(Q(phone="13700137000") | Q(volunteer_profile__phone="13700137000"))
    assert list(found) == [world.volunteer]
    assert world.citizen not in User.objects.exclude(phone=PHONE)
    # The helpers.
    assert list(User.objects.filter(**blind_lookup(User, "phone", "13800138000"))) == [
        world.citizen
    ]
    assert list(User.objects.filter(blind_q(User, "volunteer_profile__phone", "13700137000"))) == [
        world.volunteer
    ]
    # An empty value finds nothing, never everyone without a phone.
    assert not User.objects.filter(**blind_lookup(User, "phone", " ")).exists()
    assert not User.objects.filter(phone=" ").exists()
    # "" and NULL are still what they were.
    assert world.citizen not in User.objects.filter(phone="")
    assert world.officer_a in User.objects.filter(phone="")
    assert not User.objects.filter(phone__isnull=True).exists()


def test_party_search_by_id_number_and_phone(world):
    dispute = party_dispute(world, id_number=ID.lower())
    assert Party.objects.get(id_number=ID).dispute == dispute
    assert Party.objects.get(id_number=ID.lower()).name == "王大山"
    assert Party.objects.get(phone="13800138000").name == "王大山"
    assert not Party.objects.filter(id_number="110105194912310029").exists()
    # Repeats between the same parties are still found by the (hashed) key.
    wang = Party.objects.get(phone=PHONE)
    assert wang.key == party_key("person", "王大山", ID, PHONE)
    assert not wang.key.startswith("id:")
    again = party_dispute(world)
    assert again.parties.get(name="王大山").key == wang.key


@pytest.mark.parametrize(
    "lookup",
    [
        {"phone__contains": "138"},
        {"phone__icontains": "138"},
        {"phone__startswith": "+86"},
        {"phone__in": [PHONE]},
        {"phone__gt": ""},
        {"phone__iexact": PHONE},
        {"phone__regex": "138"},
    ],
)
def test_other_lookups_on_encrypted_fields_are_refused(world, lookup):
    with pytest.raises(FieldError):
        list(User.objects.filter(**lookup))


def test_fields_without_a_blind_index_cannot_be_searched(world):
    report_at(reporter_phone=PHONE)
    with pytest.raises(FieldError, match="blind index"):
        list(Incident.objects.filter(reporter_phone=PHONE))
    with pytest.raises(FieldError):
        blind_lookup(Incident, "reporter_phone", PHONE)
    assert Incident.objects.exclude(reporter_phone="").count() == 1


def test_existing_searches_by_phone_still_work(world):
    world.citizen.phone = PHONE
    world.citizen.save()
    save_profile(world.volunteer, real_name="赵义警", phone="13700137000")
    assert find_resident_by_phone("138 0013 8000") == world.citizen
    assert find_resident_by_phone("13700137000") == world.volunteer
    queue_message(PHONE, "【平安】一")
    assert OutboundMessage.objects.filter(phone=PHONE).count() == 1


def test_a_partial_save_keeps_the_index(world, django_assert_num_queries):
    profile = save_profile(world.volunteer, real_name="赵义警", phone="13700137000")
    profile.phone = "+8613700137001"
    # update_fields without the index: it is written right after.
    with django_assert_num_queries(2):
        profile.save(update_fields=["phone"])
    assert VolunteerProfile.objects.get(phone="13700137001") == profile
    assert not VolunteerProfile.objects.filter(phone="13700137000").exists()
    profile.phone = "+8613700137002"
    with django_assert_num_queries(1):
        profile.save(update_fields=["phone", "phone_hash"])
    assert VolunteerProfile.objects.get(phone="13700137002") == profile
    # The service that edits profiles.
    save_profile(world.volunteer, real_name="赵义警", phone="13700137003")
    assert VolunteerProfile.objects.get(phone="13700137003") == profile
    # The party key follows its sources too.
    wang = party_dispute(world).parties.get(name="王大山")
    wang.id_number = ""
    wang.save(update_fields=["id_number"])
    assert Party.objects.get(pk=wang.pk).key == party_key("person", "王大山", "", PHONE)
    assert not Party.objects.filter(id_number=ID).exists()


def test_queryset_update_with_the_index(world):
    User.objects.filter(pk=world.citizen.pk).update(**with_blind_indexes(User, phone=PHONE))
    assert User.objects.get(phone=PHONE) == world.citizen
    assert raw_row(User, world.citizen.pk)["phone"].startswith("sm4g1:")


# --- data migrations ----------------------------------------------------------------------------


def test_convert_rows_forward_and_back(world):
    dispute = party_dispute(world)
    wang, li = dispute.parties.get(name="王大山"), dispute.parties.get(name="李小河")
    # The rows as they were before the migration: plaintext, no index.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disputes_party SET id_number = %s, phone = %s, id_number_hash = '', "
            "phone_hash = '' WHERE id = %s",
            [ID, PHONE, wang.pk],
        )
    columns = {"id_number": ("id_number_hash", "id_number"), "phone": ("phone_hash", "phone")}
    assert convert_rows(connection, "disputes_party", "id", columns, forward=True, batch=1) == 2
    row = raw_row(Party, wang.pk)
    assert row["id_number"].startswith("sm4g1:") and row["phone"].startswith("sm4g1:")
    assert_no_plaintext(row, ID, PHONE)
    assert Party.objects.get(id_number=ID) == wang
    assert Party.objects.get(phone=PHONE) == wang
    assert (Party.objects.get(pk=wang.pk).id_number, wang.phone) == (ID, PHONE)
    # Run again (an interrupted migration resumed): already encrypted values are kept.
    before = raw_row(Party, wang.pk)
    convert_rows(connection, "disputes_party", "id", columns, forward=True)
    assert raw_row(Party, wang.pk)["phone"] == before["phone"]
    # Backward: plaintext again.
    convert_rows(connection, "disputes_party", "id", columns, forward=False, batch=1)
    row = raw_row(Party, wang.pk)
    assert (row["id_number"], row["phone"]) == (ID, PHONE)
    assert raw_row(Party, li.pk)["phone"] == "+8613900139002"


@pytest.mark.django_db(transaction=True)
def test_the_migrations_convert_existing_rows_both_ways(world):
    dispute = party_dispute(world)
    wang = dispute.parties.get(name="王大山")
    message = queue_message(PHONE, "【平安】测试")
    try:
        call_command("migrate", "disputes", "0002_default_risk_rules", verbosity=0)
        call_command("migrate", "notify", "0001_initial", verbosity=0)
        party = raw_row(Party, wang.pk)
        assert (party["id_number"], party["phone"]) == (ID, PHONE)
        assert party["key"] == f"id:{ID}"
        assert raw_row(OutboundMessage, message.pk)["phone"] == PHONE
    finally:
        call_command("migrate", "disputes", verbosity=0)
        call_command("migrate", "notify", verbosity=0)
    party = raw_row(Party, wang.pk)
    assert party["id_number"].startswith("sm4g1:") and party["phone"].startswith("sm4g1:")
    assert_no_plaintext(party, ID, PHONE)
    assert party["key"] == party_key("person", "王大山", ID, PHONE)
    assert Party.objects.get(id_number=ID) == wang
    assert OutboundMessage.objects.get(phone="13800138000") == message


# --- rotation ---------------------------------------------------------------------------------


def stored_kids(model, pk, columns) -> list[str]:
    row = raw_row(model, pk)
    return [crypto.key_id(row[c]) for c in columns]


def test_rotation_re_encrypts_under_the_new_key(world):
    k1, k2 = keyspec("k1"), keyspec("k2")
    with override_settings(DATA_KEYS=[k1]):
        world.citizen.phone = PHONE
        world.citizen.save()
        old = party_dispute(world).parties.get(name="王大山")
    with override_settings(DATA_KEYS=[k2, k1]):
        # Before rotation: old rows decrypt with the old key, new rows use the new one.
        new = party_dispute(world, name="孙二娘", id_number="", phone="13600136000")
        new = new.parties.get(name="孙二娘")
        assert stored_kids(Party, old.pk, ["id_number", "phone"]) == ["k1", "k1"]
        assert stored_kids(Party, new.pk, ["phone"]) == ["k2"]
        assert Party.objects.get(pk=old.pk).id_number == ID
        assert rotate_data_keys.pending()["disputes_party.id_number"] == 1

        out = StringIO()
        call_command("rotate_data_keys", "--batch-size", "1", stdout=out)
        assert "disputes_party.id_number: 1 re-encrypted under key k2" in out.getvalue()
        assert "accounts_user.phone: 1 re-encrypted under key k2" in out.getvalue()
        assert stored_kids(Party, old.pk, ["id_number", "phone"]) == ["k2", "k2"]
        assert stored_kids(User, world.citizen.pk, ["phone"]) == ["k2"]
        assert set(rotate_data_keys.pending().values()) == {0}
        out = StringIO()
        call_command("rotate_data_keys", "--check", stdout=out)
        assert "total: 0 not under key k2" in out.getvalue()
    # The old key can go: everything decrypts, and search still finds both rows.
    with override_settings(DATA_KEYS=[k2]):
        assert Party.objects.get(id_number=ID) == old
        assert Party.objects.get(phone="13600136000") == new
        assert User.objects.get(phone=PHONE).pk == world.citizen.pk
        assert Party.objects.get(pk=old.pk).phone == PHONE


def test_an_interrupted_rotation_resumes(world, monkeypatch):
    k1, k2 = keyspec("k1"), keyspec("k2")
    with override_settings(DATA_KEYS=[k1]):
        messages = [queue_message(f"+86135001350{i:02d}", "【平安】") for i in range(6)]
    with override_settings(DATA_KEYS=[k2, k1]):
        real, calls = crypto.encrypt, {"n": 0}

        def failing(plaintext):
            calls["n"] += 1
            if calls["n"] > 3:
                raise RuntimeError("power cut")
            return real(plaintext)

        monkeypatch.setattr(crypto, "encrypt", failing)
        with pytest.raises(RuntimeError):
            rotate_data_keys.rotate(batch=2)
        monkeypatch.setattr(crypto, "encrypt", real)
        # Whole batches were committed; the rest is still under the old key and still readable.
        kids = [stored_kids(OutboundMessage, m.pk, ["phone"])[0] for m in messages]
        assert kids.count("k2") == 2 and kids.count("k1") == 4
        assert rotate_data_keys.pending()["notify_outboundmessage.phone"] == 4
        done, failed = rotate_data_keys.rotate(batch=2)
        assert done["notify_outboundmessage.phone"] == 4
        assert not any(failed.values())
        assert {stored_kids(OutboundMessage, m.pk, ["phone"])[0] for m in messages} == {"k2"}
        assert OutboundMessage.objects.get(phone="+8613500135003") == messages[3]


def test_rotation_reports_values_it_cannot_decrypt(world):
    k1, k2 = keyspec("k1"), keyspec("k2")
    with override_settings(DATA_KEYS=[k1]):
        world.citizen.phone = PHONE
        world.citizen.save()
        world.citizen2.phone = "+8613800138009"
        world.citizen2.save()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s",
            ["sm4g1:k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", world.citizen2.pk],
        )
    with override_settings(DATA_KEYS=[k2, k1]):
        with pytest.raises(
            CommandError, match=f"accounts_user.phone: 1 \\(ids \\[{world.citizen2.pk}"
        ):
            call_command("rotate_data_keys", stdout=StringIO())
        # The readable rows were rotated anyway; the damaged one was left as it was.
        assert stored_kids(User, world.citizen.pk, ["phone"]) == ["k2"]
        assert stored_kids(User, world.citizen2.pk, ["phone"]) == ["k1"]


def test_reindex_after_an_index_key_change(world):
    world.citizen.phone = PHONE
    world.citizen.save()
    dispute = party_dispute(world)
    with override_settings(DATA_INDEX_KEY=base64.b64encode(secrets.token_bytes(32)).decode()):
        # The indexes depend on the key: under a new one, nothing is found until rebuilt.
        assert not User.objects.filter(phone=PHONE).exists()
        assert not Party.objects.filter(id_number=ID).exists()
        out = StringIO()
        call_command("rotate_data_keys", "--reindex", stdout=out)
        assert "accounts_user.phone_hash: 1 blind index values rebuilt" in out.getvalue()
        assert "disputes_party.key: 2 blind index values rebuilt" in out.getvalue()
        assert User.objects.get(phone=PHONE) == world.citizen
        wang = Party.objects.get(id_number=ID)
        assert wang.dispute == dispute
        assert wang.key == party_key("person", "王大山", ID, PHONE)
        # Nothing left to do: a second run changes nothing.
        out = StringIO()
        call_command("rotate_data_keys", "--reindex", stdout=out)
        assert "total: 0 blind index values rebuilt" in out.getvalue()


def test_generate_key(world):
    out = StringIO()
    call_command("rotate_data_keys", "--generate-key", "k7", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    assert crypto.parse_data_keys([lines["DATA_KEYS"]])[0][0] == "k7"
    crypto.parse_index_key(lines["DATA_INDEX_KEY"])
    with pytest.raises(CommandError):
        call_command("rotate_data_keys", "--generate-key", "bad kid!", stdout=StringIO())
