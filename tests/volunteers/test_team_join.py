"""Teams and joining by invite: with and without the leader's approval; the role change."""

import pytest

from pingan.accounts.models import Role
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.live.groups import user_group
from pingan.volunteers import services
from pingan.volunteers.models import Membership, MembershipStatus, Team
from tests.conftest import make_user

from .helpers import is_member, make_profile, make_resident, make_team
from .pushes import listen, received, sms_sent

pytestmark = pytest.mark.django_db


def test_officer_creates_a_team_with_a_code_and_an_invite(world):
    team = services.create_team(
        world.officer_a,
        name="东门义警队",
        org=world.office_a,
        description="夜巡为主",
        grid_codes=["GA1"],
    )
    assert team.code.startswith("YJ") and len(team.code) == len("YJ20261123-000001")
    assert team.org_path == world.office_a.path
    assert len(team.invite_token) >= 20
    assert list(team.grids.all()) == [world.grid_a]
    assert services.invite_url(team) == f"/volunteer/join/{team.invite_token}/"
    svg = services.team_qr_svg(team)
    assert svg.startswith("<svg") and "</svg>" in svg


def test_the_org_may_be_given_by_code_and_the_commander_covers_the_county(world):
    team = services.create_team(world.commander, name="泉江红袖标", org="O-B1")
    assert team.org == world.office_b


@pytest.mark.parametrize(
    "persona, org, error",
    [
        ("officer_a", "office_b", ServiceError),  # another station
        ("officer_b", "office_a", ServiceError),
        ("aux_a", "office_a", Forbidden),  # auxiliaries do not post or create
        ("worker_a", "office_a", Forbidden),
        ("citizen", "office_a", Forbidden),
        ("volunteer", "office_a", Forbidden),
    ],
)
def test_who_may_create_a_team_where(world, persona, org, error):
    with pytest.raises(error):
        services.create_team(getattr(world, persona), name="一队", org=getattr(world, org))
    assert not Team.objects.exists()


def test_grids_outside_the_scope_are_refused(world):
    with pytest.raises(ServiceError) as err:
        services.create_team(world.officer_a, name="一队", org=world.office_a, grid_codes=["GB1"])
    assert err.value.code == "bad_grid"


def test_two_active_teams_of_one_unit_cannot_share_a_name(world):
    make_team(world, name="东门义警队")
    with pytest.raises(Conflict):
        make_team(world, name="东门义警队")


def test_join_without_approval_is_active_at_once_and_makes_a_volunteer(world):
    team = make_team(world, requires_approval=False)
    citizen = world.citizen
    make_profile(citizen)
    membership = services.join_team(citizen, team.invite_token)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.joined_at is not None
    citizen.refresh_from_db()
    assert citizen.role == Role.VOLUNTEER
    assert list(services.teams_for(citizen)) == [team]


def test_join_with_approval_waits_for_the_leader_who_is_told(world, layer):
    leader = make_resident("leader", real_name="赵队长", phone="13800138111")
    team = make_team(world, requires_approval=True, leader=leader)
    # The leader is a member of the team they lead.
    assert is_member(team, leader)
    leader_channel = listen(layer, user_group(leader.pk))
    make_profile(world.citizen, real_name="钱多多")
    membership = services.join_team(world.citizen, team.invite_token)
    assert membership.status == MembershipStatus.PENDING
    world.citizen.refresh_from_db()
    assert world.citizen.role == Role.CITIZEN
    # Not yet in the team: tasks offered to it are not offered to them.
    assert not is_member(team, world.citizen)
    [text] = sms_sent()["+8613800138111"]
    assert "钱多多" in text and team.name in text
    # (pushes run after commit; in this test the transaction is never committed)
    assert received(layer, leader_channel) == []
    services.decide_membership(leader, membership.pk, approve=True)
    membership.refresh_from_db()
    world.citizen.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE
    assert world.citizen.role == Role.VOLUNTEER
    assert "欢迎" in sms_sent()[make_phone(world.citizen)][0]


