"""Every page renders for the role it is for, and the report form works without JavaScript."""

import pytest
from django.test import Client

from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER
from tests.incidents.helpers import GB1_CENTER, report_at

pytestmark = pytest.mark.django_db


def as_user(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_public_pages(world):
    for url in ("/report/", "/login/"):
        assert as_user().get(url).status_code == 200
    assert as_user().get("/").url == "/report/"


def test_anonymous_report_through_the_page(world):
    response = as_user().post(
        "/report/",
        {
            "category": "020100",
            "description": "有人打架",
            "lat": GA1_CENTER[1],
            "lng": GA1_CENTER[0],
            "crs": "wgs84",
        },
    )
    assert response.status_code == 200
    assert "已收到您的报警" in response.content.decode()
    assert Incident.objects.get().anonymous


def test_citizen_report_then_follow_it(world):
    client = as_user(world.citizen)
    response = client.post(
        "/report/",
        {
            "category": "020100",
            "description": "有人打架",
            "lat": GA1_CENTER[1],
            "lng": GA1_CENTER[0],
            "crs": "wgs84",
        },
    )
    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200
    assert "已派警" in page.content.decode()
    assert client.get("/my/reports/").status_code == 200
    code = Incident.objects.get().code
    assert client.get(f"/my/reports/{code}/part/").status_code == 200


def test_unit_page_and_actions(world):
    code = report_at().incident.code
    client = as_user(world.officer_a)
    page = client.get("/unit/")
    assert page.status_code == 200 and code in page.content.decode()
    part = client.post(f"/unit/incidents/{code}/accept/", HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "到达现场" in part.content.decode()
    client.post(f"/unit/incidents/{code}/arrive/")
    client.post(f"/unit/incidents/{code}/resolve/", {"outcome": "mediated", "valid": "on"})
    assert Incident.objects.get(code=code).status == "resolved"
    # An action on someone else's incident shows a message, changes nothing.
    other = report_at(GB1_CENTER, category="050100").incident.code
    follow = client.post(f"/unit/incidents/{other}/accept/", follow=True)
    assert "未找到该警情" in follow.content.decode()
    assert client.post(f"/unit/incidents/{code}/fly/").status_code == 404


def test_duty_toggle_page(world):
    client = as_user(world.officer_a)
    client.post("/unit/duty/", {"on_duty": "0"})
    world.unit_officer_a.refresh_from_db()
    assert world.unit_officer_a.on_duty is False


def test_console_pages(world):
    code = report_at().incident.code
    client = as_user(world.commander)
    for url in (
        "/console/",
        "/console/compliance/",
        "/console/compliance/?group=org",
        "/console/grids/import/",
        f"/console/incidents/{code}/",
        f"/console/incidents/{code}/row/",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(
        f"/console/incidents/{code}/redispatch/",
        {"unit_id": str(world.unit_officer_b.pk), "reason": "就近"},
    )
    assert response.status_code == 302
    assert Incident.objects.get(code=code).assignments.get(status="offered").unit == (
        world.unit_officer_b
    )
    bad = client.post(f"/console/incidents/{code}/redispatch/", {"unit_id": "abc"}, follow=True)
    assert "输入有误" in bad.content.decode()


def test_console_incident_search(world):
    a = report_at().incident
    report_at(GB1_CENTER, category="050100")
    client = as_user(world.commander)
    page = client.get("/console/incidents/?category=020100")
    assert page.status_code == 200
    text = page.content.decode()
    assert a.code in text and "共 1 起" in text
    assert "共 2 起" in client.get("/console/incidents/").content.decode()
    bad = client.get("/console/incidents/?since=yesterday&status=nope")
    assert bad.status_code == 400
    assert "日期格式" in bad.content.decode()
    assert "共 1 起" in as_user(world.chief_a).get("/console/incidents/").content.decode()
