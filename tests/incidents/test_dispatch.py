"""Who gets the incident: own grid first, then the fastest; timeouts and declines move on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core.errors import Conflict, NotFound
from pingan.incidents import services
from pingan.incidents.models import (
    Assignment,
    AssignmentStatus,
    EventKind,
    Incident,
    Status,
    Unit,
)
from tests.incidents.helpers import GA1_CENTER, GB1_CENTER, busy, report_at, stale

pytestmark = pytest.mark.django_db


def test_grid_officer_gets_the_incident_when_free(world):
    result = report_at()
    assert result.assignment.unit == world.unit_officer_a
    assert result.incident.status == Status.DISPATCHED
    assert result.incident.grid == world.grid_a
    assert Unit.objects.get(pk=world.unit_officer_a.pk).current_assignment == result.assignment


def test_grid_auxiliary_when_the_officer_is_off_duty(world):
    busy(world.unit_officer_a)
    assert report_at().assignment.unit == world.unit_aux_a


def test_nearest_other_unit_when_the_grid_has_nobody_free(world):
    busy(world.unit_officer_a)
    busy(world.unit_aux_a)
    result = report_at()
    assert result.assignment.unit == world.unit_officer_b
    assert result.assignment.eta_seconds > 0


def test_own_grid_unit_too_far_to_meet_the_target_loses_to_a_closer_unit(world):
    # The grid officer is 30 km away; officer_b is next door.
    Unit.objects.filter(pk=world.unit_officer_a.pk).update(lng=114.60, lat=26.30)
    busy(world.unit_aux_a)
    Unit.objects.filter(pk=world.unit_officer_b.pk).update(lng=114.305, lat=26.30)
    assert report_at().assignment.unit == world.unit_officer_b


def test_stale_positions_are_not_trusted(world):
    stale(world.unit_officer_a)
    stale(world.unit_aux_a)
    assert report_at().assignment.unit == world.unit_officer_b


def test_no_free_unit_leaves_the_incident_pending_and_the_sweep_retries(world):
    for unit in (world.unit_officer_a, world.unit_aux_a, world.unit_officer_b):
        busy(unit)
    result = report_at()
    assert result.assignment is None
    incident = Incident.objects.get(pk=result.incident.pk)
    assert incident.status == Status.PENDING
    assert incident.events.filter(kind=EventKind.NO_UNIT).exists()
    services.set_duty(world.aux_a, True)
    assert services.sweep()["retried"] == 1
    incident.refresh_from_db()
    assert incident.status == Status.DISPATCHED
    assert incident.assignments.get().unit == world.unit_aux_a


def test_an_unanswered_offer_expires_and_goes_to_the_next_unit(world, settings):
    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 30
    now = timezone.now()
    first = report_at(now=now).assignment
    assert first.unit == world.unit_officer_a
    # Too early: nothing happens.
    assert services.expire_offer(first.pk, now + timedelta(seconds=10)) is None
    second = services.expire_offer(first.pk, now + timedelta(seconds=31))
    first.refresh_from_db()
    assert first.status == AssignmentStatus.EXPIRED
    assert second.unit == world.unit_aux_a
    assert Unit.objects.get(pk=world.unit_officer_a.pk).current_assignment is None
    # Idempotent: a second run of the same expiry task changes nothing.
    assert services.expire_offer(first.pk, now + timedelta(seconds=60)) is None
    assert Assignment.objects.count() == 2


def test_accepting_an_expired_offer_is_refused(world, settings):
    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 30
    now = timezone.now()
    incident = report_at(now=now).incident
    with pytest.raises(Conflict) as exc:
        services.accept(incident.code, world.officer_a, now + timedelta(seconds=31))
    assert exc.value.code == "offer_expired"


def test_sweep_expires_overdue_offers(world, settings):
    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 30
    now = timezone.now()
    report_at(now=now)
    assert services.sweep(now + timedelta(seconds=45))["expired"] == 1
    assert Assignment.objects.filter(status=AssignmentStatus.OFFERED).get().unit == (
        world.unit_aux_a
    )


def test_offer_schedules_its_expiry_task(world, settings, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 30
    default_task_backend.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assignment = report_at().assignment
    scheduled = [r for r in default_task_backend.results if r.task.func.__name__ == "expire_offer"]
    assert [r.args for r in scheduled] == [[assignment.pk]]
    assert scheduled[0].task.run_after == assignment.expires_at


def test_decline_moves_to_the_next_unit(world):
    incident = report_at().incident
    nxt = services.decline(incident.code, world.officer_a, "正在处理另一起纠纷")
    assert nxt.unit == world.unit_aux_a
    assert Unit.objects.get(pk=world.unit_officer_a.pk).current_assignment is None


def test_a_busy_unit_is_not_offered_a_second_incident(world):
    first = report_at().assignment
    second = report_at(GB1_CENTER, category="050100").assignment
    third = report_at(dlat=0.009, category="070100").assignment
    units = {first.unit_id, second.unit_id, third.unit_id}
    assert len(units) == 3


def test_reinforcement_dispatches_a_second_unit(world):
    incident = report_at().incident
    services.accept(incident.code, world.officer_a)
    services.arrive(incident.code, world.officer_a)
    reinforcement = services.request_reinforcement(incident.code, world.officer_a, "对方人多")
    assert reinforcement.unit == world.unit_aux_a
    assert reinforcement.role == "reinforcement"
    services.accept(incident.code, world.aux_a)
    services.arrive(incident.code, world.aux_a)
    incident.refresh_from_db()
    assert incident.reinforce_arrived_at is not None
    assert incident.reinforce_s is not None


def test_resolve_frees_every_unit(world):
    incident = report_at().incident
    services.accept(incident.code, world.officer_a)
    services.arrive(incident.code, world.officer_a)
    services.request_reinforcement(incident.code, world.officer_a)
    services.resolve(incident.code, world.officer_a, outcome="mediated", note="双方和解")
    assert not Unit.objects.filter(current_assignment__isnull=False).exists()
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    assert incident.valid is True


def test_commander_redispatches_by_hand(world):
    incident = report_at().incident
    services.accept(incident.code, world.officer_a)
    assignment = services.redispatch(
        incident.code, world.commander, unit_id=world.unit_officer_b.pk, reason="就近调度"
    )
    assert assignment.unit == world.unit_officer_b
    assert assignment.dispatched_by == world.commander
    assert Unit.objects.get(pk=world.unit_officer_a.pk).current_assignment is None
    assert incident.events.filter(kind=EventKind.REDISPATCHED).exists()


def test_redispatch_to_a_busy_or_off_duty_unit_is_refused(world):
    first = report_at().incident
    report_at(GB1_CENTER)  # takes officer_b
    with pytest.raises(Conflict) as exc:
        services.redispatch(first.code, world.commander, unit_id=world.unit_officer_b.pk)
    assert exc.value.code == "unit_busy"
    busy(world.unit_aux_a)
    with pytest.raises(Conflict) as exc:
        services.redispatch(first.code, world.commander, unit_id=world.unit_aux_a.pk)
    assert exc.value.code == "unit_off_duty"
    # Nothing changed: officer_a still holds the incident.
    assert first.assignments.get(status="offered").unit == world.unit_officer_a


def test_station_chief_cannot_redispatch_to_a_unit_of_another_station(world):
    incident = report_at().incident
    with pytest.raises(NotFound):
        services.redispatch(incident.code, world.chief_a, unit_id=world.unit_officer_b.pk)


def test_point_outside_every_grid_goes_to_the_nearest_and_is_flagged(world):
    incident = report_at((114.30, 26.33)).incident  # 2 km north of GA1
    assert incident.grid == world.grid_a
    assert incident.outside_grids is True
    assert 1500 < incident.distance_to_grid_m < 2500
    assert "不在任何网格内" in incident.events.first().message


def test_rural_grid_uses_the_rural_target(world):
    from pingan.orgs.models import SlaPolicy

    SlaPolicy.objects.create(org=world.county, rural_arrive_seconds=600)
    rural = report_at(GB1_CENTER).incident
    urban = report_at(GA1_CENTER, category="050100").incident
    assert (rural.target_accept_s, rural.target_arrive_s) == (60, 600)
    assert urban.target_arrive_s == 180


def test_a_team_member_with_a_unit_of_their_own_answers_team_offers(world):
    team = services.create_unit(
        name="城关快反队",
        kind="response_team",
        org=world.station_a,
        members=[world.officer_a, world.aux_a],
    )
    Unit.objects.filter(pk=team.pk).update(
        on_duty=True, lng=114.30, lat=26.30, position_at=timezone.now()
    )
    for unit in (world.unit_officer_a, world.unit_aux_a, world.unit_officer_b):
        busy(unit)
    incident = report_at().incident
    assert incident.assignments.get().unit == team
    assignment = services.accept(incident.code, world.aux_a)
    assert assignment.unit == team
    assert [a.unit for a in services.assignments_for(world.officer_a)] == [team]


def test_a_110_transfer_with_a_caller_number_is_not_anonymous(world):
    incident = report_at(source="phone_transfer", reporter_phone="+8613812345678").incident
    assert incident.anonymous is False
    assert report_at(GB1_CENTER, source="phone_transfer").incident.anonymous is True


def test_units_taken_between_search_and_offer_widen_the_search(world, monkeypatch):
    """Racing reports can take every near unit after this report read them as free; the
    search then runs again and finds the farther free unit instead of leaving it waiting."""
    from pingan.incidents import dispatch

    real_candidates = dispatch.candidates
    raced = []

    def candidates_then_race(incident, **kwargs):
        found = real_candidates(incident, **kwargs)
        if not raced:
            raced.append(True)
            # Two other reports in the same grid take officer_a and aux_a right now.
            report_at(dlat=0.004, category="020200")
            report_at(dlat=-0.004, category="020300")
        return found

    monkeypatch.setattr(dispatch, "candidates", candidates_then_race)
    result = report_at()
    assert raced
    assert result.assignment is not None
    assert result.assignment.unit == world.unit_officer_b


def test_an_offer_not_taken_in_time_is_texted_once_with_a_link(world, settings):
    """The page may be closed and the phone in a pocket: after DISPATCH_SMS_AFTER_SECONDS an
    unanswered offer goes to the unit's phone through the message backend, once."""
    from pingan.notify.models import OutboundMessage

    settings.DISPATCH_SMS_AFTER_SECONDS = 20
    settings.SITE_URL = "https://pingan.example.cn"
    User.objects.filter(pk=world.officer_a.pk).update(phone="+8613800000011")
    start = timezone.now()
    assignment = report_at(now=start).assignment
    assert assignment.unit == world.unit_officer_a
    # Too early: nothing.
    assert not services.alert_unaccepted_offer(assignment.pk, start + timedelta(seconds=19))
    assert services.alert_unaccepted_offer(assignment.pk, start + timedelta(seconds=21))
    [text] = OutboundMessage.objects.filter(phone="+8613800000011")
    assert assignment.incident.code in text.text
    assert f"https://pingan.example.cn/unit/#card-{assignment.incident.code}" in text.text
    # Once: the task and the sweep both looking again send nothing more.
    assert not services.alert_unaccepted_offer(assignment.pk, start + timedelta(seconds=25))
    assert services.sweep(start + timedelta(seconds=30))["alerted"] == 0
    assert OutboundMessage.objects.filter(phone="+8613800000011").count() == 1


def test_a_taken_offer_is_not_texted_and_the_sweep_is_the_safety_net(world, settings):
    from pingan.notify.models import OutboundMessage

    settings.DISPATCH_SMS_AFTER_SECONDS = 20
    settings.DISPATCH_OFFER_TIMEOUT_SECONDS = 600
    User.objects.filter(pk=world.officer_a.pk).update(phone="+8613800000011")
    start = timezone.now()
    taken = report_at(now=start)
    services.accept(taken.incident.code, world.officer_a, now=start + timedelta(seconds=5))
    assert not services.alert_unaccepted_offer(taken.assignment.pk, start + timedelta(minutes=1))
    waiting = report_at(GB1_CENTER, category="050100", now=start)
    User.objects.filter(pk=waiting.assignment.unit.user_id).update(phone="+8613800000022")
    assert services.sweep(start + timedelta(seconds=25))["alerted"] == 1
    assert OutboundMessage.objects.filter(phone="+8613800000022").count() == 1
    assert not OutboundMessage.objects.filter(phone="+8613800000011").exists()
