"""The plan written to the database through the services: the org tree, SLA targets, users,
grids with their staff, and the dispatchable units on duty at their positions.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from pingan.accounts.models import Role, TotpDevice, User
from pingan.core import clock
from pingan.demo.logins import DEMO_PASSWORD
from pingan.demo.progress import say
from pingan.incidents import services as incidents
from pingan.incidents.models import (
    UnitKind,
)
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgKind, OrgUnit, SlaPolicy

from .geography import CITY_CODE, COUNTY_CODE, SEAT, TOWNS, plane_to_wgs84
from .plan import HUMAN_LOGINS, CountyPlan


@dataclass
class Structure:
    plan: CountyPlan
    city: OrgUnit
    county: OrgUnit
    stations: list[OrgUnit]
    offices: dict  # office code → OrgUnit
    users: dict  # username → User
    grids: dict  # grid code → Grid
    units: dict  # username / "team:<i>" → Unit
    geometry: dict  # grid code → WGS-84 geometry
    users_by_pk: dict = field(default_factory=dict)
    team_leaders: dict = field(default_factory=dict)  # team unit pk → the member who answers


def _write_orgs(plan: CountyPlan):
    city = orgs.create_org(
        code=CITY_CODE,
        name="示范市公安局",
        kind=OrgKind.CITY_BUREAU,
        division_code=f"{CITY_CODE}000000",
    )
    county = orgs.create_org(
        code=COUNTY_CODE,
        name="平安县公安局",
        kind=OrgKind.COUNTY_BUREAU,
        parent=city,
        division_code=f"{COUNTY_CODE}000000",
    )
    stations = [
        orgs.create_org(
            code=f"{COUNTY_CODE}{t.township}000",
            name=f"{t.short}派出所",
            kind=OrgKind.STATION,
            parent=county,
            division_code=f"{COUNTY_CODE}{t.township}000",
        )
        for t in TOWNS
    ]
    offices = {
        o.code: orgs.create_org(
            code=o.code,
            name=o.name,
            kind=o.kind,
            parent=stations[o.town],
            division_code=o.seat.division_code,
        )
        for o in plan.offices
    }
    return city, county, stations, offices


def _write_sla(county: OrgUnit, stations: list[OrgUnit]) -> None:
    # No service edits targets yet; these rows are plain configuration.
    SlaPolicy.objects.create(
        org=county, accept_seconds=60, arrive_seconds=180, reinforce_seconds=300
    )
    for index, station in enumerate(stations):
        if index == SEAT:
            continue  # the county seat keeps the county's 1-3-5
        # Village roads are long: rural stations allow 10 / 15 minutes in village grids.
        SlaPolicy.objects.create(
            org=station,
            accept_seconds=60,
            arrive_seconds=180,
            reinforce_seconds=300,
            rural_arrive_seconds=600,
            rural_reinforce_seconds=900,
        )


def _write_users(plan: CountyPlan, org_for) -> dict:
    """Demo logins through create_user (each with its own salted hash); everyone else shares
    one precomputed hash of the same demo password, which keeps generation fast."""
    shared_hash = make_password(DEMO_PASSWORD)
    users, bulk = {}, []
    for person in plan.people:
        fields = {
            "role": person.role,
            "display_name": person.display_name,
            "phone": person.phone,
            "org": org_for(person.org_key),
        }
        if person.username in HUMAN_LOGINS:
            if person.username == "admin":
                users["admin"] = User.objects.create_superuser(
                    "admin", password=DEMO_PASSWORD, **fields
                )
            else:
                users[person.username] = User.objects.create_user(
                    person.username, password=DEMO_PASSWORD, **fields
                )
        else:
            bulk.append(User(username=person.username, password=shared_hash, **fields))
    for user in User.objects.bulk_create(bulk, batch_size=500):
        users[user.username] = user
    _enrol_second_factors(users)
    return users


def _enrol_second_factors(users: dict) -> None:
    """Demo logins that need a second factor get an authenticator already bound, with a secret
    derived from the name; in demo mode the sign-in's second step shows its current code."""
    now = clock.now()
    for username in HUMAN_LOGINS:
        user = users.get(username)
        if user is not None and user.needs_totp:
            TotpDevice.objects.create(
                user=user,
                secret=demo_totp_secret(username),
                created_at=now,
                confirmed_at=now,
            )


