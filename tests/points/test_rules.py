"""Earning rules are data: switched off, retuned, or limited to some task kinds, they change
what is earned from then on and never what was already written."""

import pytest

from pingan.points import ledger, services
from pingan.points.models import PointEntry, PointRule, RuleCode
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db


def award(user, code, key, **kwargs):
    return ledger.award(
        user, code, "测试", source_type="test", source_ref=key, dedupe_key=key, **kwargs
    )


def test_defaults(world):
    assert ledger.rule_points(RuleCode.TASK_CONFIRMED) == 10
    assert ledger.rule_points(RuleCode.TIP_CONFIRMED) == 20
    assert ledger.rule_points(RuleCode.TIP_ARREST) == 100
    assert ledger.rule_points(RuleCode.MEDIATION_HELP) == 15


def test_inactive_rule_earns_nothing(world):
    PointRule.objects.filter(code=RuleCode.TIP_CONFIRMED).update(active=False)
    assert award(world.citizen, RuleCode.TIP_CONFIRMED, "k1") is None
    assert not PointEntry.objects.exists()
    incident = report_at(reporter=world.citizen).incident
    from pingan.incidents import services as incidents

    incidents.resolve(incident.code, world.commander, outcome="handled_on_site")
    assert services.award_tips() == 0


def test_retuned_rule_applies_from_then_on(world):
    first = award(world.citizen, RuleCode.TIP_CONFIRMED, "k1")
    PointRule.objects.filter(code=RuleCode.TIP_CONFIRMED).update(points=35)
    second = award(world.citizen, RuleCode.TIP_CONFIRMED, "k2")
    first.refresh_from_db()
    assert (first.amount, second.amount) == (20, 35)
    assert ledger.balance(world.citizen) == 55


def test_task_kinds_filter(world):
    # The default per-hour rule applies to night patrols only.
    assert ledger.rule_points(RuleCode.PATROL_HOUR, task_kind="night_patrol") == 5
    assert ledger.rule_points(RuleCode.PATROL_HOUR, task_kind="traffic") == 0
    assert award(world.volunteer, RuleCode.PATROL_HOUR, "h1", task_kind="traffic") is None
    entry = award(world.volunteer, RuleCode.PATROL_HOUR, "h2", task_kind="night_patrol", units=2.5)
    assert entry.amount == 12  # 5 × 2.5, rounded down
    # An empty list means every kind.
    PointRule.objects.filter(code=RuleCode.PATROL_HOUR).update(task_kinds=[])
    assert ledger.rule_points(RuleCode.PATROL_HOUR, task_kind="traffic") == 5


def test_a_fraction_of_a_point_writes_nothing(world):
    assert (
        award(world.volunteer, RuleCode.PATROL_HOUR, "h3", task_kind="night_patrol", units=0.1)
        is None
    )


def test_dedupe_key_makes_an_award_idempotent(world):
    assert award(world.citizen, RuleCode.MEDIATION_HELP, "same") is not None
    assert award(world.citizen, RuleCode.MEDIATION_HELP, "same") is None
    assert ledger.balance(world.citizen) == 15


def test_missing_rule_earns_nothing(world):
    PointRule.objects.filter(code=RuleCode.TASK_CONFIRMED).delete()
    assert ledger.rule_points(RuleCode.TASK_CONFIRMED) == 0
