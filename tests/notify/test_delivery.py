"""Outbound messages: queued with the state change, sent once, retried with backoff, then failed.

The backends below implement the real `MessageBackend` interface a deployment's SMS gateway
implements; settings.MESSAGE_BACKEND names them by dotted path like any deployment would.
"""

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django_tasks.signals import task_enqueued

from pingan.core import clock
from pingan.notify.backends import DeliveryError, MemoryBackend, MessageBackend, get_backend
from pingan.notify.models import MessageStatus, OutboundMessage
from pingan.notify.services import (
    MAX_ATTEMPTS,
    RETRY_BACKOFF_S,
    deliver,
    queue_message,
    retry_queued,
)

PHONE = "+8613800138001"


class FlakyGateway(MessageBackend):
    """Refuses the first `failures` sends (as a gateway does when it times out), then sends."""

    name = "flaky"
    failures = 0
    sent: list[tuple[str, str]] = []
    _lock = threading.Lock()

    def send(self, phone: str, text: str) -> str:
        with self._lock:
            if FlakyGateway.failures > 0:
                FlakyGateway.failures -= 1
                raise DeliveryError("网关超时")
            FlakyGateway.sent.append((phone, text))
            return f"flaky-{len(FlakyGateway.sent)}"


class BuggyGateway(MessageBackend):
    """A gateway adapter with a bug: crashes on one number instead of raising DeliveryError."""

    name = "buggy"
    sent: list[str] = []

    def send(self, phone: str, text: str) -> str:
        if phone.endswith("0"):
            raise KeyError("unexpected response field")
        BuggyGateway.sent.append(phone)
        return ""


FLAKY = "tests.notify.test_delivery.FlakyGateway"
BUGGY = "tests.notify.test_delivery.BuggyGateway"


@pytest.fixture(autouse=True)
def _reset_gateways():
    FlakyGateway.failures = 0
    FlakyGateway.sent = []
    BuggyGateway.sent = []


@pytest.fixture
def now(monkeypatch):
    """A clock the test moves by hand: `now.advance(seconds)`."""

    class Clock:
        value = clock.now()

        def __call__(self):
            return self.value

        def advance(self, seconds):
            self.value += timedelta(seconds=seconds)

    moving = Clock()
    monkeypatch.setattr(clock, "now", moving)
    return moving


def test_deliver_sends_once(db, now):
    message = queue_message(PHONE, "【平安】您的纠纷已受理", topic="dispute:JF1")
    assert message.status == MessageStatus.QUEUED and MemoryBackend.outbox == []
    sent = deliver(message.pk)
    assert sent.status == MessageStatus.SENT
    assert (sent.attempts, sent.backend, sent.provider_id) == (1, "memory", "mem-1")
    assert sent.sent_at is not None and sent.error == ""
    assert MemoryBackend.outbox == [(PHONE, "【平安】您的纠纷已受理")]
    assert deliver(message.pk) is None
    now.advance(24 * 3600)  # long after any backoff: sent is sent
    assert deliver(message.pk) is None
    assert retry_queued() == 0
    assert len(MemoryBackend.outbox) == 1


def test_no_phone_no_message(db):
    assert queue_message("", "无号码") is None
    assert not OutboundMessage.objects.exists()


def test_long_text_and_topic_are_cut_to_the_columns(db):
    message = queue_message(PHONE, "字" * 600, topic="t" * 100)
    message.refresh_from_db()
    assert len(message.text) == 500 and len(message.topic) == 64


