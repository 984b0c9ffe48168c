"""Limits under real concurrency: threads with their own connections against PostgreSQL."""

import threading

import pytest
from django.db import connection

from pingan.incidents.models import Assignment, Incident, Unit
from tests.incidents.helpers import busy, report_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

CATEGORIES = ["020100", "050100", "070100", "030100", "080100", "040100", "010200", "060100"]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock races are tested on PostgreSQL (SQLite serialises writers)")


def run_in_threads(fn, count):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results.append(fn(i))
        except Exception as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_simultaneous_incidents_never_both_take_the_last_free_unit(world):
    busy(world.unit_aux_a)
    busy(world.unit_officer_b)
    # Eight reports at once, different categories and 200 m apart: none is a duplicate.
    results = run_in_threads(
        lambda i: report_at(dlat=0.0018 * (i - 4), category=CATEGORIES[i]), len(CATEGORIES)
    )
    taken = [r.assignment for r in results if r.assignment is not None]
    assert len(taken) == 1
    unit = Unit.objects.get(pk=world.unit_officer_a.pk)
    assert unit.current_assignment_id == taken[0].pk
    assert Assignment.objects.count() == 1
    assert Incident.objects.filter(status="pending").count() == len(CATEGORIES) - 1


def test_simultaneous_reports_get_distinct_consecutive_codes(world):
    results = run_in_threads(
        lambda i: report_at(dlat=0.0018 * (i - 4), category=CATEGORIES[i]).incident.code,
        len(CATEGORIES),
    )
    numbers = sorted(int(code.split("-")[1]) for code in results)
    assert numbers == list(range(numbers[0], numbers[0] + len(CATEGORIES)))


def test_three_units_eight_incidents_each_unit_taken_once(world):
    results = run_in_threads(
        lambda i: report_at(dlat=0.0018 * (i - 4), category=CATEGORIES[i]), len(CATEGORIES)
    )
    units = [r.assignment.unit_id for r in results if r.assignment is not None]
    assert sorted(units) == sorted(
        {world.unit_officer_a.pk, world.unit_aux_a.pk, world.unit_officer_b.pk}
    )
