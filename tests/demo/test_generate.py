"""The demo county: logins, a grid tiling without gaps or overlaps, staffing, consistent
history, determinism, and a live report right after generation reaching officer1."""

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import phonenumbers
import pytest
import shapely
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from pingan.accounts import totp
from pingan.accounts.models import Role, User
from pingan.core.sequences import last_number
from pingan.demo.county.geography import plane_to_wgs84
from pingan.demo.county.plan import plan_county
from pingan.demo.generate import DemoDataExists, generate_demo_county
from pingan.demo.logins import DEMO_PASSWORD
from pingan.incidents import services
from pingan.incidents.models import (
    OPEN_STATUSES,
    AssignmentStatus,
    Incident,
    IncidentEvent,
    Status,
    Unit,
)
from pingan.orgs.models import Grid, GridKind, OrgKind, OrgUnit

pytestmark = pytest.mark.django_db

SEED = 20261123


@pytest.fixture(scope="class")
def demo(django_db_setup, django_db_blocker):
    """One county shared by a class's tests: generating it per test would make the suite
    several times slower. Each test still runs in its own savepoint, and the county is rolled
    back after the class. A tiny history keeps it fast; the structure is the full county."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield generate_demo_county(seed=SEED, years=1, history_per_day=0.5)
        transaction.set_rollback(True)


@pytest.mark.usefixtures("demo")
class TestDemoCounty:
    def test_demo_logins_have_their_roles_and_the_demo_password(self):
        expected = {
            "admin": Role.COMMANDER,
            "commander": Role.COMMANDER,
            "chief1": Role.COMMANDER,
            "officer1": Role.OFFICER,
            "aux1": Role.AUXILIARY,
            "grid1": Role.GRID_WORKER,
            "volunteer1": Role.VOLUNTEER,
            "citizen1": Role.CITIZEN,
            "officer2": Role.OFFICER,
            "citizen200": Role.CITIZEN,  # shared-hash users log in too
        }
        for username, role in expected.items():
            user = User.objects.get(username=username)
            assert user.role == role, username
            assert user.check_password(DEMO_PASSWORD), username
        admin = User.objects.get(username="admin")
        assert admin.is_superuser and admin.is_staff
        commander = User.objects.get(username="commander")
        # 三员分立: the command centre is not an administrator; the three administrators are.
        assert not commander.is_staff and not commander.is_superuser
        assert not commander.has_perm("orgs.change_grid")
        assert commander.org.kind == OrgKind.COUNTY_BUREAU
        sysadmin = User.objects.get(username="sysadmin")
        assert sysadmin.role == Role.SYSTEM_ADMIN and sysadmin.has_perm("orgs.change_grid")
        assert not sysadmin.has_perm("accounts.change_apitoken")
        assert User.objects.get(username="secadmin").has_perm("accounts.change_apitoken")
        assert not User.objects.get(username="auditadmin").has_perm("orgs.view_grid")
        # Those who need a second factor have a demo authenticator bound.
        for username in ("admin", "commander", "chief1", "sysadmin", "secadmin", "auditadmin"):
            assert totp.is_enrolled(User.objects.get(username=username)), username
        assert User.objects.get(username="chief1").org.name == "城关派出所"
        assert User.objects.filter(role=Role.CITIZEN).count() >= 200
        for phone in User.objects.exclude(phone="").values_list("phone", flat=True)[:200]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone

    def test_org_tree_and_sla(self):
        county = OrgUnit.objects.get(kind=OrgKind.COUNTY_BUREAU)
        assert county.name == "平安县公安局" and county.parent.kind == OrgKind.CITY_BUREAU
        stations = OrgUnit.objects.filter(kind=OrgKind.STATION)
        assert stations.count() == 6
        assert OrgUnit.objects.filter(kind=OrgKind.POLICE_OFFICE).count() >= 18
        assert 1 <= OrgUnit.objects.filter(kind=OrgKind.JOINT_STATION).count() <= 2
        assert county.sla_policy.arrive_seconds == 180
        rural = stations.exclude(name="城关派出所")
        assert all(s.sla_policy.rural_arrive_seconds == 600 for s in rural)
        for org in OrgUnit.objects.exclude(division_code=""):
            assert re.fullmatch(r"\d{12}", org.division_code), org

    def test_grids_tile_the_county_without_overlap(self):
        grids = list(Grid.objects.select_related("org__parent", "officer"))
        assert 90 <= len(grids) <= 110
        kinds = Counter(g.kind for g in grids)
        assert kinds[GridKind.RURAL_VILLAGE] > len(grids) / 2
        assert 12 <= kinds[GridKind.URBAN_COMMUNITY] <= 22
        assert 2 <= kinds[GridKind.INDUSTRIAL_PARK] <= 3 and 1 <= kinds[GridKind.SCENIC_AREA] <= 2

        shapes = [g.geometry for g in grids]
        tree = shapely.STRtree(shapes)
        left, right = tree.query(shapes, predicate="intersects")
        pairs = [(a, b) for a, b in zip(left, right, strict=True) if a < b]
        overlap = sum(shapes[a].intersection(shapes[b]).area for a, b in pairs)
        total = sum(s.area for s in shapes)
        assert overlap < total * 1e-9

        outline = plane_to_wgs84(plan_county(SEED).outline)
        assert shapely.union_all(shapes).symmetric_difference(outline).area < outline.area * 1e-9

        for grid in grids:
            assert re.fullmatch(r"G\d{12}", grid.code) and grid.code[1:] == grid.division_code
            assert grid.officer is not None and grid.officer.role == Role.OFFICER, grid
            assert grid.org.kind in (OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION), grid
            assert grid.org.parent.kind == OrgKind.STATION, grid
            assert grid.auxiliaries.count() == 1, grid
        assert Grid.objects.filter(name="城关镇东门社区").exists()

    def test_officer1_and_aux1_are_on_duty_inside_their_grids(self):
        officer1 = User.objects.get(username="officer1")
        aux1 = User.objects.get(username="aux1")
        assert officer1.org == aux1.org and officer1.org.parent.name == "城关派出所"
        for user in (officer1, aux1):
            unit = Unit.objects.get(user=user)
            assert unit.on_duty and unit.position_at is not None
            mine = list(user.officer_grids.all()) + list(user.auxiliary_grids.all())
            assert any(g.geometry.contains(shapely.Point(unit.lng, unit.lat)) for g in mine)
        assert aux1.auxiliary_grids.filter(officer=officer1).exists()

        teams = Unit.objects.filter(kind="response_team")
        assert teams.count() == 6
        for team in teams:
            assert 3 <= team.members.count() <= 4
            # Team members hold no personal unit, so the services let them answer for the team.
            assert not Unit.objects.filter(user__in=team.members.all()).exists()
        on_duty = Unit.objects.filter(on_duty=True).count() / Unit.objects.count()
        assert 0.55 <= on_duty <= 0.9

    def test_history_milestones_are_consistent(self):
        history = Incident.objects.exclude(status__in=OPEN_STATUSES).exclude(status=Status.MERGED)
        assert history.count() > 50
        by_day = Counter()
        for incident in history.prefetch_related("assignments", "events"):
            assert incident.status in (Status.RESOLVED, Status.CLOSED)
            assert incident.outcome and incident.valid is not None
            assert incident.reported_at <= incident.accepted_at <= incident.arrived_at
            assert incident.arrived_at <= incident.resolved_at <= timezone.now()
            if incident.closed_at:
                assert incident.resolved_at <= incident.closed_at
            assert incident.accept_s == pytest.approx(
                (incident.accepted_at - incident.reported_at).total_seconds()
            )
            assert incident.arrive_s == pytest.approx(
                (incident.arrived_at - incident.reported_at).total_seconds()
            )
            if incident.reinforce_s is not None:
                assert incident.reported_at < incident.reinforce_requested_at
                assert incident.reinforce_requested_at < incident.reinforce_arrived_at
                assert incident.reinforce_s == pytest.approx(
                    (incident.reinforce_arrived_at - incident.reported_at).total_seconds()
                )
            assert incident.target_accept_s == 60
            rural = incident.grid.kind in (GridKind.RURAL_VILLAGE, GridKind.SCENIC_AREA)
            city = incident.org.parent.name == "城关派出所"
            assert incident.target_arrive_s == (600 if rural and not city else 180)
            assert incident.grid.geometry.intersects(shapely.Point(incident.lng, incident.lat))
            statuses = {a.status for a in incident.assignments.all()}
            assert statuses <= {AssignmentStatus.DONE, AssignmentStatus.EXPIRED}
            times = [e.at for e in incident.events.all()]  # id order
            assert times == sorted(times)
            kinds = [e.kind for e in incident.events.all()]
            assert kinds[:2] == ["reported", "offered"] and "resolved" in kinds
            match = re.fullmatch(r"JQ(\d{8})-(\d{6})", incident.code)
            day = timezone.localtime(incident.reported_at).strftime("%Y%m%d")
            assert match and match.group(1) == day
            by_day[day] = max(by_day[day], int(match.group(2)))
        # Other codes (disputes "JF", agreements "TJ") count in their own daily sequences.
        for day, last in by_day.items():
            counted = last_number("JQ", datetime.strptime(day, "%Y%m%d").date())
            assert counted >= last

    def test_live_incidents_are_on_the_board(self):
        open_ = Incident.objects.filter(status__in=OPEN_STATUSES)
        statuses = Counter(open_.values_list("status", flat=True))
        assert 2 <= sum(statuses.values()) <= 5
        assert statuses[Status.PENDING] >= 1 and statuses[Status.ACCEPTED] >= 1
        # The human demo users start with free units: no live incident is theirs.
        assert not IncidentEvent.objects.filter(
            incident__in=open_, unit__user__username__in=["officer1", "aux1"]
        ).exists()

    def test_demo_data_if_empty_does_nothing_on_a_filled_database(self):
        before = (OrgUnit.objects.count(), Incident.objects.count(), User.objects.count())
        call_command("demo_data", if_empty=True, verbosity=0)
        assert (OrgUnit.objects.count(), Incident.objects.count(), User.objects.count()) == before
        with pytest.raises(DemoDataExists):
            generate_demo_county(seed=SEED, history_per_day=0)

    def test_a_live_report_in_officer1s_grid_goes_to_officer1(self):
        unit = Unit.objects.get(user__username="officer1")
        result = services.report(
            category_code="060100",
            description="邻居因漏水吵架",
            lng=unit.lng,
            lat=unit.lat,
            reporter=User.objects.get(username="citizen1"),
        )
        assert result.incident.grid.officer.username == "officer1"
        assert result.assignment is not None and result.assignment.unit == unit
        # The day's sequence continues after the generated incidents instead of colliding.
        day_prefix = result.incident.code.split("-")[0]
        earlier = Incident.objects.filter(code__startswith=day_prefix).exclude(
            pk=result.incident.pk
        )
        assert all(code < result.incident.code for code in earlier.values_list("code", flat=True))


def _structure() -> str:
    """A fingerprint of everything structural: orgs, grid codes and boundaries, users, units."""
    digest = hashlib.sha256()
    for code, wkb in Grid.objects.order_by("code").values_list("code", "boundary"):
        digest.update(code.encode() + hashlib.sha256(bytes(wkb)).digest())
    rows = [
        User.objects.order_by("username").values_list(
            "username", "display_name", "phone", "role", "org__code"
        ),
        Unit.objects.order_by("name").values_list("name", "kind", "on_duty", "lng", "lat"),
        OrgUnit.objects.order_by("code").values_list("code", "name", "kind", "parent__code"),
    ]
    for queryset in rows:
        digest.update(repr(list(queryset)).encode())
    return digest.hexdigest()


def _history() -> list:
    return list(
        Incident.objects.order_by("code").values_list(
            "code",
            "category__code",
            "grid__code",
            "lng",
            "lat",
            "reported_at",
            "accepted_at",
            "resolved_at",
            "outcome",
            "rating",
        )
    )


def _generate(seed: int, now, per_day: float) -> tuple[str, list]:
    """Generate, fingerprint and roll back, so the next generation starts empty."""
    with transaction.atomic():
        generate_demo_county(seed=seed, years=1, now=now, history_per_day=per_day)
        result = _structure(), _history()
        transaction.set_rollback(True)
    return result


def test_same_seed_same_county_and_the_clock_only_moves_history():
    january = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    structure, history = _generate(SEED, january, 0.3)
    assert (structure, history) == _generate(SEED, january, 0.3)
    later_structure, later_history = _generate(SEED, january + timedelta(days=200), 0)
    assert later_structure == structure
    assert len(history) > 50 and all(r[5] < january - timedelta(hours=1) for r in history[:-4])


def test_another_seed_another_county():
    first, other = plan_county(SEED), plan_county(SEED + 1)
    assert [g.local.wkb for g in first.grids] != [g.local.wkb for g in other.grids]
    assert [p.display_name for p in first.people] != [p.display_name for p in other.people]


@pytest.mark.django_db
def test_ready_demo_units_puts_officer1_back_in_their_grid():
    from datetime import timedelta

    from django.utils import timezone

    from pingan.demo.generate import generate_demo_county, ready_demo_units
    from pingan.incidents.models import Unit

    generate_demo_county(years=0, history_per_day=0)
    Unit.objects.filter(user__username__in=["officer1", "aux1"]).update(
        on_duty=False, position_at=timezone.now() - timedelta(days=1)
    )
    assert ready_demo_units() == 2
    unit = Unit.objects.get(user__username="officer1")
    grid_codes = {g.code for g in unit.user.officer_grids.all()}
    assert unit.on_duty and unit.position_at > timezone.now() - timedelta(minutes=1)
    from pingan.orgs.services import locate_grid

    assert locate_grid(unit.lng, unit.lat)[0].code in grid_codes
