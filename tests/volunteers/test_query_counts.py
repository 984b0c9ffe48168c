"""The sign-up rush path's statements, pinned (see tests/incidents/test_query_counts.py).

On SQLite (and inside an outer transaction) the sign-up is the ORM path: the pre-check query,
then savepoint, the task row locked, the sign-up inserted, `taken` bumped, release. On
PostgreSQL outside a transaction it is one statement after the pre-check (decisions.md); the
tests run inside the test's transaction, so they pin the ORM path on both databases."""

import pytest

from tests.volunteers.helpers import make_task, team_with_volunteers

pytestmark = pytest.mark.django_db

SIGN_UP = 6


def test_a_sign_up(world, api, warm_caches, django_assert_num_queries):
    team, users = team_with_volunteers(world, 2)
    task = make_task(world, teams=[team], slots=2)
    first, second = api(users[0]), api(users[1])
    assert first.post(f"/api/volunteers/tasks/{task.code}/signup").status_code == 201
    second.get("/api/auth/me")  # the token is in the cache, as on a phone that has used it
    with django_assert_num_queries(SIGN_UP):
        response = second.post(f"/api/volunteers/tasks/{task.code}/signup")
    assert response.status_code == 201 and response.json()["status"] == "accepted"
