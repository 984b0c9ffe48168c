"""Background threads for the embedded deployment: the task worker and the sweeper (which runs
the same management commands as `manage.py scheduler`, see pingan/core/periodic.py).

In the embedded set-up (no Redis) the channel layer lives in the web process's memory, so work
that pushes live updates (offer expiry, re-dispatch) must run in that same process. Healthchecks'
operators kept forgetting to start a separate worker; here the server starts it.
"""

import logging
import threading
import uuid

from django.conf import settings

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


def _sweeper(stop: threading.Event, interval_s: float) -> None:
    """The periodic jobs (pingan/core/periodic.py: the dispatch sweep every round, disputes,
    points and message retries every minute, pruning every hour), each run as its management
    command, as `manage.py scheduler`, cron or a systemd timer would."""
    from pingan.core import periodic

    periodic.run_forever(stop, interval_s)


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
