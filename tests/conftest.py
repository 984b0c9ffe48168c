"""Personas and a small two-station world shared by the tests.

World: 示范市局 → 平安县局 → 城关所 (警务室 A1, grid GA1) and 泉江所 (警务室 B1, grid GB1).
Each grid has its officer; GA1 also an auxiliary and a grid worker. Units are on duty inside
their grids.
"""

import os
from dataclasses import dataclass

import pytest
import shapely
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from pingan.accounts.models import Role, User
from pingan.accounts.services import issue_token
from pingan.disputes.models import RiskRule
from pingan.disputes.risk import ensure_default_rules
from pingan.incidents.categories import ensure_default_categories
from pingan.incidents.models import Category, Unit, UnitKind
from pingan.incidents.services import create_unit
from pingan.notify.backends import MemoryBackend
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgKind
from pingan.points.models import PointRule
from pingan.points.rules import ensure_default_rules as ensure_default_point_rules

PASSWORD = "correct-horse-battery"

# Property tests have a budget: "default" for every run (CI included), "thorough" for a search
# that is worth an afternoon (HYPOTHESIS_PROFILE=thorough). No deadline: parallel workers on a
# busy 2-core machine make single examples slow without anything being wrong. Tests that set
# their own max_examples keep it.
hypothesis_settings.register_profile(
    "default", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("thorough", max_examples=1000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# GA1 is a 0.02° square centred on (114.30, 26.30); GB1 on (114.40, 26.30).
GA1_CENTER = (114.30, 26.30)
GB1_CENTER = (114.40, 26.30)


def square(lng, lat, half=0.01):
    return shapely.box(lng - half, lat - half, lng + half, lat + half)


@dataclass
class World:
    city: object
    county: object
    station_a: object
    office_a: object
    station_b: object
    office_b: object
    grid_a: object
    grid_b: object
    commander: User
    chief_a: User
    officer_a: User
    aux_a: User
    worker_a: User
    officer_b: User
    citizen: User
    citizen2: User
    volunteer: User
    unit_officer_a: Unit
    unit_aux_a: Unit
    unit_officer_b: Unit


def make_user(username, role, org=None, **extra):
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        role=role,
        org=org,
        display_name=extra.pop("display_name", username),
        **extra,
    )


@pytest.fixture(autouse=True)
def _empty_outbox():
    MemoryBackend.outbox.clear()
    yield
    MemoryBackend.outbox.clear()


@pytest.fixture
def postgres_only():
    """Row-lock races run on PostgreSQL only: SQLite serialises writers anyway."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row-lock races are tested on PostgreSQL (SQLite serialises writers)")


@pytest.fixture(autouse=True)
def _fresh_grid_index():
    # Each test starts with an index check, as a new process would.
    orgs.grid_index.invalidate()


@pytest.fixture
def world(db):
    # Transactional tests flush the tables the data migration filled.
    ensure_default_categories(Category)
    ensure_default_rules(RiskRule)
    ensure_default_point_rules(PointRule)
    city = orgs.create_org(code="360800", name="示范市公安局", kind=OrgKind.CITY_BUREAU)
    county = orgs.create_org(
        code="360827", name="平安县公安局", kind=OrgKind.COUNTY_BUREAU, parent=city
    )
    station_a = orgs.create_org(code="S-A", name="城关派出所", kind=OrgKind.STATION, parent=county)
    office_a = orgs.create_org(
        code="O-A1", name="东门警务室", kind=OrgKind.POLICE_OFFICE, parent=station_a
    )
    station_b = orgs.create_org(code="S-B", name="泉江派出所", kind=OrgKind.STATION, parent=county)
    office_b = orgs.create_org(
        code="O-B1", name="大坑警务室", kind=OrgKind.POLICE_OFFICE, parent=station_b
    )
    commander = make_user("commander", Role.COMMANDER, county)
    chief_a = make_user("chief_a", Role.COMMANDER, station_a)
    officer_a = make_user("officer_a", Role.OFFICER, office_a)
    aux_a = make_user("aux_a", Role.AUXILIARY, office_a)
    worker_a = make_user("worker_a", Role.GRID_WORKER, office_a)
    officer_b = make_user("officer_b", Role.OFFICER, office_b)
    citizen = make_user("citizen", Role.CITIZEN)
    citizen2 = make_user("citizen2", Role.CITIZEN)
    volunteer = make_user("volunteer", Role.VOLUNTEER)
    grid_a = orgs.save_grid(
        code="GA1",
        name="东门社区",
        kind="urban_community",
        org=office_a,
        geometry=square(*GA1_CENTER),
        officer=officer_a,
    )
    grid_a.auxiliaries.add(aux_a)
    grid_a.grid_workers.add(worker_a)
    grid_b = orgs.save_grid(
        code="GB1",
        name="大坑村",
        kind="rural_village",
        org=office_b,
        geometry=square(*GB1_CENTER),
        officer=officer_b,
    )
    now = timezone.now()

    def unit(user, kind, org, lng, lat):
        u = create_unit(name=user.display_name, kind=kind, org=org, user=user)
        Unit.objects.filter(pk=u.pk).update(on_duty=True, lng=lng, lat=lat, position_at=now)
        u.refresh_from_db()
        return u

    return World(
        city=city,
        county=county,
        station_a=station_a,
        office_a=office_a,
        station_b=station_b,
        office_b=office_b,
        grid_a=grid_a,
        grid_b=grid_b,
        commander=commander,
        chief_a=chief_a,
        officer_a=officer_a,
        aux_a=aux_a,
        worker_a=worker_a,
        officer_b=officer_b,
        citizen=citizen,
        citizen2=citizen2,
        volunteer=volunteer,
        unit_officer_a=unit(officer_a, UnitKind.OFFICER, office_a, 114.301, 26.301),
        unit_aux_a=unit(aux_a, UnitKind.AUXILIARY, office_a, 114.299, 26.299),
        unit_officer_b=unit(officer_b, UnitKind.OFFICER, office_b, 114.401, 26.301),
    )


def api_client(user=None) -> Client:
    if user is None:
        return Client()
    token = issue_token(user).token
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def api():
    return api_client


@pytest.fixture
def warm_caches(settings):
    """Per-process caches as a running server has them: the reference data and the grid index
    are checked against their version counters at most once a second there; here not at all
    after the first use, so a query count does not depend on where the second boundary falls."""
    from pingan.orgs import services as orgs_services

    settings.REFCACHE_CHECK_SECONDS = 3600
    index = orgs_services.grid_index
    interval = index._check_interval_s
    index._check_interval_s = 3600
    index.invalidate()
    yield
    index._check_interval_s = interval
    index.invalidate()


@pytest.fixture
def cold_caches():
    """Every per-process reference cache empty before and after the test."""
    from pingan.core import refcache

    refcache.clear_all()
    yield
    refcache.clear_all()
