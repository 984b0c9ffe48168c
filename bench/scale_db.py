"""Load province-scale data into the configured database, for the HTTP benchmarks.

    DJANGO_SETTINGS_MODULE=pingan.settings PINGAN_DATA_DIR=/tmp/pb DATABASE_URL=... \\
        python -m bench.scale_db --grids 50000 --units 20000

What it creates (in an empty database; migrations are applied first):

* an org tree laid over the province box of ``bench.scale_grids``: 1 city bureau, 50 county
  bureaus (a 10 x 5 block of the box each), 12 stations per county (3 x 4 sub-blocks: 600),
  3 or 4 police offices per station (2,000);
* ``--grids`` grids from ``generate_grids(n, seed)``, each owned by the police office whose
  block holds the grid's representative point, with a community officer and one auxiliary of
  that office; boundary WKB, centroid and area computed by ``orgs.services._geometry_fields``;
  the ``GridVersion`` row bumped so every process rebuilds its grid index;
* ``--units`` units spread evenly over the offices (40 % officers, 60 % auxiliaries), each with
  its own user, on duty, positioned at a random point inside a random grid of its office,
  ``position_at`` = now;
* ``--citizens`` citizen accounts (``citizen0001``…) whose password is ``CITIZEN_PASSWORD``;
* one commander, ``COMMANDER_USERNAME`` (same password), at the city bureau: a staff user whose
  scope is the whole province, the board the benchmarks watch for live pushes
  (``--commander-only`` adds it to a database loaded before it existed);
* an SLA policy (1-3-5, rural 1-10-15 minutes) on the city bureau.

Everything is bulk-created; one password hash is computed and shared by all accounts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager

import numpy as np
import shapely

from bench._keys import ENV as KEYS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pingan.settings")
# The loader never signs anything; fixed bench-only keys let settings import outside a
# deployment (and encrypt the generated people's phones as the app would).
for _name, _value in KEYS.items():
    os.environ.setdefault(_name, _value)

CITIZEN_PASSWORD = "bench-Citizen-2468"  # noqa: S105 - benchmark accounts only
CITIZEN_PREFIX = "citizen"
COMMANDER_USERNAME = "commander"  # city bureau commander: hears every incident's pushes
COUNTY_COLS, COUNTY_ROWS = 10, 5  # 50 county bureaus
STATION_COLS, STATION_ROWS = 3, 4  # 12 stations per county
OFFICER_SHARE = (0, 2)  # unit rank r in an office is an officer when r % 5 is one of these


def offices_in_station(station_index: int) -> int:
    """Every third station has 4 offices (2 x 2 blocks), the others 3 (bands): ~3.33 on average."""
    return 4 if station_index % 3 == 0 else 3


@contextmanager
def stage(name: str, timings: dict):
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"  {name:<28} {timings[name]:7.1f} s", flush=True)


def office_of_points(xs: np.ndarray, ys: np.ndarray, bbox) -> tuple[np.ndarray, np.ndarray]:
    """(station index, office index within station) of each point, from its place in the box."""
    min_lng, min_lat, max_lng, max_lat = bbox
    u = np.clip((xs - min_lng) / (max_lng - min_lng), 0, 1 - 1e-12) * COUNTY_COLS
    v = np.clip((ys - min_lat) / (max_lat - min_lat), 0, 1 - 1e-12) * COUNTY_ROWS
    ccol, crow = u.astype(int), v.astype(int)
    su, sv = (u - ccol) * STATION_COLS, (v - crow) * STATION_ROWS
    scol, srow = su.astype(int), sv.astype(int)
    tu, tv = su - scol, sv - srow
    county = crow * COUNTY_COLS + ccol
    station = county * (STATION_COLS * STATION_ROWS) + srow * STATION_COLS + scol
    four = station % 3 == 0
    office = np.where(four, (tu * 2).astype(int) + 2 * (tv * 2).astype(int), (tv * 3).astype(int))
    return station, office


def random_point_in(geom, rng: np.random.Generator) -> tuple[float, float]:
    min_x, min_y, max_x, max_y = geom.bounds
    for _ in range(8):
        xs = rng.uniform(min_x, max_x, 16)
        ys = rng.uniform(min_y, max_y, 16)
        inside = shapely.contains_xy(geom, xs, ys)
        if inside.any():
            k = int(np.argmax(inside))
            return float(xs[k]), float(ys[k])
    point = geom.representative_point()
    return point.x, point.y


def load(*, grids: int, units: int, citizens: int = 200, seed: int = 1) -> dict:
    """Create the data set in the configured (migrated, empty) database; returns stage timings."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.db.models import F
    from django.utils import timezone

    from bench.scale_grids import BBOX, generate_grids
    from pingan.accounts.models import Role, User
    from pingan.core.refcache import bump
    from pingan.incidents.models import Unit, UnitKind
    from pingan.orgs.models import Grid, GridVersion, OrgKind, OrgUnit, SlaPolicy
    from pingan.orgs.services import _geometry_fields

    if Grid.objects.exists() or OrgUnit.objects.exists():
        raise SystemExit("the database already holds orgs or grids: load into an empty database")
    timings: dict[str, float] = {}
    rng = np.random.default_rng(seed)
    n_counties = COUNTY_COLS * COUNTY_ROWS
    per_county = STATION_COLS * STATION_ROWS

    with stage("generate grids", timings):
        polygons = generate_grids(grids, seed=seed)
        geoms = np.array([geom for _, geom in polygons], dtype=object)
        rep = shapely.point_on_surface(geoms)
        grid_station, grid_office_local = office_of_points(
            shapely.get_x(rep), shapely.get_y(rep), BBOX
        )

    with stage("org tree", timings), transaction.atomic():
        city = OrgUnit.objects.create(
            code="4401", name="测试市公安局", kind=OrgKind.CITY_BUREAU, path=""
        )
        city.path = f"/{city.pk}/"
        city.save(update_fields=["path"])
        SlaPolicy.objects.create(
            org=city,
            accept_seconds=60,
            arrive_seconds=180,
            reinforce_seconds=300,
            rural_arrive_seconds=600,
            rural_reinforce_seconds=900,
        )

        def create_level(rows: list[OrgUnit], parents: list[OrgUnit]) -> list[OrgUnit]:
            created = OrgUnit.objects.bulk_create(rows, batch_size=1000)
            for org, parent in zip(created, parents, strict=True):
                if org.pk is None:
                    raise RuntimeError("bulk_create did not return primary keys")
                org.path = f"{parent.path}{org.pk}/"
            OrgUnit.objects.bulk_update(created, ["path"], batch_size=1000)
            return created

        counties = create_level(
            [
                OrgUnit(
                    code=f"4401{c + 1:02d}",
                    name=f"第{c + 1}分局",
                    kind=OrgKind.COUNTY_BUREAU,
                    parent=city,
                    path="",
                )
                for c in range(n_counties)
            ],
            [city] * n_counties,
        )
        station_rows, station_parents = [], []
        for s in range(n_counties * per_county):
            county = counties[s // per_county]
            k = s % per_county + 1
            station_rows.append(
                OrgUnit(
                    code=f"{county.code}{k:02d}",
                    name=f"{county.name}第{k}派出所",
                    kind=OrgKind.STATION,
                    parent=county,
                    path="",
                )
            )
            station_parents.append(county)
        stations = create_level(station_rows, station_parents)
        office_rows, office_parents, office_start = [], [], []
        for s, station in enumerate(stations):
            office_start.append(len(office_rows))
            for k in range(1, offices_in_station(s) + 1):
                office_rows.append(
                    OrgUnit(
                        code=f"{station.code}{k:02d}",
                        name=f"{station.name}第{k}警务室",
                        kind=OrgKind.POLICE_OFFICE,
                        parent=station,
                        path="",
                    )
                )
                office_parents.append(station)
        offices = create_level(office_rows, office_parents)
    n_offices = len(offices)
    grid_office = np.asarray(office_start)[grid_station] + grid_office_local
    grids_of_office: list[list[int]] = [[] for _ in range(n_offices)]
    for j, o in enumerate(grid_office.tolist()):
        grids_of_office[o].append(j)

    with stage("password hash (once)", timings):
        password = make_password(CITIZEN_PASSWORD)

    now = timezone.now()
    with stage("users", timings), transaction.atomic():
        unit_office = np.arange(units) % n_offices
        unit_rank = np.arange(units) // n_offices
        unit_is_officer = np.isin(unit_rank % 5, OFFICER_SHARE)
        staff = [
            User(
                username=f"p{i + 1:06d}",
                password=password,
                role=Role.OFFICER if unit_is_officer[i] else Role.AUXILIARY,
                display_name=f"{'民警' if unit_is_officer[i] else '辅警'}{i + 1:05d}",
                org_id=offices[unit_office[i]].pk,
                date_joined=now,
            )
            for i in range(units)
        ]
        staff = User.objects.bulk_create(staff, batch_size=2000)
        User.objects.bulk_create(
            [
                User(
                    username=f"{CITIZEN_PREFIX}{i + 1:04d}",
                    password=password,
                    role=Role.CITIZEN,
                    display_name=f"群众{i + 1:04d}",
                    date_joined=now,
                )
                for i in range(citizens)
            ],
            batch_size=2000,
        )
        # Last, so the ids of the accounts above do not depend on it.
        User.objects.create(
            username=COMMANDER_USERNAME,
            password=password,
            role=Role.COMMANDER,
            display_name="全市指挥员",
            org_id=city.pk,
            date_joined=now,
        )
    officers_of = [[] for _ in range(n_offices)]
    auxiliaries_of = [[] for _ in range(n_offices)]
    for i, user in enumerate(staff):
        (officers_of if unit_is_officer[i] else auxiliaries_of)[unit_office[i]].append(user.pk)

    with stage("grids (geometry + insert)", timings), transaction.atomic():
        rows = []
        local_rank = np.zeros(grids, dtype=int)
        seen = np.zeros(n_offices, dtype=int)
        for j, (grid_id, geom) in enumerate(polygons):
            o = int(grid_office[j])
            local_rank[j] = seen[o]
            seen[o] += 1
            officers = officers_of[o]
            rows.append(
                Grid(
                    code=f"G{grid_id:06d}",
                    name=f"网格{grid_id:05d}",
                    kind=(
                        "urban_community",
                        "rural_village",
                        "industrial_park",
                        "scenic_area",
                        "rural_village",
                    )[grid_id % 5],
                    org_id=offices[o].pk,
                    officer_id=officers[local_rank[j] % len(officers)] if officers else None,
                    **_geometry_fields(geom),
                )
            )
        created_grids = Grid.objects.bulk_create(rows, batch_size=2000)
        through = Grid.auxiliaries.through
        links = [
            through(
                grid_id=grid.pk, user_id=auxiliaries_of[o][local_rank[j] % len(auxiliaries_of[o])]
            )
            for j, (grid, o) in enumerate(zip(created_grids, grid_office.tolist(), strict=True))
            if auxiliaries_of[o]
        ]
        through.objects.bulk_create(links, batch_size=5000)
        if not GridVersion.objects.filter(pk=1).exists():
            GridVersion.objects.create(pk=1, version=0)
        GridVersion.objects.filter(pk=1).update(version=F("version") + 1)
        bump("orgs", "grids")  # bulk writes send no signals: drop servers' reference caches

    with stage("units", timings), transaction.atomic():
        unit_rows = []
        for i, user in enumerate(staff):
            o = int(unit_office[i])
            office = offices[o]
            own = grids_of_office[o]
            if own:
                lng, lat = random_point_in(geoms[own[int(rng.integers(len(own)))]], rng)
            else:  # tiny --grids: an office without grids keeps its units at a grid somewhere
                lng, lat = random_point_in(geoms[int(rng.integers(grids))], rng)
            unit_rows.append(
                Unit(
                    name=f"{office.name}{user.display_name}",
                    kind=UnitKind.OFFICER if unit_is_officer[i] else UnitKind.AUXILIARY,
                    org_id=office.pk,
                    org_path=office.path,
                    user_id=user.pk,
                    on_duty=True,
                    lng=lng,
                    lat=lat,
                    position_at=now,
                )
            )
        Unit.objects.bulk_create(unit_rows, batch_size=2000)

    with stage("analyze", timings), connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["total"] = sum(timings.values())
    print(
        f"  {'total':<28} {timings['total']:7.1f} s  ({grids} grids, {units} units, "
        f"{n_offices} offices, {citizens} citizens)",
        flush=True,
    )
    return timings


def ensure_commander() -> bool:
    """Add the city bureau's commander to a loaded database; False when already there."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from pingan.accounts.models import Role, User
    from pingan.orgs.models import OrgKind, OrgUnit

    if User.objects.filter(username=COMMANDER_USERNAME).exists():
        return False
    city = OrgUnit.objects.get(kind=OrgKind.CITY_BUREAU, parent=None)
    User.objects.create(
        username=COMMANDER_USERNAME,
        password=make_password(CITIZEN_PASSWORD),
        role=Role.COMMANDER,
        display_name="全市指挥员",
        org_id=city.pk,
        date_joined=timezone.now(),
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--commander-only",
        action="store_true",
        help="only add the commander to an already loaded database (when missing)",
    )
    args = parser.parse_args(argv)

    import django

    django.setup()
    if args.commander_only:
        print("commander:", "created" if ensure_commander() else "already there")
        return 0
    from django.conf import settings
    from django.core.management import call_command

    print(
        f"loading into {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} "
        f"{settings.DATABASES['default']['NAME']}",
        flush=True,
    )
    timings: dict[str, float] = {}
    with stage("migrate", timings):
        call_command("migrate", verbosity=0)
    load(grids=args.grids, units=args.units, citizens=args.citizens, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
