"""Per-day numbers: consecutive per (prefix, day), never repeated, no hot row on PostgreSQL."""

import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction

from pingan.core.sequences import (
    next_code,
    next_number,
    prune_sequences,
    sequence_name,
)
from pingan.incidents.models import DailySequence
from tests.threads import race

DAY = date(2026, 12, 4)
NEXT_DAY = date(2026, 12, 5)


@pytest.fixture(autouse=True)
def today_is_day(monkeypatch):
    """Sequences count the days near today; the tests' today is DAY (noon in Shanghai)."""
    from pingan.core import clock

    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 4, 4, 0, tzinfo=UTC))


def sequence_exists(prefix, day) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [sequence_name(prefix, day)])
        return cursor.fetchone()[0]


@pytest.fixture
def drop_day_sequences():
    """Sequences outlive the flush of transactional tests: drop the ones a test made."""
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE 'pingan\\_seq\\_%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP SEQUENCE IF EXISTS {connection.ops.quote_name(name)}")
    connection.close()


# --- both databases -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_numbers_count_from_one_per_prefix_and_day():
    assert [next_number("JQ", DAY) for _ in range(3)] == [1, 2, 3]
    assert next_number("JQ", NEXT_DAY) == 1
    assert next_number("JQ", DAY) == 4


@pytest.mark.django_db
def test_prefixes_are_independent():
    assert next_number("JQ", DAY) == 1
    assert next_number("JF", DAY) == 1
    assert next_number("JQ", DAY) == 2
    assert next_number("TJ", DAY) == 1
    assert next_number("JF", DAY) == 2


@pytest.mark.django_db
def test_numbers_continue_after_an_existing_counter_row():
    # Handed out before this module, or bulk-loaded by the demo generator.
    DailySequence.objects.create(prefix="JQ", day=DAY, last=41)
    assert next_number("JQ", DAY) == 42
    assert next_number("JQ", DAY) == 43
    assert next_number("JQ", NEXT_DAY) == 1


@pytest.mark.django_db
def test_numbers_inside_the_callers_transaction():
    with transaction.atomic():
        assert next_number("JQ", DAY) == 1
        assert next_number("JQ", DAY) == 2
    assert next_number("JQ", DAY) == 3


@pytest.mark.django_db
def test_code_uses_the_local_day():
    # 17:30 UTC on 23 November is 01:30 on the 24th in Asia/Shanghai.
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert next_code("JQ", now) == "JQ20261124-000001"
    assert next_code("JQ", now) == "JQ20261124-000002"
    assert next_code("SP", now) == "SP20261124-000001"


@pytest.mark.django_db
def test_counter_row_is_the_state_on_sqlite():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL keeps the day's state in a sequence")
    for _ in range(3):
        next_number("JQ", DAY)
    assert DailySequence.objects.get(prefix="JQ", day=DAY).last == 3
    # A rolled-back transaction gives its number back.
    with transaction.atomic():
        next_number("JQ", DAY)
        transaction.set_rollback(True)
    assert next_number("JQ", DAY) == 4


