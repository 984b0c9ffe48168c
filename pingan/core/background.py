"""Background threads for the embedded deployment: the task worker and the sweeper.

In the embedded set-up (no Redis) the channel layer lives in the web process's memory, so work
that pushes live updates (offer expiry, re-dispatch) must run in that same process. Healthchecks'
operators kept forgetting to start a separate worker; here the server starts it.
"""

import logging
import threading
import uuid

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


def _task_worker(stop: threading.Event) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"embedded-{uuid.uuid4().hex[:8]}",
        excluded_queue_names=[],
    )
    threading.Thread(
        target=lambda: (stop.wait(), setattr(worker, "running", False)), daemon=True
    ).start()
    worker.run()


# Disputes and points move in days, not seconds: their sweeps (overdue orders, the "no
# progress" rule; uncollected redemptions, tip awards, the yearly expiry) and the retry of
# undelivered messages run every this many dispatch sweeps.
SLOW_SWEEP_EVERY = 12


def _sweeper(stop: threading.Event, interval_s: float) -> None:
    """Safety net: expire overdue offers and retry incidents still waiting for a free unit;
    less often, escalate overdue dispute orders, re-run time-based risk rules, expire
    uncollected redemptions, credit tips and retry messages whose delivery task never ran."""
    from pingan.disputes.services import sweep as sweep_disputes
    from pingan.incidents.services import sweep
    from pingan.notify.services import retry_queued
    from pingan.points.services import sweep as sweep_points

    rounds = 0
    while not stop.wait(interval_s):
        close_old_connections()
        try:
            sweep()
        except Exception:
            log.exception("dispatch sweep failed")
        rounds += 1
        if rounds % SLOW_SWEEP_EVERY == 1:
            for name, job in (
                ("dispute", sweep_disputes),
                ("points", sweep_points),
                ("message", retry_queued),
            ):
                try:
                    job()
                except Exception:
                    log.exception("%s sweep failed", name)


def start(stop: threading.Event, *, sweep_interval_s: float = 5.0, simulate_rate: float = 0.0):
    threads = []
    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_db"):
        threads.append(
            threading.Thread(target=_task_worker, args=(stop,), name="task-worker", daemon=True)
        )
    threads.append(
        threading.Thread(
            target=_sweeper, args=(stop, sweep_interval_s), name="sweeper", daemon=True
        )
    )
    if simulate_rate > 0:
        from pingan.demo.simulate import Simulator

        simulator = Simulator(rate_per_min=simulate_rate)
        threads.append(
            threading.Thread(target=simulator.run, args=(stop,), name="simulator", daemon=True)
        )
    for thread in threads:
        thread.start()
    return threads
