"""Step pushes: who hears a dispute event live, who gets a message, and who does not."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from pingan.accounts.models import Role, User
from pingan.disputes import services
from pingan.disputes.models import DisputeEvent, EventKind
from pingan.notify.backends import MemoryBackend
from pingan.notify.models import OutboundMessage
from pingan.notify.services import retry_queued
from tests.conftest import make_user
from tests.live.layer import listen, received
from tests.live.sockets import connect, drain

from .helpers import assert_stats_match_rebuild, file, two_neighbours

RED_NARRATIVE = "两家因宅基地争吵，王某扬言要砍死对方"
PHONES = {
    "officer_a": "+8613800000001",
    "chief_a": "+8613800000002",
    "commander": "+8613800000003",
    "officer_b": "+8613800000004",
    "aux_a": "+8613800000005",
    "worker_a": "+8613800000006",
}


@pytest.fixture
def phones(world):
    for name, phone in PHONES.items():
        user = getattr(world, name)
        user.phone = phone
        user.save(update_fields=["phone"])
    return PHONES


@pytest.fixture
def layer():
    layer = get_channel_layer()
    async_to_sync(layer.flush)()  # group memberships of earlier tests must not leak in
    yield layer
    async_to_sync(layer.flush)()


def sms_sent() -> dict[str, list[str]]:
    """Deliver whatever the services queued and return the texts by phone number."""
    retry_queued()
    by_phone: dict[str, list[str]] = {}
    for phone, text in MemoryBackend.outbox:
        by_phone.setdefault(phone, []).append(text)
    return by_phone


# --- red alert messages -------------------------------------------------------------------------


def test_turning_red_messages_the_owner_and_the_station_chief(world, phones, settings):
    settings.SITE_URL = "https://pingan.example.cn"
    dispute = file(world, narrative=RED_NARRATIVE)
    sent = sms_sent()
    assert set(sent) == {phones["officer_a"], phones["chief_a"]}
    for texts in sent.values():
        [text] = texts
        assert "红色预警" in text and dispute.code in text and "砍死" in text
        assert text.endswith(f"https://pingan.example.cn/disputes/{dispute.code}/")
    rows = OutboundMessage.objects.filter(topic=f"dispute:{dispute.code}")
    assert rows.count() == 2
    assert set(rows.values_list("status", flat=True)) == {"sent"}


def test_staying_red_does_not_alert_again(world, phones):
    dispute = file(world, narrative=RED_NARRATIVE)
    services.add_note(world.officer_a, dispute.code, "已上门")
    services.add_party(world.officer_a, dispute.code, two_neighbours()[0])
    assert OutboundMessage.objects.filter(text__contains="红色预警").count() == 2


def test_yellow_and_green_send_no_alert(world, phones):
    file(world, parties=two_neighbours(vulnerability="elderly"))
    file(world, narrative="噪音扰民", parties=[two_neighbours()[1]])
    assert sms_sent() == {}


def test_a_chief_who_owns_the_dispute_is_alerted_once(world, phones):
    file(world, narrative=RED_NARRATIVE, owner=world.chief_a)
    assert sms_sent() == {phones["chief_a"]: [OutboundMessage.objects.get().text]}


def test_owner_without_a_phone_still_leaves_the_chief_alerted(world, phones):
    User.objects.filter(pk=world.officer_a.pk).update(phone="")
    file(world, narrative=RED_NARRATIVE)
    assert set(sms_sent()) == {phones["chief_a"]}


def test_red_by_override_alerts_the_chief_of_that_station_only(world, phones):
    dispute = file(world, user=world.officer_b, grid_code=world.grid_b.code)
    assert sms_sent() == {}
    chief_b = make_user("chief_b", Role.COMMANDER, world.station_b, phone="+8613800000009")
    services.override_risk(world.officer_b, dispute.code, "red", "当事人情绪失控")
    sent = sms_sent()
    assert set(sent) == {phones["officer_b"], chief_b.phone}
    assert "人工调整为红色" in sent[chief_b.phone][0]


def test_parties_who_opted_in_get_step_messages(world):
    parties = [
        two_neighbours()[0],
        services.PartyInput(name="李小河", role="respondent", phone="13900139002", notify=True),
    ]
    dispute = file(world, parties=parties)
    services.resolve(world.officer_a, dispute.code, "已和解")
    sent = sms_sent()
    assert set(sent) == {"+8613900139002"}
    assert [dispute.code in text for text in sent["+8613900139002"]] == [True, True]
    assert "已化解" in sent["+8613900139002"][1]


# --- live pushes through the channel layer ------------------------------------------------------


def test_red_dispute_reaches_grid_staff_and_chain_of_command_only(
    world, layer, django_capture_on_commit_callbacks
):
    officer_a2 = make_user("officer_a2", Role.OFFICER, world.office_a)
    chief_b = make_user("chief_b", Role.COMMANDER, world.station_b)
    ids = {
        "officer_a": world.officer_a.pk,
        "aux_a": world.aux_a.pk,
        "worker_a": world.worker_a.pk,
    }
    staff = {name: listen(layer, f"user.{pk}") for name, pk in ids.items()}
    station_a_board = listen(layer, f"disputes.org.{world.station_a.pk}")
    county_board = listen(layer, f"disputes.org.{world.county.pk}")
    # officer_a2 works at the same station but not in this grid: their page joins their own
    # group and the station's incident group, and neither may carry this dispute.
    outsider = listen(layer, f"user.{officer_a2.pk}", f"org.{world.station_a.pk}")
    station_b_board = listen(layer, f"disputes.org.{world.station_b.pk}", f"user.{chief_b.pk}")
    officer_b = listen(layer, f"user.{world.officer_b.pk}")
    citizen = listen(layer, f"user.{world.citizen.pk}")

    with django_capture_on_commit_callbacks(execute=True):
        # Filed by the county commander, so the grid's staff hear it for being the grid's.
        dispute = file(world, user=world.commander, narrative=RED_NARRATIVE)
    events = list(DisputeEvent.objects.filter(dispute=dispute).order_by("pk"))
    assert [e.kind for e in events] == [EventKind.FILED, EventKind.RISK_CHANGED]

    for channel in [*staff.values(), station_a_board, county_board]:
        messages = received(layer, channel)
        assert [m["id"] for m in messages] == [e.pk for e in events]
        assert {m["type"] for m in messages} == {"push.dispute"}
        red = messages[1]
        assert red["kind"] == "risk_changed" and red["kind_label"] == "风险等级变化"
        assert red["dispute"]["code"] == dispute.code
        assert red["dispute"]["risk"] == "red" and red["dispute"]["risk_label"] == "红色"
        assert red["dispute"]["grid"] == world.grid_a.name
        assert "砍死" in red["message"]
    for channel in (outsider, station_b_board, officer_b, citizen):
        assert received(layer, channel) == []


def test_a_commander_who_owns_the_dispute_hears_each_event_once(
    world, layer, django_capture_on_commit_callbacks
):
    page = listen(layer, f"user.{world.chief_a.pk}", f"disputes.org.{world.station_a.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        dispute = file(world, narrative=RED_NARRATIVE, owner=world.chief_a)
    messages = received(layer, page)
    assert [m["kind"] for m in messages] == ["filed", "risk_changed"]
    assert len({m["id"] for m in messages}) == 2
    assert dispute.owner == world.chief_a


def test_resident_hears_only_public_steps_without_risk(
    world, layer, django_capture_on_commit_callbacks
):
    resident = listen(layer, f"user.{world.citizen.pk}")
    board = listen(layer, f"disputes.org.{world.station_a.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.request_mediation(
            world.citizen,
            type="neighbour",
            narrative="邻居扬言要放火烧我家柴房",
            other_parties=[two_neighbours()[1]],
            grid_code=world.grid_a.code,
        )
    assert dispute.risk == "red"
    [step] = received(layer, resident)
    assert step["kind"] == "requested"
    assert set(step["dispute"]) == {"code", "title", "status", "status_label"}
    assert step["dispute"]["status"] == "pending"
    # Staff hear the red colour the resident does not.
    assert [m["kind"] for m in received(layer, board)] == ["requested", "risk_changed"]

    with django_capture_on_commit_callbacks(execute=True):
        services.accept_request(world.officer_a, dispute.code)
        services.add_note(world.officer_a, dispute.code, "内部研判：双方都有过激言行")
    [accepted] = received(layer, resident)
    assert accepted["kind"] == "accepted"
    assert accepted["dispute"]["status"] == "open"
    assert "risk" not in accepted["dispute"]
    assert len(received(layer, board)) == 2
    assert_stats_match_rebuild()


def test_other_residents_hear_nothing(world, layer, django_capture_on_commit_callbacks):
    other = listen(layer, f"user.{world.citizen2.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_mediation(
            world.citizen,
            type="neighbour",
            narrative="楼上漏水",
            other_parties=[],
            grid_code=world.grid_a.code,
        )
    assert received(layer, other) == []


# --- the same through the real socket -----------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_pages_hear_red_dispute_by_role(world):
    officer_a2 = await sync_to_async(make_user)("officer_a2", Role.OFFICER, world.office_a)
    pages = {
        name: await connect(user)
        for name, user in {
            "chief_a": world.chief_a,
            "commander": world.commander,
            "officer_a": world.officer_a,
            "officer_a2": officer_a2,
            "officer_b": world.officer_b,
            "citizen": world.citizen,
        }.items()
    }
    dispute = await sync_to_async(file)(world, narrative=RED_NARRATIVE)
    heard = {name: await drain(page) for name, page in pages.items()}
    for name in ("chief_a", "commander", "officer_a"):
        assert [m["kind"] for m in heard[name]] == ["filed", "risk_changed"], name
        assert heard[name][-1]["dispute"]["code"] == dispute.code
        assert heard[name][-1]["dispute"]["risk"] == "red"
    for name in ("officer_a2", "officer_b", "citizen"):
        assert heard[name] == [], name
    # Reconnecting catches up the same way: only what the user may see.
    for name, user in (("chief_a", world.chief_a), ("officer_a2", officer_a2)):
        page = await connect(user)
        await page.send_json_to({"dispute_since": 0})
        kinds = [m.get("kind") for m in await drain(page)]
        assert kinds == (["filed", "risk_changed", None] if name == "chief_a" else [None])
        await page.disconnect()
    for page in pages.values():
        await page.disconnect()