def make_phone(user):
    return user.volunteer_profile.phone


def test_the_leader_is_pushed_the_application_after_commit(
    world, layer, django_capture_on_commit_callbacks
):
    leader = make_resident("leader")
    team = make_team(world, requires_approval=True, leader=leader)
    channel = listen(layer, user_group(leader.pk))
    make_profile(world.citizen)
    with django_capture_on_commit_callbacks(execute=True):
        membership = services.join_team(world.citizen, team.invite_token)
    [message] = received(layer, channel)
    assert message["type"] == "push.task"
    assert message["event"] == "membership_applied"
    assert message["membership"] == membership.pk


def test_a_rejected_applicant_is_told_the_reason_and_may_apply_again(world):
    team = make_team(world, requires_approval=True)
    make_profile(world.citizen)
    first = services.join_team(world.citizen, team.invite_token)
    services.decide_membership(world.officer_a, first.pk, approve=False, note="请先参加培训")
    first.refresh_from_db()
    assert first.status == MembershipStatus.REJECTED and first.note == "请先参加培训"
    assert "请先参加培训" in sms_sent()[make_phone(world.citizen)][0]
    again = services.join_team(world.citizen, team.invite_token)
    assert again.status == MembershipStatus.PENDING and again.pk != first.pk


def test_a_decision_is_made_once(world):
    team = make_team(world, requires_approval=True)
    make_profile(world.citizen)
    membership = services.join_team(world.citizen, team.invite_token)
    services.decide_membership(world.officer_a, membership.pk, approve=True)
    with pytest.raises(Conflict) as err:
        services.decide_membership(world.officer_a, membership.pk, approve=False)
    assert err.value.code == "already_decided"


@pytest.mark.parametrize("persona", ["officer_b", "citizen2", "volunteer", "aux_a"])
def test_only_the_leader_or_managing_staff_decide(world, persona):
    team = make_team(world, requires_approval=True)
    make_profile(world.citizen)
    membership = services.join_team(world.citizen, team.invite_token)
    with pytest.raises(NotFound):
        services.decide_membership(getattr(world, persona), membership.pk, approve=True)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.PENDING


def test_joining_needs_a_profile_first(world):
    team = make_team(world)
    with pytest.raises(Conflict) as err:
        services.join_team(world.citizen, team.invite_token)
    assert err.value.code == "profile_required"
    assert not Membership.objects.exists()


def test_joining_twice_is_refused(world):
    team = make_team(world, requires_approval=True)
    make_profile(world.citizen)
    services.join_team(world.citizen, team.invite_token)
    with pytest.raises(Conflict) as err:
        services.join_team(world.citizen, team.invite_token)
    assert err.value.code == "already_member"
    assert Membership.objects.filter(user=world.citizen).count() == 1


@pytest.mark.parametrize("persona", ["officer_a", "aux_a", "commander", "clerk"])
def test_staff_and_clerks_cannot_join(world, persona):
    user = make_user("clerk", Role.CLERK) if persona == "clerk" else getattr(world, persona)
    team = make_team(world)
    with pytest.raises(Forbidden):
        services.join_team(user, team.invite_token)
    assert not Membership.objects.exists()


def test_a_reset_invite_retires_the_old_code(world):
    team = make_team(world)
    old = team.invite_token
    services.reset_invite(world.officer_a, team.code)
    team.refresh_from_db()
    assert team.invite_token != old
    make_profile(world.citizen)
    with pytest.raises(NotFound):
        services.join_team(world.citizen, old)
    assert services.join_team(world.citizen, team.invite_token).status == MembershipStatus.ACTIVE


def test_an_inactive_team_cannot_be_joined(world):
    team = make_team(world)
    services.update_team(world.officer_a, team.code, active=False)
    make_profile(world.citizen)
    for token in (team.invite_token, "", "x" * 40, "nonsense"):
        with pytest.raises(NotFound):
            services.join_team(world.citizen, token)


