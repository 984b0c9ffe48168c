"""Idempotency-Key on the API's writes: the same key twice is one effect and the same answer,
for every write route of the API (walked from the access matrix) and for anonymous reports
(two copies racing on PostgreSQL: test_idempotency_race.py)."""

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client

from pingan.core import clock
from pingan.core.management.commands.prune import prune
from pingan.core.models import IdempotentRequest
from pingan.incidents.models import Incident
from tests.access_matrix import OK, PERSONAS, ROUTES
from tests.conftest import GA1_CENTER, api_client
from tests.test_access_matrix import fingerprint, scene, send  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

WRITE_ROUTES = sorted(
    key
    for key in ROUTES
    if not key.startswith(("GET ", "page ")) and any(ROUTES[key].rule[p] == OK for p in PERSONAS)
)


def _report(key=None, description="村口有人打架", client=None):
    headers = {"Idempotency-Key": key} if key else {}
    return (client or Client()).post(
        "/api/incidents",
        json.dumps(
            {
                "category": "020100",
                "description": description,
                "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
            }
        ),
        content_type="application/json",
        headers=headers,
    )


def test_an_anonymous_report_sent_twice_is_one_report(world):
    key = str(uuid.uuid4())
    first = _report(key)
    assert first.status_code == 201, first.content
    again = _report(key)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1
    # Another key is another report.
    assert _report(str(uuid.uuid4())).status_code == 201
    assert Incident.objects.count() == 2


def test_the_same_key_for_another_request_is_refused(world):
    key = str(uuid.uuid4())
    assert _report(key).status_code == 201
    reused = _report(key, description="另一件事")
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert Incident.objects.count() == 1


def test_keys_are_per_sender_and_survive_a_new_token(world):
    key = "same-key-1"
    mine = _report(key, client=api_client(world.citizen))
    theirs = _report(key, client=api_client(world.citizen2))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["code"] != theirs.json()["code"]
    # Signed in again (a new token): still the same sender, still one report.
    again = _report(key, client=api_client(world.citizen))
    assert again.json()["code"] == mine.json()["code"]
    assert Incident.objects.count() == 2


def test_a_malformed_key_is_refused_and_writes_without_one_are_untouched(world):
    bad = _report("has space")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_idempotency_key"
    assert _report().status_code == 201 and _report().status_code == 201
    assert Incident.objects.count() == 2
    assert not IdempotentRequest.objects.exists()


def test_a_refusal_that_may_pass_later_is_not_stored(world, settings):
    settings.ANON_REPORTS_PER_HOUR = 1
    assert _report().status_code == 201
    key = str(uuid.uuid4())
    assert _report(key).status_code == 429
    assert not IdempotentRequest.objects.filter(key=key).exists()


def test_stored_answers_are_pruned_after_their_time(world, settings):
    _report(str(uuid.uuid4()))
    now = clock.now()
    assert prune(now, parts=("idempotency",))["idempotency"] == 0
    later = now + timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS + 1)
    assert prune(later, parts=("idempotency",))["idempotency"] == 1


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_every_write_route_honours_the_key(scene, db, route):  # noqa: F811
    """The first persona allowed to make the write sends it twice with one key: the second
    answer is the first (a success, or the refusal the scene's state earns), and the data are
    as the first left them."""
    persona = next(p for p in PERSONAS if ROUTES[route].rule[p] == OK)
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    _, first = send(route, persona, scene, headers)
    assert first.status_code < 500 and first.status_code not in (401, 423, 429), (
        route,
        persona,
        first.content[:300],
    )
    after_first = fingerprint(scene)
    _, second = send(route, persona, scene, headers)
    assert second.status_code == first.status_code, route
    assert second.content == first.content, route
    assert second["Idempotent-Replayed"] == "true", route
    assert fingerprint(scene) == after_first, f"{route}: the repeat changed data"
