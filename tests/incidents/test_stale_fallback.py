"""A report never waits without an offer because unit positions are stale (a restarted demo
without the simulation): the grid's own on-duty staff, then the station's quick-response team,
are offered, and the commander is told through a timeline row the boards show."""

import pytest
from django.utils import timezone

from pingan.incidents import push, services
from pingan.incidents.models import EventKind, Status, Unit, UnitKind
from tests.incidents.helpers import GA1_CENTER, busy, report_at, stale

pytestmark = pytest.mark.django_db


def all_stale(world):
    for unit in (world.unit_officer_a, world.unit_aux_a, world.unit_officer_b):
        stale(unit, minutes=600)


def response_team(world, *, org=None, position=None):
    team = services.create_unit(
        name="城关所快反队", kind=UnitKind.RESPONSE_TEAM, org=org or world.station_a,
        members=[world.chief_a],
    )  # fmt: skip
    lng, lat = position or (None, None)
    Unit.objects.filter(pk=team.pk).update(
        on_duty=True, lng=lng, lat=lat, position_at=timezone.now() if position else None
    )
    return team


def kinds(incident):
    return list(incident.events.values_list("kind", flat=True))


def test_stale_positions_fall_back_to_the_grids_own_officer(world):
    all_stale(world)
    result = report_at()
    assert result.assignment is not None
    assert result.assignment.unit == world.unit_officer_a
    assert result.incident.status == Status.DISPATCHED
    assert kinds(result.incident) == [
        EventKind.REPORTED,
        EventKind.POSITION_FALLBACK,
        EventKind.OFFERED,
    ]
    alert = result.incident.events.get(kind=EventKind.POSITION_FALLBACK)
    assert "请指挥员核实" in alert.message and "本网格在岗警力" in alert.message
    assert alert.data["fallback"] == "own_grid"


def test_units_that_never_reported_a_position_are_still_offered(world):
    Unit.objects.filter(
        pk__in=[world.unit_officer_a.pk, world.unit_aux_a.pk, world.unit_officer_b.pk]
    ).update(lng=None, lat=None, position_at=None)
    busy(world.unit_officer_a)
    result = report_at()
    assert result.assignment.unit == world.unit_aux_a
    assert result.assignment.distance_m is None
    offered = result.incident.events.get(kind=EventKind.OFFERED)
    assert "位置未知" in offered.message


def test_then_the_stations_response_team(world):
    all_stale(world)
    busy(world.unit_officer_a)
    busy(world.unit_aux_a)
    team = response_team(world)
    response_team(world, org=world.station_b)  # another station's team is not offered
    result = report_at()
    assert result.assignment.unit == team
    alert = result.incident.events.get(kind=EventKind.POSITION_FALLBACK)
    assert "派出所快反队" in alert.message and alert.data["fallback"] == "response_team"


def test_nobody_on_duty_still_waits_and_the_sweep_uses_the_fallback(world):
    all_stale(world)
    for unit in (world.unit_officer_a, world.unit_aux_a):
        busy(unit)
    result = report_at()
    assert result.assignment is None
    assert kinds(result.incident) == [EventKind.REPORTED, EventKind.NO_UNIT]
    Unit.objects.filter(pk=world.unit_aux_a.pk).update(on_duty=True)
    services.sweep()
    result.incident.refresh_from_db()
    assert result.incident.status == Status.DISPATCHED
    assert EventKind.POSITION_FALLBACK in kinds(result.incident)


def test_the_alert_reaches_the_commanders_board(world):
    all_stale(world)
    result = report_at(GA1_CENTER)
    alert = result.incident.events.get(kind=EventKind.POSITION_FALLBACK)
    deliveries = push.deliveries([alert.pk])
    groups = {g for d in deliveries for g in d.groups}
    # Every org above the incident hears it, the county commander's board included.
    assert {f"org.{world.county.pk}", f"org.{world.station_a.pk}"} <= groups
    assert {d.body["kind_label"] for d in deliveries} == {"警力位置过期，兜底派警"}


def test_fresh_units_are_found_without_the_fallback(world):
    # The normal search finding someone never runs the fallback query.
    result = report_at()
    assert EventKind.POSITION_FALLBACK not in kinds(result.incident)
