"""The simulator files reports and moves incidents along through the services, and never acts
for the units a person drives in the demo (officer1, aux1)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from pingan.demo.generate import generate_demo_county
from pingan.demo.simulate import Simulator, StepReport
from pingan.incidents.models import Assignment, AssignmentStatus, Incident, IncidentEvent, Unit

pytestmark = pytest.mark.django_db

HUMAN_UNITS = ["officer1", "aux1"]


def test_a_step_on_an_empty_database_does_nothing():
    report = Simulator(seed=1).step()
    assert report == StepReport()
    assert not Incident.objects.exists()


@pytest.fixture(scope="class")
def simulated(django_db_setup, django_db_blocker):
    """Ten simulated minutes over a freshly generated county, shared by the class's checks.
    Ticks are 15 s apart (the live loop uses 2 s) so offers are still answered in time."""
    with django_db_blocker.unblock(), transaction.atomic():
        start = timezone.now()
        generate_demo_county(history_per_day=0, now=start)
        before = set(Incident.objects.values_list("pk", flat=True))
        simulator = Simulator(seed=7, rate_per_min=6, moves_per_step=15)
        reports = [simulator.step(now=start + timedelta(seconds=15 * k)) for k in range(1, 41)]
        yield {"start": start, "before": before, "simulator": simulator, "reports": reports}
        transaction.set_rollback(True)


@pytest.mark.usefixtures("simulated")
class TestSimulation:
    def test_reports_are_filed_and_answered(self, simulated):
        totals = simulated["simulator"].totals
        assert totals.reported >= 20
        assert totals.accepted > 0 and totals.arrived > 0 and totals.resolved > 0
        assert totals.moved > 0
        new = Incident.objects.exclude(pk__in=simulated["before"])
        assert new.count() == totals.reported
        assert new.filter(assignments__status=AssignmentStatus.DONE).exists()
        resolved = new.filter(resolved_at__isnull=False).first()
        assert resolved.outcome and resolved.arrived_at <= resolved.resolved_at

    def test_steps_report_what_they_did(self, simulated):
        reports = simulated["reports"]
        assert sum(r.reported for r in reports) == simulated["simulator"].totals.reported
        assert any(r.accepted for r in reports)

    def test_the_human_units_are_left_alone(self, simulated):
        start = simulated["start"]
        for unit in Unit.objects.filter(user__username__in=HUMAN_UNITS):
            assert unit.position_at == start  # never moved for them
        assert not Assignment.objects.filter(
            unit__user__username__in=HUMAN_UNITS, accepted_at__isnull=False
        ).exists()
        assert not IncidentEvent.objects.filter(actor__username__in=HUMAN_UNITS).exists()