def demo_totp_secret(username: str) -> str:
    digest = hashlib.sha256(f"pingan-demo-totp:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def _write_grids(plan: CountyPlan, offices: dict, users: dict) -> tuple[dict, dict]:
    grids, geometry = {}, {}
    officer_of = {g.code: u for u, chunk in plan.officer_grids.items() for g in chunk}
    for grid_plan in plan.grids:
        shape = plane_to_wgs84(grid_plan.local)
        grid = orgs.save_grid(
            code=grid_plan.code,
            name=grid_plan.name,
            kind=grid_plan.kind,
            org=offices[grid_plan.office.code],
            geometry=shape,
            division_code=grid_plan.division_code,
            officer=users[officer_of[grid_plan.code]],
        )
        orgs.assign_grid_staff(
            grid,
            auxiliaries=[users[plan.grid_aux[grid.code]]],
            grid_workers=[users[u] for u in plan.grid_workers.get(grid.code, [])],
        )
        grids[grid.code] = grid
        geometry[grid.code] = shape
    return grids, geometry


def _refresh_grid_index(grids: dict) -> None:
    """Make this process's point → grid index show the grids just written.

    The index is keyed by the grid version counter; a counter that restarted (a flushed or
    rolled-back database) can repeat a version the process already cached, so check the ids
    and bump once more when they disagree.
    """
    orgs.grid_index.invalidate()
    wanted = {g.pk for g in grids.values()}
    if set(orgs.current_index().grid_ids.tolist()) != wanted:
        orgs.bump_grid_version()
        orgs.grid_index.invalidate()


def _write_units(plan: CountyPlan, users: dict, offices: dict, stations: list, now) -> dict:
    units = {}
    for person in plan.people:
        if person.role not in (Role.OFFICER, Role.AUXILIARY) or person.position is None:
            continue
        user = users[person.username]
        kind = UnitKind.OFFICER if person.role == Role.OFFICER else UnitKind.AUXILIARY
        units[person.username] = incidents.create_unit(
            name=f"{user.org.name} {Role(person.role).label}{user.display_name}",
            kind=kind,
            org=user.org,
            user=user,
        )
        set_duty_and_position(user, person.position, person.on_duty, now)
    for town_index, members in plan.teams:
        station = stations[town_index]
        leader = users[members[0]]
        units[f"team:{town_index}"] = incidents.create_unit(
            name=f"{station.name}快反队",
            kind=UnitKind.RESPONSE_TEAM,
            org=station,
            members=[users[m] for m in members],
        )
        set_duty_and_position(
            leader, plan.team_positions[town_index], plan.team_on_duty[town_index], now
        )
    return units


def set_duty_and_position(user: User, position, on_duty: bool, now) -> None:
    incidents.set_duty(user, on_duty)
    incidents.update_position(user, position[0], position[1], now=now)


def write_structure(plan: CountyPlan, now, stdout) -> Structure:
    city, county, stations, offices = _write_orgs(plan)
    _write_sla(county, stations)
    org_keys = {"city": city, "county": county, "": None, **offices}
    org_keys.update({f"station:{i}": s for i, s in enumerate(stations)})
    users = _write_users(plan, org_keys.__getitem__)
    say(stdout, f"  单位 {2 + len(stations) + len(offices)} 个，用户 {len(users)} 个")
    grids, geometry = _write_grids(plan, offices, users)
    _refresh_grid_index(grids)
    say(stdout, f"  网格 {len(grids)} 个")
    units = _write_units(plan, users, offices, stations, now)
    say(stdout, f"  警力单元 {len(units)} 个")
    return Structure(
        plan,
        city,
        county,
        stations,
        offices,
        users,
        grids,
        units,
        geometry,
        users_by_pk={u.pk: u for u in users.values()},
        team_leaders={units[f"team:{i}"].pk: users[members[0]] for i, members in plan.teams},
    )
