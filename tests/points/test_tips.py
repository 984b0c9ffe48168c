"""Points for tips: a resident's non-anonymous report that was handled and found valid earns
the tip rule, an arrest also the arrest rule; the sweep credits each once."""

from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.incidents import services as incidents
from pingan.incidents.models import Incident, Status
from pingan.points import ledger, services
from pingan.points.models import PointEntry, RuleCode
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db


def tip(world, *, reporter, outcome="handled_on_site", valid=True, anonymous=False, now=None):
    # Reported two hours ago and resolved an hour later, so a sweep "now" sees it.
    now = now or clock.now() - timedelta(hours=2)
    incident = report_at(reporter=reporter, anonymous=anonymous, now=now).incident
    return incidents.resolve(
        incident.code, world.commander, outcome=outcome, valid=valid, now=now + timedelta(hours=1)
    )


def test_a_valid_resolved_tip_earns_points(world):
    incident = tip(world, reporter=world.citizen)
    entries = services.award_tip(incident)
    assert [(e.rule, e.amount) for e in entries] == [(RuleCode.TIP_CONFIRMED, 20)]
    entry = entries[0]
    assert (entry.source_type, entry.source_ref, entry.org) == (
        "incident",
        incident.code,
        incident.org,
    )
    assert ledger.balance(world.citizen) == 20


def test_volunteers_earn_too(world):
    incident = tip(world, reporter=world.volunteer)
    assert services.award_tips() == 1
    assert ledger.balance(world.volunteer) == 20
    assert PointEntry.objects.get().dedupe_key == f"incident:{incident.code}:tip"


def test_an_arrest_adds_the_arrest_rule(world):
    incident = tip(world, reporter=world.citizen, outcome="arrest")
    assert services.award_tips() == 2
    assert ledger.balance(world.citizen) == 120
    keys = set(PointEntry.objects.values_list("dedupe_key", flat=True))
    assert keys == {f"incident:{incident.code}:tip", f"incident:{incident.code}:arrest"}


def test_the_resident_is_told_by_text(world):
    world.citizen.phone = "+8613800138000"
    world.citizen.save()
    tip(world, reporter=world.citizen)
    services.award_tips()
    from pingan.notify.models import OutboundMessage

    message = OutboundMessage.objects.get(phone="+8613800138000")
    assert "20 积分" in message.text


@pytest.mark.parametrize(
    "case",
    ["invalid", "false_report", "anonymous", "staff", "clerk", "open", "old", "no_reporter"],
)
def test_ineligible_tips_earn_nothing(world, case):
    now = clock.now()
    reporter = world.citizen
    kwargs = {}
    if case == "invalid":
        kwargs["valid"] = False
    elif case == "false_report":
        kwargs["outcome"] = "false_report"
    elif case == "anonymous":
        kwargs["anonymous"] = True
    elif case == "staff":
        reporter = world.aux_a
    elif case == "clerk":
        from .helpers import make_clerk

        reporter = make_clerk()
    elif case == "old":
        kwargs["now"] = now - timedelta(days=40)
    if case == "open":
        incident = report_at(reporter=reporter).incident
    elif case == "no_reporter":
        incident = report_at(reporter=None, reporter_phone="+8613800138000").incident
        incident = incidents.resolve(incident.code, world.commander, outcome="handled_on_site")
    else:
        incident = tip(world, reporter=reporter, **kwargs)
    assert services.award_tips(now=now) == 0
    if case != "old":
        assert services.award_tip(incident) == []
    assert not PointEntry.objects.exists()


def test_closed_incidents_count(world):
    incident = tip(world, reporter=world.citizen)
    Incident.objects.filter(pk=incident.pk).update(status=Status.CLOSED)
    assert services.award_tips() == 1


def test_the_sweep_is_idempotent(world):
    tip(world, reporter=world.citizen, outcome="arrest")
    tip(world, reporter=world.citizen2)
    assert services.award_tips() == 3
    assert services.award_tips() == 0
    assert services.sweep()["tip_entries"] == 0
    assert ledger.balance(world.citizen) == 120
    assert ledger.balance(world.citizen2) == 20


def test_an_arrest_rule_switched_on_later_is_caught_up(world):
    from pingan.points.models import PointRule

    PointRule.objects.filter(code=RuleCode.TIP_ARREST).update(active=False)
    tip(world, reporter=world.citizen, outcome="arrest")
    assert services.award_tips() == 1
    PointRule.objects.filter(code=RuleCode.TIP_ARREST).update(active=True)
    assert services.award_tips() == 1
    assert ledger.balance(world.citizen) == 120


def test_a_sweep_for_an_earlier_moment_leaves_later_resolutions_alone(world):
    reported = clock.now() - timedelta(hours=3)
    incident = tip(world, reporter=world.citizen, now=reported)  # resolved at reported + 1 h
    assert services.award_tips(now=reported + timedelta(minutes=30)) == 0
    assert ledger.balance(world.citizen) == 0
    assert services.award_tips(now=reported + timedelta(hours=2)) == 1
    entry = PointEntry.objects.get(dedupe_key=f"incident:{incident.code}:tip")
    assert entry.created_at >= incident.resolved_at
