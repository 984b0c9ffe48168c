"""Check-in and check-out on site: by position within the radius, or by the task's QR code,
inside the time window, only with a place on the task."""

from datetime import timedelta

import pytest

from pingan.core.errors import Conflict, NotFound, ServiceError
from pingan.geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from pingan.volunteers import services
from pingan.volunteers.models import Signup
from tests.conftest import api_client

from .helpers import HOUR, MEETING, make_task, team_with_volunteers

pytestmark = pytest.mark.django_db

# About 111 m of latitude per 0.001°.
NEAR = (MEETING[0], MEETING[1] + 0.001)
FAR = (MEETING[0], MEETING[1] + 0.01)  # ~1.1 km


@pytest.fixture
def on_task(world):
    team, users = team_with_volunteers(world, 2)
    route_end = (114.31, 26.31)
    task = make_task(world, teams=[team], slots=1, route=[MEETING, route_end])
    services.sign_up(users[0], task.code, now=task.published_at)
    services.sign_up(users[1], task.code, now=task.published_at)  # waiting
    return type("OnTask", (), dict(task=task, user=users[0], waiting=users[1], end=route_end))


def test_gps_check_in_within_the_radius(on_task):
    task = on_task.task
    signup = services.check_in(
        on_task.user, task.code, lng=NEAR[0], lat=NEAR[1], now=task.starts_at
    )
    assert signup.checked_in_at == task.starts_at
    assert signup.checkin_method == "gps"
    assert 100 < signup.checkin_distance_m < 125
    assert (signup.checkin_lng, signup.checkin_lat) == pytest.approx(NEAR)


def test_gps_check_in_too_far_says_how_far(on_task):
    task = on_task.task
    with pytest.raises(ServiceError) as err:
        services.check_in(on_task.user, task.code, lng=FAR[0], lat=FAR[1], now=task.starts_at)
    assert err.value.code == "too_far"
    assert err.value.message == "距集合点 1112 米，超出签到范围 300 米"
    assert err.value.details == {"distance_m": 1112, "radius_m": 300}
    assert Signup.objects.get(task=task, user=on_task.user).checked_in_at is None


def test_gcj02_and_bd09_positions_are_converted_before_measuring(on_task):
    task = on_task.task
    gcj = wgs84_to_gcj02(*MEETING)
    # Read as WGS-84, the GCJ-02 offset (hundreds of metres in China) would fail a tight radius.
    task.checkin_radius_m = 50
    task.save(update_fields=["checkin_radius_m"])
    with pytest.raises(ServiceError):
        services.check_in(on_task.user, task.code, lng=gcj[0], lat=gcj[1], now=task.starts_at)
    signup = services.check_in(
        on_task.user, task.code, lng=gcj[0], lat=gcj[1], crs="gcj02", now=task.starts_at
    )
    assert signup.checkin_distance_m < 1
    bd = wgs84_to_bd09(*MEETING)
    out = services.check_out(
        on_task.user, task.code, lng=bd[0], lat=bd[1], crs="bd09", now=task.ends_at
    )
    assert out.checkout_method == "gps"


def test_qr_check_in_and_a_wrong_code(on_task):
    task = on_task.task
    for bad in ("wrong", task.qr_token[:-1], task.qr_token + "x", "二维码"):
        with pytest.raises(ServiceError) as err:
            services.check_in(on_task.user, task.code, qr_token=bad, now=task.starts_at)
        assert err.value.code == "bad_qr"
    signup = services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=task.starts_at)
    assert signup.checkin_method == "qr" and signup.checkin_distance_m is None


def test_no_position_and_no_code_is_asked_for(on_task):
    task = on_task.task
    with pytest.raises(ServiceError) as err:
        services.check_in(on_task.user, task.code, now=task.starts_at)
    assert err.value.code == "location_required"
    with pytest.raises(ServiceError) as err:
        services.check_in(on_task.user, task.code, lng=500, lat=20, now=task.starts_at)
    assert err.value.code == "bad_location"


def test_the_window_opens_an_hour_early_and_closes_at_the_end(on_task):
    task = on_task.task
    early = task.starts_at - timedelta(minutes=61)
    for when in (early, task.ends_at + timedelta(seconds=1)):
        with pytest.raises(Conflict) as err:
            services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=when)
        assert err.value.code == "outside_window"
        assert "签到时间为" in err.value.message
    opens = task.starts_at - timedelta(minutes=60)
    services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=opens)


def test_only_an_accepted_sign_up_checks_in_and_only_once(world, on_task):
    task = on_task.task
    with pytest.raises(Conflict) as err:
        services.check_in(on_task.waiting, task.code, qr_token=task.qr_token, now=task.starts_at)
    assert err.value.code == "not_accepted"
    with pytest.raises(NotFound):
        services.check_in(world.officer_b, task.code, qr_token=task.qr_token, now=task.starts_at)
    services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=task.starts_at)
    with pytest.raises(Conflict) as err:
        services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=task.starts_at)
    assert err.value.code == "already_checked_in"


def test_check_out_near_the_route_end_within_two_hours_of_the_end(on_task):
    task = on_task.task
    with pytest.raises(Conflict) as err:
        services.check_out(on_task.user, task.code, qr_token=task.qr_token, now=task.starts_at)
    assert err.value.code == "not_checked_in"
    services.check_in(on_task.user, task.code, qr_token=task.qr_token, now=task.starts_at)
    with pytest.raises(Conflict):
        services.check_out(
            on_task.user, task.code, qr_token=task.qr_token, now=task.ends_at + 2 * HOUR + HOUR
        )
    with pytest.raises(ServiceError) as err:
        services.check_out(on_task.user, task.code, lng=FAR[0], lat=FAR[1], now=task.ends_at)
    assert err.value.code == "too_far"
    end = on_task.end
    signup = services.check_out(
        on_task.user, task.code, lng=end[0], lat=end[1], now=task.ends_at + HOUR
    )
    assert signup.checked_out_at == task.ends_at + HOUR
    with pytest.raises(Conflict) as err:
        services.check_out(on_task.user, task.code, qr_token=task.qr_token, now=task.ends_at)
    assert err.value.code == "already_checked_out"


def test_api_check_in_by_position_and_by_qr(on_task, world):
    task = on_task.task
    # Move the task so that it is on now.
    task.starts_at = task.published_at - HOUR
    task.save(update_fields=["starts_at"])
    client = api_client(on_task.user)
    url = f"/api/volunteers/tasks/{task.code}/checkin"
    response = client.post(
        url, {"lng": FAR[0], "lat": FAR[1], "crs": "wgs84"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_far"
    assert response.json()["error"]["details"]["radius_m"] == 300
    response = client.post(url, {"qr": "nope"}, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_qr"
    response = client.post(url, {"lng": 999, "lat": 0}, content_type="application/json")
    assert response.status_code == 422
    response = client.post(url, {"qr": task.qr_token}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["checkin_method"] == "qr" and body["checked_in_at"]
    response = client.post(
        f"/api/volunteers/tasks/{task.code}/checkout",
        {"lng": NEAR[0], "lat": NEAR[1]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["checkout_method"] == "gps"
