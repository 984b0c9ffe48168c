"""The HTTP admission gate: a bounded number of requests inside Django, in arrival order, and a
slow upload does not hold a place while its body is still arriving."""

import asyncio

import pytest

from pingan.core.admission import AdmissionGate


class Recorder:
    """A stand-in ASGI app that records how many requests are inside it at once."""

    def __init__(self, hold: float = 0.02):
        self.inside = 0
        self.peak = 0
        self.order: list[str] = []
        self.bodies: dict[str, bytes] = {}
        self.hold = hold

    async def __call__(self, scope, receive, send):
        self.inside += 1
        self.peak = max(self.peak, self.inside)
        self.order.append(scope["path"])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies[scope["path"]] = body
        await asyncio.sleep(self.hold)
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _request(path, chunks=(b"",), delay: float = 0.0):
    scope = {"type": "http", "path": path}
    queue = list(chunks)

    async def receive():
        if delay:
            await asyncio.sleep(delay)
        body = queue.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    sent = []

    async def send(message):
        sent.append(message)

    return scope, receive, send, sent


def test_at_most_limit_inside_and_first_come_first_served():
    app = Recorder()
    gate = AdmissionGate(app, 2)

    async def main():
        calls = []
        for i in range(8):
            scope, receive, send, _ = _request(f"/r{i}")
            calls.append(asyncio.create_task(gate(scope, receive, send)))
            await asyncio.sleep(0)  # arrive one after another
        await asyncio.gather(*calls)

    asyncio.run(main())
    assert app.peak == 2
    assert app.order == [f"/r{i}" for i in range(8)]


def test_a_slow_upload_waits_outside_the_gate_and_arrives_whole():
    app = Recorder(hold=0.0)
    gate = AdmissionGate(app, 1)

    async def main():
        slow = _request("/slow", chunks=(b"ab", b"cd", b"ef"), delay=0.05)
        fast = _request("/fast")
        slow_call = asyncio.create_task(gate(*slow[:3]))
        await asyncio.sleep(0.01)
        await gate(*fast[:3])  # gets the only place while the slow body is still coming
        assert app.order == ["/fast"]
        await slow_call
        return slow[3]

    sent = asyncio.run(main())
    assert app.order == ["/fast", "/slow"]
    assert app.bodies["/slow"] == b"abcdef"
    assert sent[0]["status"] == 200


@pytest.mark.parametrize("kind", ["websocket", "lifespan"])
def test_other_scopes_pass_straight_through(kind):
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    asyncio.run(AdmissionGate(app, 1)({"type": kind}, None, None))
    assert seen == [kind]


def test_limit_zero_means_no_gate():
    app = Recorder(hold=0.01)
    gate = AdmissionGate(app, 0)

    async def main():
        await asyncio.gather(*(gate(*_request(f"/r{i}")[:3]) for i in range(5)))

    asyncio.run(main())
    assert app.peak == 5


def test_a_response_still_going_out_does_not_hold_a_place():
    order = []
    release_body = asyncio.Event()

    async def app(scope, receive, send):
        await receive()
        order.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        if scope["path"] == "/photo":
            await release_body.wait()  # a large body trickling out to a slow phone
        await send({"type": "http.response.body", "body": b"x"})

    gate = AdmissionGate(app, 1)

    async def main():
        photo = asyncio.create_task(gate(*_request("/photo")[:3]))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(gate(*_request("/page")[:3]), timeout=1)
        release_body.set()
        await photo

    asyncio.run(main())
    assert order == ["/photo", "/page"]


def test_the_place_comes_back_when_the_app_fails():
    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    gate = AdmissionGate(broken, 1)

    async def main():
        for _ in range(3):
            with pytest.raises(RuntimeError):
                await asyncio.wait_for(gate(*_request("/x")[:3]), timeout=1)

    asyncio.run(main())
