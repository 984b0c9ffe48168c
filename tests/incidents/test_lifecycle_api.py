"""The unit's walk through an incident over the API, with the 1-3-5 milestones it records."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.incidents import services
from pingan.incidents.models import Incident
from pingan.incidents.queries import compliance
from tests.incidents.helpers import GB1_CENTER, report_at

pytestmark = pytest.mark.django_db


def test_accept_arrive_reinforce_resolve_rate(world, api):
    code = report_at(reporter=world.citizen).incident.code
    officer = api(world.officer_a)
    mine = officer.get("/api/assignments/mine").json()
    assert [a["incident"]["code"] for a in mine] == [code]
    assert officer.post(f"/api/incidents/{code}/accept").json()["status"] == "accepted"
    assert officer.post(f"/api/incidents/{code}/accept").status_code == 409
    assert officer.post(f"/api/incidents/{code}/arrive").json()["status"] == "on_scene"
    reinforced = officer.post(
        f"/api/incidents/{code}/reinforce", {"note": "需要支援"}, content_type="application/json"
    ).json()
    assert {a["role"] for a in reinforced["assignments"]} == {"primary", "reinforcement"}
    # The citizen cannot rate before it is resolved.
    citizen = api(world.citizen)
    early = citizen.post(
        f"/api/incidents/{code}/rate", {"rating": 5}, content_type="application/json"
    )
    assert early.status_code == 409
    done = officer.post(
        f"/api/incidents/{code}/resolve",
        {"outcome": "mediated", "note": "已调解"},
        content_type="application/json",
    ).json()
    assert done["status"] == "resolved" and done["outcome"] == "mediated"
    assert officer.get("/api/assignments/mine").json() == []
    rated = citizen.post(
        f"/api/incidents/{code}/rate",
        {"rating": 4, "comment": "很及时"},
        content_type="application/json",
    )
    assert rated.json()["rating"] == 4
    assert (
        citizen.post(
            f"/api/incidents/{code}/rate", {"rating": 5}, content_type="application/json"
        ).status_code
        == 409
    )
    kinds = [e["kind"] for e in citizen.get(f"/api/incidents/{code}").json()["timeline"]]
    assert kinds == [
        "reported",
        "offered",
        "accepted",
        "arrived",
        "reinforce_requested",
        "offered",
        "resolved",
        "rated",
    ]


def test_only_the_reporter_rates(world, api):
    code = report_at(reporter=world.citizen).incident.code
    services.resolve(code, world.commander, outcome="no_finding")
    for user in (world.citizen2, world.officer_a):
        response = api(user).post(
            f"/api/incidents/{code}/rate", {"rating": 1}, content_type="application/json"
        )
        assert response.status_code == 404
    bad = api(world.citizen).post(
        f"/api/incidents/{code}/rate", {"rating": 6}, content_type="application/json"
    )
    assert bad.status_code == 422


def test_arrive_before_accept_is_refused(world, api):
    code = report_at().incident.code
    response = api(world.officer_a).post(f"/api/incidents/{code}/arrive")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_accepted"


def test_resolved_incident_accepts_no_more_actions(world, api):
    code = report_at().incident.code
    services.accept(code, world.officer_a)
    services.resolve(code, world.officer_a, outcome="handled_on_site")
    response = api(world.officer_a).post(f"/api/incidents/{code}/arrive")
    assert response.status_code in (403, 409)


def test_false_report_is_marked_invalid(world):
    code = report_at().incident.code
    services.accept(code, world.officer_a)
    incident = services.resolve(code, world.officer_a, outcome="false_report")
    assert incident.valid is False


def test_milestones_and_compliance_per_area(world, settings):
    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 120
    t0 = timezone.now() - timedelta(hours=1)
    fast = report_at(now=t0).incident
    services.accept(fast.code, world.officer_a, t0 + timedelta(seconds=40))
    services.arrive(fast.code, world.officer_a, t0 + timedelta(seconds=150))
    slow = report_at(GB1_CENTER, now=t0, category="050100").incident
    services.accept(slow.code, world.officer_b, t0 + timedelta(seconds=90))
    services.arrive(slow.code, world.officer_b, t0 + timedelta(seconds=400))
    fast.refresh_from_db()
    assert (fast.accept_s, fast.arrive_s) == (40, 150)
    rows = {r["code"]: r for r in compliance(Incident.objects.all(), "grid")}
    assert rows["GA1"]["accept_rate"] == 1.0 and rows["GA1"]["arrive_rate"] == 1.0
    assert rows["GB1"]["accept_rate"] == 0.0 and rows["GB1"]["arrive_rate"] == 0.0
    assert rows["GB1"]["avg_arrive_s"] == 400
    by_org = {r["name"]: r for r in compliance(Incident.objects.all(), "org")}
    assert by_org["东门警务室"]["total"] == 1


def test_snapshot_reports_the_running_clock(world, api):
    code = report_at().incident.code
    data = api(world.officer_a).get(f"/api/incidents/{code}").json()
    assert data["sla"]["accept"]["state"] == "running"
    assert data["sla"]["accept"]["target_s"] == 60
    services.accept(code, world.officer_a)
    data = api(world.officer_a).get(f"/api/incidents/{code}").json()
    assert data["sla"]["accept"]["state"] == "met"


def test_compliance_endpoint(world, api):
    report_at()
    rows = api(world.commander).get("/api/sla/compliance?group=org").json()
    assert rows and rows[0]["total"] == 1
    assert api(world.citizen).get("/api/sla/compliance").status_code == 403


def test_unit_duty_and_position(world, api):
    officer = api(world.officer_a)
    data = officer.post(
        "/api/units/me/duty", {"on_duty": False}, content_type="application/json"
    ).json()
    assert data["on_duty"] is False
    assert report_at().assignment.unit != world.unit_officer_a
    moved = officer.post(
        "/api/units/me/position",
        {"lat": 26.31, "lng": 114.31, "crs": "wgs84"},
        content_type="application/json",
    )
    assert moved.json()["position"] == {"lat": 26.31, "lng": 114.31}
    bad = officer.post(
        "/api/units/me/position", {"lat": 100, "lng": 114.31}, content_type="application/json"
    )
    assert bad.status_code == 422
    bad_crs = officer.post(
        "/api/units/me/position",
        {"lat": 26, "lng": 114, "crs": "mars"},
        content_type="application/json",
    )
    assert bad_crs.status_code == 422


def test_console_list_filters(world, api):
    a = report_at().incident
    report_at(GB1_CENTER, category="050100")
    commander = api(world.commander)
    assert commander.get("/api/incidents?category=020000").json()["total"] == 1
    assert commander.get("/api/incidents?grid=GB1").json()["total"] == 1
    assert commander.get("/api/incidents?org=S-A").json()["items"][0]["code"] == a.code
    assert commander.get("/api/incidents?open=true").json()["total"] == 2
    assert commander.get("/api/incidents?status=bogus").status_code == 422
    assert commander.get("/api/incidents?org=NOPE").status_code == 400
    assert commander.get("/api/incidents?limit=0").status_code == 422


def test_console_list_query_count_is_pinned(world, api, django_assert_max_num_queries):
    for i in range(5):
        report_at(dlat=0.001 * i, category=["020100", "050100", "070100", "030100", "080100"][i])
    client = api(world.commander)
    with django_assert_max_num_queries(12):
        assert client.get("/api/incidents").json()["total"] == 5
