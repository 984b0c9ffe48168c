"""POST /api/incidents: the contract phone apps rely on, and every kind of bad input."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER

pytestmark = pytest.mark.django_db


def body(**overrides):
    data = {
        "category": "020100",
        "description": "村口有人打架",
        "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0], "crs": "wgs84"},
    }
    data.update(overrides)
    return data


def post(client, data):
    raw = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post("/api/incidents", raw, content_type="application/json")


def test_citizen_report_answers_201_with_code_status_grid_and_assignment(world, api):
    response = post(api(world.citizen), body(address="东门路 12 号"))
    assert response.status_code == 201
    data = response.json()
    assert data["code"].startswith("JQ") and len(data["code"]) == 17
    assert data["status"] == "dispatched"
    assert data["grid"] == {"code": "GA1", "name": "东门社区"}
    assert data["assignment"]["unit"] == world.unit_officer_a.name
    assert data["assignment"]["status"] == "offered"
    incident = Incident.objects.get(code=data["code"])
    assert incident.reporter == world.citizen and not incident.anonymous
    assert incident.address == "东门路 12 号"


def test_codes_count_up_per_day(world, api):
    codes = [
        post(api(world.citizen), body(category=c)).json()["code"]
        for c in ("020100", "050100", "070100")
    ]
    numbers = [int(code.split("-")[1]) for code in codes]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


@pytest.mark.parametrize("crs,convert", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_gcj02_and_bd09_are_stored_as_wgs84(world, api, crs, convert):
    lng, lat = convert(*GA1_CENTER)
    response = post(api(world.citizen), body(location={"lng": lng, "lat": lat, "crs": crs}))
    assert response.status_code == 201
    incident = Incident.objects.get(code=response.json()["code"])
    assert abs(incident.lng - GA1_CENTER[0]) < 1e-5 and abs(incident.lat - GA1_CENTER[1]) < 1e-5


def test_anonymous_report_without_credentials(world):
    response = post(Client(), body(anonymous=True))
    assert response.status_code == 201
    incident = Incident.objects.get(code=response.json()["code"])
    assert incident.anonymous and incident.reporter is None


def test_a_bad_token_is_not_downgraded_to_anonymous(world):
    response = post(Client(headers={"Authorization": "Bearer stolen"}), body())
    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_anonymous_reports_are_rate_limited(world, settings):
    settings.ANON_REPORTS_PER_HOUR = 3
    client = Client(REMOTE_ADDR="10.1.2.3")
    statuses = [
        post(client, body(category=c)).status_code for c in ("020100", "050100", "070100", "030100")
    ]
    assert statuses == [201, 201, 201, 429]
    assert Incident.objects.count() == 3
    # Another client is not affected, nor is a logged-in citizen.
    assert post(Client(REMOTE_ADDR="10.9.9.9"), body(category="080100")).status_code == 201


def test_source_other_than_citizen_app_needs_staff(world, api):
    assert post(api(world.citizen), body(source="patrol")).status_code == 403
    assert post(api(world.officer_a), body(source="patrol")).status_code == 201


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ("{not json", 400, "malformed_json"),
        ("", 422, "invalid_input"),
        ("[]", 422, "invalid_input"),
        (body(category="123456"), 400, "unknown_category"),
        (body(category="abc"), 422, "invalid_input"),
        (body(description=""), 422, "invalid_input"),
        (body(description="   "), 422, "invalid_input"),
        (body(description="字" * 2001), 422, "invalid_input"),
        (body(location={"lat": 91, "lng": 114}), 422, "invalid_input"),
        (body(location={"lat": 26, "lng": -181}), 422, "invalid_input"),
        (body(location={"lat": "north", "lng": 114}), 422, "invalid_input"),
        (body(location={"lat": 26.3, "lng": 114.3, "crs": "epsg4326"}), 422, "invalid_input"),
        (body(location=None), 422, "invalid_input"),
        ({"description": "x"}, 422, "invalid_input"),
        (body(anonymous="perhaps"), 422, "invalid_input"),
    ],
)
def test_bad_input_gets_a_structured_chinese_error_and_changes_nothing(
    world, api, payload, status, code
):
    response = post(api(world.citizen), payload)
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
    assert not Incident.objects.exists()


def test_inactive_category_is_unknown(world, api):
    from pingan.incidents.models import Category

    Category.objects.filter(code="020200").update(active=False)
    assert post(api(world.citizen), body(category="020200")).json()["error"]["code"] == (
        "unknown_category"
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            "category": json_values | st.sampled_from(["020100", "999999", "0201"]),
            "description": json_values,
            "location": json_values
            | st.fixed_dictionaries(
                {
                    "lat": st.floats(allow_nan=True, allow_infinity=True),
                    "lng": st.floats(allow_nan=True, allow_infinity=True),
                },
                optional={"crs": st.text(max_size=6)},
            ),
            "address": json_values,
            "anonymous": json_values,
        },
    )
)
def test_no_input_produces_a_500(world, data):
    response = Client(REMOTE_ADDR="10.7.7.7").post(
        "/api/incidents", json.dumps(data, allow_nan=True), content_type="application/json"
    )
    assert response.status_code < 500, response.content
    assert response.status_code == 201 or "error" in response.json()


def test_categories_are_the_110_tree(world):
    data = Client().get("/api/categories").json()
    top = {c["name"] for c in data if c["level"] == 1}
    assert top == {
        "刑事",
        "治安",
        "治安灾害事故",
        "交通事故",
        "火警",
        "纠纷",
        "群众求助",
        "举报投诉",
        "电信诈骗",
        "其他",
    }
    by_code = {c["code"]: c for c in data}
    assert by_code["010101"]["parent"] == "010100"
    assert by_code["010100"]["parent"] == "010000"
    assert all(len(code) == 6 and code.isdigit() for code in by_code)
    names = {c["name"] for c in data}
    for example in ("盗窃", "打架斗殴", "赌博", "吸毒", "溺水及水上险情", "人员走失", "可疑人员"):
        assert example in names


def test_openapi_and_docs_are_served(world):
    spec = Client().get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    for path in (
        "/api/incidents",
        "/api/incidents/{code}",
        "/api/incidents/{code}/accept",
        "/api/assignments/mine",
        "/api/units/me/position",
        "/api/units/me/duty",
        "/api/categories",
        "/api/auth/login",
        "/api/grids",
    ):
        assert path in paths
    assert Client().get("/api/docs").status_code == 200


def test_unknown_api_path_is_json_404(world):
    response = Client().get("/api/nothing-here")
    assert response.status_code == 404


def test_anonymous_report_from_a_client_without_cookies_is_accepted(world):
    # A phone app has no CSRF cookie; Django's test client skips CSRF unless told not to.
    client = Client(enforce_csrf_checks=True)
    assert post(client, body(anonymous=True)).status_code == 201


def test_session_writes_still_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.citizen)
    response = post(client, body())
    assert response.status_code == 403
    assert not Incident.objects.exists()
    page = client.get("/report/")
    token = page.cookies["csrftoken"].value
    ok = client.post(
        "/api/incidents",
        json.dumps(body()),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert ok.status_code == 201
    assert Incident.objects.get().reporter == world.citizen


def test_bearer_clients_need_no_csrf(world, api):
    from tests.conftest import api_client

    client = api_client(world.citizen)
    client.handler.enforce_csrf_checks = True
    assert post(client, body()).status_code == 201
