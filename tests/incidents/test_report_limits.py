"""Report rules of issue 11 (security review F4): logged-in residents' reports are limited per
hour and per day (staff are not), and a report far outside every grid, or at (0, 0), is
refused. A controlled clock: every report names its own `now`."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from pingan.core.errors import ServiceError
from pingan.incidents.models import Incident, Source
from tests.conftest import GA1_CENTER
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)


@pytest.fixture
def limits(settings):
    settings.RESIDENT_REPORTS_PER_HOUR = 3
    settings.RESIDENT_REPORTS_PER_DAY = 5
    return settings


def reports(user, times, *, start, step=timedelta(minutes=1), **kwargs):
    """Report `times` times from `start`, one `step` apart; answers accepted or the refusal."""
    out = []
    for i in range(times):
        try:
            report_at(dlat=0.0005 * i, reporter=user, now=start + i * step, **kwargs)
        except ServiceError as exc:
            out.append(exc)
        else:
            out.append("ok")
    return out


def test_a_resident_gets_the_hourly_limit_then_429(world, limits):
    got = reports(world.citizen, 4, start=NOW)
    assert got[:3] == ["ok"] * 3
    refused = got[3]
    assert (refused.code, refused.status) == ("rate_limited", 429)
    assert "每小时最多 3 次" in refused.message
    # The first report (NOW) leaves the hour at NOW + 1 h; the refusal came at NOW + 3 min.
    assert refused.retry_after == 57 * 60
    assert Incident.objects.filter(reporter=world.citizen).count() == 3
    # Once the oldest report is out of the window, one more is accepted.
    assert reports(world.citizen, 1, start=NOW + timedelta(hours=1, seconds=1)) == ["ok"]


def test_the_daily_limit(world, limits):
    got = reports(world.citizen, 6, start=NOW, step=timedelta(hours=2))
    assert got[:5] == ["ok"] * 5
    assert got[5].status == 429 and "每天最多 5 次" in got[5].message
    # The day's first report (NOW) leaves the 24 hours at NOW + 24 h.
    assert got[5].retry_after == int(timedelta(hours=24 - 10).total_seconds())


def test_residents_are_counted_one_by_one(world, limits):
    assert reports(world.citizen, 3, start=NOW) == ["ok"] * 3
    assert reports(world.citizen2, 3, start=NOW) == ["ok"] * 3


def test_staff_patrol_reports_are_not_limited(world, limits):
    got = reports(world.officer_a, 5, start=NOW, source=Source.PATROL)
    assert got == ["ok"] * 5


def test_the_page_answers_429_with_retry_after(world, limits):
    settings = limits
    settings.RESIDENT_REPORTS_PER_HOUR = 1
    client = Client()
    client.force_login(world.citizen)
    form = {
        "category": "020100",
        "description": "有人打架",
        "lat": GA1_CENTER[1],
        "lng": GA1_CENTER[0],
        "crs": "wgs84",
    }
    assert client.post("/report/", form).status_code == 302
    refused = client.post("/report/", form)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "报警过于频繁" in refused.content.decode()


def test_the_api_answers_429_with_retry_after(world, limits):
    limits.RESIDENT_REPORTS_PER_HOUR = 1
    client = Client()
    client.force_login(world.citizen)
    body = {
        "category": "020100",
        "description": "x",
        "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
    }
    assert client.post("/api/incidents", body, content_type="application/json").status_code == 201
    refused = client.post("/api/incidents", body, content_type="application/json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["error"]["code"] == "rate_limited"


def test_the_anonymous_quota_says_when_to_retry(world, settings):
    settings.ANON_REPORTS_PER_HOUR = 1
    assert reports(None, 1, start=NOW, client_key="phone") == ["ok"]
    refused = reports(None, 1, start=NOW + timedelta(minutes=5), client_key="phone")[0]
    assert refused.status == 429 and refused.retry_after == 25 * 60


# --- where a report may come from ----------------------------------------------------------------


def test_a_report_far_outside_every_grid_is_refused(world, settings):
    settings.REPORT_MAX_DISTANCE_KM = 20
    with pytest.raises(ServiceError) as refused:
        report_at(dlat=0.3)  # about 33 km north of GA1
    assert refused.value.code == "outside_area" and refused.value.status == 400
    assert "超出受理范围（20 公里）" in refused.value.message
    # Near but outside a grid: accepted and flagged as before.
    assert report_at(dlat=0.03).incident.outside_grids is True
    assert Incident.objects.count() == 1


def test_zero_zero_is_refused(world, settings):
    settings.REPORT_MAX_DISTANCE_KM = 0  # even with no distance limit
    with pytest.raises(ServiceError) as refused:
        report_at(center=(0.0, 0.0))
    assert refused.value.code == "bad_location"
    assert not Incident.objects.exists()


def test_the_api_refuses_a_far_report_with_a_chinese_message(world):
    response = Client().post(
        "/api/incidents",
        {"category": "020100", "description": "x", "location": {"lat": 0, "lng": 0}},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_location"
    far = Client().post(
        "/api/incidents",
        {"category": "020100", "description": "x", "location": {"lat": 39.9, "lng": 116.4}},
        content_type="application/json",
    )
    assert far.status_code == 400
    assert far.json()["error"]["code"] == "outside_area"
    assert "公里" in far.json()["error"]["message"]
    assert not Incident.objects.exists()


def test_the_limit_costs_one_read_and_no_write(world, settings):
    """The report path is benchmarked: the residents' limit adds one SELECT, never a write."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(start):
        with CaptureQueriesContext(connection) as queries:
            assert reports(world.citizen, 1, start=start) == ["ok"]
        return [q["sql"] for q in queries.captured_queries]

    settings.RESIDENT_REPORTS_PER_HOUR = settings.RESIDENT_REPORTS_PER_DAY = 0
    statements(NOW)  # warm the per-process caches
    without = statements(NOW + timedelta(minutes=1))
    settings.RESIDENT_REPORTS_PER_HOUR, settings.RESIDENT_REPORTS_PER_DAY = 10, 30
    with_limit = statements(NOW + timedelta(minutes=2))
    extra = len(with_limit) - len(without)
    assert extra == 1
    writes = ("INSERT", "UPDATE", "DELETE")
    assert sum(q.startswith(writes) for q in with_limit) == sum(
        q.startswith(writes) for q in without
    )
    added = [q for q in with_limit if q.startswith('SELECT "incidents_incident"."reported_at"')]
    assert len(added) == 1 and "reporter_id" in added[0]
