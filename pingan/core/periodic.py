"""The periodic jobs: each one is a management command, and this table says how often it runs.

One scheduler runs them: in the embedded set-up the sweeper thread (core/background.py), in
production `manage.py scheduler` under systemd, or cron / systemd timers calling the commands
themselves (docs/deployment.md). Run only one scheduler per database: every job is safe to run
twice, but twice the work buys nothing.
"""

import logging
from dataclasses import dataclass

from django.core.management import call_command
from django.db import close_old_connections

log = logging.getLogger(__name__)

# The scheduler's tick: the dispatch sweep runs on each one.
TICK_SECONDS = 5.0


@dataclass(frozen=True)
class Job:
    command: str
    every_ticks: int  # 1 = every tick (5 s); 12 = every minute; 720 = every hour; 17280 = a day


JOBS = (
    # Offers past their timeout; incidents still waiting for a free unit.
    Job("sweep_incidents", 1),
    # Disputes and points move in days, not seconds: overdue orders and the time-based risk
    # rules; uncollected redemptions, tip awards and the yearly expiry; undelivered messages.
    Job("sweep_disputes", 12),
    Job("points_sweep", 12),
    Job("retry_messages", 12),
    # Quota rows, expired tokens, old messages and pushes, sessions.
    Job("prune", 720),
    # Audit entries past AUDIT_RETENTION_DAYS: archived, verified, then deleted (daily).
    Job("audit_archive", 17280),
)


def due(round_number: int, jobs=JOBS) -> list[Job]:
    """The jobs of one round; round 0 (start-up) runs every job once."""
    return [job for job in jobs if round_number % job.every_ticks == 0]


def run(job: Job) -> bool:
    """Run one job's command; a failure is logged and does not stop the others."""
    try:
        call_command(job.command, verbosity=0)
    except Exception:
        log.exception("periodic job %s failed", job.command)
        return False
    return True


def run_round(round_number: int, jobs=JOBS) -> list[str]:
    ran = []
    for job in due(round_number, jobs):
        run(job)
        ran.append(job.command)
    return ran


def run_forever(stop, tick_s: float = TICK_SECONDS, jobs=JOBS) -> None:
    """Until `stop` (a threading.Event) is set: a round every `tick_s` seconds."""
    round_number = 0
    while not stop.wait(tick_s):
        close_old_connections()  # a long-lived thread: drop connections gone stale meanwhile
        run_round(round_number, jobs)
        round_number += 1
