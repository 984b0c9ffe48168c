"""Listening on the channel layer as the live consumer does: join groups, read what arrives.

The fan-out sends every push as one channel-layer message type, `live.push`, carrying the JSON
text the socket forwards; these helpers decode it back into the body a page receives."""

import asyncio
import json

from asgiref.sync import async_to_sync


def listen(layer, *groups) -> str:
    """A channel joined to some groups, as the live consumer does for a page."""
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)
    return channel


def body(message: dict) -> dict:
    assert message["type"] == "live.push", message
    return json.loads(message["text"])


async def drain(layer, channel, timeout=0.05) -> list[dict]:
    received = []
    while True:
        try:
            received.append(body(await asyncio.wait_for(layer.receive(channel), timeout)))
        except TimeoutError:
            return received


def received(layer, channel, timeout=0.05) -> list[dict]:
    return async_to_sync(drain)(layer, channel, timeout)


def pending_callbacks() -> list[str]:
    """What the open transaction will do after commit, by name; a live-push announcement reads
    `push:<source>` for each source it carries rows of (e.g. `push:disputes`)."""
    from django.db import connection

    from pingan.live import outbox

    names = []
    for _, func, _ in connection.run_on_commit:
        if isinstance(func, outbox._Batch):
            names += [f"push:{source}" for source, ids in func.ids.items() if ids]
        else:
            qualname = getattr(func, "__qualname__", type(func).__qualname__)
            names.append(f"{func.__module__}.{qualname}")
    return names
