"""Statement counts of the hot paths, pinned: a regression (a lost cache, an ORM read in the
loop, a push back on the request path) fails here before it shows in a benchmark.

Counted with the per-process caches warm, as in a running server. Inside the test's own
transaction a service's transaction is a SAVEPOINT and a RELEASE, which are counted; in
production they are BEGIN (counted) and COMMIT (not a statement Django logs)."""

import json

import pytest

from pingan.incidents.models import Unit
from tests.conftest import GA1_CENTER, GB1_CENTER

pytestmark = pytest.mark.django_db

# A report that finds its unit in the near box: savepoint, code, duplicate check, incident,
# unit search, assignment, unit taken, status, the two timeline rows in one insert, release.
REPORT = 10
ANONYMOUS_REPORT = REPORT + 1  # the quota upsert


def report_body(category, center):
    return json.dumps(
        {
            "category": category,
            "description": "村口有人打架",
            "location": {"lat": center[1], "lng": center[0]},
        }
    )


def post_report(client, category, center):
    response = client.post(
        "/api/incidents", report_body(category, center), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_a_citizens_report(world, api, warm_caches, django_assert_num_queries):
    citizen = api(world.citizen)
    post_report(citizen, "020100", GA1_CENTER)  # caches, grid index, token: warm
    with django_assert_num_queries(REPORT):
        data = post_report(citizen, "050100", GB1_CENTER)
    assert data["assignment"]["unit"] == world.unit_officer_b.name


def test_an_anonymous_report(world, api, warm_caches, django_assert_num_queries):
    post_report(api(), "020100", GA1_CENTER)
    with django_assert_num_queries(ANONYMOUS_REPORT):
        data = post_report(api(), "050100", GB1_CENTER)
    assert data["status"] == "dispatched"


# A unit action: savepoint, the incident locked within the user's scope, their assignment
# locked, its update, the incident's update, the timeline row, release; then the response
# re-reads the incident's detail (incident, assignments, timeline, its actors, photos,
# duplicates).
ACTION = 7
DETAIL = 6


@pytest.mark.parametrize("actions", [["accept"], ["accept", "arrive"]])
def test_unit_actions(world, api, warm_caches, django_assert_num_queries, actions):
    data = post_report(api(world.citizen), "050100", GB1_CENTER)
    unit = Unit.objects.select_related("user").get(pk=data["assignment"]["unit_id"])
    officer = api(unit.user)
    officer.get("/api/auth/me")
    *before, counted = actions
    for action in before:
        assert officer.post(f"/api/incidents/{data['code']}/{action}").status_code == 200
    with django_assert_num_queries(ACTION + DETAIL):
        response = officer.post(f"/api/incidents/{data['code']}/{counted}")
    assert response.status_code == 200, response.content
