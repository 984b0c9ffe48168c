"""Risk rules through the services: colours, reasons, tuning, overrides and the daily review."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.disputes import services
from pingan.disputes.models import (
    DisputeEvent,
    EventKind,
    Risk,
    RiskRule,
    StatCell,
)
from pingan.disputes.services import PartyInput

from .helpers import assert_stats_match_rebuild, file, two_neighbours

DAY = timedelta(days=1)


def strangers(n: int, vulnerability: str = "") -> list[PartyInput]:
    """Two parties no other dispute of the test shares (so the repeat rule stays out of it)."""
    return [
        PartyInput(
            name=f"甲{n}", role="applicant", phone=f"1370000{n:04d}", vulnerability=vulnerability
        ),
        PartyInput(name=f"乙{n}", role="respondent", phone=f"1360000{n:04d}"),
    ]


def rule_codes(dispute) -> set[str]:
    return {reason["rule"] for reason in dispute.risk_reasons}


def risk_events(dispute, kind=EventKind.RISK_CHANGED):
    return list(DisputeEvent.objects.filter(dispute=dispute, kind=kind).order_by("pk"))


# --- each default rule through the services -----------------------------------------------------

RULE_CASES = [
    ("threat-violence", Risk.RED, {"narrative": "王某扬言要砍死李某全家"}),
    ("self-harm", Risk.RED, {"narrative": "李某情绪激动，说再不解决就跳楼"}),
    ("weapon", Risk.RED, {"narrative": "双方在地头争吵，王某手持镰刀"}),
    (
        "vulnerable-party",
        Risk.YELLOW,
        {"parties": two_neighbours(vulnerability="elderly")},
    ),
    (
        "many-parties",
        Risk.YELLOW,
        {
            "parties": [
                PartyInput(name=f"工人{i}", role="applicant", phone=f"1380013800{i}")
                for i in range(4)
            ]
            + [PartyInput(name="某建筑公司", kind="organisation", role="respondent")],
            "type": "labour_wages",
        },
    ),
    ("large-amount", Risk.YELLOW, {"amount_yuan": "100000", "type": "debt"}),
]


@pytest.mark.parametrize(("code", "level", "kwargs"), RULE_CASES)
def test_rule_fires_through_filing(world, code, level, kwargs):
    dispute = file(world, **kwargs)
    assert dispute.risk == dispute.risk_computed == level
    assert rule_codes(dispute) == {code}
    [change] = risk_events(dispute)
    assert change.data["from"] == Risk.GREEN and change.data["to"] == level
    assert [r["rule"] for r in change.data["reasons"]] == [code]
    assert change.public is False  # reasons are for staff, not the resident's status page


def test_plain_dispute_is_green_without_reasons(world):
    dispute = file(world)
    assert dispute.risk == Risk.GREEN
    assert dispute.risk_reasons == []
    assert risk_events(dispute) == []
    assert dispute.risk_evaluated_at is not None


def test_near_misses_stay_green(world):
    four = [PartyInput(name=f"工人{i}", phone=f"1380013800{i}") for i in range(4)]
    for i, kwargs in enumerate(
        (
            {"narrative": "王某上山砍柴时与李某发生口角", "parties": strangers(1)},
            {"parties": four},
            {"amount_yuan": "99999.99", "parties": strangers(2)},
            {"parties": strangers(3, vulnerability="")},
        )
    ):
        assert file(world, **kwargs).risk == Risk.GREEN, i


def test_repeat_between_the_same_parties_30_days_apart_turns_yellow(world):
    t0 = clock.now() - 40 * DAY
    file(world, now=t0)
    # The same people, the phone written differently: their key is the normalised number.
    again = file(
        world,
        now=t0 + 30 * DAY,
        parties=[
            PartyInput(name="李小河", phone="+86 139 0013 9002"),
            PartyInput(name="王大山", phone="138-0013-8001"),
        ],
    )
    assert again.risk == Risk.YELLOW
    assert rule_codes(again) == {"repeat-90d"}
    assert "90 天内另有 1 起" in again.risk_reasons[0]["detail"]


def test_repeat_120_days_apart_does_not_count(world):
    t0 = clock.now() - 130 * DAY
    file(world, now=t0)
    assert file(world, now=t0 + 120 * DAY).risk == Risk.GREEN


def test_one_shared_party_out_of_two_is_not_the_same_parties(world):
    t0 = clock.now() - 20 * DAY
    file(world, now=t0)
    other = file(
        world,
        now=t0 + 10 * DAY,
        parties=[
            PartyInput(name="王大山", phone="13800138001"),
            PartyInput(name="赵某", phone="13700137003"),
        ],
    )
    assert other.risk == Risk.GREEN


def test_repeat_is_found_by_id_number_across_names(world):
    t0 = clock.now() - 20 * DAY
    ids = [
        PartyInput(name="王大山", id_number="11010519491231002X"),
        PartyInput(name="某建筑公司", kind="organisation", id_number="91110000600037341L"),
    ]
    file(world, now=t0, parties=ids)
    renamed = [
        PartyInput(name="王 大山", id_number="11010519491231002x"),
        PartyInput(name="某建筑有限公司", kind="organisation", id_number="91110000600037341L"),
    ]
    assert file(world, now=t0 + 5 * DAY, parties=renamed).risk == Risk.YELLOW


def test_repeat_window_follows_the_tuned_rule(world):
    RiskRule.objects.filter(code="repeat-90d").update(params={"days": 20})
    t0 = clock.now() - 40 * DAY
    file(world, now=t0)
    assert file(world, now=t0 + 30 * DAY).risk == Risk.GREEN
    assert file(world, now=t0 + 35 * DAY).risk == Risk.YELLOW  # 5 days after the second


def test_stale_fires_after_16_days_without_progress_not_after_14(world):
    t0 = clock.now() - 30 * DAY
    dispute = file(world, now=t0)
    assert services.reassess_due(now=t0 + 14 * DAY) == 0
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN
    assert dispute.risk_evaluated_at == t0 + 14 * DAY
    assert services.reassess_due(now=t0 + 16 * DAY) == 1
    dispute.refresh_from_db()
    assert dispute.risk == Risk.YELLOW
    assert rule_codes(dispute) == {"stale-15d"}
    [change] = risk_events(dispute)
    assert change.at == t0 + 16 * DAY and change.actor is None
    assert_stats_match_rebuild()


def test_progress_resets_the_stale_clock(world):
    t0 = clock.now() - 30 * DAY
    dispute = file(world, now=t0)
    services.add_note(world.officer_a, dispute.code, "电话联系双方", now=t0 + 10 * DAY)
    services.reassess_due(now=t0 + 16 * DAY)
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN


def test_reassess_due_skips_recently_evaluated_and_settled_disputes(world):
    t0 = clock.now() - 30 * DAY
    dispute = file(world, now=t0)
    services.resolve(world.officer_a, dispute.code, "双方和解", now=t0 + 1 * DAY)
    assert services.reassess_due(now=t0 + 20 * DAY) == 0
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN


def test_administrator_tuning_stale_days_changes_the_outcome(world):
    t0 = clock.now() - 10 * DAY
    first = file(world, now=t0)
    services.reassess_due(now=t0 + 4 * DAY)
    first.refresh_from_db()
    assert first.risk == Risk.GREEN
    rule = RiskRule.objects.get(code="stale-15d")
    rule.params = {"days": 3}
    rule.full_clean()
    rule.save()
    assert services.reassess_due(now=t0 + 5 * DAY + timedelta(hours=2)) == 1
    first.refresh_from_db()
    assert first.risk == Risk.YELLOW
    assert "≥ 3 天" in first.risk_reasons[0]["detail"]


def test_administrator_raising_a_level_to_red(world):
    RiskRule.objects.filter(code="vulnerable-party").update(level=Risk.RED)
    assert file(world, parties=two_neighbours(vulnerability="minor")).risk == Risk.RED


def test_inactive_rule_never_fires(world):
    RiskRule.objects.filter(code="threat-violence").update(active=False)
    dispute = file(world, narrative="王某扬言要砍死李某")
    assert dispute.risk == Risk.GREEN
    assert dispute.risk_reasons == []
    RiskRule.objects.filter(code="threat-violence").update(active=True)
    assert file(world, narrative="王某扬言要砍死李某").risk == Risk.RED


@pytest.mark.parametrize(
    ("kind", "params", "level"),
    [
        ("repeat", {"days": 0}, "yellow"),
        ("keywords", {"keywords": []}, "red"),
        ("vulnerable", {"kinds": ["giant"]}, "yellow"),
        ("amount", {"yuan": "many"}, "yellow"),
        ("party_count", [5], "yellow"),
    ],
)
def test_bad_rule_params_fail_full_clean(db, kind, params, level):
    rule = RiskRule(code="bad-rule", name="坏规则", kind=kind, params=params, level=level)
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "params" in caught.value.message_dict


def test_rule_level_must_be_red_or_yellow(db):
    rule = RiskRule(code="green-rule", name="绿", kind="stale", params={"days": 3}, level="green")
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert "level" in caught.value.message_dict


def test_good_rule_passes_full_clean(db):
    RiskRule(
        code="ok-rule", name="好规则", kind="stale", params={"days": 3}, level="red"
    ).full_clean()


# --- colour changes and overrides ----------------------------------------------------------------


def test_colour_changes_are_timeline_events_with_reasons(world):
    t0 = clock.now() - 5 * DAY
    dispute = file(world, now=t0)
    services.add_party(
        world.officer_a,
        dispute.code,
        PartyInput(name="王奶奶", vulnerability="elderly"),
        now=t0 + DAY,
    )
    services.add_note(world.officer_a, dispute.code, "上门走访王奶奶", now=t0 + 2 * DAY)
    dispute.refresh_from_db()
    # Re-running the rules with the same outcome records no second change.
    assert dispute.risk == Risk.YELLOW
    changes = risk_events(dispute)
    assert [(e.data["from"], e.data["to"]) for e in changes] == [(Risk.GREEN, Risk.YELLOW)]
    assert changes[0].data["reasons"][0]["rule"] == "vulnerable-party"
    assert "涉及老年人" in changes[0].message
    assert_stats_match_rebuild()


@pytest.mark.parametrize("reason", ["", "   \n\t ", None])
def test_override_without_a_reason_is_refused_and_changes_nothing(world, reason):
    dispute = file(world)
    with pytest.raises(ServiceError) as caught:
        services.override_risk(world.officer_a, dispute.code, Risk.RED, reason)
    assert caught.value.code == "reason_required"
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN and dispute.risk_override == ""
    assert risk_events(dispute, EventKind.RISK_OVERRIDDEN) == []


def test_override_with_unknown_level_is_refused(world):
    dispute = file(world)
    with pytest.raises(ServiceError) as caught:
        services.override_risk(world.officer_a, dispute.code, "purple", "看着很危险")
    assert caught.value.code == "bad_risk"


@pytest.mark.parametrize("who", ["aux_a", "worker_a"])
def test_override_is_for_officers_and_commanders(world, who):
    dispute = file(world)
    with pytest.raises(Forbidden):
        services.override_risk(getattr(world, who), dispute.code, Risk.RED, "我觉得危险")
    dispute.refresh_from_db()
    assert dispute.risk == Risk.GREEN
    assert risk_events(dispute, EventKind.RISK_OVERRIDDEN) == []


def test_override_sticks_over_rule_changes_until_cleared(world):
    t0 = clock.now() - 5 * DAY
    dispute = file(world, now=t0)
    services.override_risk(world.chief_a, dispute.code, Risk.RED, "当事人有暴力前科", now=t0 + DAY)
    dispute.refresh_from_db()
    assert (dispute.risk, dispute.risk_override, dispute.risk_computed) == ("red", "red", "green")
    assert dispute.risk_override_by == world.chief_a
    assert dispute.risk_override_reason == "当事人有暴力前科"
    # Statistics count the colour everyone sees, not the computed one.
    risk_cells = StatCell.objects.filter(dimension="risk", total__gt=0)
    assert list(risk_cells.values_list("value", "total")) == [("red", 1)]
    [overridden] = risk_events(dispute, EventKind.RISK_OVERRIDDEN)
    assert overridden.data == {
        "from": "green",
        "to": "red",
        "override": "red",
        "reason": "当事人有暴力前科",
    }
    assert overridden.actor == world.chief_a
    # A rule now fires yellow: the computed colour follows, the visible one does not.
    services.add_party(
        world.officer_a,
        dispute.code,
        PartyInput(name="小明", vulnerability="minor"),
        now=t0 + 2 * DAY,
    )
    dispute.refresh_from_db()
    assert (dispute.risk, dispute.risk_computed) == ("red", "yellow")
    assert rule_codes(dispute) == {"vulnerable-party"}
    assert risk_events(dispute) == []  # no RISK_CHANGED while overridden
    # Cleared: back to what the rules say now.
    services.override_risk(world.chief_a, dispute.code, "", "前科核实有误", now=t0 + 3 * DAY)
    dispute.refresh_from_db()
    assert (dispute.risk, dispute.risk_override) == ("yellow", "")
    assert dispute.risk_override_by is None and dispute.risk_override_reason == ""
    cleared = risk_events(dispute, EventKind.RISK_OVERRIDDEN)[-1]
    assert (cleared.data["from"], cleared.data["to"]) == ("red", "yellow")
    assert "恢复规则评估" in cleared.message
    assert_stats_match_rebuild()


def test_override_to_the_same_colour_is_still_recorded(world):
    dispute = file(world)
    services.override_risk(world.officer_a, dispute.code, Risk.GREEN, "已核实，双方已冷静")
    events = risk_events(dispute, EventKind.RISK_OVERRIDDEN)
    assert len(events) == 1 and "人工确认为绿色" in events[0].message
    dispute.refresh_from_db()
    assert dispute.risk_override == Risk.GREEN
    # A rule firing later does not lift a confirmed green either.
    services.add_party(
        world.officer_a, dispute.code, PartyInput(name="老张", vulnerability="elderly")
    )
    dispute.refresh_from_db()
    assert (dispute.risk, dispute.risk_computed) == ("green", "yellow")


def test_override_on_a_settled_dispute_is_refused(world):
    dispute = file(world)
    services.resolve(world.officer_a, dispute.code, "已和解")
    with pytest.raises(Conflict):
        services.override_risk(world.officer_a, dispute.code, Risk.RED, "复查")


# --- the daily review of yellow disputes --------------------------------------------------------


def test_daily_review_lists_open_yellow_disputes_only(world):
    t0 = clock.now()
    yellow = file(world, parties=strangers(1, "elderly"), now=t0)
    assert file(world, parties=strangers(2), now=t0).risk == Risk.GREEN
    red = file(world, narrative="扬言要放火", parties=strangers(3, "elderly"), now=t0)
    assert red.risk == Risk.RED
    settled = file(world, parties=strangers(4, "pregnant"), now=t0)
    services.resolve(world.officer_a, settled.code, "已和解", now=t0)
    other_station = file(
        world,
        user=world.officer_b,
        grid_code=world.grid_b.code,
        parties=strangers(5, "minor"),
        now=t0,
    )
    day = timezone.localdate(t0)
    listed = services.daily_review_list(world.officer_a, day)
    assert [d.code for d in listed] == [yellow.code]
    commander_sees = {d.code for d in services.daily_review_list(world.commander, day)}
    assert commander_sees == {yellow.code, other_station.code}


def test_reviewed_disputes_leave_the_list_for_the_day_and_come_back_the_next(world):
    t0 = timezone.localtime(clock.now()).replace(hour=9)
    yellow = file(world, parties=two_neighbours(vulnerability="elderly"), now=t0 - DAY)
    today = timezone.localdate(t0)
    assert [d.code for d in services.daily_review_list(world.officer_a, today)] == [yellow.code]
    entry = services.review(world.officer_a, yellow.code, "  已电话回访双方 ", now=t0)
    assert entry.day == today and entry.note == "已电话回访双方" and entry.by == world.officer_a
    assert list(services.daily_review_list(world.officer_a, today)) == []
    # The commander's list is the same list: reviewed once is reviewed for everyone.
    assert list(services.daily_review_list(world.chief_a, today)) == []
    with pytest.raises(Conflict) as caught:
        services.review(world.chief_a, yellow.code, "再看一次", now=t0 + timedelta(hours=5))
    assert caught.value.code == "already_reviewed"
    assert yellow.reviews.count() == 1
    tomorrow = today + DAY
    assert [d.code for d in services.daily_review_list(world.officer_a, tomorrow)] == [yellow.code]
    services.review(world.officer_a, yellow.code, now=t0 + DAY)
    assert yellow.reviews.count() == 2
    assert DisputeEvent.objects.filter(dispute=yellow, kind=EventKind.REVIEWED).count() == 2


def test_review_by_an_outsider_is_refused(world):
    yellow = file(world, parties=two_neighbours(vulnerability="elderly"))
    for outsider in (world.officer_b, world.citizen):
        with pytest.raises((NotFound, Forbidden)):
            services.review(outsider, yellow.code)
    assert yellow.reviews.count() == 0
