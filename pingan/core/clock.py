"""One place to read the time, so tests can move it (services take `now` from here)."""

from django.utils import timezone


def now():
    return timezone.now()
