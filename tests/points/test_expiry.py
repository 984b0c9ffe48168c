"""The optional yearly expiry: with POINTS_EXPIRE_AFTER_YEARS = N, points earned in year Y and
not spent (oldest first) lapse at the end of year Y + N, local time."""

from datetime import datetime

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from pingan.points import ledger, services
from pingan.points.models import EntryKind, PointEntry

from .helpers import give_points

pytestmark = pytest.mark.django_db


def at(*args):
    return timezone.make_aware(datetime(*args))


def earn(user, n, when):
    return give_points(user, n, kind=EntryKind.EARN, now=when)


def test_off_by_default(world):
    earn(world.citizen, 100, at(2020, 5, 1))
    assert services.expire_points(now=at(2030, 1, 2)) == 0
    assert ledger.balance(world.citizen) == 100


@override_settings(POINTS_EXPIRE_AFTER_YEARS=1)
def test_unspent_points_lapse_oldest_first(world, shops):
    earn(world.citizen, 100, at(2024, 3, 1))
    earn(world.citizen, 50, at(2025, 6, 1))
    give_points(world.citizen, -30, now=at(2025, 1, 10))  # spends 2024's points first
    assert services.expire_points(now=at(2025, 12, 31, 23, 0)) == 0
    assert services.expire_points(now=at(2026, 1, 1, 0, 30)) == 1
    entry = PointEntry.objects.get(kind=EntryKind.EXPIRE)
    assert (entry.amount, entry.source_ref) == (-70, "2024")
    assert entry.dedupe_key == f"expire:{world.citizen.pk}:2024"
    assert ledger.balance(world.citizen) == 50
    # Idempotent within the year.
    assert services.expire_points(now=at(2026, 6, 1)) == 0
    # 2025's points lapse at the end of 2026.
    assert services.expire_points(now=at(2027, 1, 2)) == 1
    assert ledger.balance(world.citizen) == 0
    assert services.expire_points(now=at(2027, 1, 3)) == 0


@override_settings(POINTS_EXPIRE_AFTER_YEARS=2)
def test_longer_validity_and_a_missed_run_catches_up(world):
    earn(world.volunteer, 10, at(2022, 1, 5))
    earn(world.volunteer, 20, at(2023, 7, 5))
    earn(world.volunteer, 40, at(2024, 7, 5))
    # First run only in 2026: 2022 and 2023 lapsed (end of 2024 and end of 2025).
    assert services.expire_points(now=at(2026, 2, 1)) == 1
    assert ledger.balance(world.volunteer) == 40


@override_settings(POINTS_EXPIRE_AFTER_YEARS=1)
def test_the_year_is_the_local_year(world):
    # 00:30 on 1 January 2025 in Shanghai is still 2024 in UTC: it is a 2025 point.
    earn(world.citizen, 10, at(2025, 1, 1, 0, 30))
    earn(world.citizen2, 10, at(2024, 12, 31, 23, 30))
    assert services.expire_points(now=at(2026, 1, 1, 0, 5)) == 1
    assert ledger.balance(world.citizen) == 10
    assert ledger.balance(world.citizen2) == 0


@override_settings(POINTS_EXPIRE_AFTER_YEARS=1)
def test_a_refund_of_old_points_after_expiry_lapses_later(world, shops):
    earn(world.citizen, 100, at(2024, 3, 1))
    from pingan.points.models import RewardItem

    RewardItem.objects.filter(pk=shops.item.pk).update(points_price=100)
    order = services.redeem(world.citizen, shops.item.pk, now=at(2025, 12, 20))
    assert services.expire_points(now=at(2026, 1, 1, 8)) == 0
    services.cancel_order(world.citizen, order.code, now=at(2026, 1, 2))
    assert ledger.balance(world.citizen) == 100
    # The refunded points were 2024's: they lapse at the next run.
    assert services.expire_points(now=at(2026, 1, 3)) == 1
    assert ledger.balance(world.citizen) == 0


@override_settings(POINTS_EXPIRE_AFTER_YEARS=1)
def test_the_sweep_runs_the_expiry(world):
    earn(world.citizen, 5, at(2020, 1, 1))
    result = services.sweep(now=at(2026, 1, 2))
    assert result["points_expired"] == 1
    assert ledger.balance(world.citizen) == 0
