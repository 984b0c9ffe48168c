"""Bulk re-evaluation decides exactly what the per-dispute `services.reassess` decides."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.db import transaction

from pingan.disputes import bulk, services
from pingan.disputes.assessment import compiled_rules
from pingan.disputes.models import (
    OPEN_STATUSES,
    Dispute,
    DisputeEvent,
    EventKind,
    RiskRule,
    StatCell,
)
from pingan.disputes.services import PartyInput
from pingan.disputes.stats import rebuild_stats, tracked
from pingan.live.groups import DISPUTE_ALL_GROUP
from pingan.notify.models import OutboundMessage
from tests.live.layer import received

from .helpers import file

pytestmark = pytest.mark.django_db
LOCAL = ZoneInfo("Asia/Shanghai")
FIELDS = ("risk", "risk_computed", "risk_reasons", "risk_evaluated_at")


def at(month, day, hour=10):
    return datetime(2026, month, day, hour, tzinfo=LOCAL)


def person(name, phone, **extra):
    return PartyInput(name=name, phone=phone, **extra)


WANG = person("王一", "13800000001")
LI = person("李二", "13800000002")
ZHANG = person("张三", "13800000003")


@pytest.fixture
def varied(world):
    """Open, pending, settled, relapsed and overridden disputes with every kind of fact."""
    w = world
    # Phones, so turning red sends the owner and the station chief a message.
    for user, phone in ((w.officer_a, "+8613700001111"), (w.chief_a, "+8613700002222")):
        user.phone = phone
        user.save()
    out = {}
    # The same two neighbours four times: 60 and 150 days apart, and once with a third party.
    out["repeat1"] = file(w, parties=[WANG, LI], now=at(3, 1))
    out["repeat2"] = file(w, parties=[WANG, LI], now=at(4, 30))
    out["repeat3"] = file(w, parties=[LI, WANG, ZHANG], now=at(9, 27))
    # Only one of the two shares a key: not "the same parties".
    out["one_shared"] = file(w, parties=[WANG, person("陈四", "13800000004")], now=at(9, 28))
    out["elderly"] = file(
        w, parties=[person("刘五", "13800000005", vulnerability="elderly"), ZHANG], now=at(8, 1)
    )
    out["crowd"] = file(
        w,
        type="labour_wages",
        parties=[person(f"工人{i}", f"1390000000{i}") for i in range(5)],
        narrative="工地欠薪，工人聚集讨薪",
        now=at(7, 1),
    )
    out["money"] = file(
        w,
        type="debt",
        narrative="拖欠工程款，民工多次讨薪",
        parties=[person("赵六", "13800000006"), LI],
        amount_yuan=150000,
        now=at(6, 1),
    )
    # Yellow only for its five parties, and recent enough not to be stale.
    out["crowd2"] = file(
        w, parties=[person(f"村民{i}", f"1370000000{i}") for i in range(5)], now=at(10, 15)
    )
    out["threat"] = file(
        w,
        narrative="扬言要砍死对方",
        parties=[person("钱七", "13800000007"), person("孙八", "13800000008")],
        now=at(9, 1),
    )
    out["quiet_b"] = file(
        w,
        user=w.officer_b,
        grid_code=w.grid_b.code,
        parties=[person("周九", "13800000009"), person("吴十", "13800000010")],
        now=at(9, 10),
    )
    out["company"] = file(
        w,
        type="enterprise",
        parties=[PartyInput(name="某建材公司", kind="organisation"), person("郑一", "13800000011")],
        now=at(9, 12),
    )
    # A resident's request: her own party has no phone, so no key.
    out["pending"] = services.request_mediation(
        w.citizen,
        type="neighbour",
        narrative="楼上漏水",
        other_parties=[person("冯二", "13800000012")],
        grid_code=w.grid_a.code,
        now=at(9, 20),
    )
    # Overridden both ways: the rules must not touch the colour a person set.
    out["override_green"] = file(
        w,
        narrative="扬言报复",
        parties=[person("褚三", "13800000013"), person("卫四", "13800000014")],
        now=at(9, 2),
    )
    services.override_risk(
        w.officer_a, out["override_green"].code, "green", "已当面化解情绪", now=at(9, 3)
    )
    out["override_red"] = file(
        w, parties=[person("蒋五", "13800000015"), person("沈六", "13800000016")], now=at(9, 4)
    )
    services.override_risk(
        w.officer_a, out["override_red"].code, "red", "当事人情绪激动", now=at(9, 5)
    )
    # Settled: keeps the colour it ended with. Relapsed: open again with relapse_count 1.
    out["settled"] = file(
        w,
        narrative="扬言放火",
        parties=[person("韩七", "13800000017"), person("杨八", "13800000018")],
        now=at(8, 10),
    )
    services.resolve(w.officer_a, out["settled"].code, "和解", now=at(8, 12))
    out["relapsed"] = file(
        w, parties=[person("朱九", "13800000019"), person("秦十", "13800000020")], now=at(8, 15)
    )
    services.resolve(w.officer_a, out["relapsed"].code, "和解", now=at(8, 16))
    services.record_visit(
        w.officer_a, out["relapsed"].code, holds=False, note="又吵", now=at(8, 23)
    )
    for d in out.values():
        d.refresh_from_db()
    return out


def retune_rules():
    """What an administrator might do: a wider repeat window, a new red keyword, a shorter
    stale limit, and no more "many parties" rule."""
    RiskRule.objects.filter(code="repeat-90d").update(params={"days": 200})
    RiskRule.objects.filter(code="stale-15d").update(params={"days": 10})
    RiskRule.objects.filter(code="many-parties").update(active=False)
    RiskRule.objects.create(
        code="wage-protest",
        name="聚集讨薪",
        kind="keywords",
        level="red",
        params={"keywords": ["讨薪"]},
    )


class Rollback(Exception):
    pass


def observe(since_event: int, since_message: int) -> dict:
    return {
        "disputes": {
            d["code"]: tuple(d[f] for f in FIELDS) for d in Dispute.objects.values("code", *FIELDS)
        },
        "events": sorted(
            (e.dispute.code, e.kind, e.message, repr(e.data), e.actor_id, e.public, e.at)
            for e in DisputeEvent.objects.filter(pk__gt=since_event).select_related("dispute")
        ),
        "messages": sorted(
            OutboundMessage.objects.filter(pk__gt=since_message).values_list(
                "phone", "text", "topic"
            )
        ),
        "cells": sorted(
            StatCell.objects.filter(total__gt=0).values_list(
                "org_id", "month", "dimension", "value", "total", "settled", "relapsed"
            )
        ),
    }


def marks():
    last_event = DisputeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    last_message = OutboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return last_event, last_message


def one_by_one(now) -> dict:
    """What `services.reassess` decides for every open dispute, each in its own lock, then
    undone so the bulk path starts from the same state."""
    since = marks()
    rules = compiled_rules()
    try:
        with transaction.atomic():
            for code in (
                Dispute.objects.filter(status__in=OPEN_STATUSES)
                .order_by("pk")
                .values_list("code", flat=True)
            ):
                dispute = (
                    Dispute.objects.select_for_update().select_related("grid", "org").get(code=code)
                )
                with tracked(dispute):
                    services.reassess(dispute, now, rules=rules)
                    dispute.save(update_fields=list(FIELDS))
            seen = observe(*since)
            raise Rollback
    except Rollback:
        pass
    return seen


@pytest.mark.parametrize("batch", [1, 3, 2000])
def test_bulk_equals_one_by_one(world, varied, batch, django_capture_on_commit_callbacks):
    retune_rules()
    now = at(10, 20)
    expected = one_by_one(now)
    before = observe(*marks())
    assert before["disputes"] != expected["disputes"]  # the rollback did undo it
    since = marks()
    with django_capture_on_commit_callbacks(execute=False):
        result = bulk.reassess_all(now=now, batch=batch, rebuild=False)
    got = observe(*since)
    assert got["disputes"] == expected["disputes"]
    assert got["events"] == expected["events"]
    assert got["messages"] == expected["messages"]
    assert got["cells"] == expected["cells"]
    # And the cells it kept in step equal a rebuild from scratch.
    rebuild_stats()
    assert observe(*since)["cells"] == got["cells"]
    open_count = Dispute.objects.filter(status__in=OPEN_STATUSES).count()
    assert result["evaluated"] == open_count
    assert result["colour_changed"] == len(got["events"])
    assert result["overridden"] == 2
    assert result["batches"] == -(-open_count // batch)
    # The set is varied enough to mean something: colours moved every way, some to red.
    moved = DisputeEvent.objects.filter(pk__gt=since[0], kind=EventKind.RISK_CHANGED)
    assert {e.data["to"] for e in moved} == {"red", "yellow", "green"}
    assert result["turned_red"] >= 2 and got["messages"]


def test_the_expected_decisions(world, varied):
    """Spot checks of what the retuned rules decide, independent of the per-row path."""
    retune_rules()
    bulk.reassess_all(now=at(10, 20), rebuild=False)
    d = {k: Dispute.objects.get(pk=v.pk) for k, v in varied.items()}
    fired = {k: {r["rule"] for r in x.risk_reasons} for k, x in d.items()}
    assert "repeat-90d" in fired["repeat2"] and "repeat-90d" in fired["repeat3"]  # 150 days
    assert "repeat-90d" not in fired["one_shared"]
    assert "wage-protest" in fired["crowd"] and "many-parties" not in fired["crowd"]
    assert d["crowd"].risk == "red"
    assert d["override_green"].risk == "green" and d["override_green"].risk_computed == "red"
    assert d["override_red"].risk == "red"
    assert d["settled"].risk_evaluated_at != at(10, 20)  # settled disputes are left alone
    assert "relapse" in fired["relapsed"] and "stale-15d" in fired["relapsed"]
    assert d["pending"].risk_evaluated_at == at(10, 20)


def test_turning_red_pushes_and_alerts(world, varied, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(DISPUTE_ALL_GROUP, channel)
    retune_rules()
    since_event, since_message = marks()
    with django_capture_on_commit_callbacks(execute=True):
        result = bulk.reassess_all(now=at(10, 20), rebuild=True)
    assert result["stat_cells"] == StatCell.objects.count()
    red_events = DisputeEvent.objects.filter(
        pk__gt=since_event, kind=EventKind.RISK_CHANGED, data__to="red"
    )
    assert red_events.count() == result["turned_red"] >= 2
    pushed = received(layer, channel, 0.2)
    assert sorted(m["id"] for m in pushed) == sorted(red_events.values_list("pk", flat=True))
    assert all(m["dispute"]["risk"] == "red" for m in pushed)
    alerts = OutboundMessage.objects.filter(
        pk__gt=since_message, phone="+8613700002222", text__contains="红色预警"
    )
    assert alerts.count() == result["turned_red"]


def test_commands(world, varied):
    retune_rules()
    out = StringIO()
    call_command("reassess_disputes", "--batch", "4", stdout=out)
    text = out.getvalue()
    open_count = Dispute.objects.filter(status__in=OPEN_STATUSES).count()
    assert f"已评估 {open_count} 起未化解纠纷" in text
    assert "统计表已重建" not in text
    out = StringIO()
    call_command("reassess_disputes", "--rebuild", stdout=out)
    assert "统计表已重建" in out.getvalue()
    StatCell.objects.all().delete()
    out = StringIO()
    call_command("rebuild_dispute_stats", stdout=out)
    assert f"{Dispute.objects.count()} 起纠纷" in out.getvalue()
    assert StatCell.objects.filter(dimension="all").exists()


def test_command_rejects_a_bad_batch(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("reassess_disputes", "--batch", "0")
    with pytest.raises(ValueError):
        bulk.reassess_all(batch=0)


def test_nothing_open_nothing_done(world):
    result = bulk.reassess_all(now=at(10, 20), rebuild=False)
    assert (result["evaluated"], result["batches"]) == (0, 0)
    assert not DisputeEvent.objects.exists()


def test_time_passing_alone_turns_quiet_ones_yellow(world, varied):
    """The stale rule with the default rules: 80 days without progress."""
    later = at(10, 20) + timedelta(days=40)
    bulk.reassess_all(now=later, rebuild=False)
    quiet = Dispute.objects.get(pk=varied["quiet_b"].pk)
    assert quiet.risk == "yellow"
    assert any(r["rule"] == "stale-15d" for r in quiet.risk_reasons)


def test_the_repeat_window_edges_fall_where_they_fall_one_by_one(world):
    """Exactly 90 days apart is a repeat; 90 days and a microsecond is not."""
    first = at(3, 1)
    on_edge = first + timedelta(days=90)
    past_edge = on_edge + timedelta(days=90, microseconds=1)
    codes = [
        file(world, parties=[WANG, LI], now=moment).code for moment in (first, on_edge, past_edge)
    ]
    Dispute.objects.update(risk="green", risk_computed="green", risk_reasons=[])
    now = past_edge + timedelta(days=1)
    expected = one_by_one(now)
    bulk.reassess_all(now=now, batch=2, rebuild=False)
    got = observe(*marks())
    assert got["disputes"] == expected["disputes"]
    fired = {
        code: [r["detail"] for r in expected["disputes"][code][2] if r["rule"] == "repeat-90d"]
        for code in codes
    }
    assert fired == {
        codes[0]: ["相同当事人 90 天内另有 1 起纠纷"],
        codes[1]: ["相同当事人 90 天内另有 1 起纠纷"],
        codes[2]: [],
    }
