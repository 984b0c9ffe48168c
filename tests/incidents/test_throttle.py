"""The anonymous report quota as one upsert: exact limit, per hour, per client, under races."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from pingan.core.errors import ServiceError
from pingan.incidents.models import ReportThrottle
from pingan.incidents.throttle import client_hash, take_anonymous_report
from tests.threads import race

NOW = datetime(2026, 12, 4, 9, 41, 7, 123456, tzinfo=UTC)


def admitted(client_key, now, times) -> int:
    count = 0
    for _ in range(times):
        try:
            take_anonymous_report(client_key, now)
        except ServiceError as exc:
            assert exc.code == "rate_limited"
            assert exc.status == 429
            assert exc.message == "匿名报警过于频繁，请稍后再试；紧急情况请直接拨打 110"
        else:
            count += 1
    return count


@pytest.mark.django_db
def test_the_limit_holds_exactly(settings):
    settings.ANON_REPORTS_PER_HOUR = 3
    assert admitted("10.0.0.1", NOW, 5) == 3
    row = ReportThrottle.objects.get()
    assert row.key == client_hash("10.0.0.1")
    assert row.hour == NOW.replace(minute=0, second=0, microsecond=0)
    assert row.count == 3


@pytest.mark.django_db
def test_hours_and_clients_are_independent(settings):
    settings.ANON_REPORTS_PER_HOUR = 2
    assert admitted("10.0.0.1", NOW, 3) == 2
    # Same hour, other minute: still refused.
    assert admitted("10.0.0.1", NOW.replace(minute=59), 1) == 0
    assert admitted("10.0.0.1", NOW + timedelta(hours=1), 3) == 2
    assert admitted("10.0.0.2", NOW, 3) == 2
    assert ReportThrottle.objects.count() == 3


@pytest.mark.django_db
def test_a_zero_limit_refuses_the_first_report(settings):
    settings.ANON_REPORTS_PER_HOUR = 0
    assert admitted("10.0.0.1", NOW, 2) == 0


@pytest.mark.django_db
def test_continues_a_row_written_by_the_orm(settings):
    settings.ANON_REPORTS_PER_HOUR = 3
    ReportThrottle.objects.create(
        key=client_hash("10.0.0.1"), hour=NOW.replace(minute=0, second=0, microsecond=0), count=2
    )
    assert admitted("10.0.0.1", NOW, 3) == 1
    assert ReportThrottle.objects.get().count == 3


@pytest.mark.django_db
def test_a_report_that_rolls_back_gives_its_place_back(settings):
    settings.ANON_REPORTS_PER_HOUR = 1
    with transaction.atomic():
        take_anonymous_report("10.0.0.1", NOW)
        transaction.set_rollback(True)
    assert admitted("10.0.0.1", NOW, 2) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_takes_admit_exactly_the_limit(settings, postgres_only):
    settings.ANON_REPORTS_PER_HOUR = 5

    def take():
        with transaction.atomic():
            take_anonymous_report("10.0.0.9", NOW)
        return True

    results, errors = race(*[take] * 16)
    assert results.count(True) == 5
    assert all(isinstance(e, ServiceError) and e.code == "rate_limited" for e in errors if e)
    assert sum(e is not None for e in errors) == 11
    assert ReportThrottle.objects.get().count == 5
