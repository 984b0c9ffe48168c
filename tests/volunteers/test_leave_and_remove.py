"""Leaving, removal and rejoining: memberships end, history stays, one live row per team."""

import pytest

from pingan.core.errors import Conflict, NotFound, ServiceError
from pingan.volunteers import services
from pingan.volunteers.models import Membership, MembershipStatus

from .helpers import is_member, make_resident, make_task, make_team
from .pushes import sms_sent

pytestmark = pytest.mark.django_db


def test_a_member_leaves_and_no_longer_hears_of_the_teams_tasks(world, crew):
    task = make_task(world, teams=[crew.team])
    assert services.open_tasks_for(crew.v1, task.published_at).filter(pk=task.pk).exists()
    membership = services.leave_team(crew.v1, crew.team.code)
    assert membership.status == MembershipStatus.LEFT and membership.ended_at
    assert not is_member(crew.team, crew.v1)
    assert not services.open_tasks_for(crew.v1, task.published_at).exists()
    with pytest.raises(NotFound):
        services.sign_up(crew.v1, task.code)
    with pytest.raises(NotFound):
        services.leave_team(crew.v1, crew.team.code)


def test_a_pending_application_can_be_withdrawn(world):
    team = make_team(world, requires_approval=True)
    applicant = make_resident("applicant")
    services.join_team(applicant, team.invite_token)
    services.leave_team(applicant, team.code)
    assert Membership.objects.get(user=applicant).status == MembershipStatus.LEFT


def test_removal_needs_a_reason_and_tells_the_member(world, crew):
    membership = Membership.objects.get(team=crew.team, user=crew.v1)
    for reason in ("", "   "):
        with pytest.raises(ServiceError) as err:
            services.remove_member(world.officer_a, membership.pk, reason=reason)
        assert err.value.code == "reason_required"
    assert is_member(crew.team, crew.v1)
    services.remove_member(world.officer_a, membership.pk, reason="多次无故缺勤")
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED
    assert membership.note == "多次无故缺勤" and membership.decided_by == world.officer_a
    assert "多次无故缺勤" in sms_sent()["+8613800138001"][0]
    with pytest.raises(Conflict):
        services.remove_member(world.officer_a, membership.pk, reason="再移一次")


def test_a_member_cannot_remove_another_and_outsiders_see_nothing(world, crew):
    membership = Membership.objects.get(team=crew.team, user=crew.v1)
    for persona in (crew.v2, crew.loner, world.officer_b, world.aux_a):
        with pytest.raises(NotFound):
            services.remove_member(persona, membership.pk, reason="看不顺眼")
    assert is_member(crew.team, crew.v1)
    with pytest.raises(NotFound):
        services.remove_member(world.officer_a, 10**9, reason="不存在")


def test_the_leader_cannot_be_removed_but_may_leave(world):
    leader = make_resident("leader")
    team = make_team(world, leader=leader)
    membership = Membership.objects.get(team=team, user=leader)
    with pytest.raises(Conflict) as err:
        services.remove_member(world.officer_a, membership.pk, reason="换人")
    assert err.value.code == "is_leader"
    services.leave_team(leader, team.code)
    team.refresh_from_db()
    assert team.leader is None


def test_rejoining_after_leaving_or_removal_starts_a_new_membership(world, crew):
    services.leave_team(crew.v1, crew.team.code)
    again = services.join_team(crew.v1, crew.team.invite_token)
    assert again.status == MembershipStatus.ACTIVE
    services.remove_member(world.officer_a, again.pk, reason="违反纪律")
    third = services.join_team(crew.v1, crew.team.invite_token)
    assert third.status == MembershipStatus.ACTIVE
    statuses = list(
        Membership.objects.filter(user=crew.v1).order_by("pk").values_list("status", flat=True)
    )
    assert statuses == ["left", "removed", "active"]


def test_removed_member_keeps_the_volunteer_role_and_history(world, crew):
    membership = Membership.objects.get(team=crew.team, user=crew.v1)
    services.remove_member(world.officer_a, membership.pk, reason="搬离本地")
    crew.v1.refresh_from_db()
    assert crew.v1.role == "volunteer"
    assert list(services.teams_for(crew.v1)) == []
