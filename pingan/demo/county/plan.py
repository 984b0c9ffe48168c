"""The plan of the county: its grids and offices with everyone who works or lives there,
computed from the seed alone (no database, no clock). `structure` writes it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pingan.accounts.models import Role
from pingan.demo.volunteers.roster import VOLUNTEERS, clerk_usernames, leader_usernames
from pingan.orgs.models import GridKind, OrgKind

from .geography import (
    SEAT,
    TOWNS,
    GridPlan,
    county_outline,
    cut_cells,
    fixed_seeds,
    number_grids,
    point_near_seed,
    urban_seeds,
    village_seeds,
)
from .names import Names
from .offices import OfficePlan, code_offices, plan_offices

# Demo logins a person uses: they are never acted for by the simulator.
HUMAN_LOGINS = (
    "admin",
    "commander",
    "chief1",
    "officer1",
    "aux1",
    "grid1",
    "volunteer1",
    "citizen1",
    "leader1",
    "clerk1",
    "sysadmin",
    "secadmin",
    "auditadmin",
)
# 三员分立: the three administrators, at the city bureau, with fixed names and phones so that
# adding them drew nothing from the county's random stream (the rest of the demo is unchanged).
ADMINISTRATORS = (
    ("sysadmin", Role.SYSTEM_ADMIN, "系统管理员 周工", "+8613900000001"),
    ("secadmin", Role.SECURITY_ADMIN, "安全管理员 吴工", "+8613900000002"),
    ("auditadmin", Role.AUDIT_ADMIN, "审计管理员 郑工", "+8613900000003"),
)
RESERVED_UNIT_USERS = ("officer1", "aux1")


@dataclass
class PersonPlan:
    username: str
    role: str
    display_name: str
    phone: str
    org_key: str  # "city" / "county" / "station:<i>" / office code / "" (no org)
    position: tuple[float, float] | None = None  # WGS-84 duty position for unit holders
    on_duty: bool = False


@dataclass
class CountyPlan:
    outline: object  # km plane
    grids: list[GridPlan]
    offices: list[OfficePlan]
    people: list[PersonPlan]
    officer_grids: dict  # username → [GridPlan]
    grid_aux: dict  # grid code → username
    grid_workers: dict  # grid code → [username]
    teams: list[tuple[int, list[str]]]  # (town index, member usernames; the first leads)
    team_positions: dict  # town index → (lng, lat)
    team_on_duty: dict  # town index → bool


def plan_county(seed: int) -> CountyPlan:
    """Everything structural, from the seed alone (no database, no clock)."""
    rng = random.Random(seed)
    outline = county_outline(rng)
    grids = urban_seeds(rng) + fixed_seeds()
    grids += village_seeds(rng, outline, grids)
    cut_cells(outline, grids)
    number_grids(grids)
    grids.sort(key=lambda g: g.division_code)
    offices = plan_offices(grids)
    code_offices(offices)
    plan = CountyPlan(
        outline=outline,
        grids=grids,
        offices=offices,
        people=[],
        officer_grids={},
        grid_aux={},
        grid_workers={},
        teams=[],
        team_positions={},
        team_on_duty={},
    )
    _plan_people(rng, plan)
    plan.people.extend(
        PersonPlan(username, role, name, phone, "city")
        for username, role, name, phone in ADMINISTRATORS
    )
    return plan


def _plan_people(rng: random.Random, plan: CountyPlan) -> None:
    names = Names(rng)
    people = plan.people

    def add(username, role, org_key, display=None, position=None, on_duty=False):
        person = PersonPlan(
            username, role, display or names.person(), names.phone(), org_key, position, on_duty
        )
        people.append(person)
        return person

    add("admin", Role.COMMANDER, "city", "系统管理员")
    add("commander", Role.COMMANDER, "county", "指挥中心 王主任")
    for i, town in enumerate(TOWNS, start=1):
        add(
            f"chief{i}", Role.COMMANDER, f"station:{i - 1}", f"{names.person()}（{town.short}所长）"
        )
    officer_n = aux_n = 0
    for office in plan.offices:  # stations in order, 城关 first: officer1 is 东门警务室's
        per_officer = 3 if office.town == SEAT else 4
        chunks = _chunks(office.grids, max(1, round(len(office.grids) / per_officer)))
        for chunk in chunks:
            officer_n += 1
            username = f"officer{officer_n}"
            on_duty = officer_n == 1 or rng.random() < 0.7
            add(
                username,
                Role.OFFICER,
                office.code,
                position=point_near_seed(rng, chunk[0]),
                on_duty=on_duty,
            )
            plan.officer_grids[username] = chunk
            for grid in chunk:  # 一村一辅警: every grid has its own auxiliary
                aux_n += 1
                aux = f"aux{aux_n}"
                add(
                    aux,
                    Role.AUXILIARY,
                    office.code,
                    position=point_near_seed(rng, grid),
                    on_duty=aux_n == 1 or rng.random() < 0.7,
                )
                plan.grid_aux[grid.code] = aux
    urban = [
        g
        for o in plan.offices
        if o.town == SEAT
        for g in o.grids
        if g.kind == GridKind.URBAN_COMMUNITY and o.kind == OrgKind.POLICE_OFFICE
    ]
    urban.sort(key=lambda g: int(plan.grid_aux[g.code][3:]))  # grid1 shares officer1's grid
    for n, grid in enumerate(urban[:8], start=1):
        add(f"grid{n}", Role.GRID_WORKER, grid.office.code)
        plan.grid_workers[grid.code] = [f"grid{n}"]
    _plan_teams(rng, plan, add)
    for n in range(1, 41):
        add(f"volunteer{n}", Role.VOLUNTEER, "")
    for n in range(1, 301):
        add(f"citizen{n}", Role.CITIZEN, "")
    # Issue 4's people, after everyone else so the earlier names stay as they were: the
    # volunteers who fill the teams, a leader per team, and a clerk per rewards shop.
    for n in range(41, VOLUNTEERS + 1):
        add(f"volunteer{n}", Role.VOLUNTEER, "")
    for username in leader_usernames():
        add(username, Role.VOLUNTEER, "")
    for username in clerk_usernames():
        add(username, Role.CLERK, "")


def _plan_teams(rng: random.Random, plan: CountyPlan, add) -> None:
    """Each station's quick-response team (快反队): a leader officer and two auxiliaries who
    serve only in the team. They hold no personal unit, so the services route their actions to
    the team (a member with a personal unit would always act for that unit instead)."""
    for i, _town in enumerate(TOWNS):
        seat = next(o for o in plan.offices if o.town == i).seat
        members = [f"team{i + 1}_{j}" for j in range(1, 4)]
        add(members[0], Role.OFFICER, f"station:{i}")
        for username in members[1:]:
            add(username, Role.AUXILIARY, f"station:{i}")
        plan.teams.append((i, members))
        plan.team_positions[i] = point_near_seed(rng, seat, 0.2)
        plan.team_on_duty[i] = True


def _chunks(items: list, parts: int) -> list[list]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]
