"""Queue a message inside the caller's transaction; deliver it after commit in a task."""

import logging
from datetime import timedelta

from django.db import transaction

from pingan.core import clock

from .backends import DeliveryError, get_backend
from .models import MessageStatus, OutboundMessage

log = logging.getLogger("pingan.notify")

MAX_ATTEMPTS = 5
RETRY_BACKOFF_S = 60


def queue_message(phone: str, text: str, *, topic: str = "") -> OutboundMessage | None:
    """Record the message now (it is part of the state change) and send it once committed."""
    if not phone:
        return None
    now = clock.now()
    message = OutboundMessage.objects.create(
        created_at=now, next_attempt_at=now, phone=phone, text=text[:500], topic=topic[:64]
    )
    message_id = message.pk

    def enqueue():
        from .tasks import deliver_message

        try:
            deliver_message.enqueue(message_id)
        except Exception:  # the row stays queued; the sweep retries it
            log.exception("could not enqueue message %s", message_id)

    transaction.on_commit(enqueue)
    return message


def deliver(message_id: int) -> OutboundMessage | None:
    """Send one queued message. Claimed with a conditional update so two workers never both
    send it; a failure leaves it retryable until MAX_ATTEMPTS."""
    now = clock.now()
    claimed = OutboundMessage.objects.filter(
        pk=message_id,
        status=MessageStatus.QUEUED,
        attempts__lt=MAX_ATTEMPTS,
        next_attempt_at__lte=now,
    )
    message = claimed.first()
    if message is None:
        return None
    attempts = message.attempts + 1
    backoff = timedelta(seconds=RETRY_BACKOFF_S * attempts)
    taken = claimed.filter(attempts=message.attempts).update(
        attempts=attempts, next_attempt_at=now + backoff
    )
    if not taken:
        return None  # another worker took it
    backend = get_backend()
    try:
        provider_id = backend.send(message.phone, message.text)
    except Exception as exc:
        # DeliveryError is the gateway's refusal. Anything else is a bug in the backend: it is
        # logged and handled the same way, so one bad message can neither stay "queued" forever
        # nor abort the sweep that delivers everyone else's.
        if not isinstance(exc, DeliveryError):
            log.exception("message backend %s crashed on message %s", backend.name, message_id)
        error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        status = MessageStatus.FAILED if attempts >= MAX_ATTEMPTS else MessageStatus.QUEUED
        OutboundMessage.objects.filter(pk=message_id).update(
            status=status, error=error[:300], backend=backend.name
        )
        return OutboundMessage.objects.get(pk=message_id)
    OutboundMessage.objects.filter(pk=message_id).update(
        status=MessageStatus.SENT,
        sent_at=clock.now(),
        provider_id=(provider_id or "")[:100],
        backend=backend.name,
        error="",
    )
    return OutboundMessage.objects.get(pk=message_id)


def retry_queued(limit: int = 200) -> int:
    """Safety net for the sweeper: deliver messages whose task never ran (e.g. a restart)."""
    # Oldest first (the model's default order is newest first): a case's step messages then
    # arrive in the order they happened, and a backlog cannot starve its oldest messages.
    ids = list(
        OutboundMessage.objects.filter(
            status=MessageStatus.QUEUED, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=clock.now()
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for message_id in ids:
        message = deliver(message_id)
        sent += bool(message and message.status == MessageStatus.SENT)
    return sent
