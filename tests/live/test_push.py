"""Live push over the real Channels stack: who hears what, once, and catch-up on reconnect."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from pingan.incidents import services
from pingan.incidents.models import IncidentEvent
from pingan.live import outbox
from tests.incidents.helpers import GB1_CENTER, report_at
from tests.live.sockets import app, connect, drain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.asyncio
async def test_anonymous_socket_is_refused(world):
    from django.contrib.auth.models import AnonymousUser

    communicator = WebsocketCommunicator(app, "/ws/live/")
    communicator.scope["user"] = AnonymousUser()
    connected, code = await communicator.connect()
    assert not connected and code == 4401


@pytest.mark.asyncio
async def test_report_reaches_the_unit_board_and_reporter_but_not_other_stations(world):
    officer_a = await connect(world.officer_a)
    officer_b = await connect(world.officer_b)
    commander = await connect(world.commander)
    chief_a = await connect(world.chief_a)
    citizen = await connect(world.citizen)
    citizen2 = await connect(world.citizen2)
    # A transactional test commits, so the after-commit pushes run for real.
    result = await sync_to_async(report_at)(reporter=world.citizen)
    code = result.incident.code
    for communicator in (officer_a, commander, chief_a, citizen):
        messages = await drain(communicator)
        assert [m["kind"] for m in messages] == ["reported", "offered"]
        assert {m["incident"]["code"] for m in messages} == {code}
        # Event ids are increasing and each arrives once.
        ids = [m["id"] for m in messages]
        assert ids == sorted(set(ids))
    assert await drain(officer_b) == []
    assert await drain(citizen2) == []
    for communicator in (officer_a, officer_b, commander, chief_a, citizen, citizen2):
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_push_carries_the_new_state(world):
    result = await sync_to_async(report_at)(reporter=world.citizen)
    citizen = await connect(world.citizen)
    await sync_to_async(services.accept)(result.incident.code, world.officer_a)
    [message] = await drain(citizen)
    assert message["kind"] == "accepted"
    assert message["incident"]["status"] == "accepted"
    assert message["incident"]["status_label"] == "已接警"
    await citizen.disconnect()


@pytest.mark.asyncio
async def test_reconnect_catches_up_on_missed_events_in_scope(world):
    first = await sync_to_async(report_at)(reporter=world.citizen)
    since = await sync_to_async(lambda: IncidentEvent.objects.latest("pk").pk)()
    # While officer_a is offline: their incident is accepted, and another station gets one.
    await sync_to_async(services.accept)(first.incident.code, world.officer_a)
    await sync_to_async(report_at)(GB1_CENTER, category="050100")
    officer_a = await connect(world.officer_a)
    await officer_a.send_json_to({"since": since})
    messages = await drain(officer_a)
    assert [m.get("kind") for m in messages] == ["accepted", None]
    assert messages[-1]["type"] == "caught_up"
    commander = await connect(world.commander)
    await commander.send_json_to({"since": since})
    kinds = [m.get("kind") for m in await drain(commander)]
    assert kinds == ["accepted", "reported", "offered", None]
    # Garbage from the client is ignored, not fatal.
    await commander.send_json_to({"since": "yesterday"})
    await commander.send_json_to([1, 2])
    assert await drain(commander) == []
    await officer_a.disconnect()
    await commander.disconnect()


@pytest.mark.django_db
def test_one_hand_over_per_transaction_and_only_after_commit(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    handed = []
    monkeypatch.setattr(outbox, "hand_over", handed.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report_at()
    assert handed == []  # nothing left the transaction
    batches = [c for c in callbacks if isinstance(c, outbox._Batch)]
    assert len(batches) == 1  # the REPORTED and OFFERED events travel together
    batches[0]()
    ids = list(IncidentEvent.objects.order_by("pk").values_list("pk", flat=True))
    assert handed == [{"incidents": ids}] and len(ids) == 2


@pytest.mark.django_db
def test_a_rolled_back_change_hands_nothing_over(world, monkeypatch):
    handed = []
    monkeypatch.setattr(outbox, "hand_over", handed.append)
    with transaction.atomic():
        report_at()
        transaction.set_rollback(True)
    assert handed == []
