"""A first-come-first-served gate in front of Django: at most `limit` HTTP requests are inside
Django at once in a server process; the rest wait in the event loop.

Django's ASGI handler runs every request on its own thread and, on PostgreSQL, with a pooled
connection. In a rush (2,000 volunteers pressing 报名 at once) that meant 2,000 threads fighting
for the interpreter and for 20 pooled connections; after the pool's 10 s timeout most requests
ended in a 500. Behind the gate the surplus waits as a cheap coroutine, holding no thread and no
connection, and is let in in arrival order (asyncio.Semaphore wakes waiters in FIFO order). The
sign-up rush benchmark went from 1,559 errors in 2,000 to none (docs/benchmarks.md).

The request body is read BEFORE a place is taken, and the place is given back when the response
starts: a phone uploading or downloading photos over a weak village signal must not hold one of
the few places for the minutes that takes. So the gate bounds the requests that are computing,
which is what shares the CPU: with 20 places per process on 2 cores, each admitted sign-up took
20 times as long (server-side p99 ~640 ms in the rush); with a few places it is ~45 ms, at the
same throughput. At most `max_buffer` bytes of a body are pre-read into memory (1 MB: every JSON
or form body); the rest of a larger one (photos) is left to Django, which spools it to a
temporary file, and it takes a place at once. Bodies over their route's maximum never get here
(pingan/core/bodylimit.py, in front of the gate): an anonymous 60 MB post once held 64 MB of
memory here before any check (security review F3).
"""

import asyncio

MAX_BUFFER_BYTES = 1024 * 1024


class AdmissionGate:
    def __init__(self, app, limit: int, *, max_buffer: int = MAX_BUFFER_BYTES):
        self.app = app
        self.limit = limit
        self.max_buffer = max_buffer
        self._gate: asyncio.Semaphore | None = None

    @property
    def gate(self) -> asyncio.Semaphore:
        # Created on first use, inside the server's event loop.
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.limit)
        return self._gate

    async def __call__(self, scope, receive, send):
        if self.limit <= 0 or scope["type"] != "http":
            return await self.app(scope, receive, send)
        received = await self._read_body(receive)
        replay = iter(received)

        async def replaying_receive():
            message = next(replay, None)
            return message if message is not None else await receive()

        # The place is given back as soon as the response starts: the CPU and database work is
        # done by then, and a large photo going out slowly to a phone must not keep others out.
        await self.gate.acquire()
        held = True

        def release():
            nonlocal held
            if held:
                held = False
                self.gate.release()

        async def releasing_send(message):
            if message["type"] == "http.response.start":
                release()
            await send(message)

        try:
            return await self.app(scope, replaying_receive, releasing_send)
        finally:
            release()

    async def _read_body(self, receive) -> list[dict]:
        """The request's messages up to the end of its body (or a disconnect, or the cap)."""
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                return messages
            size += len(message.get("body", b""))
            if size > self.max_buffer:
                return messages
