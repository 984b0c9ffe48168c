import pytest
from tests.conftest import GA1_CENTER, PASSWORD
from django.test import Client

pytestmark = pytest.mark.django_db

def test_pages(world):
    c = Client()
    for url in ["/report/", "/login/"]:
        r = c.get(url); assert r.status_code == 200, (url, r.content[:3000])
    r = c.post("/report/", {"category": "020100", "description": "x", "lat": GA1_CENTER[1], "lng": GA1_CENTER[0], "crs": "wgs84"})
    assert r.status_code == 200, r.content[:3000]
    assert "已收到" in r.content.decode()
    c.force_login(world.citizen)
    r = c.post("/report/", {"category": "020100", "description": "x2", "lat": GA1_CENTER[1]+0.005, "lng": GA1_CENTER[0], "crs": "wgs84"})
    assert r.status_code == 302, r.content[:3000]
    r = c.get(r.url); assert r.status_code == 200, r.content[:3000]
    r = c.get("/my/reports/"); assert r.status_code == 200
    c.force_login(world.officer_a)
    r = c.get("/unit/"); assert r.status_code == 200, r.content[:3000]
    c.force_login(world.commander)
    for url in ["/console/", "/console/compliance/", "/console/compliance/?group=org", "/console/grids/import/"]:
        r = c.get(url); assert r.status_code == 200, (url, r.content[:3000])
    from pingan.incidents.models import Incident
    code = Incident.objects.first().code
    r = c.get(f"/console/incidents/{code}/"); assert r.status_code == 200, r.content[:3000]
    r = c.get(f"/console/incidents/{code}/row/"); assert r.status_code == 200, r.content[:3000]


def test_console_incident_search(world):
    from tests.incidents.helpers import GB1_CENTER, report_at

    a = report_at().incident
    report_at(GB1_CENTER, category="050100")
    c = Client()
    c.force_login(world.commander)
    page = c.get("/console/incidents/?category=020100")
    assert page.status_code == 200
    text = page.content.decode()
    assert a.code in text and "共 1 起" in text
    assert "共 2 起" in c.get("/console/incidents/").content.decode()
    bad = c.get("/console/incidents/?since=yesterday&status=nope")
    assert bad.status_code == 400
    assert "日期格式" in bad.content.decode()
    c.force_login(world.chief_a)
    assert "共 1 起" in c.get("/console/incidents/").content.decode()
