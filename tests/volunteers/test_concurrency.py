"""Slots under real concurrency: threads with their own connections on PostgreSQL."""

import pytest

from pingan.core.errors import Conflict
from pingan.points import ledger
from pingan.points.models import PointEntry
from pingan.volunteers import services
from pingan.volunteers.models import Signup, SignupStatus, Task
from tests.threads import race

from .helpers import make_task, team_with_volunteers

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.usefixtures("postgres_only"),
]


def sign_up_call(user, code):
    return lambda: services.sign_up(user, code)


def assert_consistent(task):
    """taken is the number of accepted sign-ups, never above slots, and nobody waits while a
    slot is free; the waiting list is in id order with positions 1..n."""
    task.refresh_from_db()
    accepted = Signup.objects.filter(task=task, status=SignupStatus.ACCEPTED).count()
    waiting = list(Signup.objects.filter(task=task, status=SignupStatus.WAITING).order_by("pk"))
    assert task.taken == accepted <= task.slots
    if waiting:
        assert task.taken == task.slots
    assert [services.waiting_position(s) for s in waiting] == list(range(1, len(waiting) + 1))
    return accepted, waiting


def test_sixty_volunteers_rushing_five_slots(world):
    team, users = team_with_volunteers(world, 60)
    task = make_task(world, teams=[team], slots=5)
    results, errors = race(*[sign_up_call(u, task.code) for u in users])
    assert errors == [None] * 60
    accepted = [s for s in results if s.status == SignupStatus.ACCEPTED]
    assert len(accepted) == 5
    got, waiting = assert_consistent(task)
    assert (got, len(waiting), task.taken) == (5, 55, 5)
    # Accepted sign-ups took the lock first: their ids precede every waiting one.
    assert max(s.pk for s in accepted) < min(s.pk for s in waiting)
    # Each response's position is the waiting list's order.
    by_pk = {s.pk: i for i, s in enumerate(waiting, start=1)}
    for signup in results:
        if signup.status == SignupStatus.WAITING:
            assert services.waiting_position(signup) == by_pk[signup.pk]


def test_one_person_pressing_many_times_gets_one_sign_up(world):
    team, users = team_with_volunteers(world, 1)
    task = make_task(world, teams=[team], slots=3)
    results, errors = race(*[sign_up_call(users[0], task.code)] * 8)
    assert sum(r is not None for r in results) == 1
    assert all(isinstance(e, Conflict) and e.code == "already_signed_up" for e in errors if e)
    assert Signup.objects.filter(task=task).count() == 1
    assert Task.objects.get(pk=task.pk).taken == 1


def test_cancellations_and_sign_ups_at_once_never_overbook(world):
    team, users = team_with_volunteers(world, 40)
    task = make_task(world, teams=[team], slots=10)
    first, rest = users[:20], users[20:]
    for user in first:  # 10 accepted, 10 waiting
        services.sign_up(user, task.code)
    calls = [lambda u=u: services.cancel_signup(u, task.code) for u in first[:8]]  # 5 + 3
    calls += [lambda u=u: services.cancel_signup(u, task.code) for u in first[12:15]]
    calls += [sign_up_call(u, task.code) for u in rest]
    results, errors = race(*calls)
    assert errors == [None] * len(calls)
    accepted, waiting = assert_consistent(task)
    assert accepted == 10
    # 20 + 20 sign-ups, 11 cancelled: 29 live, 10 of them holding a slot.
    assert len(waiting) == 19
    # Promotion always takes the lowest waiting id and new sign-ups queue behind: whoever
    # holds a slot signed up before everyone still waiting.
    holders = Signup.objects.filter(task=task, status=SignupStatus.ACCEPTED)
    assert max(holders.values_list("pk", flat=True)) < waiting[0].pk
    assert Signup.objects.filter(task=task, promoted=True).count() >= 8


def test_concurrent_confirmations_credit_once(world):
    team, users = team_with_volunteers(world, 1)
    task = make_task(world, teams=[team], slots=1)
    services.sign_up(users[0], task.code, now=task.published_at)
    services.check_in(users[0], task.code, qr_token=task.qr_token, now=task.starts_at)
    services.check_out(users[0], task.code, qr_token=task.qr_token, now=task.ends_at)
    signup = Signup.objects.get(task=task)
    results, errors = race(
        *[lambda: services.confirm_work(world.officer_a, signup.pk, now=task.ends_at)] * 6
    )
    assert sum(r is not None for r in results) == 1
    assert all(isinstance(e, Conflict) and e.code == "already_reviewed" for e in errors if e)
    # 10 for the task + 5 × 3 hours.
    assert ledger.balance(users[0]) == 25
    assert PointEntry.objects.filter(user=users[0]).count() == 2
