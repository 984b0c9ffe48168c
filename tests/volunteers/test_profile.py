"""The volunteer profile: who may keep one, and what it accepts."""

import pytest

from pingan.core.errors import Forbidden, ServiceError
from pingan.volunteers import services
from pingan.volunteers.models import VolunteerProfile
from tests.conftest import api_client

pytestmark = pytest.mark.django_db


def save(user, **kw):
    kw.setdefault("real_name", "张伟")
    kw.setdefault("phone", "138 0013 8001")
    return services.save_profile(user, **kw)


def test_a_citizen_saves_and_updates_a_profile(world):
    profile = save(
        world.citizen,
        skills=["first_aid", "patrol", "first_aid"],
        availability=["night"],
        home_grid_code="GA1",
    )
    assert profile.phone == "+8613800138001"
    assert profile.skills == ["first_aid", "patrol"]
    assert profile.home_grid == world.grid_a
    save(world.citizen, real_name="张伟强", phone="13900139000", home_grid_code=None)
    profile.refresh_from_db()
    assert (profile.real_name, profile.phone, profile.home_grid) == (
        "张伟强",
        "+8613900139000",
        None,
    )
    assert VolunteerProfile.objects.count() == 1


@pytest.mark.parametrize(
    "change, code",
    [
        ({"real_name": ""}, "real_name_required"),
        ({"real_name": "   "}, "real_name_required"),
        ({"real_name": "张"}, "bad_real_name"),
        ({"real_name": "张" * 33}, "real_name_too_long"),
        ({"phone": ""}, "phone_required"),
        ({"phone": "12345"}, "bad_phone"),
        ({"phone": "010-6552 9988"}, "bad_phone"),  # a Beijing landline cannot take texts
        ({"skills": ["karate"]}, "bad_skills"),
        ({"skills": "patrol"}, "invalid_input"),
        ({"availability": ["sometimes"]}, "bad_availability"),
        ({"home_grid_code": "NOPE"}, "bad_grid"),
    ],
)
def test_bad_profile_input_is_refused_with_a_reason(world, change, code):
    with pytest.raises(ServiceError) as err:
        save(world.citizen, **change)
    assert err.value.code == code
    assert err.value.message
    assert not VolunteerProfile.objects.exists()


@pytest.mark.parametrize("persona", ["officer_a", "commander", "aux_a"])
def test_staff_keep_no_volunteer_profile(world, persona):
    with pytest.raises(Forbidden):
        save(getattr(world, persona))
    assert not VolunteerProfile.objects.exists()


def test_profile_api_round_trip(world):
    client = api_client(world.citizen)
    response = client.get("/api/volunteers/profile")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_profile"
    body = {
        "real_name": "李娜",
        "phone": "13800138002",
        "skills": ["mediation"],
        "availability": ["weekend", "night"],
        "home_grid": "GA1",
    }
    response = client.put("/api/volunteers/profile", body, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    # The owner reads their own number in full.
    assert data["phone"] == "+8613800138002"
    assert data["skill_labels"] == ["矛盾调解"]
    assert data["home_grid"] == {"code": "GA1", "name": "东门社区"}
    assert client.get("/api/volunteers/profile").json() == data


def test_profile_api_rejects_bad_input_with_field(world):
    client = api_client(world.citizen)
    response = client.put(
        "/api/volunteers/profile",
        {"real_name": "李娜", "phone": "not a phone"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_phone",
        "message": "手机号无效：not a phone",
        "details": {"field": "phone"},
    }
    response = client.put(
        "/api/volunteers/profile",
        {"real_name": "李娜", "phone": "13800138002", "skills": ["karate"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    assert not VolunteerProfile.objects.exists()


def test_profile_api_denials(world):
    assert api_client().get("/api/volunteers/profile").status_code == 401
    for persona in (world.officer_a, world.commander):
        client = api_client(persona)
        assert client.get("/api/volunteers/profile").status_code == 403
        response = client.put(
            "/api/volunteers/profile",
            {"real_name": "王警官", "phone": "13800138003"},
            content_type="application/json",
        )
        assert response.status_code == 403
    assert not VolunteerProfile.objects.exists()
