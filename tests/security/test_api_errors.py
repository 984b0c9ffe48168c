"""What API fuzzing found (security review F11, F12), each answered now as a documented error:

- rating an incident code that does not exist was a 500 (and an existence oracle beside the
  404 for someone else's incident);
- a multipart body without a boundary was a 500;
- unknown /api/ paths and methods a path does not take answered HTML;
- another station's staff read a resident's points balance by user name, and learned whether
  the name exists;
- the document left out the error answers, the optional authentication of a report and the
  GeoJSON export's media type.
"""

import json

import pytest
from django.test import Client

from pingan.incidents.services import report
from pingan.points.earning import adjust
from tests.conftest import GA1_CENTER

pytestmark = pytest.mark.django_db

ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "422", "423", "429", "503"}


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code is not None:
        assert body["error"]["code"] == code
    return body


def _incident_of(user):
    return report(
        category_code="020100",
        description="村口有人打架",
        lng=GA1_CENTER[0],
        lat=GA1_CENTER[1],
        reporter=user,
    ).incident


def test_rating_an_unknown_code_is_a_404_like_someone_elses(world, api):
    others = _incident_of(world.citizen2)
    client = api(world.citizen)
    missing = client.post(
        "/api/incidents/JQ29991231-999999/rate", {"rating": 5}, content_type="application/json"
    )
    not_mine = client.post(
        f"/api/incidents/{others.code}/rate", {"rating": 5}, content_type="application/json"
    )
    assert _error(missing, 404, "not_found") == _error(not_mine, 404, "not_found")


def test_a_multipart_body_without_a_boundary_is_a_400(world, api):
    incident = _incident_of(world.citizen)
    response = api(world.citizen).post(
        f"/api/incidents/{incident.code}/photos",
        data=b"x",
        content_type="multipart/form-data",
    )
    _error(response, 400, "malformed_multipart")


def test_an_unknown_api_path_answers_json():
    _error(Client().get("/api/no-such-thing"), 404, "not_found")


def test_a_method_the_path_does_not_take_answers_json_with_allow():
    response = Client().delete("/api/categories")
    _error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_other_stations_staff_cannot_read_a_residents_balance(world, api):
    adjust(world.chief_a, world.volunteer, 50, reason="协助寻人")  # written for 城关所
    mine = api(world.officer_a).get("/api/points/ledger", {"user": "volunteer"})
    assert mine.status_code == 200, mine.content
    assert mine.json()["balance"] == 50
    other_station = api(world.officer_b).get("/api/points/ledger", {"user": "volunteer"})
    unknown = api(world.officer_b).get("/api/points/ledger", {"user": "nobody-by-this-name"})
    # The same answer for a real resident out of scope and a name that does not exist.
    assert _error(other_station, 404) == _error(unknown, 404)


@pytest.fixture(scope="module")
def document():
    return json.loads(Client().get("/api/openapi.json").content)


def _operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_every_operation_documents_the_error_envelope(document):
    assert document["components"]["schemas"]["ErrorOut"]["required"] == ["error"]
    for name, operation in _operations(document):
        missing = ERROR_STATUSES - set(operation["responses"])
        assert not missing, f"{name} does not document {sorted(missing)}"
        ref = operation["responses"]["404"]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorOut", name


def test_an_anonymous_report_is_documented_as_optional_auth(document):
    security = document["paths"]["/api/incidents"]["post"]["security"]
    assert {} in security and {"BearerAuth": []} in security
    # Operations that need a login keep requiring it.
    assert {} not in document["paths"]["/api/incidents"]["get"]["security"]


def test_the_geojson_export_is_documented_and_answered_as_such(world, api, document):
    content = document["paths"]["/api/grids"]["get"]["responses"]["200"]["content"]
    assert "application/geo+json" in content
    response = api(world.commander).get("/api/grids", {"format": "geojson"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert response.json()["type"] == "FeatureCollection"
