"""Background threads for the embedded deployment: the task worker and the sweeper (which runs
the same management commands as `manage.py scheduler`, see pingan/core/periodic.py).

In the embedded set-up (no Redis) the channel layer lives in the web process's memory, so work
that pushes live updates (offer expiry, re-dispatch) must run in that same process. Healthchecks'
operators kept forgetting to start a separate worker; here the server starts it.
"""

import contextlib
import logging
import threading
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)

# The supervised task worker (F6 of the security review): django-tasks-db's Worker.run re-raises
# a database error (PostgreSQL restarting) and the thread would end for good. The supervisor
# starts a new worker after a back-off of RESTART_MIN_S, doubling to RESTART_MAX_S while the
# failures go on, back to the minimum once a worker ran STABLE_S without failing.
RESTART_MIN_S = 1.0
RESTART_MAX_S = 30.0
STABLE_S = 60.0
# A task left RUNNING by a worker that is gone (its thread failed, its process was killed) is put
# back in the queue. django-tasks-db has no such step (0.13: no heartbeat, no reclaim), so: at
# every (re)start, the tasks claimed by the workers this supervisor saw fail, and any task still
# RUNNING after TASK_RECLAIM_AFTER_S (none of ours takes more than seconds; a worker killed
# outright leaves its task there). Every task of pingan is safe to run twice.
TASK_RECLAIM_AFTER_S = 600.0


def _new_worker():
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=["default"],
        interval=1.0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"embedded-{uuid.uuid4().hex[:8]}",
        excluded_queue_names=[],
    )


def reclaim_tasks(dead_worker_ids=(), *, older_than_s: float = TASK_RECLAIM_AFTER_S) -> int:
    """Put back in the queue the RUNNING tasks last claimed by one of `dead_worker_ids`, or
    started more than `older_than_s` seconds ago. Returns how many."""
    from django.utils import timezone
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    dead = set(dead_worker_ids)
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    stale = [
        pk
        for pk, started_at, worker_ids in DBTaskResult.objects.running().values_list(
            "pk", "started_at", "worker_ids"
        )
        if (worker_ids and worker_ids[-1] in dead) or started_at is None or started_at < cutoff
    ]
    if not stale:
        return 0
    # Only while still RUNNING: a task that finished meanwhile stays finished.
    count = (
        DBTaskResult.objects.running()
        .filter(pk__in=stale)
        .update(status=TaskResultStatus.READY, started_at=None, finished_at=None)
    )
    if count:
        log.warning("task worker: %d task(s) left running by a stopped worker re-queued", count)
    return count


def supervise_worker(stop: threading.Event, new_worker=_new_worker) -> None:
    """Run a task worker until `stop` is set, starting a new one whenever one fails."""
    current = None

    def watch_stop():
        stop.wait()
        if current is not None:
            current.running = False

    threading.Thread(target=watch_stop, name="task-worker-stop", daemon=True).start()
    dead: list[str] = []
    backoff = RESTART_MIN_S
    while not stop.is_set():
        started = time.monotonic()
        current = None
        try:
            close_old_connections()
            reclaim_tasks(dead)
            current = new_worker()
            if stop.is_set():
                return
            current.run()
            return  # stopped on request
        except Exception:
            if current is not None:
                dead.append(current.worker_id)
            if time.monotonic() - started >= STABLE_S:
                backoff = RESTART_MIN_S
            log.exception("task worker failed; a new one starts in %.0f s", backoff)
        finally:
            _close_connections()
        if stop.wait(backoff):
            return
        backoff = min(backoff * 2, RESTART_MAX_S)


def _close_connections() -> None:
    """A failed worker's connection may be broken: never hand it to the next one."""
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):  # a dead connection may fail to close as well
            conn.close()


def _task_worker(stop: threading.Event) -> None:
    supervise_worker(stop)


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
