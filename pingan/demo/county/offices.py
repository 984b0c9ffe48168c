"""Police offices (警务室) and joint-service stations (联勤警务站): which grids each covers and
where it stands. Four gate offices and one for the industrial parks in the county seat; in
every other town a centre office and two sector offices balanced over the villages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from pingan.orgs.models import GridKind, OrgKind

from .geography import (
    COUNTY_CODE,
    GATE_OFFICES,
    INDUSTRIAL_PARKS,
    SCENIC_JOINT_STATION,
    SEAT,
    TOWNS,
    URBAN_CENTRE,
    GridPlan,
    Town,
)


@dataclass
class OfficePlan:
    name: str
    kind: str  # police_office or joint_station
    town: int
    seat: GridPlan  # the grid the office building stands in
    code: str = ""
    grids: list[GridPlan] = field(default_factory=list)


def plan_offices(grids: list[GridPlan]) -> list[OfficePlan]:
    offices = []
    for town_index, town in enumerate(TOWNS):
        mine = [g for g in grids if g.town == town_index]
        if town_index == SEAT:
            offices += _seat_offices(mine)
        else:
            offices += _rural_offices(town, mine)
    for office in offices:
        office.grids.sort(key=lambda g: (g is not office.seat, _angle(office.seat, g)))
        for grid in office.grids:
            grid.office = office
    return offices


def code_offices(offices: list[OfficePlan]) -> None:
    """12-digit org codes: the township's code + 9NN for police offices, 95N for joint
    stations (ranges no village uses, so an office code never reads as a place)."""
    for town_index, town in enumerate(TOWNS):
        mine = [o for o in offices if o.town == town_index]
        police = [o for o in mine if o.kind == OrgKind.POLICE_OFFICE]
        joint = [o for o in mine if o.kind == OrgKind.JOINT_STATION]
        for n, office in enumerate(police, start=1):
            office.code = f"{COUNTY_CODE}{town.township}9{n:02d}"
        for n, office in enumerate(joint, start=1):
            office.code = f"{COUNTY_CODE}{town.township}95{n}"


def _angle(origin: GridPlan, grid: GridPlan) -> float:
    return math.atan2(grid.y - origin.y, grid.x - origin.x) % (2 * math.pi)


def _nearest(grid: GridPlan, offices: list[OfficePlan]) -> OfficePlan:
    return min(offices, key=lambda o: math.hypot(grid.x - o.seat.x, grid.y - o.seat.y))


def _seat_offices(mine: list[GridPlan]) -> list[OfficePlan]:
    by_short = {g.short: g for g in mine}
    offices = [
        OfficePlan(f"{name}警务室", OrgKind.POLICE_OFFICE, SEAT, by_short[name])
        for name in GATE_OFFICES
    ]
    offices.append(
        OfficePlan("工业园警务室", OrgKind.POLICE_OFFICE, SEAT, by_short[INDUSTRIAL_PARKS[0][1]])
    )
    # The commercial centre is covered by a joint-service station (police, traffic, city
    # management in one booth), as county seats do for their busiest street.
    joint = OfficePlan(
        f"{URBAN_CENTRE}联勤警务站",
        OrgKind.JOINT_STATION,
        SEAT,
        by_short[URBAN_CENTRE],
        grids=[by_short[URBAN_CENTRE]],
    )
    for grid in mine:
        if grid is not joint.seat:
            _nearest(grid, offices).grids.append(grid)
    return [*offices, joint]


def _rural_offices(town: Town, mine: list[GridPlan]) -> list[OfficePlan]:
    """A centre office at the town seat for the nearest third of the villages; the outer ring
    is split into two sectors, each with an office in the village nearest its middle. Offices
    stay balanced and each sits among the villages it covers."""
    seat = next(g for g in mine if g.short == "圩镇")
    joint = None
    villages, others = [], []
    for grid in mine:
        if grid.kind == GridKind.SCENIC_AREA and grid.short == SCENIC_JOINT_STATION:
            joint = OfficePlan(
                f"{grid.short}联勤警务站", OrgKind.JOINT_STATION, seat.town, grid, grids=[grid]
            )
        elif grid.kind == GridKind.RURAL_VILLAGE:
            villages.append(grid)
        elif grid is not seat:
            others.append(grid)
    centre = OfficePlan(f"{town.short}中心警务室", OrgKind.POLICE_OFFICE, seat.town, seat)
    centre.grids.append(seat)
    villages.sort(key=lambda g: (math.hypot(g.x - seat.x, g.y - seat.y), g.division_code))
    near = len(villages) // 3
    centre.grids += villages[:near]
    outer = sorted(villages[near:], key=lambda g: _angle(seat, g))
    offices = [centre]
    for sector in _sectors(outer, seat):
        mx = sum(g.x for g in sector) / len(sector)
        my = sum(g.y for g in sector) / len(sector)
        hub = min(sector, key=lambda g: math.hypot(g.x - mx, g.y - my))
        offices.append(
            OfficePlan(f"{hub.short}警务室", OrgKind.POLICE_OFFICE, seat.town, hub, grids=sector)
        )
    for grid in others:
        _nearest(grid, offices).grids.append(grid)
    return [*offices, *([joint] if joint else [])]


def _sectors(ring: list[GridPlan], seat: GridPlan) -> list[list[GridPlan]]:
    """Two contiguous halves of villages sorted by angle around the seat, cut at the widest
    angular gap so a sector never wraps across the town."""
    if len(ring) < 2:
        return [ring] if ring else []
    angles = [_angle(seat, g) for g in ring]
    gaps = [(angles[(i + 1) % len(ring)] - angles[i]) % (2 * math.pi) for i in range(len(ring))]
    start = (max(range(len(ring)), key=gaps.__getitem__) + 1) % len(ring)
    ordered = ring[start:] + ring[:start]
    half = (len(ordered) + 1) // 2
    return [ordered[:half], ordered[half:]]
