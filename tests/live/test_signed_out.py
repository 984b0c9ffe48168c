"""A socket stops when its sign-in does: logging out, a password change or a disabled account
closes it (4401) before the next catch-up or push, instead of streaming police data on."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore

from pingan.accounts.models import User
from pingan.live import consumers
from tests.incidents.helpers import report_at
from tests.live.sockets import connect, drain, signed_in_session

pytestmark = pytest.mark.django_db(transaction=True)


async def _refused(communicator) -> bool:
    await communicator.send_json_to({"since": 0})
    output = await communicator.receive_output(timeout=1)
    return output["type"] == "websocket.close" and output["code"] == consumers.CLOSE_SIGNED_OUT


@pytest.mark.asyncio
async def test_logging_out_stops_the_catch_up(world):
    session = await sync_to_async(signed_in_session)(world.commander)
    socket = await connect(world.commander, session)
    await sync_to_async(report_at)(reporter=world.citizen)
    await socket.send_json_to({"since": 0})
    assert [m for m in await drain(socket) if m.get("kind")]  # signed in: the events come
    await sync_to_async(SessionStore(session_key=session.session_key).delete)()  # logout
    assert await _refused(socket)


@pytest.mark.asyncio
async def test_a_password_change_or_a_disabled_account_stops_it(world):
    socket = await connect(world.officer_a)

    def change():
        user = User.objects.get(pk=world.officer_a.pk)
        user.set_password("Another-Pass-2026")
        user.save()

    await sync_to_async(change)()
    assert await _refused(socket)
    other = await connect(world.commander)
    await sync_to_async(User.objects.filter(pk=world.commander.pk).update)(is_active=False)
    assert await _refused(other)


@pytest.mark.asyncio
async def test_pushes_stop_after_logout(world, monkeypatch):
    monkeypatch.setattr(consumers, "RECHECK_SECONDS", 0)
    session = await sync_to_async(signed_in_session)(world.commander)
    socket = await connect(world.commander, session)
    await sync_to_async(SessionStore(session_key=session.session_key).delete)()
    await socket.send_input({"type": "websocket.receive", "text": "null"})  # nothing to answer
    consumer_push = {"type": "live.push", "text": '{"kind": "reported"}'}
    # What the fan-out would send: the consumer checks the sign-in first and closes instead.
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    await layer.group_send(f"org.{world.county.pk}", consumer_push)
    output = await socket.receive_output(timeout=1)
    assert output["type"] == "websocket.close" and output["code"] == consumers.CLOSE_SIGNED_OUT
