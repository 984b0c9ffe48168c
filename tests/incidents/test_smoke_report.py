import pytest

from tests.conftest import GA1_CENTER

pytestmark = pytest.mark.django_db


def test_citizen_report_is_dispatched_to_grid_officer(world, api):
    client = api(world.citizen)
    response = client.post("/api/incidents", {
        "category": "020100", "description": "村口有人打架",
        "location": {"lng": GA1_CENTER[0], "lat": GA1_CENTER[1], "crs": "wgs84"},
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["grid"]["code"] == "GA1"
    assert body["assignment"]["unit"] == world.unit_officer_a.name
