"""Scoping: each role sees and acts on exactly its own; a denied request changes nothing."""

import pytest
from django.test import Client

from pingan.incidents.models import Assignment, Incident, IncidentEvent
from tests.incidents.helpers import GB1_CENTER, report_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_incidents(world):
    a = report_at(reporter=world.citizen).incident  # station A, officer_a
    b = report_at(GB1_CENTER, reporter=world.citizen2, category="050100").incident  # station B
    return a, b


def codes(response):
    return {item["code"] for item in response.json()["items"]}


def test_officer_sees_only_own_station(world, api, two_incidents):
    a, b = two_incidents
    assert codes(api(world.officer_a).get("/api/incidents")) == {a.code}
    assert codes(api(world.officer_b).get("/api/incidents")) == {b.code}
    assert api(world.officer_a).get(f"/api/incidents/{b.code}").status_code == 404


def test_missing_and_not_yours_look_the_same(world, api, two_incidents):
    _, b = two_incidents
    not_yours = api(world.officer_a).get(f"/api/incidents/{b.code}")
    missing = api(world.officer_a).get("/api/incidents/JQ20000101-000001")
    assert not_yours.status_code == missing.status_code == 404
    assert not_yours.json() == missing.json()


def test_officer_cannot_act_on_another_stations_incident(world, api, two_incidents):
    _, b = two_incidents
    before = (IncidentEvent.objects.count(), list(Assignment.objects.values_list("status")))
    for action in ("accept", "arrive", "reinforce"):
        response = api(world.officer_a).post(
            f"/api/incidents/{b.code}/{action}", content_type="application/json"
        )
        assert response.status_code in (403, 404)
    response = api(world.officer_a).post(
        f"/api/incidents/{b.code}/resolve", {"outcome": "mediated"}, content_type="application/json"
    )
    assert response.status_code in (403, 404)
    assert (IncidentEvent.objects.count(), list(Assignment.objects.values_list("status"))) == before


def test_colleague_not_assigned_cannot_accept(world, api, two_incidents):
    a, _ = two_incidents  # offered to officer_a
    response = api(world.aux_a).post(f"/api/incidents/{a.code}/accept")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Incident.objects.get(pk=a.pk).accepted_at is None


def test_unit_sent_across_the_boundary_sees_that_incident(world, api, two_incidents):
    a, b = two_incidents
    from pingan.incidents import services

    assert api(world.officer_b).get(f"/api/incidents/{a.code}").status_code == 404
    services.resolve(b.code, world.commander, outcome="no_finding")
    services.redispatch(a.code, world.commander, unit_id=world.unit_officer_b.pk)
    assert api(world.officer_b).get(f"/api/incidents/{a.code}").status_code == 200
    assert api(world.officer_b).post(f"/api/incidents/{a.code}/accept").status_code == 200


def test_citizen_sees_only_own_reports(world, api, two_incidents):
    a, b = two_incidents
    assert codes(api(world.citizen).get("/api/incidents")) == {a.code}
    assert api(world.citizen).get(f"/api/incidents/{a.code}").status_code == 200
    assert api(world.citizen).get(f"/api/incidents/{b.code}").status_code == 404
    assert codes(api(world.volunteer).get("/api/incidents")) == set()


def test_citizen_detail_hides_staff_fields(world, api, two_incidents):
    a, _ = two_incidents
    mine = api(world.citizen).get(f"/api/incidents/{a.code}").json()
    assert "reporter" not in mine and "duplicates" not in mine
    assert [e["kind"] for e in mine["timeline"]][:2] == ["reported", "offered"]
    staff = api(world.officer_a).get(f"/api/incidents/{a.code}").json()
    assert staff["reporter"] == "citizen"


def test_anonymous_can_only_report(world, two_incidents):
    a, _ = two_incidents
    client = Client()
    assert client.get("/api/incidents").status_code == 401
    assert client.get(f"/api/incidents/{a.code}").status_code == 401
    assert client.post(f"/api/incidents/{a.code}/accept").status_code == 401
    assert client.get("/api/assignments/mine").status_code == 401
    assert client.get("/api/grids").status_code == 401
    assert client.get("/console/").status_code == 302
    assert client.get("/report/").status_code == 200


def test_station_chief_sees_own_station_commander_sees_county(world, api, two_incidents):
    a, b = two_incidents
    assert codes(api(world.chief_a).get("/api/incidents")) == {a.code}
    assert codes(api(world.commander).get("/api/incidents")) == {a.code, b.code}


def test_only_commanders_redispatch_merge_split(world, api, two_incidents):
    a, b = two_incidents
    for user in (world.officer_a, world.aux_a, world.citizen):
        response = api(user).post(
            f"/api/incidents/{a.code}/redispatch", {}, content_type="application/json"
        )
        assert response.status_code == 403
        response = api(user).post(
            f"/api/incidents/{a.code}/merge", {"into": b.code}, content_type="application/json"
        )
        assert response.status_code == 403
    assert (
        api(world.chief_a)
        .post(f"/api/incidents/{b.code}/redispatch", {}, content_type="application/json")
        .status_code
        == 404
    )


def test_console_pages_are_for_commanders_only(world, two_incidents):
    a, _ = two_incidents
    for user in (world.officer_a, world.citizen):
        client = Client()
        client.force_login(user)
        assert client.get("/console/").status_code == 403
        assert client.get(f"/console/incidents/{a.code}/").status_code == 403
        assert client.get("/console/grids/import/").status_code == 403
    client = Client()
    client.force_login(world.chief_a)
    assert client.get(f"/console/incidents/{two_incidents[1].code}/").status_code == 404


def test_citizen_page_of_someone_elses_report_is_404(world, two_incidents):
    _, b = two_incidents
    client = Client()
    client.force_login(world.citizen)
    assert client.get(f"/my/reports/{b.code}/").status_code == 404


def test_unit_pages_need_a_unit(world):
    client = Client()
    client.force_login(world.citizen)
    assert client.get("/unit/").status_code == 403
    assert client.post(
        "/api/units/me/duty", {"on_duty": True}, content_type="application/json"
    ).status_code in (401, 403)


def test_grids_are_scoped_to_the_station(world, api):
    assert {g["code"] for g in api(world.officer_a).get("/api/grids").json()} == {"GA1"}
    assert {g["code"] for g in api(world.commander).get("/api/grids").json()} == {"GA1", "GB1"}
    assert api(world.citizen).get("/api/grids").status_code == 403
