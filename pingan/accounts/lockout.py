"""Locking out password guessing: per account name and per client address.

Five failures (LOGIN_MAX_FAILURES) within LOGIN_LOCK_MINUTES lock the name for that long, from
everywhere; as many failures from one address (LOGIN_ADDRESS_MAX_FAILURES), whatever names
they tried, lock the address. A name is counted as typed, whether or not an account has it, so a
locked name answers the same either way. The lock is checked before the password, so a locked
name cannot be probed; counting is one conditional UPDATE per key, so parallel guesses all count.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .models import LoginLock


@dataclass(frozen=True)
class Lock:
    kind: str  # LoginLock.Kind
    until: datetime


def _keys(username: str, address: str | None) -> list[tuple[LoginLock.Kind, str, int]]:
    keys = [(LoginLock.Kind.NAME, username.strip().lower()[:150], settings.LOGIN_MAX_FAILURES)]
    if address:
        keys.append((LoginLock.Kind.ADDRESS, address, settings.LOGIN_ADDRESS_MAX_FAILURES))
    return keys


def current_lock(username: str, address: str | None, now: datetime) -> Lock | None:
    """The lock in force on this name or this address, the name's first."""
    for kind, key, _limit in _keys(username, address):
        until = (
            LoginLock.objects.filter(kind=kind, key=key, locked_until__gt=now)
            .values_list("locked_until", flat=True)
            .first()
        )
        if until is not None:
            return Lock(kind, until)
    return None


def record_failure(username: str, address: str | None, now: datetime) -> Lock | None:
    """Count one failure against the name and the address; the lock it caused, if any."""
    period = timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    caused = None
    for kind, key, limit in _keys(username, address):
        with transaction.atomic():
            row = _counter(kind, key, now)
            if row.first_failure_at <= now - period or (
                row.locked_until is not None and row.locked_until <= now
            ):
                # The window (or the last lock) is over: start counting again.
                LoginLock.objects.filter(pk=row.pk).update(
                    failures=1, first_failure_at=now, locked_until=None
                )
                failures = 1
            else:
                LoginLock.objects.filter(pk=row.pk).update(failures=F("failures") + 1)
                failures = LoginLock.objects.values_list("failures", flat=True).get(pk=row.pk)
            if failures >= limit:
                until = now + period
                LoginLock.objects.filter(pk=row.pk).update(locked_until=until)
                caused = caused or Lock(kind, until)
    return caused


def _counter(kind: str, key: str, now: datetime) -> LoginLock:
    row = LoginLock.objects.select_for_update().filter(kind=kind, key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return LoginLock.objects.create(kind=kind, key=key, failures=0, first_failure_at=now)
    except IntegrityError:  # created meanwhile by a parallel guess
        return LoginLock.objects.select_for_update().get(kind=kind, key=key)


def clear_name(username: str) -> None:
    """A successful sign-in forgets the name's failures (not the address's: one right password
    among many guesses from an address must not reset the guessing budget)."""
    LoginLock.objects.filter(kind=LoginLock.Kind.NAME, key=username.strip().lower()).delete()


def unlock(username: str) -> int:
    """An administrator lifts the lock on a name."""
    deleted, _ = LoginLock.objects.filter(
        kind=LoginLock.Kind.NAME, key=username.strip().lower()
    ).delete()
    return deleted
