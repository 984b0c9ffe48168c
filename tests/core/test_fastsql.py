"""Lean inserts write exactly what the ORM writes: the same row, read back through the ORM,
for any values the report path can produce (text with any Unicode, JSON, aware datetimes,
NULLs, floats), on SQLite and on PostgreSQL."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core import fastsql
from pingan.incidents.models import EventKind, IncidentEvent
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=60,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
)

COMPARED = ("incident_id", "kind", "at", "actor_id", "unit_id", "message", "data")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(EventKind.values),
    at=moments,
    message=text,
    data=st.dictionaries(text, json_values, max_size=4),
    with_actor=st.booleans(),
)
def test_a_lean_insert_reads_back_like_an_orm_create(world, kind, at, message, data, with_actor):
    incident = report_at(reporter=world.citizen).incident
    values = {
        "incident_id": incident.pk,
        "kind": kind,
        "at": at,
        "actor_id": world.citizen.pk if with_actor else None,
        "unit_id": None,
        "message": message,
        "data": data,
    }
    lean = IncidentEvent.objects.get(pk=fastsql.insert(IncidentEvent, **values))
    orm = IncidentEvent.objects.get(pk=IncidentEvent.objects.create(**values).pk)
    assert {f: getattr(lean, f) for f in COMPARED} == {f: getattr(orm, f) for f in COMPARED}


def test_a_multi_row_insert_returns_ids_in_row_order(world):
    incident = report_at().incident
    rows = [
        {"incident_id": incident.pk, "kind": EventKind.NOTE, "at": datetime.now(UTC), "message": m}
        for m in ("一", "二", "三")
    ]
    ids = fastsql.insert_many(IncidentEvent, rows)
    assert [IncidentEvent.objects.get(pk=i).message for i in ids] == ["一", "二", "三"]
    assert ids == sorted(ids)


def test_defaults_are_the_models(world):
    incident = report_at().incident
    event = IncidentEvent.objects.get(
        pk=fastsql.insert(
            IncidentEvent, incident_id=incident.pk, kind=EventKind.NOTE, at=datetime.now(UTC)
        )
    )
    assert event.data == {} and event.message == "" and event.actor_id is None


def test_a_missing_required_value_is_refused_by_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.insert(IncidentEvent, kind=EventKind.NOTE, at=datetime.now(UTC))
