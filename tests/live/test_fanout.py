"""The fan-out: announced rows are delivered after commit from another thread, over the real
datagram socket; rows whose announcement was lost are found by the scan; holes (ids that are
not visible yet, or never will be) hold the cursor back only for a while."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from pingan.incidents.models import IncidentEvent
from pingan.live import fanout
from pingan.live.fanout import HOLE_TTL_SECONDS, Tail
from tests.incidents.helpers import report_at
from tests.live.sockets import connect, drain


def test_an_unannounced_row_is_owed_on_the_second_scan_only():
    tail = Tail("t", cursor=10)
    assert tail.owed([11, 12], now=0.0, eager=False) == []  # its announcement may be on the way
    tail.mark_delivered([11])  # ... and 11's arrives
    assert tail.owed([11, 12], now=0.5, eager=False) == [12]
    tail.mark_delivered([12])
    assert tail.cursor == 12


def test_an_eager_scan_delivers_at_once():
    tail = Tail("t", cursor=0)
    assert tail.owed([1, 2, 3], now=0.0, eager=True) == [1, 2, 3]


def test_a_hole_holds_the_cursor_until_it_fills_or_expires():
    tail = Tail("t", cursor=10)
    tail.mark_delivered([11, 13])
    assert tail.owed([11, 13], now=0.0, eager=False) == []
    assert tail.cursor == 11  # 12 is not visible yet (a transaction committing late)
    assert tail.owed([13], now=1.0, eager=False) == []
    assert tail.cursor == 11
    # 12 commits: it is owed like any unannounced row, and the cursor moves on.
    assert tail.owed([12, 13], now=2.0, eager=False) == []
    assert tail.owed([12, 13], now=2.5, eager=False) == [12]
    tail.mark_delivered([12])
    assert tail.owed([], now=3.0, eager=False) == [] and tail.cursor == 13


def test_a_hole_that_never_fills_is_given_up():
    tail = Tail("t", cursor=10)
    tail.mark_delivered([12])
    tail.owed([12], now=0.0, eager=False)
    assert tail.cursor == 10
    tail.owed([12], now=HOLE_TTL_SECONDS + 1, eager=False)
    assert tail.cursor == 12


def test_a_delivered_row_is_not_owed_again():
    tail = Tail("t", cursor=0)
    tail.mark_delivered([1, 2])
    assert tail.owed([1, 2], now=0.0, eager=True) == []


@pytest.fixture
def running_fanout(settings, tmp_path):
    """The fan-out as the socket server runs it: its own thread, the real datagram socket,
    delivering onto the test's event loop."""
    settings.LIVE_FANOUT = "wake"
    settings.LIVE_WAKE_SOCKET = tmp_path / "wake.sock"
    settings.LIVE_SCAN_SECONDS = 0.2
    started = []

    def start():
        started.append(fanout.FanOut(asyncio.get_running_loop()).start())

    yield start
    for running in started:
        running.close()


async def _wait_for(communicator, kinds, timeout=5.0):
    got = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < len(kinds) and asyncio.get_running_loop().time() < deadline:
        got += await drain(communicator, timeout=0.2)
    return got


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_announced_events_reach_the_board_through_the_socket(world, running_fanout):
    running_fanout()
    await asyncio.sleep(0.3)  # the tails start at the end of each table
    commander = await connect(world.commander)
    result = await sync_to_async(report_at)(reporter=world.citizen)
    messages = await _wait_for(commander, ["reported", "offered"])
    assert [m["kind"] for m in messages] == ["reported", "offered"]
    assert {m["incident"]["code"] for m in messages} == {result.incident.code}
    assert await drain(commander, timeout=0.6) == []  # and only once, despite the scans
    await commander.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_lost_announcement_is_delivered_by_the_scan(world, running_fanout, settings):
    running_fanout()
    await asyncio.sleep(0.3)
    commander = await connect(world.commander)
    settings.LIVE_FANOUT = "off"  # the request never tells the fan-out (as if it died)
    result = await sync_to_async(report_at)(reporter=world.citizen)
    messages = await _wait_for(commander, ["reported", "offered"])
    assert [m["kind"] for m in messages] == ["reported", "offered"]
    ids = await sync_to_async(
        lambda: list(
            IncidentEvent.objects.filter(incident__code=result.incident.code).values_list(
                "pk", flat=True
            )
        )
    )()
    assert [m["id"] for m in messages] == sorted(ids)
    await commander.disconnect()