def test_a_leader_may_reset_but_not_a_member_or_another_station(world):
    leader = make_resident("leader")
    member = make_resident("member")
    team = make_team(world, leader=leader, members=[member])
    services.reset_invite(leader, team.code)
    with pytest.raises(Forbidden):
        services.reset_invite(member, team.code)
    with pytest.raises(NotFound):
        services.reset_invite(world.officer_b, team.code)


def test_teams_for_each_persona(world):
    leader = make_resident("leader")
    member = make_resident("member")
    team_a = make_team(world, leader=leader, members=[member])
    team_b = make_team(world, name="大坑队", actor=world.officer_b, org=world.office_b)
    assert set(services.teams_for(world.commander)) == {team_a, team_b}
    assert list(services.teams_for(world.chief_a)) == [team_a]
    assert list(services.teams_for(world.aux_a)) == [team_a]
    assert list(services.teams_for(world.officer_b)) == [team_b]
    assert list(services.teams_for(leader)) == [team_a]
    assert list(services.teams_for(member)) == [team_a]
    assert list(services.teams_for(world.citizen)) == []
    assert services.can_manage_team(leader, team_a)
    assert services.can_manage_team(world.officer_a, team_a)
    assert not services.can_manage_team(member, team_a)
    assert not services.can_manage_team(world.aux_a, team_a)
    assert not services.can_manage_team(world.officer_b, team_a)


def test_update_team_changes_fields_for_staff_only(world):
    leader = make_resident("leader")
    team = make_team(world)
    services.update_team(
        world.officer_a, team, name="东门夜巡队", requires_approval=True, leader=leader
    )
    team.refresh_from_db()
    assert (team.name, team.requires_approval, team.leader) == ("东门夜巡队", True, leader)
    assert is_member(team, leader)
    with pytest.raises(Forbidden):
        services.update_team(leader, team.code, name="改名")
    with pytest.raises(ServiceError):
        services.update_team(world.officer_a, team.code, invite_token="mine")


def test_api_join_flow_from_the_invite_to_approval(world):
    from tests.conftest import api_client

    leader = make_resident("leader", real_name="赵队长")
    officer = api_client(world.officer_a)
    response = officer.post(
        "/api/volunteers/teams",
        {"name": "东门夜巡队", "org": "O-A1", "leader": "leader", "grids": ["GA1"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    team = response.json()
    assert team["leader"] == "leader" and team["requires_approval"] is True
    assert team["members"] == 1 and team["can_manage"] is True
    token = team["invite_url"].rstrip("/").rsplit("/", 1)[1]
    resident = api_client(world.citizen)
    preview = resident.get(f"/api/volunteers/join/{token}").json()
    assert (preview["name"], preview["has_profile"], preview["my_status"]) == (
        "东门夜巡队",
        False,
        None,
    )
    response = resident.post(f"/api/volunteers/join/{token}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "profile_required"
    resident.put(
        "/api/volunteers/profile",
        {"real_name": "钱多多", "phone": "13800138555"},
        content_type="application/json",
    )
    response = resident.post(f"/api/volunteers/join/{token}")
    assert response.status_code == 201
    membership = response.json()
    assert membership["status"] == "pending"
    as_leader = api_client(leader).get(f"/api/volunteers/teams/{team['code']}").json()
    assert [m["name"] for m in as_leader["pending"]] == ["钱多多"]
    assert as_leader["pending"][0]["phone"] == "138****8555"
    response = api_client(leader).post(
        f"/api/volunteers/memberships/{membership['id']}/approve",
        {"note": "欢迎"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert resident.get(f"/api/volunteers/join/{token}").json()["my_status"] == "active"
    assert resident.get("/api/volunteers/profile").json()["role"] == "volunteer"
    listed = resident.get("/api/volunteers/teams").json()
    assert [t["my_status"] for t in listed] == ["active"]
    response = officer.post(
        "/api/volunteers/teams",
        {"name": "另一队", "org": "O-A1", "leader": "nobody"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_user"
    assert resident.get("/api/volunteers/join/not-a-token").status_code == 404