def test_message_is_enqueued_for_delivery_only_after_commit(db, django_capture_on_commit_callbacks):
    enqueued = []

    def seen(sender, task_result, **kwargs):
        enqueued.append(list(task_result.args))

    task_enqueued.connect(seen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = queue_message(PHONE, "提交后发送")
            assert enqueued == []
        assert enqueued == [[message.pk]]
        # A rolled-back state change takes its message with it, and nothing is enqueued.
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    queue_message(PHONE, "回滚的消息")
                    raise RuntimeError("the state change failed")
            except RuntimeError:
                pass
        assert callbacks == []
    finally:
        task_enqueued.disconnect(seen)
    assert list(OutboundMessage.objects.values_list("text", flat=True)) == ["提交后发送"]


@override_settings(MESSAGE_BACKEND=FLAKY)
def test_gateway_refusal_leaves_it_queued_with_backoff_then_failed(db, now):
    assert isinstance(get_backend(), FlakyGateway)
    FlakyGateway.failures = MAX_ATTEMPTS
    message = queue_message(PHONE, "重试")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = deliver(message.pk)
        assert result.attempts == attempt
        assert result.error == "网关超时" and result.backend == "flaky"
        if attempt < MAX_ATTEMPTS:
            assert result.status == MessageStatus.QUEUED
            backoff = RETRY_BACKOFF_S * attempt
            assert result.next_attempt_at == now.value + timedelta(seconds=backoff)
            # Not due yet: neither a direct call nor the sweeper sends it.
            now.advance(backoff - 1)
            assert deliver(message.pk) is None
            assert retry_queued() == 0
            now.advance(1)
    assert result.status == MessageStatus.FAILED
    now.advance(3600)
    assert deliver(message.pk) is None
    assert retry_queued() == 0
    assert FlakyGateway.sent == []


@override_settings(MESSAGE_BACKEND=FLAKY)
def test_a_retry_after_refusal_succeeds(db, now):
    FlakyGateway.failures = 2
    message = queue_message(PHONE, "第三次成功")
    deliver(message.pk)
    now.advance(RETRY_BACKOFF_S)
    assert retry_queued() == 0  # second refusal
    now.advance(2 * RETRY_BACKOFF_S)
    assert retry_queued() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error) == ("sent", 3, "")
    assert message.provider_id == "flaky-1"
    assert FlakyGateway.sent == [(PHONE, "第三次成功")]


def test_retry_queued_picks_only_due_messages_oldest_first(db, now):
    first = queue_message("+8613800000001", "一")
    now.advance(1)
    second = queue_message("+8613800000002", "二")
    later = queue_message("+8613800000003", "稍后")
    OutboundMessage.objects.filter(pk=later.pk).update(next_attempt_at=now.value + timedelta(1))
    done = queue_message("+8613800000004", "已发")
    deliver(done.pk)
    given_up = queue_message("+8613800000005", "已放弃")
    OutboundMessage.objects.filter(pk=given_up.pk).update(
        status=MessageStatus.FAILED, attempts=MAX_ATTEMPTS
    )
    MemoryBackend.outbox.clear()
    assert retry_queued() == 2
    assert MemoryBackend.outbox == [("+8613800000001", "一"), ("+8613800000002", "二")]
    assert {first.pk, second.pk} == set(
        OutboundMessage.objects.filter(status="sent")
        .exclude(pk=done.pk)
        .values_list("pk", flat=True)
    )
    later.refresh_from_db()
    assert later.status == MessageStatus.QUEUED and later.attempts == 0


def test_retry_queued_respects_its_limit(db):
    for i in range(5):
        queue_message(f"+861380000000{i}", f"第{i}条")
    assert retry_queued(limit=3) == 3
    assert [text for _, text in MemoryBackend.outbox] == ["第0条", "第1条", "第2条"]


@override_settings(MESSAGE_BACKEND=BUGGY)
def test_a_crashing_gateway_does_not_stop_the_sweep(db, now):
    bad = queue_message("+8613800000010", "触发网关缺陷")
    good = queue_message("+8613800000011", "正常号码")
    assert retry_queued() == 1
    assert BuggyGateway.sent == ["+8613800000011"]
    bad.refresh_from_db()
    assert bad.status == MessageStatus.QUEUED and bad.attempts == 1
    assert "KeyError" in bad.error and bad.backend == "buggy"
    good.refresh_from_db()
    assert good.status == MessageStatus.SENT
    # It is retried like a refusal and, still crashing, given up on after MAX_ATTEMPTS.
    for _ in range(MAX_ATTEMPTS):
        now.advance(RETRY_BACKOFF_S * MAX_ATTEMPTS)
        retry_queued()
    bad.refresh_from_db()
    assert bad.status == MessageStatus.FAILED and bad.attempts == MAX_ATTEMPTS


def test_messages_waiting_for_backoff_do_not_take_the_sweeps_places(db, now):
    waiting = queue_message("+8613800000001", "退避中")
    OutboundMessage.objects.filter(pk=waiting.pk).update(
        attempts=1, next_attempt_at=now.value + timedelta(minutes=5)
    )
    now.advance(1)
    due = queue_message("+8613800000002", "到期")
    assert retry_queued(limit=1) == 1
    assert MemoryBackend.outbox == [("+8613800000002", "到期")]
    waiting.refresh_from_db()
    assert waiting.attempts == 1 and waiting.status == MessageStatus.QUEUED
    assert due.pk != waiting.pk
