"""Listening on the channel layer and reading the texts the services queued."""

from pingan.notify.backends import MemoryBackend
from pingan.notify.services import retry_queued
from tests.live.layer import listen, received  # noqa: F401 - re-exported for the tests


def sms_sent() -> dict[str, list[str]]:
    """Deliver what the services queued; the texts by phone number."""
    retry_queued()
    by_phone: dict[str, list[str]] = {}
    for phone, text in MemoryBackend.outbox:
        by_phone.setdefault(phone, []).append(text)
    return by_phone
