"""Intake over the API: staff filing, a resident's mediation request, incident conversion, and
every kind of bad input answered with structured JSON (never a 500)."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.disputes.models import Dispute, Party
from pingan.geo.crs import wgs84_to_gcj02
from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER, GB1_CENTER
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db


def party(**overrides):
    data = {"name": "王大山", "kind": "person", "role": "applicant", "phone": "13800138001"}
    data.update(overrides)
    return data


def body(**overrides):
    data = {
        "type": "neighbour",
        "channel": "cadre_grid",
        "narrative": "两家因宅基地边界争吵",
        "grid": "GA1",
        "parties": [party(), party(name="李小河", role="respondent", phone="13900139002")],
    }
    data.update(overrides)
    return data


def post(client, path, data):
    raw = data if isinstance(data, str | bytes) else json.dumps(data, allow_nan=True)
    return client.post(path, raw, content_type="application/json")


def is_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- staff filing -------------------------------------------------------------------------------


def test_grid_worker_files_a_dispute(world, api):
    response = post(
        api(world.worker_a),
        "/api/disputes",
        body(
            title="宅基地边界",
            amount_yuan="3000.50",
            address="东门路 3 号",
            source_note="村民小组长反映",
            parties=[
                party(id_number="11010519491231002X", vulnerability="elderly", notify=True),
                party(name="东门建材店", kind="organisation", role="respondent", phone=None),
            ],
        ),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["view"] == "staff"
    assert data["code"].startswith("JF")
    assert data["title"] == "宅基地边界" and data["owner"] == "officer_a"
    assert data["amount_yuan"] == "3000.50" and data["source_note"] == "村民小组长反映"
    dispute = Dispute.objects.get(code=data["code"])
    assert dispute.filed_by == world.worker_a and dispute.channel == "cadre_grid"
    applicant = dispute.parties.get(role="applicant")
    assert applicant.phone == "+8613800138001" and applicant.vulnerability == "elderly"
    assert applicant.notify is True
    assert dispute.parties.get(role="respondent").kind == "organisation"
    # Contact data comes back masked even to the person who typed it in.
    assert "13800138001" not in response.content.decode()


def test_location_places_it_in_the_grid_and_owner_is_a_username(world, api):
    lng, lat = wgs84_to_gcj02(*GA1_CENTER)
    response = post(
        api(world.chief_a),
        "/api/disputes",
        body(grid=None, location={"lng": lng, "lat": lat, "crs": "gcj02"}, owner="aux_a"),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["grid"]["code"] == "GA1" and data["owner"] == "aux_a"


def test_unknown_owner_is_a_400_and_nothing_is_filed(world, api):
    response = post(api(world.officer_a), "/api/disputes", body(owner="nobody"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unknown_user" and error["details"] == {"field": "owner"}
    assert is_chinese(error["message"])
    response = post(api(world.officer_a), "/api/disputes", body(owner="officer_b"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_owner"
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("persona", ["citizen", "volunteer"])
def test_residents_cannot_file_staff_disputes(world, api, persona):
    response = post(api(getattr(world, persona)), "/api/disputes", body(owner="officer_a"))
    assert response.status_code == 403
    assert not Dispute.objects.exists()


def test_staff_cannot_file_in_another_stations_grid(world, api):
    response = post(api(world.officer_b), "/api/disputes", body(grid="GA1"))
    assert response.status_code == 403
    assert not Dispute.objects.exists()


def test_anonymous_cannot_file(world):
    assert post(Client(), "/api/disputes", body()).status_code == 401
    assert post(Client(), "/api/disputes/requests", body()).status_code == 401
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ("{not json", 400, "malformed_json"),
        ("", 422, "invalid_input"),
        ("[]", 422, "invalid_input"),
        (body(type="feud"), 422, "invalid_input"),
        (body(channel="citizen_request"), 422, "invalid_input"),
        (body(narrative=""), 422, "invalid_input"),
        (body(narrative="   \n\t "), 422, "invalid_input"),
        (body(narrative="字" * 5001), 422, "invalid_input"),
        (body(narrative="空\x00字符"), 422, "invalid_input"),
        (body(title="字" * 81), 422, "invalid_input"),
        (body(parties=[]), 422, "invalid_input"),
        (body(parties=[party(name=None)]), 422, "invalid_input"),
        (body(parties=[{"kind": "person", "role": "applicant"}]), 422, "invalid_input"),
        (body(parties=[party(name="  ")]), 422, "invalid_input"),
        (body(parties=[party(kind="alien")]), 422, "invalid_input"),
        (body(parties=[party(role="judge")]), 422, "invalid_input"),
        (body(parties=[party(vulnerability="rich")]), 422, "invalid_input"),
        (body(parties=[party()] * 51), 422, "invalid_input"),
        (body(parties=[party(phone="12345")]), 400, "bad_phone"),
        (body(parties=[party(phone="138-0013-80")]), 400, "bad_phone"),
        (body(parties=[party(id_number="110105194912310021")]), 400, "bad_id_number"),
        (
            body(parties=[party(kind="organisation", id_number="91350100M000100Y4")]),
            400,
            "bad_id_number",
        ),
        (body(parties=[party(notify=True, phone="")]), 400, "notify_needs_phone"),
        (body(grid="ZZ9"), 400, "unknown_grid"),
        (body(grid=None), 400, "grid_required"),
        (body(grid=None, location={"lng": 200, "lat": 26.3}), 422, "invalid_input"),
        (body(grid=None, location={"lng": 114.3, "lat": 26.3, "crs": "utm"}), 422, "invalid_input"),
        (body(amount_yuan=-1), 422, "invalid_input"),
        (body(amount_yuan="1e12"), 422, "invalid_input"),
        (body(amount_yuan="12.345"), 422, "invalid_input"),
        (body(amount_yuan="lots"), 422, "invalid_input"),
        (body(owner="has space"), 422, "invalid_input"),
        (body(narrative=["list"]), 422, "invalid_input"),
    ],
)
def test_bad_input_is_structured_and_changes_nothing(world, api, payload, status, code):
    response = post(api(world.officer_a), "/api/disputes", payload)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert is_chinese(error["message"])
    assert not Dispute.objects.exists() and not Party.objects.exists()


def test_validation_errors_name_the_field(world, api):
    response = post(api(world.officer_a), "/api/disputes", body(parties=[party(name="")]))
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert fields == {"parties.0.name"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

party_strategy = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values | st.sampled_from(["王大山", " ", ""]),
        "kind": json_values | st.sampled_from(["person", "organisation"]),
        "role": json_values | st.sampled_from(["applicant", "respondent", "other"]),
        "id_number": json_values | st.sampled_from(["11010519491231002X", "110105194912310021"]),
        "phone": json_values | st.sampled_from(["13800138001", "+8613800138001", "110"]),
        "address": json_values,
        "vulnerability": json_values | st.sampled_from(["", "elderly", "minor"]),
        "notify": json_values,
    },
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "type": json_values | st.sampled_from(["neighbour", "debt", "feud"]),
            "channel": json_values | st.sampled_from(["cadre_grid", "online", "citizen_request"]),
            "title": json_values,
            "narrative": json_values | st.sampled_from(["两家争吵", "扬言要砍死他"]),
            "grid": json_values | st.sampled_from(["GA1", "GB1", "nope"]),
            "location": json_values
            | st.fixed_dictionaries(
                {
                    "lat": st.floats(allow_nan=True, allow_infinity=True),
                    "lng": st.floats(allow_nan=True, allow_infinity=True),
                },
                optional={"crs": st.text(max_size=6)},
            ),
            "amount_yuan": json_values | st.decimals(allow_nan=True).map(str),
            "address": json_values,
            "source_note": json_values,
            "owner": json_values | st.sampled_from(["officer_a", "aux_a", "citizen", "x y"]),
            "parties": json_values | st.lists(party_strategy, max_size=3),
        },
    )
)
def test_no_filing_body_produces_a_500(world, api, data):
    response = api(world.officer_a).post(
        "/api/disputes", json.dumps(data, allow_nan=True), content_type="application/json"
    )
    assert response.status_code < 500, response.content
    assert response.status_code == 201 or "error" in response.json()


# --- a resident's mediation request -------------------------------------------------------------


def request_body(**overrides):
    data = {
        "type": "neighbour",
        "narrative": "楼上漏水到我家，多次沟通无果",
        "grid": "GA1",
        "other_parties": [party(name="李小河", role="respondent", phone="13900139002")],
    }
    data.update(overrides)
    return data


def test_resident_requests_mediation(world, api):
    response = post(api(world.citizen), "/api/disputes/requests", request_body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["view"] == "public" and data["status"] == "pending"
    assert [e["kind"] for e in data["timeline"]] == ["requested"]
    assert "risk" not in data and "13900139002" not in response.content.decode()
    dispute = Dispute.objects.get(code=data["code"])
    assert dispute.requester == world.citizen and dispute.channel == "citizen_request"
    assert sorted(dispute.parties.values_list("role", flat=True)) == ["applicant", "respondent"]


def test_resident_request_by_location_and_without_other_parties(world, api):
    response = post(
        api(world.citizen2),
        "/api/disputes/requests",
        request_body(
            grid=None,
            location={"lng": GB1_CENTER[0], "lat": GB1_CENTER[1]},
            other_parties=[],
            notify=False,
        ),
    )
    assert response.status_code == 201, response.content
    assert response.json()["grid"]["code"] == "GB1"


@pytest.mark.parametrize("persona", ["officer_a", "worker_a", "commander"])
def test_staff_do_not_request_mediation(world, api, persona):
    response = post(api(getattr(world, persona)), "/api/disputes/requests", request_body())
    assert response.status_code == 403
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    "payload,status,code",
    [
        (request_body(type="unknown"), 422, "invalid_input"),
        (request_body(narrative=" "), 422, "invalid_input"),
        (request_body(other_parties=[party(name="")]), 422, "invalid_input"),
        (request_body(other_parties=[party(phone="999")]), 400, "bad_phone"),
        (request_body(grid="nope"), 400, "unknown_grid"),
        ("{oops", 400, "malformed_json"),
    ],
)
def test_bad_requests_are_structured(world, api, payload, status, code):
    response = post(api(world.citizen), "/api/disputes/requests", payload)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Dispute.objects.exists()


def test_too_many_pending_requests_is_429(world, api, settings):
    settings.DISPUTE_MAX_PENDING_REQUESTS = 2
    client = api(world.citizen)
    statuses = [
        post(client, "/api/disputes/requests", request_body()).status_code for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    assert Dispute.objects.count() == 2


# --- incident conversion ------------------------------------------------------------------------


def convert_body(**overrides):
    data = {
        "type": "neighbour",
        "parties": [party(), party(name="李小河", role="respondent", phone="13900139002")],
    }
    data.update(overrides)
    return data


def test_incident_becomes_a_dispute_linked_both_ways_once(world, api):
    incident = report_at(reporter=world.citizen, description="两家因排水沟吵架").incident
    client = api(world.officer_a)
    response = post(client, f"/api/disputes/from-incident/{incident.code}", convert_body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["incident"] == incident.code
    assert data["channel"] == "case" and data["narrative"] == "两家因排水沟吵架"
    assert data["timeline"][0]["kind"] == "converted"
    dispute = Dispute.objects.get(code=data["code"])
    assert dispute.incident == incident
    # The incident's own timeline names the dispute.
    timeline = client.get(f"/api/incidents/{incident.code}").json()["timeline"]
    assert any(data["code"] in e["message"] for e in timeline)
    again = post(api(world.chief_a), f"/api/disputes/from-incident/{incident.code}", convert_body())
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_converted"
    assert data["code"] in again.json()["error"]["message"]
    assert Dispute.objects.count() == 1


def test_conversion_with_title_narrative_and_owner(world, api):
    incident = report_at(reporter=world.citizen).incident
    response = post(
        api(world.officer_a),
        f"/api/disputes/from-incident/{incident.code}",
        convert_body(title="排水沟纠纷", narrative="现场调查后查明为排水沟纠纷", owner="aux_a"),
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["title"], data["owner"]) == ("排水沟纠纷", "aux_a")


@pytest.mark.parametrize(
    "persona,status", [("officer_b", 404), ("citizen", 403), ("citizen2", 403)]
)
def test_conversion_is_refused_outside_scope(world, api, persona, status):
    incident = report_at(reporter=world.citizen).incident
    notes_before = incident.events.count()
    response = post(
        api(getattr(world, persona)), f"/api/disputes/from-incident/{incident.code}", convert_body()
    )
    assert response.status_code == status
    assert not Dispute.objects.exists()
    assert Incident.objects.get(pk=incident.pk).events.count() == notes_before


@pytest.mark.parametrize(
    "code,payload,status,error",
    [
        ("JQ20000101-000001", None, 404, "not_found"),
        ("bad%00code", None, 404, "not_found"),
        (None, convert_body(type="feud"), 422, "invalid_input"),
        (None, convert_body(parties=[]), 422, "invalid_input"),
        (None, convert_body(parties=[party(name=" ")]), 422, "invalid_input"),
        (None, convert_body(narrative="  "), 400, "narrative_required"),
        (None, convert_body(owner="ghost"), 400, "unknown_user"),
    ],
)
def test_bad_conversions_are_structured(world, api, code, payload, status, error):
    incident = report_at(reporter=world.citizen).incident
    response = post(
        api(world.officer_a),
        f"/api/disputes/from-incident/{code or incident.code}",
        payload or convert_body(),
    )
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == error
    assert not Dispute.objects.exists()


def test_anonymous_cannot_convert(world):
    incident = report_at(reporter=world.citizen).incident
    assert (
        post(Client(), f"/api/disputes/from-incident/{incident.code}", convert_body()).status_code
        == 401
    )
    assert not Dispute.objects.exists()
