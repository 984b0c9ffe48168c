"""Two copies of one write, racing on PostgreSQL with one Idempotency-Key: one effect.
(Apart from test_idempotency.py: a transactional test cannot share a module with the access
matrix's module-wide scene.)"""

import threading
import uuid

import pytest
from django.db import connection

from pingan.incidents.models import Incident
from tests.core.test_idempotency import _report


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_copies_racing_make_one_report(world):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    key = str(uuid.uuid4())
    barrier = threading.Barrier(4)
    answers = []

    def send_copy():
        barrier.wait()
        try:
            answers.append(_report(key))
        finally:
            connection.close()

    threads = [threading.Thread(target=send_copy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["code"] for a in answers}) == 1
    assert Incident.objects.count() == 1
