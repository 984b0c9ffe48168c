"""Periodic work is management commands run by one scheduler (the embedded sweeper thread
calls the same commands), and `prune` deletes what has served its purpose."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command, get_commands
from django.utils import timezone

from pingan.accounts.models import ApiToken
from pingan.accounts.services import issue_token
from pingan.core import background, periodic
from pingan.incidents.models import ReportThrottle
from pingan.live.models import LivePush
from pingan.notify.models import MessageStatus, OutboundMessage


def test_every_periodic_job_is_a_management_command():
    commands = get_commands()
    names = [job.command for job in periodic.JOBS]
    assert set(names) >= {"sweep_incidents", "sweep_disputes", "points_sweep", "retry_messages"}
    assert "prune" in names
    assert all(name in commands for name in names)


def test_the_embedded_sweeper_calls_the_same_commands():
    stop = threading.Event()
    called = []

    def fake(name, **kwargs):
        called.append(name)
        if len(called) >= len(periodic.JOBS) + 3:
            stop.set()

    with mock.patch.object(periodic, "call_command", side_effect=fake):
        thread = threading.Thread(target=background._sweeper, args=(stop, 0.001))
        thread.start()
        thread.join(timeout=10)
    assert not thread.is_alive()
    # Start-up round runs every job; then the dispatch sweep every round.
    jobs = len(periodic.JOBS)
    assert called[:jobs] == [job.command for job in periodic.JOBS]
    assert called[jobs : jobs + 3] == ["sweep_incidents"] * 3


def test_a_failing_job_does_not_stop_the_others():
    def fake(name, **kwargs):
        if name == "sweep_disputes":
            raise RuntimeError("boom")

    with mock.patch.object(periodic, "call_command", side_effect=fake) as patched:
        assert periodic.run_round(0) == [job.command for job in periodic.JOBS]
    assert patched.call_count == len(periodic.JOBS)


@pytest.mark.django_db
@pytest.mark.parametrize("command", ["sweep_incidents", "sweep_disputes", "retry_messages"])
def test_sweep_commands_run(world, command):
    call_command(command, verbosity=0)


@pytest.mark.django_db
def test_scheduler_once_runs_every_job(world, capsys):
    call_command("scheduler", once=True)
    assert capsys.readouterr().out.split() == [job.command for job in periodic.JOBS]


@pytest.mark.django_db
def test_prune_deletes_what_has_served_its_purpose(world, settings):
    settings.PRUNE_MESSAGES_AFTER_DAYS = 30
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    ReportThrottle.objects.create(key="old", hour=hour - timedelta(hours=2), count=3)
    ReportThrottle.objects.create(key="now", hour=hour, count=1)
    issue_token(world.citizen)
    expired = issue_token(world.citizen2)
    ApiToken.objects.filter(user=world.citizen2).update(expires_at=now - timedelta(minutes=1))

    def message(status, days):
        return OutboundMessage.objects.create(
            created_at=now - timedelta(days=days),
            phone="+8613800138000",
            text="测试",
            status=status,
            next_attempt_at=now,
        )

    old_sent = message(MessageStatus.SENT, 40)
    old_failed = message(MessageStatus.FAILED, 40)
    old_queued = message(MessageStatus.QUEUED, 40)
    new_sent = message(MessageStatus.SENT, 2)
    LivePush.objects.create(at=now - timedelta(days=2), groups=["all"], body={})
    fresh_push = LivePush.objects.create(at=now, groups=["all"], body={})
    Session.objects.create(
        session_key="x" * 32, session_data="e30:", expire_date=now - timedelta(days=1)
    )
    Session.objects.create(
        session_key="y" * 32, session_data="e30:", expire_date=now + timedelta(days=1)
    )

    call_command("prune", verbosity=0)

    assert list(ReportThrottle.objects.values_list("key", flat=True)) == ["now"]
    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [world.citizen.pk]
    assert expired.user == world.citizen2
    remaining = set(OutboundMessage.objects.values_list("pk", flat=True))
    assert remaining == {old_queued.pk, new_sent.pk}
    assert old_sent.pk not in remaining and old_failed.pk not in remaining
    assert list(LivePush.objects.values_list("pk", flat=True)) == [fresh_push.pk]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["y" * 32]