@pytest.mark.parametrize("prefix", ["", "jq", "J-Q", "ABCDEFGHI", "JQ; DROP"])
def test_prefix_must_be_capitals_and_digits(prefix):
    with pytest.raises(ValueError):
        next_number(prefix, DAY)


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_day_sequence_is_created_on_first_use_and_leaves_the_row_alone(postgres_only):
    assert not sequence_exists("JQ", DAY)
    assert next_number("JQ", DAY) == 1
    assert sequence_exists("JQ", DAY)
    assert not DailySequence.objects.filter(prefix="JQ", day=DAY).exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_prune_drops_old_days_and_a_later_number_does_not_repeat(postgres_only):
    yesterday = date(2026, 12, 3)
    DailySequence.objects.create(prefix="JQ", day=yesterday, last=10)
    assert [next_number("JQ", yesterday) for _ in range(3)] == [11, 12, 13]
    next_number("JF", yesterday)
    next_number("JQ", DAY)
    assert sequence_exists("JQ", yesterday) and sequence_exists("JF", yesterday)
    assert prune_sequences(keep_days=3, today=DAY) == 0  # all still recent
    assert prune_sequences(keep_days=0, today=DAY) == 2
    assert not sequence_exists("JQ", yesterday)
    assert not sequence_exists("JF", yesterday)
    assert sequence_exists("JQ", DAY)
    # The last numbers were folded into the counter rows first.
    assert DailySequence.objects.get(prefix="JQ", day=yesterday).last == 13
    assert DailySequence.objects.get(prefix="JF", day=yesterday).last == 1


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_back_dated_number_takes_the_row_unless_the_day_still_has_its_sequence(postgres_only):
    old = date(2026, 11, 20)
    DailySequence.objects.create(prefix="JQ", day=old, last=10)
    # Two years of demo history must not make a sequence per day.
    assert [next_number("JQ", old) for _ in range(3)] == [11, 12, 13]
    assert not sequence_exists("JQ", old)
    assert DailySequence.objects.get(prefix="JQ", day=old).last == 13
    # A day counted by its sequence goes on with it until the sequence is pruned.
    two_days_ago = date(2026, 12, 2)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SEQUENCE {sequence_name('JQ', two_days_ago)} START WITH 7")
    assert next_number("JQ", two_days_ago) == 7
    assert prune_sequences(keep_days=1, today=DAY) == 1
    assert next_number("JQ", two_days_ago) == 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_in_concurrent_transactions_get_400_distinct_numbers(
    postgres_only, drop_day_sequences
):
    def fifty():
        numbers = []
        for _ in range(10):
            with transaction.atomic():
                numbers += [next_number("JQ", DAY) for _ in range(5)]
        return numbers

    results, errors = race(*[fifty] * 8)
    assert errors == [None] * 8
    numbers = [n for thread in results for n in thread]
    assert sorted(numbers) == list(range(1, 401))
    # Each transaction's numbers come out in order.
    assert all(thread == sorted(thread) for thread in results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_number_held_in_an_open_transaction_holds_up_nobody(postgres_only, drop_day_sequences):
    assert next_number("JQ", DAY) == 1  # the sequence exists from here on
    taken, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def long_transaction():
        try:
            with transaction.atomic():
                results["long"] = next_number("JQ", DAY)
                taken.set()
                assert release.wait(30)
        except Exception as exc:  # checked by the test thread
            errors.append(exc)
        finally:
            connection.close()

    def short_transaction():
        try:
            with transaction.atomic():
                results["short"] = next_number("JQ", DAY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=long_transaction)
    holder.start()
    assert taken.wait(30)
    # With the old counter row this would wait for the long transaction's COMMIT.
    other = threading.Thread(target=short_transaction)
    other.start()
    other.join(30)
    finished_while_held = not other.is_alive()
    release.set()
    holder.join(30)
    other.join(30)
    assert not errors
    assert finished_while_held
    assert results == {"long": 2, "short": 3}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_transactions_creating_the_days_sequence_at_once_both_succeed(
    postgres_only, drop_day_sequences
):
    created, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                results["first"] = next_number("JQ", DAY)  # creates it, uncommitted
                created.set()
                assert release.wait(30)
        except Exception as exc:  # checked by the test thread
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            assert created.wait(30)
            with transaction.atomic():
                # Does not see the uncommitted sequence, creates it too and waits for the first
                # transaction's catalog row; after its COMMIT gets the duplicate error, rolls
                # back to its savepoint and uses the first one's sequence.
                results["second"] = next_number("JQ", DAY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert created.wait(30)
    wait_for_a_lock_wait()
    release.set()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert results == {"first": 1, "second": 2}
    # Both creations at once, without a head start: both succeed too.
    results2, errors2 = race(lambda: next_number("JF", DAY), lambda: next_number("JF", DAY))
    assert errors2 == [None, None]
    assert sorted(results2) == [1, 2]


def wait_for_a_lock_wait(timeout: float = 30) -> None:
    """Until another backend of this database waits on a lock (the second CREATE SEQUENCE)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.005)
    raise AssertionError("the second transaction never waited for the first")
