"""Message backends. A deployment names one in settings.MESSAGE_BACKEND (a dotted path).

A real SMS gateway implements `MessageBackend.send`: deliver one text to one E.164 number,
return the provider's message id, raise `DeliveryError` when it could not. Sending is retried
by the caller, so a backend must not retry on its own.
"""

import logging
import threading

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("pingan.notify")


class DeliveryError(Exception):
    """The gateway refused or could not be reached; the message stays failed/retryable."""


class MessageBackend:
    name = "base"

    def send(self, phone: str, text: str) -> str:
        raise NotImplementedError


class ConsoleBackend(MessageBackend):
    """The default: writes each message to the log, for demos and deployments without SMS."""

    name = "console"

    def send(self, phone: str, text: str) -> str:
        log.info("SMS to %s: %s", phone, text)
        print(f"[短信] {phone}: {text}", flush=True)
        return ""


class MemoryBackend(MessageBackend):
    """Keeps sent messages in a list (`MemoryBackend.outbox`), like Django's locmem mail."""

    name = "memory"
    outbox: list[tuple[str, str]] = []
    _lock = threading.Lock()

    def send(self, phone: str, text: str) -> str:
        with self._lock:
            MemoryBackend.outbox.append((phone, text))
            return f"mem-{len(MemoryBackend.outbox)}"


def get_backend() -> MessageBackend:
    return import_string(settings.MESSAGE_BACKEND)()
