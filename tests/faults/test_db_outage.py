"""A database that cannot be reached (security review F6): a clean 503, never a 500.

- the API answers `503 {"error": {"code": "db_unavailable"}}` with Retry-After, whether the
  failure comes from a view or from a middleware before it (Django's handler500);
- pages answer the Chinese 503 page, also with Retry-After;
- a report committed just before the failure is answered 201, not an error the client would
  retry into a duplicate: the after-commit enqueue of its offer expiry is best effort;
- the embedded task worker survives a database error: a new one starts, and the task the
  failed one held RUNNING goes back to the queue.
"""

import contextlib
import json
import threading
import uuid

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from django.utils import timezone

from pingan.core import background
from pingan.core.pages import server_error
from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER

RETRY_AFTER = "5"


def _database_down(*args, **kwargs):
    raise OperationalError(
        "connection to server at 127.0.0.1, port 5432 failed: Connection refused"
    )


@contextlib.contextmanager
def database_down():
    """Every query of this thread fails as it does while PostgreSQL is restarting."""
    with connection.execute_wrapper(_database_down):
        yield


def _is_db_unavailable(response):
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == RETRY_AFTER
    assert json.loads(response.content)["error"]["code"] == "db_unavailable"


@pytest.mark.django_db
def test_the_api_answers_503_json_while_the_database_is_down(world, api):
    client = api(world.officer_a)
    client.raise_request_exception = False
    with database_down():
        _is_db_unavailable(client.get("/api/incidents"))
        _is_db_unavailable(Client(raise_request_exception=False).get("/api/categories"))
    assert client.get("/api/incidents").status_code == 200  # and back when it is


@pytest.mark.django_db
def test_pages_answer_the_chinese_503_page(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.citizen)
    with database_down():
        response = client.get("/report/")  # the session is read before the view runs
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == RETRY_AFTER
    assert "数据库暂时不可用" in response.content.decode()


def test_django_handler500_answers_json_on_api_paths_and_503_for_the_database():
    factory = RequestFactory()
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        api_down = server_error(factory.get("/api/incidents"))
        page_down = server_error(factory.get("/report/"))
    _is_db_unavailable(api_down)
    assert page_down.status_code == 503 and "数据库暂时不可用" in page_down.content.decode()
    try:
        raise ValueError("a bug")
    except ValueError:
        api_bug = server_error(factory.get("/api/incidents"))
    assert api_bug.status_code == 500
    assert json.loads(api_bug.content)["error"]["code"] == "server_error"


@pytest.mark.django_db(transaction=True)
def test_a_committed_report_is_201_though_the_queue_fails_after_commit(world, api, monkeypatch):
    from pingan.incidents import tasks

    def queue_down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    class QueueDown:
        enqueue = staticmethod(queue_down)

        def using(self, **kwargs):
            return self

    monkeypatch.setattr(tasks, "expire_offer", QueueDown())
    response = api(world.citizen).post(
        "/api/incidents",
        {
            "category": "020100",
            "description": "村口有人打架（提交后队列不可用）",
            "location": {"lng": GA1_CENTER[0], "lat": GA1_CENTER[1]},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    code = response.json()["code"]
    assert Incident.objects.get(code=code).assignments.exists()  # an offer that would expire


class FakeWorker:
    """Stands in for django-tasks-db's Worker: the first one fails as Worker.run does when
    PostgreSQL goes away; the next runs until asked to stop."""

    def __init__(self, fail: bool):
        self.worker_id = f"fake-{uuid.uuid4().hex[:6]}"
        self.fail = fail
        self.running = True
        self.ran = threading.Event()

    def run(self):
        self.ran.set()
        if self.fail:
            raise OperationalError("terminating connection due to administrator command")
        while self.running:
            threading.Event().wait(0.01)


def _running_task(worker_id: str):
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="pingan.incidents.tasks.expire_offer",
        backend_name="default",
        run_after=now,
        started_at=now,
        worker_ids=[worker_id],
    )


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_restarts_after_a_database_error(monkeypatch):
    monkeypatch.setattr(background, "RESTART_MIN_S", 0.01)
    workers = [FakeWorker(fail=True), FakeWorker(fail=False)]
    made = iter(workers)
    held = _running_task(workers[0].worker_id)  # claimed by the worker that will fail
    other = _running_task("another-live-worker")  # someone else's, still working
    stop = threading.Event()
    thread = threading.Thread(target=background.supervise_worker, args=(stop, lambda: next(made)))
    thread.start()
    try:
        assert workers[1].ran.wait(10), "no new worker after the first one failed"
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert not workers[1].running  # stopped on request, not left running
    held.refresh_from_db()
    other.refresh_from_db()
    assert held.status == "READY" and held.started_at is None  # back in the queue
    assert other.status == "RUNNING"


@pytest.mark.django_db
def test_tasks_running_for_too_long_are_reclaimed_at_start():
    from datetime import timedelta

    stuck = _running_task("a-killed-process")
    fresh = _running_task("a-live-worker")
    type(stuck).objects.filter(pk=stuck.pk).update(
        started_at=timezone.now() - timedelta(seconds=background.TASK_RECLAIM_AFTER_S + 1)
    )
    assert background.reclaim_tasks() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, fresh.status) == ("READY", "RUNNING")
