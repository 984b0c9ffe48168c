"""Jurisdiction reference data in memory (pingan/orgs/refdata.py): same answers as the database,
changes seen at once, no query when warm."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from pingan.accounts.models import Role, User
from pingan.core import refcache
from pingan.orgs import refdata
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid, GridKind, OrgKind, OrgUnit, SlaPolicy
from tests.conftest import PASSWORD, make_user, square

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cold_caches")]


# --- the answers before the cache, kept here as the reference -----------------------------------


def county_of_uncached(org: OrgUnit) -> OrgUnit:
    county = OrgUnit.objects.filter(pk__in=org.ancestor_ids(), kind=OrgKind.COUNTY_BUREAU).first()
    return county or org


def targets_for_uncached(org: OrgUnit | None, grid_kind: str | None = None) -> orgs.Targets:
    if org is None:
        return orgs.Targets()
    ids = org.ancestor_ids()
    policies = {p.org_id: p for p in SlaPolicy.objects.filter(org_id__in=ids)}
    for org_id in reversed(ids):
        policy = policies.get(org_id)
        if policy is None:
            continue
        rural = grid_kind in {GridKind.RURAL_VILLAGE, GridKind.SCENIC_AREA}
        return orgs.Targets(
            accept_seconds=policy.accept_seconds,
            arrive_seconds=(
                policy.rural_arrive_seconds
                if rural and policy.rural_arrive_seconds
                else policy.arrive_seconds
            ),
            reinforce_seconds=(
                policy.rural_reinforce_seconds
                if rural and policy.rural_reinforce_seconds
                else policy.reinforce_seconds
            ),
        )
    return orgs.Targets()


def grid_uncached(grid_id: int) -> refdata.GridRef | None:
    grid = Grid.objects.filter(pk=grid_id).first()
    if grid is None:
        return None
    return refdata.GridRef(
        grid.pk,
        grid.code,
        grid.name,
        grid.kind,
        grid.org_id,
        grid.officer_id,
        tuple(grid.auxiliaries.order_by("pk").values_list("pk", flat=True)),
    )


# --- a generated tree ---------------------------------------------------------------------------


@pytest.fixture
def tree(world):
    """world plus a second county: stations with offices, a joint station straight under the
    county, grids of every kind with officers and auxiliaries, and SLA policies at every level
    (some with rural overrides)."""
    SlaPolicy.objects.create(
        org=world.county, accept_seconds=60, arrive_seconds=180, reinforce_seconds=300
    )
    SlaPolicy.objects.create(
        org=world.station_b,
        accept_seconds=50,
        arrive_seconds=240,
        reinforce_seconds=360,
        rural_arrive_seconds=600,
        rural_reinforce_seconds=900,
    )
    SlaPolicy.objects.create(
        org=world.office_a, accept_seconds=30, arrive_seconds=120, reinforce_seconds=240
    )
    county2 = orgs.create_org(
        code="360828", name="安远县公安局", kind=OrgKind.COUNTY_BUREAU, parent=world.city
    )
    SlaPolicy.objects.create(
        org=county2,
        accept_seconds=90,
        arrive_seconds=300,
        reinforce_seconds=600,
        rural_arrive_seconds=900,
    )
    joint = orgs.create_org(
        code="J-1", name="城南联勤警务站", kind=OrgKind.JOINT_STATION, parent=county2
    )
    kinds = list(GridKind.values)
    n = 0
    for s in range(3):
        station = orgs.create_org(
            code=f"S2-{s}", name=f"第{s}所", kind=OrgKind.STATION, parent=county2
        )
        if s == 1:
            SlaPolicy.objects.create(
                org=station,
                accept_seconds=45,
                arrive_seconds=200,
                reinforce_seconds=400,
                rural_reinforce_seconds=1200,
            )
        for o in range(2):
            office = orgs.create_org(
                code=f"O2-{s}-{o}",
                name=f"第{s}所第{o}室",
                kind=OrgKind.POLICE_OFFICE,
                parent=station,
            )
            officer = make_user(f"p2-{s}-{o}", Role.OFFICER, office)
            auxiliaries = [make_user(f"a2-{s}-{o}-{k}", Role.AUXILIARY, office) for k in range(o)]
            for g in range(2):
                n += 1
                grid = orgs.save_grid(
                    code=f"G2-{s}-{o}-{g}",
                    name=f"网格{n}",
                    kind=kinds[n % len(kinds)],
                    org=office,
                    geometry=square(115.0 + n * 0.05, 26.0),
                    officer=officer if g == 0 else None,
                )
                orgs.assign_grid_staff(grid, auxiliaries=auxiliaries)
    orgs.save_grid(
        code="GJ-1", name="城南", kind=GridKind.SCENIC_AREA, org=joint, geometry=square(116, 26)
    )
    return world


def test_every_cached_answer_equals_the_database(tree):
    all_orgs = list(OrgUnit.objects.all())
    assert len(all_orgs) > 10
    for org in all_orgs:
        ref = refdata.org(org.pk)
        assert (ref.id, ref.code, ref.name, ref.kind, ref.path, ref.parent_id) == (
            org.pk,
            org.code,
            org.name,
            org.kind,
            org.path,
            org.parent_id,
        )
        assert list(refdata.ancestor_ids(org.pk)) == org.ancestor_ids()
        assert refdata.county_path(org.pk) == county_of_uncached(org).path
        county = orgs.county_of(org)
        expected = county_of_uncached(org)
        assert (county.pk, county.code, county.path, county.division_code) == (
            expected.pk,
            expected.code,
            expected.path,
            expected.division_code,
        )
        for kind in [None, *GridKind.values]:
            assert refdata.targets(org.pk, kind) == targets_for_uncached(org, kind)
            assert orgs.targets_for(org, kind) == targets_for_uncached(org, kind)
    grid_ids = list(Grid.objects.values_list("pk", flat=True))
    assert len(grid_ids) > 10
    for grid_id in grid_ids:
        assert refdata.grid(grid_id) == grid_uncached(grid_id)
    # Some rows exercise every branch.
    assert any(refdata.grid(g).auxiliary_ids for g in grid_ids)
    assert any(refdata.grid(g).officer_id is None for g in grid_ids)
    assert refdata.county_path(tree.city.pk) == tree.city.path  # above any county
    assert orgs.targets_for(None) == refdata.targets(None) == orgs.Targets()


def test_unknown_ids():
    assert refdata.org(999_999) is None
    assert refdata.ancestor_ids(999_999) == ()
    assert refdata.county_path(999_999) is None
    assert refdata.grid(999_999) is None
    assert refdata.targets(999_999) == orgs.Targets()


def test_orm_saves_and_services_are_seen_on_the_next_call(tree):
    grid_a = tree.grid_a
    assert refdata.org(tree.office_a.pk).name == "东门警务室"
    assert refdata.targets(tree.office_a.pk).accept_seconds == 30
    # ORM saves.
    office = OrgUnit.objects.get(pk=tree.office_a.pk)
    office.name = "东门新警务室"
    office.save()
    assert refdata.org(tree.office_a.pk).name == "东门新警务室"
    policy = SlaPolicy.objects.get(org=tree.office_a)
    policy.accept_seconds = 20
    policy.save()
    assert refdata.targets(tree.office_a.pk).accept_seconds == 20
    policy.delete()  # the county's policy applies again
    assert refdata.targets(tree.office_a.pk).accept_seconds == 60
    # Services: a new org, a new grid, staff changes.
    new_office = orgs.create_org(
        code="O-A2", name="西门警务室", kind=OrgKind.POLICE_OFFICE, parent=tree.station_a
    )
    assert refdata.county_path(new_office.pk) == tree.county.path
    new_grid = orgs.save_grid(
        code="GA2", name="西门", kind="urban_community", org=new_office, geometry=square(114, 26)
    )
    assert refdata.grid(new_grid.pk).org_id == new_office.pk
    officer = make_user("officer_new", Role.OFFICER, new_office)
    aux = make_user("aux_new", Role.AUXILIARY, new_office)
    orgs.assign_grid_staff(new_grid, officer=officer, auxiliaries=[aux])
    assert refdata.grid(new_grid.pk).officer_id == officer.pk
    assert refdata.grid(new_grid.pk).auxiliary_ids == (aux.pk,)
    # Either side of the many-to-many.
    grid_a.auxiliaries.remove(tree.aux_a)
    assert refdata.grid(grid_a.pk).auxiliary_ids == ()
    aux.auxiliary_grids.add(grid_a)
    assert refdata.grid(grid_a.pk).auxiliary_ids == (aux.pk,)
    grid_a.auxiliaries.clear()
    assert refdata.grid(grid_a.pk).auxiliary_ids == ()
    # Deleting a user clears their grids without a Grid signal (SET_NULL, link rows).
    officer.delete()
    assert refdata.grid(new_grid.pk).officer_id is None
    new_grid_id = new_grid.pk
    new_grid.delete()
    assert refdata.grid(new_grid_id) is None


def test_admin_edits_are_seen_on_the_next_call(tree):
    User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(User.objects.get(username="root"))
    policy = SlaPolicy.objects.get(org=tree.county)
    assert refdata.targets(tree.office_b.pk, "urban_community").accept_seconds == 50
    response = client.post(
        f"/admin/orgs/slapolicy/{policy.pk}/change/",
        {
            "org": tree.county.pk,
            "accept_seconds": 61,
            "arrive_seconds": 181,
            "reinforce_seconds": 301,
            "rural_arrive_seconds": "",
            "rural_reinforce_seconds": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert refdata.targets(tree.grid_a.org_id) == orgs.Targets(30, 120, 240)  # own policy
    assert refdata.targets(tree.county.pk) == orgs.Targets(61, 181, 301)
    response = client.post(
        f"/admin/orgs/orgunit/{tree.station_a.pk}/change/",
        {"code": "S-A", "name": "城关新所", "kind": OrgKind.STATION, "parent": tree.county.pk},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert refdata.org(tree.station_a.pk).name == "城关新所"


def test_a_bulk_change_is_seen_once_bumped(tree):
    assert refdata.org(tree.office_b.pk).name == "大坑警务室"
    assert refdata.grid(tree.grid_b.pk).officer_id == tree.officer_b.pk
    assert refdata.targets(tree.office_b.pk).accept_seconds == 50
    OrgUnit.objects.filter(pk=tree.office_b.pk).update(name="大坑新室")
    Grid.objects.filter(pk=tree.grid_b.pk).update(officer=None)
    SlaPolicy.objects.filter(org=tree.station_b).update(accept_seconds=10)
    # update() sends no signal: until the writer bumps, the cache keeps the old rows.
    assert refdata.org(tree.office_b.pk).name == "大坑警务室"
    assert refdata.grid(tree.grid_b.pk).officer_id == tree.officer_b.pk
    refcache.bump(refdata.ORGS, refdata.GRIDS, refdata.SLA)
    assert refdata.org(tree.office_b.pk).name == "大坑新室"
    assert refdata.grid(tree.grid_b.pk).officer_id is None
    assert refdata.targets(tree.office_b.pk).accept_seconds == 10


def _warm(tree):
    refdata.org(tree.office_a.pk)
    refdata.county_path(tree.office_a.pk)
    refdata.targets(tree.office_a.pk, "rural_village")
    refdata.grid(tree.grid_a.pk)
    orgs.county_of(tree.office_a)
    orgs.targets_for(tree.office_a, "rural_village")


def _calls(tree):
    assert refdata.org(tree.office_a.pk).name == "东门警务室"
    assert refdata.county_path(tree.office_a.pk) == tree.county.path
    assert refdata.targets(tree.office_a.pk, "rural_village").accept_seconds == 30
    assert refdata.grid(tree.grid_a.pk).auxiliary_ids == (tree.aux_a.pk,)
    assert orgs.county_of(tree.office_a).pk == tree.county.pk
    assert orgs.targets_for(tree.office_a, "rural_village").accept_seconds == 30


@override_settings(REFCACHE_CHECK_SECONDS=60)
def test_warm_calls_run_no_query_until_the_interval_passes(
    tree, monkeypatch, django_assert_num_queries
):
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    _warm(tree)
    with django_assert_num_queries(0):
        _calls(tree)
    now[0] += 61
    # One poll of all counters serves every cache; nothing moved, so nothing reloads.
    with django_assert_num_queries(1):
        _calls(tree)


@pytest.mark.django_db(transaction=True)
@override_settings(REFCACHE_CHECK_SECONDS=60)
def test_outside_a_transaction_warm_calls_share_the_process_values(
    tree, monkeypatch, django_assert_num_queries
):
    # Committed data: the values live in the process-wide cache, not a transaction's own view.
    now = [1000.0]
    monkeypatch.setattr(refcache, "_monotonic", lambda: now[0])
    _warm(tree)
    with django_assert_num_queries(0):
        _calls(tree)
    now[0] += 61
    with django_assert_num_queries(1):
        _calls(tree)
    # Another process's change: its bump is seen at the next poll, then the data reloads.
    OrgUnit.objects.filter(pk=tree.office_a.pk).update(name="东门二室")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_refversion SET version = version + 1 WHERE name = 'orgs'")
    assert refdata.org(tree.office_a.pk).name == "东门警务室"
    now[0] += 61
    with CaptureQueriesContext(connection) as ctx:
        assert refdata.org(tree.office_a.pk).name == "东门二室"
    assert len(ctx.captured_queries) == 2  # the poll, then the org tree
