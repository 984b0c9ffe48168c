"""Listening on the channel layer and reading the texts the services queued."""

import asyncio

from asgiref.sync import async_to_sync

from pingan.notify.backends import MemoryBackend
from pingan.notify.services import retry_queued


def listen(layer, *groups) -> str:
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def received(layer, channel) -> list[dict]:
    async def drain():
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 0.05))
            except TimeoutError:
                return messages

    return async_to_sync(drain)()


def sms_sent() -> dict[str, list[str]]:
    """Deliver what the services queued; the texts by phone number."""
    retry_queued()
    by_phone: dict[str, list[str]] = {}
    for phone, text in MemoryBackend.outbox:
        by_phone.setdefault(phone, []).append(text)
    return by_phone
