"""The volunteer API is documented in the OpenAPI schema, and the admin pages open."""

import pytest
from django.test import Client

from pingan.volunteers.models import Membership, Signup
from tests.conftest import make_user

from .helpers import make_task

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/volunteers/profile",
    "/api/volunteers/teams",
    "/api/volunteers/teams/{code}",
    "/api/volunteers/teams/{code}/invite/reset",
    "/api/volunteers/teams/{code}/qr.svg",
    "/api/volunteers/teams/{code}/leave",
    "/api/volunteers/join/{token}",
    "/api/volunteers/memberships/{membership_id}/approve",
    "/api/volunteers/memberships/{membership_id}/reject",
    "/api/volunteers/memberships/{membership_id}/remove",
    "/api/volunteers/tasks",
    "/api/volunteers/tasks/{code}",
    "/api/volunteers/tasks/{code}/cancel",
    "/api/volunteers/tasks/{code}/signup",
    "/api/volunteers/tasks/{code}/signup/cancel",
    "/api/volunteers/tasks/{code}/checkin",
    "/api/volunteers/tasks/{code}/checkout",
    "/api/volunteers/tasks/{code}/report",
    "/api/volunteers/tasks/{code}/signups",
    "/api/volunteers/signups/{signup_id}/confirm",
    "/api/volunteers/signups/{signup_id}/reject",
    "/api/volunteers/me/history",
]


def test_every_path_is_in_the_openapi_schema_with_a_summary(db):
    schema = Client().get("/api/openapi.json").json()
    for path in PATHS:
        assert path in schema["paths"], path
        for operation in schema["paths"][path].values():
            assert operation["summary"] and "volunteers" in operation["tags"]
    signup = schema["paths"]["/api/volunteers/tasks/{code}/signup"]["post"]
    assert "201" in signup["responses"]
    report = schema["paths"]["/api/volunteers/tasks/{code}/report"]["post"]
    assert "multipart/form-data" in report["requestBody"]["content"]


def test_admin_pages_open(world, crew):
    task = make_task(world, teams=[crew.team])
    admin = make_user("root", "commander", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(admin)
    from pingan.volunteers.services import sign_up

    sign_up(crew.v1, task.code)
    pages = [
        "/admin/volunteers/volunteerprofile/",
        "/admin/volunteers/team/",
        f"/admin/volunteers/team/{crew.team.pk}/change/",
        "/admin/volunteers/membership/",
        f"/admin/volunteers/membership/{Membership.objects.first().pk}/change/",
        "/admin/volunteers/task/",
        f"/admin/volunteers/task/{task.pk}/change/",
        "/admin/volunteers/signup/",
        f"/admin/volunteers/signup/{Signup.objects.get().pk}/change/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/volunteers/task/add/").status_code == 403
