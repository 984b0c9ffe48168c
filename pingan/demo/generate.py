"""A deterministic demo county: 平安县, a fictional county in the hills of southern Jiangxi.

`generate_demo_county()` builds the org tree, ~100 grids, staff, citizens, dispatchable units and
two years of incident history, then disputes (`demo.disputes`) and volunteer teams, tasks, points
and rewards shops (`demo.volunteers`), so every page of the platform has something real-looking
to show the moment the demo starts.

Determinism: the *structure* (orgs, grids, users, units, positions) depends only on `seed`; the
history depends on `seed` and `now` (it is laid out backwards from `now`). All randomness comes
from generator instances seeded here, never from the global RNG.

State changes go through the services where they exist (org tree, grids, staff, units, duty,
positions, the live open incidents). Years of closed history are written with bulk_create: the
services would take minutes, and their only extra work (pushes, expiry tasks) means nothing for
incidents that ended long ago.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime

import numpy as np
import shapely
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.core import clock
from pingan.demo import volunteers as demo_volunteers
from pingan.demo.disputes import generate_disputes
from pingan.incidents import services as incidents
from pingan.incidents.categories import ensure_default_categories
from pingan.incidents.dispatch import ROAD_FACTOR
from pingan.incidents.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Category,
    DailySequence,
    EventKind,
    Incident,
    IncidentEvent,
    Outcome,
    Source,
    Status,
    Unit,
    UnitKind,
)
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid, GridKind, OrgKind, OrgUnit, SlaPolicy

DEMO_PASSWORD = "pingan-demo"
DEFAULT_SEED = 20261123
DEFAULT_HISTORY_PER_DAY = 14.0

CITY_CODE = "360800"
COUNTY_CODE = "360827"
# The county seat (城关镇) in WGS-84; the local plane below is in km from here.
ORIGIN_LNG, ORIGIN_LAT = 114.30, 26.30
KM_PER_DEG_LAT = 111.32
KM_PER_DEG_LNG = 111.32 * math.cos(math.radians(ORIGIN_LAT))

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
)
RESERVED_UNIT_USERS = ("officer1", "aux1")


class DemoDataExists(RuntimeError):
    """The database already holds an org tree; the demo only fills an empty one."""


@dataclass
class DemoSummary:
    seed: int
    years: int
    orgs: int = 0
    stations: int = 0
    offices: int = 0
    grids: int = 0
    users: int = 0
    units: int = 0
    units_on_duty: int = 0
    incidents: int = 0
    events: int = 0
    assignments: int = 0
    ratings: int = 0
    open_incidents: int = 0
    seconds: float = 0.0
    grid_kinds: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)

    def lines(self) -> list[str]:
        kinds = "，".join(f"{GridKind(k).label} {n}" for k, n in sorted(self.grid_kinds.items()))
        roles = "，".join(f"{Role(k).label} {n}" for k, n in sorted(self.roles.items()))
        return [
            f"单位 {self.orgs}（派出所 {self.stations}，警务室/警务站 {self.offices}）",
            f"网格 {self.grids}（{kinds}）",
            f"用户 {self.users}（{roles}）",
            f"警力单元 {self.units}（在岗 {self.units_on_duty}）",
            f"历史警情 {self.incidents}，时间线 {self.events}，派警 {self.assignments}，"
            f"评价 {self.ratings}；当前未结警情 {self.open_incidents}",
            f"用时 {self.seconds:.1f} 秒（seed={self.seed}, years={self.years}）",
        ]


# --- the county's fixed shape -------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    name: str  # 城关镇
    short: str  # 城关
    township: str  # 3-digit township part of the division code
    x: float  # km east of the county seat
    y: float  # km north of the county seat


TOWNS = (
    Town("城关镇", "城关", "101", 0.0, 0.0),
    Town("泉江镇", "泉江", "102", -11.0, 7.0),
    Town("雩田镇", "雩田", "103", 10.5, 8.5),
    Town("碧洲镇", "碧洲", "104", -11.5, -7.0),
    Town("草林镇", "草林", "105", 11.0, -8.0),
    Town("堆子前镇", "堆子前", "106", 0.5, 12.0),
)
SEAT = 0  # index of the county seat's town

# The outline is an irregular ellipse of ~40 × 35 km around this centre (km, local plane).
OUTLINE_CENTRE = (0.5, 1.0)
OUTLINE_RADII = (20.0, 17.5)

# County-seat communities: a centre, an inner ring and an outer ring whose compass points carry
# the old gate names, so the four gate offices sit where their names say.
URBAN_CENTRE = "文昌"
URBAN_INNER = ("人民", "解放", "建设", "和平", "新华", "育才")  # r ≈ 1 km, at 30° + 60°·i
URBAN_OUTER = ("东门", "龙泉", "北门", "五一", "西门", "桃源", "南门", "滨江")  # r ≈ 2 km, 45°·i
GATE_OFFICES = ("东门", "西门", "南门", "北门")

# (town index, name, x, y): industrial parks and scenic areas at fixed places.
INDUSTRIAL_PARKS = (
    (0, "城东工业园", 3.4, -1.2),
    (0, "城南工业园", -0.8, -3.4),
    (1, "工业集中区", -8.8, 5.4),
)
SCENIC_AREAS = ((4, "云岭景区", 14.0, -5.0), (1, "碧湖湿地景区", -15.0, 2.0))
SCENIC_JOINT_STATION = "云岭景区"  # this scenic area gets its own joint-service station

RURAL_VILLAGES = 75
VILLAGE_MIN_SPACING_KM = 2.4
URBAN_CORE_CLEAR_KM = 3.5  # no village seed this close to the county seat

VILLAGE_FIRST = "大小上下东西南北新老黄石高长白龙马桃竹杨罗曾刘郭枫茶松金洋田"
VILLAGE_SECOND = "坑坪洲田塘岭山湾口源溪桥陂垄坊岗头埠背排园冲寨屋"

# Weighted towards the surnames common in southern Jiangxi (刘, 罗, 曾, 肖, 郭 ...).
SURNAMES = (
    "刘" * 6
    + "罗" * 4
    + "曾" * 4
    + "肖" * 4
    + "郭" * 3
    + "李" * 5
    + "王" * 5
    + "陈" * 5
    + "胡" * 3
    + "黄" * 4
    + "钟" * 3
    + "邓" * 3
    + "彭" * 3
    + "廖" * 3
    + "谢" * 3
    + "吴" * 2
    + "张" * 4
    + "杨" * 2
    + "周" * 2
    + "徐" * 2
    + "朱" * 2
    + "郑林何袁温赖邱卢汤尹蔡"
)
GIVEN_CHARS = (
    "建国华明伟芳丽强军平红英文斌杰涛勇俊志海燕霞玲秀兰桂春林峰磊亮辉超刚敏静"
    "婷雪梅洪德福贵荣祥宏宇鹏飞晨浩然欣怡佳琪子轩思远嘉庆水根发金"
)
MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "173",
    "177",
    "180",
    "181",
    "189",
    "191",
    "199",
)


# --- plan: everything structural, computed from the seed alone ----------------------------------


@dataclass
class GridPlan:
    town: int
    kind: str
    short: str  # 东门 / 大坑 / 城东工业园
    x: float
    y: float
    division_code: str = ""
    local: object = None  # shapely geometry in the km plane
    office: OfficePlan | None = None

    @property
    def name(self) -> str:
        suffix = {GridKind.URBAN_COMMUNITY: "社区", GridKind.RURAL_VILLAGE: "村"}.get(self.kind, "")
        return f"{TOWNS[self.town].name}{self.short}{suffix}"

    @property
    def code(self) -> str:
        return f"G{self.division_code}"


@dataclass
class OfficePlan:
    name: str
    kind: str  # police_office or joint_station
    town: int
    seat: GridPlan  # the grid the office building stands in
    code: str = ""
    grids: list[GridPlan] = field(default_factory=list)


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


def to_wgs84(x, y) -> tuple[float, float]:
    return ORIGIN_LNG + x / KM_PER_DEG_LNG, ORIGIN_LAT + y / KM_PER_DEG_LAT


def plane_to_wgs84(geometry):
    scale = np.array([1 / KM_PER_DEG_LNG, 1 / KM_PER_DEG_LAT])
    origin = np.array([ORIGIN_LNG, ORIGIN_LAT])
    return shapely.transform(geometry, lambda coords: coords * scale + origin)


def _outline(rng: random.Random):
    """A smooth irregular outline: an ellipse whose radius wobbles with a few harmonics."""
    angles = np.linspace(0, 2 * math.pi, 144, endpoint=False)
    radius = np.ones_like(angles)
    for k, amplitude in ((2, 0.05), (3, 0.04), (4, 0.03), (5, 0.02), (7, 0.01)):
        radius += amplitude * np.sin(k * angles + rng.uniform(0, 2 * math.pi))
    cx, cy = OUTLINE_CENTRE
    rx, ry = OUTLINE_RADII
    return shapely.Polygon(
        np.column_stack([cx + rx * radius * np.cos(angles), cy + ry * radius * np.sin(angles)])
    )


def _urban_seeds(rng: random.Random) -> list[GridPlan]:
    def ring(names, radius, start_deg, step_deg):
        out = []
        for i, name in enumerate(names):
            angle = math.radians(start_deg + step_deg * i + rng.uniform(-7, 7))
            r = radius * rng.uniform(0.88, 1.12)
            out.append(
                GridPlan(
                    SEAT, GridKind.URBAN_COMMUNITY, name, r * math.cos(angle), r * math.sin(angle)
                )
            )
        return out

    centre = GridPlan(
        SEAT, GridKind.URBAN_COMMUNITY, URBAN_CENTRE, rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
    )
    return [centre, *ring(URBAN_INNER, 1.0, 30, 60), *ring(URBAN_OUTER, 2.0, 0, 45)]


def _fixed_seeds() -> list[GridPlan]:
    seeds = [
        GridPlan(i, GridKind.URBAN_COMMUNITY, "圩镇", t.x, t.y)
        for i, t in enumerate(TOWNS)
        if i != SEAT
    ]
    seeds += [GridPlan(t, GridKind.INDUSTRIAL_PARK, n, x, y) for t, n, x, y in INDUSTRIAL_PARKS]
    seeds += [GridPlan(t, GridKind.SCENIC_AREA, n, x, y) for t, n, x, y in SCENIC_AREAS]
    return seeds


def _village_seeds(rng: random.Random, outline, taken: list[GridPlan]) -> list[GridPlan]:
    """Poisson-disc-like village centres: denser around the towns, never crowding each other."""
    inner = outline.buffer(-1.2)
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    points = [(g.x, g.y) for g in taken]
    found: list[tuple[float, float]] = []
    spacing, tries = VILLAGE_MIN_SPACING_KM, 0
    while len(found) < RURAL_VILLAGES:
        tries += 1
        if tries > 20_000:  # a seed that packs badly: relax the spacing rather than loop forever
            spacing, tries = spacing * 0.92, 0
        if rng.random() < 0.55:
            town = TOWNS[rng.randrange(len(TOWNS))]
            x, y = rng.gauss(town.x, 5.0), rng.gauss(town.y, 5.0)
        else:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if math.hypot(x, y) < URBAN_CORE_CLEAR_KM or not shapely.contains_xy(inner, x, y):
            continue
        if any((x - px) ** 2 + (y - py) ** 2 < spacing**2 for px, py in points):
            continue
        points.append((x, y))
        found.append((x, y))
    names = _village_names(rng, len(found))
    villages = []
    for (x, y), name in zip(found, names, strict=True):
        town = min(range(len(TOWNS)), key=lambda i: math.hypot(x - TOWNS[i].x, y - TOWNS[i].y))
        villages.append(GridPlan(town, GridKind.RURAL_VILLAGE, name, x, y))
    return villages


def _village_names(rng: random.Random, count: int) -> list[str]:
    combos = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND if a != b]
    return rng.sample(combos, count)


def _cut_cells(outline, grids: list[GridPlan]) -> None:
    """Voronoi cells of the seeds, clipped to the outline: grids tile the county exactly."""
    seeds = shapely.multipoints([(g.x, g.y) for g in grids])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline, ordered=True))
    for grid, cell in zip(grids, shapely.intersection(cells, outline), strict=True):
        if not isinstance(cell, shapely.Polygon | shapely.MultiPolygon):
            cell = shapely.MultiPolygon(
                [p for p in shapely.get_parts(cell) if isinstance(p, shapely.Polygon)]
            )
        grid.local = cell


def _number_grids(grids: list[GridPlan]) -> None:
    """12-digit division codes: county 6 + township 3 + village 3, in the statistical ranges
    (0xx communities, 2xx villages, 4xx/5xx community- and village-like units)."""
    base = {
        GridKind.URBAN_COMMUNITY: 0,
        GridKind.RURAL_VILLAGE: 200,
        GridKind.INDUSTRIAL_PARK: 400,
        GridKind.SCENIC_AREA: 500,
    }

    def order(grid: GridPlan):
        # Communities keep their planned order (centre first); the rest go north-west first.
        if grid.kind == GridKind.URBAN_COMMUNITY:
            return (base[grid.kind], 0.0, 0.0)
        return (base[grid.kind], -round(grid.y, 3), round(grid.x, 3))

    for town_index, town in enumerate(TOWNS):
        counters: Counter = Counter()
        for grid in sorted((g for g in grids if g.town == town_index), key=order):
            counters[grid.kind] += 1
            number = base[grid.kind] + counters[grid.kind]
            grid.division_code = f"{COUNTY_CODE}{town.township}{number:03d}"


def _plan_offices(grids: list[GridPlan]) -> list[OfficePlan]:
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


def _code_offices(offices: list[OfficePlan]) -> None:
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


class _Names:
    """Chinese names and unique mobile numbers from one seeded stream."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.phones: set[str] = set()

    def person(self) -> str:
        given = "".join(self.rng.choice(GIVEN_CHARS) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        while True:
            number = "+86" + self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.phones:
                self.phones.add(number)
                return number


def _point_near_seed(rng: random.Random, grid: GridPlan, spread_km: float = 0.3):
    """A WGS-84 point inside the grid near its centre: where staff usually are."""
    for _ in range(200):
        x, y = rng.gauss(grid.x, spread_km), rng.gauss(grid.y, spread_km)
        if grid.local.contains(shapely.Point(x, y)):
            return to_wgs84(x, y)
    return to_wgs84(grid.x, grid.y)  # the seed is always inside its own cell


def plan_county(seed: int) -> CountyPlan:
    """Everything structural, from the seed alone (no database, no clock)."""
    rng = random.Random(seed)
    outline = _outline(rng)
    grids = _urban_seeds(rng) + _fixed_seeds()
    grids += _village_seeds(rng, outline, grids)
    _cut_cells(outline, grids)
    _number_grids(grids)
    grids.sort(key=lambda g: g.division_code)
    offices = _plan_offices(grids)
    _code_offices(offices)
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
    return plan


def _plan_people(rng: random.Random, plan: CountyPlan) -> None:
    names = _Names(rng)
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
                position=_point_near_seed(rng, chunk[0]),
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
                    position=_point_near_seed(rng, grid),
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
    for n in range(41, demo_volunteers.VOLUNTEERS + 1):
        add(f"volunteer{n}", Role.VOLUNTEER, "")
    for username in demo_volunteers.leader_usernames():
        add(username, Role.VOLUNTEER, "")
    for username in demo_volunteers.clerk_usernames():
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
        plan.team_positions[i] = _point_near_seed(rng, seat, 0.2)
        plan.team_on_duty[i] = True


def _chunks(items: list, parts: int) -> list[list]:
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return [c for c in out if c]


# --- writing the structure through the services -------------------------------------------------


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


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message if message.endswith("\n") else message + "\n")
        if hasattr(stdout, "flush"):
            stdout.flush()


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
            extra = {"is_staff": True} if person.username == "commander" else {}
            if person.username == "admin":
                users["admin"] = User.objects.create_superuser(
                    "admin", password=DEMO_PASSWORD, **fields
                )
            else:
                users[person.username] = User.objects.create_user(
                    person.username, password=DEMO_PASSWORD, **fields, **extra
                )
        else:
            bulk.append(User(username=person.username, password=shared_hash, **fields))
    for user in User.objects.bulk_create(bulk, batch_size=500):
        users[user.username] = user
    admins, _ = Group.objects.get_or_create(name="管理员")
    admins.permissions.set(Permission.objects.all())
    users["commander"].groups.add(admins)
    return users


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
        _place(user, person.position, person.on_duty, now)
    for town_index, members in plan.teams:
        station = stations[town_index]
        leader = users[members[0]]
        units[f"team:{town_index}"] = incidents.create_unit(
            name=f"{station.name}快反队",
            kind=UnitKind.RESPONSE_TEAM,
            org=station,
            members=[users[m] for m in members],
        )
        _place(leader, plan.team_positions[town_index], plan.team_on_duty[town_index], now)
    return units


def _place(user: User, position, on_duty: bool, now) -> None:
    incidents.set_duty(user, on_duty)
    incidents.update_position(user, position[0], position[1], now=now)


def _write_structure(plan: CountyPlan, now, stdout) -> Structure:
    city, county, stations, offices = _write_orgs(plan)
    _write_sla(county, stations)
    org_keys = {"city": city, "county": county, "": None, **offices}
    org_keys.update({f"station:{i}": s for i, s in enumerate(stations)})
    users = _write_users(plan, org_keys.__getitem__)
    _say(stdout, f"  单位 {2 + len(stations) + len(offices)} 个，用户 {len(users)} 个")
    grids, geometry = _write_grids(plan, offices, users)
    _refresh_grid_index(grids)
    _say(stdout, f"  网格 {len(grids)} 个")
    units = _write_units(plan, users, offices, stations, now)
    _say(stdout, f"  警力单元 {len(units)} 个")
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


# --- the incident mix, shared with the simulator ------------------------------------------------

HOURS = {
    "day": (
        2,
        1.5,
        1,
        0.8,
        0.7,
        0.9,
        1.5,
        2.5,
        3.5,
        4.5,
        5,
        5,
        4.5,
        4,
        4.2,
        4.5,
        4.8,
        5,
        5.2,
        5.5,
        5.8,
        5,
        4,
        3,
    ),
    "traffic": (
        1,
        0.7,
        0.5,
        0.5,
        0.6,
        1.2,
        3,
        6,
        7,
        5,
        4,
        4,
        4.5,
        4,
        4,
        4.5,
        5.5,
        7,
        6.5,
        4.5,
        3.5,
        3,
        2.2,
        1.5,
    ),
    "night": (
        4,
        3.5,
        2.5,
        1.5,
        0.8,
        0.5,
        0.6,
        1,
        1.5,
        2,
        2.5,
        3,
        3,
        3,
        3,
        3.2,
        3.5,
        4,
        5,
        6,
        7,
        7.5,
        7,
        5.5,
    ),
    "office": (
        0.5,
        0.3,
        0.2,
        0.2,
        0.2,
        0.4,
        1,
        2,
        4,
        6,
        6.5,
        6,
        5,
        5,
        6,
        6.5,
        6,
        5,
        4,
        4,
        3.5,
        3,
        2,
        1,
    ),
}

URBAN, RURAL, PARK, SCENIC = (
    GridKind.URBAN_COMMUNITY,
    GridKind.RURAL_VILLAGE,
    GridKind.INDUSTRIAL_PARK,
    GridKind.SCENIC_AREA,
)


@dataclass(frozen=True)
class MixItem:
    code: str
    weight: float  # share of all incidents (relative)
    group: str  # drives descriptions, outcomes, handling time
    hours: str = "day"
    affinity: tuple = ()  # ((grid kind, factor), ...): where it happens more or less
    season: str = ""  # "summer", "spring", "festival"
    trend: float = 0.0  # change per year (telecom fraud falls as prevention spreads, ...)


CATEGORY_MIX = (
    MixItem("060100", 6.0, "dispute", "night"),
    MixItem("060200", 5.0, "dispute", "night", season="festival"),
    MixItem("060300", 1.2, "dispute", "night"),
    MixItem("060400", 2.2, "dispute", affinity=((URBAN, 0.1), (RURAL, 3.0), (PARK, 0.3))),
    MixItem("060500", 1.5, "dispute", affinity=((PARK, 5.0), (RURAL, 0.5)), season="festival"),
    MixItem("060600", 1.5, "dispute"),
    MixItem("060700", 1.5, "dispute", affinity=((URBAN, 2.0), (SCENIC, 3.0), (RURAL, 0.4))),
    MixItem("069900", 1.0, "dispute", "night"),
    MixItem("070100", 1.8, "help", affinity=((SCENIC, 3.0),)),
    MixItem("070200", 3.0, "help"),
    MixItem("070300", 2.0, "help"),
    MixItem("070400", 0.4, "help", "night"),
    MixItem("070500", 3.0, "help", affinity=((URBAN, 2.5), (RURAL, 0.3))),
    MixItem("070600", 4.0, "help", affinity=((URBAN, 1.5), (SCENIC, 3.0))),
    MixItem("079900", 3.0, "help"),
    MixItem("040101", 1.8, "traffic", "traffic", trend=0.03),
    MixItem(
        "040102",
        8.0,
        "traffic",
        "traffic",
        affinity=((URBAN, 2.0), (PARK, 1.5)),
        trend=0.03,
        season="festival",
    ),
    MixItem("040200", 4.0, "traffic", "traffic", affinity=((URBAN, 1.5),)),
    MixItem("040300", 1.0, "traffic", "traffic"),
    MixItem(
        "040400",
        2.0,
        "traffic",
        "traffic",
        affinity=((URBAN, 3.0), (SCENIC, 3.0), (RURAL, 0.2)),
        season="festival",
    ),
    MixItem("010101", 2.0, "theft", "night", trend=-0.08),
    MixItem("010102", 0.5, "theft", "night", trend=-0.08),
    MixItem(
        "010103",
        4.0,
        "theft",
        "night",
        affinity=((URBAN, 2.5), (PARK, 2.0), (RURAL, 0.5)),
        trend=-0.1,
    ),
    MixItem(
        "010104", 1.0, "theft", affinity=((URBAN, 3.0), (SCENIC, 2.0), (RURAL, 0.2)), trend=-0.08
    ),
    MixItem("010200", 0.15, "violent", "night", affinity=((URBAN, 2.0),)),
    MixItem("010300", 0.15, "violent", affinity=((URBAN, 2.0),)),
    MixItem("010400", 0.5, "violent", "night"),
    MixItem("010900", 0.8, "fraud", "office"),
    MixItem("090100", 1.5, "fraud", "office", trend=-0.12),
    MixItem("090200", 2.5, "fraud", "office", affinity=((URBAN, 2.0),), trend=-0.12),
    MixItem("090300", 1.5, "fraud", "office", affinity=((URBAN, 1.5),), trend=-0.05),
    MixItem("090400", 2.0, "fraud", "office", affinity=((URBAN, 2.0),), trend=-0.12),
    MixItem("090500", 1.0, "fraud", "office", trend=-0.12),
    MixItem("090600", 1.0, "fraud", "office", trend=-0.1),
    MixItem("090700", 1.0, "fraud", "night", trend=-0.05),
    MixItem("020100", 4.0, "order", "night", affinity=((URBAN, 2.0),), season="summer"),
    MixItem("020200", 1.0, "order", "night", affinity=((RURAL, 1.5),), season="festival"),
    MixItem("020500", 1.0, "order", "night", affinity=((URBAN, 2.0),)),
    MixItem("020600", 2.0, "order", "night"),
    MixItem(
        "020700", 4.0, "order", "night", affinity=((URBAN, 3.0), (RURAL, 0.4)), season="summer"
    ),
    MixItem("020800", 1.0, "order"),
    MixItem("080100", 1.0, "tip"),
    MixItem("080200", 1.0, "tip", "night"),
    MixItem("080300", 3.0, "tip"),
    MixItem("050100", 0.6, "fire", "night", season="festival"),
    MixItem("050200", 0.3, "fire"),
    MixItem(
        "050300",
        0.4,
        "fire",
        affinity=((URBAN, 0.05), (PARK, 0.2), (RURAL, 2.0), (SCENIC, 4.0)),
        season="spring",
    ),
    MixItem("050400", 0.5, "fire", "night", affinity=((URBAN, 3.0), (RURAL, 0.5))),
    MixItem(
        "030100",
        0.3,
        "hazard",
        affinity=((URBAN, 0.2), (RURAL, 2.0), (SCENIC, 4.0)),
        season="summer",
    ),
    MixItem(
        "030600",
        0.3,
        "hazard",
        affinity=((URBAN, 0.3), (RURAL, 2.0), (SCENIC, 2.0)),
        season="summer",
    ),
    MixItem("999900", 3.0, "other"),
)
MIX_BY_CODE = {m.code: m for m in CATEGORY_MIX}

KIND_WEIGHT = {
    URBAN: 4.0,
    PARK: 2.5,
    SCENIC: 1.2,
    RURAL: 1.0,
}  # incidents per grid: towns are busier
SOURCES = (
    (Source.PHONE_TRANSFER, 55),
    (Source.CITIZEN_APP, 30),
    (Source.PATROL, 11),
    (Source.VOLUNTEER, 4),
)

OUTCOMES = {
    "dispute": (
        (Outcome.MEDIATED, 75),
        (Outcome.TRANSFERRED, 12),
        (Outcome.WARNING_GIVEN, 8),
        (Outcome.NO_FINDING, 5),
    ),
    "help": (
        (Outcome.HELP_GIVEN, 85),
        (Outcome.TRANSFERRED, 8),
        (Outcome.NO_FINDING, 5),
        (Outcome.FALSE_REPORT, 2),
    ),
    "traffic": (
        (Outcome.HANDLED_ON_SITE, 60),
        (Outcome.TRANSFERRED, 30),
        (Outcome.MEDIATED, 8),
        (Outcome.NO_FINDING, 2),
    ),
    "theft": (
        (Outcome.CASE_FILED, 65),
        (Outcome.HANDLED_ON_SITE, 15),
        (Outcome.NO_FINDING, 15),
        (Outcome.FALSE_REPORT, 5),
    ),
    "violent": ((Outcome.CASE_FILED, 85), (Outcome.HANDLED_ON_SITE, 10), (Outcome.NO_FINDING, 5)),
    "fraud": ((Outcome.CASE_FILED, 45), (Outcome.HANDLED_ON_SITE, 35), (Outcome.TRANSFERRED, 20)),
    "order": (
        (Outcome.WARNING_GIVEN, 45),
        (Outcome.HANDLED_ON_SITE, 25),
        (Outcome.CASE_FILED, 12),
        (Outcome.MEDIATED, 8),
        (Outcome.NO_FINDING, 10),
    ),
    "tip": (
        (Outcome.TRANSFERRED, 40),
        (Outcome.HANDLED_ON_SITE, 30),
        (Outcome.NO_FINDING, 25),
        (Outcome.FALSE_REPORT, 5),
    ),
    "fire": ((Outcome.TRANSFERRED, 55), (Outcome.HANDLED_ON_SITE, 40), (Outcome.NO_FINDING, 5)),
    "hazard": ((Outcome.HELP_GIVEN, 60), (Outcome.TRANSFERRED, 35), (Outcome.NO_FINDING, 5)),
    "other": (
        (Outcome.HANDLED_ON_SITE, 50),
        (Outcome.NO_FINDING, 30),
        (Outcome.FALSE_REPORT, 10),
        (Outcome.TRANSFERRED, 10),
    ),
}
# Notes any incident may carry with its outcome; GROUP_NOTES narrows them where the wording
# depends on what happened (a scam is "discouraged", a crash is "cleared").
OUTCOME_NOTES = {
    Outcome.MEDIATED: (
        "经民警现场调解，双方达成和解",
        "双方签订调解协议，矛盾已化解",
        "已联合村（居）委会调解完毕",
    ),
    Outcome.TRANSFERRED: ("已移交相关职能部门处理",),
    Outcome.WARNING_GIVEN: ("对当事人进行了批评教育", "已对当事人进行法治宣传和批评教育"),
    Outcome.CASE_FILED: (
        "已受案登记，转办案队侦查",
        "已立案，调取周边监控",
        "已受案，开展走访调查",
    ),
    Outcome.HELP_GIVEN: ("已帮助当事人解决问题", "已协助处理完毕"),
    Outcome.HANDLED_ON_SITE: ("现场处置完毕",),
    Outcome.NO_FINDING: ("民警到场未发现报警所述情况", "到场时当事人已离开，经回访无异常"),
    Outcome.FALSE_REPORT: ("经核实为虚假报警，已对报警人进行教育",),
}
GROUP_NOTES = {
    ("dispute", Outcome.TRANSFERRED): ("已移交司法所跟进调解", "已移交村（居）委会跟进化解"),
    ("traffic", Outcome.HANDLED_ON_SITE): ("现场疏导完毕，交通恢复正常", "双方协商处理完毕"),
    ("traffic", Outcome.TRANSFERRED): ("已移交交警大队处理",),
    ("fraud", Outcome.HANDLED_ON_SITE): ("成功劝阻，未造成损失", "已协助紧急止付"),
    ("fraud", Outcome.TRANSFERRED): ("已移交反诈中心研判",),
    ("fraud", Outcome.CASE_FILED): ("已受案，转反诈中心侦查",),
    ("order", Outcome.HANDLED_ON_SITE): ("现场秩序已恢复", "已劝散聚集人员"),
    ("fire", Outcome.HANDLED_ON_SITE): ("明火已扑灭，无人员伤亡",),
    ("fire", Outcome.TRANSFERRED): ("已移交消防救援大队处置",),
    ("hazard", Outcome.HELP_GIVEN): ("已将被困人员转移至安全地带",),
    ("hazard", Outcome.TRANSFERRED): ("已移交应急管理部门处置",),
}
GROUP_MINUTES = {  # median minutes on scene before the handling is finished
    "dispute": 35,
    "help": 25,
    "traffic": 40,
    "theft": 45,
    "violent": 60,
    "fraud": 40,
    "order": 30,
    "tip": 20,
    "fire": 60,
    "hazard": 50,
    "other": 15,
}

# Keyed by the category's 4-digit type prefix; {who}/{elder}/{reason}/{place} are filled in.
DESCRIPTIONS = {
    "0601": (
        "{who}与邻居因{reason}发生争吵，请求民警到场调解",
        "两户邻居因{reason}起争执，双方情绪激动",
    ),
    "0602": ("夫妻二人因家庭琐事争吵，一方情绪激动，家属报警", "兄弟之间因赡养老人问题发生争执"),
    "0603": ("一对情侣在路边争吵拉扯，路人报警", "男子因感情纠纷到女方家中吵闹"),
    "0604": ("两户村民因宅基地边界发生争执，有人拿着锄头", "村民因山林田地界址不清发生争吵"),
    "0605": ("十余名工人聚集讨要工资", "务工人员反映被拖欠工资，与老板发生争执"),
    "0606": ("债主上门讨债发生争吵", "{who}因借款纠纷与对方发生争执"),
    "0607": ("顾客与店主因商品退换发生争执", "游客与商户因价格问题发生纠纷"),
    "0699": ("{who}因琐事与他人发生争执", "双方因停车位发生争吵"),
    "0701": ("家中{elder}外出未归，手机联系不上", "一名约六岁儿童与家人走散"),
    "0702": ("一名{elder}在路边徘徊，疑似迷路", "独居{elder}多日未出门，邻居担心"),
    "0703": ("路边有人突然晕倒，请求帮助", "{elder}在家中摔倒无法起身"),
    "0704": ("有人站在桥边情绪低落，疑似轻生", "家属报称亲人留下字条后离家，联系不上"),
    "0705": ("钥匙锁在屋内，家中有小孩", "{who}被锁在门外，请求帮助"),
    "0706": ("在路边捡到一个钱包，里面有身份证", "手机遗落在出租车上，请求帮助寻找"),
    "0799": ("有蛇进入家中，请求帮助", "{place}有一头牛跑到路中间"),
    "0401": ("两车相撞，有人受伤", "小轿车与电动车相撞，双方争执"),
    "0402": ("电动车与行人发生碰撞", "两辆电动车相撞，有人擦伤"),
    "0403": ("车辆撞到护栏后驶离现场", "行人被车辆剐蹭，肇事车逃逸"),
    "0404": ("{place}车辆拥堵严重", "大货车抛锚堵住路口"),
    "0101": ("家中被盗，门锁被撬", "回家发现屋内被翻乱，现金丢失"),
    "0102": ("停在楼下的小轿车被盗", "村民停在院子里的摩托车不见了"),
    "0103": ("停在楼下的电动车被盗", "电动车电瓶被偷"),
    "0104": ("在{place}被扒窃手机", "赶集时钱包被偷"),
    "0105": ("两名男子在{place}殴打一人后逃离",),
    "0109": ("{elder}被人以推销保健品为名骗走钱财", "有人冒充电力公司人员上门收费"),
    "0201": ("{place}有人打架，有人受伤", "几名年轻人酒后在{place}打架"),
    "0202": ("有人在{place}聚众赌博", "举报某民房内有人赌博"),
    "0205": ("几名男子在{place}寻衅滋事", "有人酒后在店内砸东西"),
    "0206": ("{place}有可疑人员挨家挨户敲门", "有陌生人在学校门口徘徊"),
    "0207": ("楼上深夜装修噪声很大", "{place}广场舞音响声音过大"),
    "0208": ("有人在{place}拉横幅聚集", "有人在办事大厅吵闹"),
}
DESCRIPTIONS.update(
    {
        "0800": ("举报{place}有人非法倾倒垃圾",),
        "0801": ("举报有人在{place}销售假冒商品", "举报有人非法捕捞"),
        "0802": ("举报某出租屋疑似有人吸毒", "举报有人在{place}设赌"),
        "0803": ("投诉{place}餐馆油烟扰民", "投诉有人占道经营"),
        "0501": ("民房起火，有浓烟冒出", "厨房油锅起火"),
        "0502": ("路边一辆小车冒烟起火",),
        "0503": ("山上起火，有烟雾", "村民烧田埂引燃山林"),
        "0504": ("楼道内电动车充电时起火", "电动车电池冒烟起火"),
        "0301": ("有人在河边溺水", "两名小孩在水库边玩水，家长找不到人"),
        "0306": ("暴雨导致道路塌方，有车辆被困", "山体滑坡堵住村道"),
        "0901": ("接到自称公安局的电话，说我涉嫌洗钱，要求转账到安全账户",),
        "0902": ("在网上做刷单任务，先返了小钱，后来被骗走数万元",),
        "0903": ("在投资理财群里买了虚拟币，平台无法提现",),
        "0904": ("接到自称快递客服的电话，说快递丢失要理赔，被骗转账",),
        "0905": ("网上申请贷款，被要求先交保证金",),
        "0906": ("有人冒充单位领导加我微信，让我转账",),
        "0907": ("网上认识的网友诱导我在博彩网站充值",),
        "9999": ("{place}有人需要帮助，情况不明", "报警人称有事需要民警到场"),
    }
)
DESCRIPTION_FILL = {
    "who": ("村民", "居民", "租户", "店主", "一名男子", "一名女子", "老人"),
    "elder": ("老人", "八旬老人", "独居老人", "患有阿尔茨海默病的老人"),
    "reason": ("漏水", "排水沟", "堆放杂物", "鸡鸭进入菜地", "狗叫扰民", "修建围墙", "停车"),
    "place": ("集市", "路口", "广场", "村口", "超市门口", "车站", "小区门口", "学校附近"),
}
STREETS = ("人民路", "解放路", "建设路", "文昌路", "新华街", "滨江路", "龙泉大道", "五一路")
SPOTS = {
    GridKind.INDUSTRIAL_PARK: ("电子厂门口", "物流园", "标准厂房", "员工宿舍"),
    GridKind.SCENIC_AREA: ("停车场", "游客中心", "观景台", "登山步道"),
}
RATING_COMMENTS = {
    5: ("民警来得很快，处理得很好", "非常满意，谢谢民警", "态度很好，问题解决了", ""),
    4: ("处理得不错", "来得稍慢，但处理得很好", ""),
    3: ("一般", "问题还没有完全解决"),
    2: ("等了很久才到",),
    1: ("不满意",),
}


def describe(code: str, rng: random.Random) -> str:
    templates = (
        DESCRIPTIONS.get(code[:4]) or DESCRIPTIONS.get(code[:2] + "00") or DESCRIPTIONS["9999"]
    )
    text = rng.choice(templates)
    return text.format(**{key: rng.choice(values) for key, values in DESCRIPTION_FILL.items()})


def address_for(grid_name: str, kind: str, rng: random.Random) -> str:
    if kind == GridKind.URBAN_COMMUNITY:
        return f"{grid_name}{rng.choice(STREETS)}{rng.randint(1, 199)}号"
    if kind in SPOTS:
        return f"{grid_name}{rng.choice(SPOTS[kind])}"
    return f"{grid_name}{rng.randint(1, 12)}组"  # villages are addressed by 村民小组


def pick_outcome(code: str, rng: random.Random) -> tuple[str, str, bool]:
    """(outcome, note, valid) plausible for the category."""
    group = MIX_BY_CODE[code].group if code in MIX_BY_CODE else "other"
    outcomes, weights = zip(*OUTCOMES[group], strict=True)
    outcome = rng.choices(outcomes, weights)[0]
    note = rng.choice(GROUP_NOTES.get((group, outcome)) or OUTCOME_NOTES[outcome])
    valid = outcome != Outcome.FALSE_REPORT and not (
        outcome == Outcome.NO_FINDING and rng.random() < 0.6
    )
    return outcome, note, valid


def pick_rating(rng: random.Random) -> tuple[int, str]:
    rating = rng.choices((5, 4, 3, 2, 1), (70, 18, 7, 3, 2))[0]
    return rating, rng.choice(RATING_COMMENTS[rating])


def active_mix() -> list[tuple[MixItem, Category]]:
    """The mix restricted to categories that exist and are active (admins may edit the tree)."""
    categories = {
        c.code: c for c in Category.objects.filter(code__in=list(MIX_BY_CODE), active=True)
    }
    return [(m, categories[m.code]) for m in CATEGORY_MIX if m.code in categories]


def affinity_weights(item: MixItem, kinds: list[str], base: np.ndarray) -> np.ndarray:
    factors = dict(item.affinity)
    weights = base * np.array([factors.get(k, 1.0) for k in kinds])
    return weights / weights.sum()


def sample_points(rng: np.random.Generator, local, seed_xy, count: int) -> np.ndarray:
    """`count` points (km plane) inside a grid, clustered around its centre as houses are."""
    minx, miny, maxx, maxy = local.bounds
    spread = max(0.3, 0.35 * math.sqrt(local.area))
    found = np.empty((0, 2))
    while len(found) < count:
        n = max(16, 2 * (count - len(found)))
        near = rng.normal(seed_xy, spread, size=(n, 2))
        flat = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
        candidates = np.where(rng.random((n, 1)) < 0.7, near, flat)
        inside = shapely.contains_xy(local, candidates[:, 0], candidates[:, 1])
        found = np.vstack([found, candidates[inside]])
    return found[:count]


# --- history ------------------------------------------------------------------------------------


@dataclass
class _GridCtx:
    grid: Grid
    plan: GridPlan
    targets: orgs.Targets
    own: list[Unit]  # the grid's officer first, then its auxiliaries
    station: list[Unit]  # every person unit of the grid's station
    team: Unit
    chief: User
    patrol_users: list[User]


def _season(item: MixItem, doy: np.ndarray) -> np.ndarray:
    summer = np.sin(2 * np.pi * (doy - 100) / 365)  # peaks around 10 July
    festival = np.exp(-(((doy - 35) / 12.0) ** 2))  # Spring Festival, roughly early February
    factor = 1 + 0.12 * summer + 0.1 * festival
    if item.season == "summer":
        factor *= np.clip(1 + 0.8 * summer, 0.3, None)
    elif item.season == "spring":
        factor *= 1 + 2.5 * np.exp(-(((doy - 95) / 15.0) ** 2))  # Qingming grave-sweeping fires
    elif item.season == "festival":
        factor *= 1 + 0.5 * festival
    return factor


class _History:
    """Closed incidents over `years` up to `now`, written in bulk."""

    def __init__(self, structure: Structure, seed: int, years: int, per_day: float, now):
        self.s = structure
        self.rng = random.Random(seed * 7919 + 1)
        self.np = np.random.default_rng([seed, 1])
        self.years = years
        self.per_day = per_day
        self.now = now
        self.tz = timezone.get_default_timezone()
        self.speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
        self.grid_ctx = self._grid_contexts()
        self.own_units = {c.grid.pk: {u.pk for u in c.own} for c in self.grid_ctx}
        self.citizens = [u for n, u in structure.users.items() if u.role == Role.CITIZEN]
        self.volunteers = [u for n, u in structure.users.items() if u.role == Role.VOLUNTEER]
        self.mix = active_mix()

    def _grid_contexts(self) -> list[_GridCtx]:
        s = self.s
        team_of = {s.stations[i].pk: s.units[f"team:{i}"] for i, _ in s.plan.teams}
        chief_of = {s.stations[i].pk: s.users[f"chief{i + 1}"] for i in range(len(TOWNS))}
        person_units = [u for key, u in s.units.items() if not key.startswith("team:")]
        by_station = defaultdict(list)
        for unit in person_units:
            by_station[orgs.station_of(unit.org).pk].append(unit)
        units_by_user = {u.user_id: u for u in person_units}
        contexts = []
        for plan in s.plan.grids:
            grid = s.grids[plan.code]
            station = orgs.station_of(grid.org)
            own_users = [grid.officer_id, *grid.auxiliaries.values_list("pk", flat=True)]
            own = [units_by_user[pk] for pk in own_users if pk in units_by_user]
            contexts.append(
                _GridCtx(
                    grid=grid,
                    plan=plan,
                    targets=orgs.targets_for(grid.org, grid.kind),
                    own=own,
                    station=by_station[station.pk],
                    team=team_of[station.pk],
                    chief=chief_of[station.pk],
                    patrol_users=[u.user for u in own],
                )
            )
        return contexts

    # Sampling ------------------------------------------------------------------------------

    def _day_starts(self) -> list[datetime]:
        today = timezone.localtime(self.now, self.tz).date()
        first = today - timedelta(days=365 * self.years)
        return [
            datetime.combine(first + timedelta(days=d), dtime(), tzinfo=self.tz)
            for d in range((today - first).days + 1)
        ]

    def sample(self) -> list[tuple]:
        """(reported_at, mix item, category, grid index, lng, lat), in time order."""
        days = self._day_starts()
        n_days = len(days)
        doy = np.array([d.timetuple().tm_yday for d in days], dtype=float)
        weekday = np.array([1.08 if d.weekday() >= 5 else 0.97 for d in days])
        years_from_mid = (np.arange(n_days) - n_days / 2) / 365.0
        total_weight = sum(m.weight for m, _ in self.mix)
        kinds = [c.grid.kind for c in self.grid_ctx]
        # Some villages are simply busier than others (a market, a main road).
        base = np.array([KIND_WEIGHT[k] for k in kinds]) * self.np.lognormal(0, 0.35, len(kinds))
        end = self.now - timedelta(hours=6)  # everything sampled has been closed by `now`
        rows = []
        for item, category in self.mix:
            rate = (
                self.per_day
                * item.weight
                / total_weight
                * _season(item, doy)
                * weekday
                * (1 + item.trend) ** years_from_mid
            )
            counts = self.np.poisson(rate)
            n = int(counts.sum())
            if not n:
                continue
            day_index = np.repeat(np.arange(n_days), counts)
            hours = np.asarray(HOURS[item.hours], dtype=float)
            seconds = self.np.choice(24, size=n, p=hours / hours.sum()) * 3600 + self.np.uniform(
                0, 3600, n
            )
            grid_index = self.np.choice(len(kinds), size=n, p=affinity_weights(item, kinds, base))
            for d, sec, g in zip(
                day_index.tolist(), seconds.tolist(), grid_index.tolist(), strict=True
            ):
                at = days[d] + timedelta(seconds=round(sec))
                if at < end:
                    rows.append([at, item, category, g])
        rows.sort(key=lambda r: (r[0], r[1].code, r[3]))
        self._place(rows)
        return rows

    def _place(self, rows: list) -> None:
        by_grid = defaultdict(list)
        for row in rows:
            by_grid[row[3]].append(row)
        for g, grid_rows in sorted(by_grid.items()):
            plan = self.grid_ctx[g].plan
            points = sample_points(self.np, plan.local, (plan.x, plan.y), len(grid_rows))
            for row, (x, y) in zip(grid_rows, points.tolist(), strict=True):
                row.extend(to_wgs84(x, y))

    # Building ------------------------------------------------------------------------------

    def build(self, stdout) -> dict:
        rows = self.sample()
        _say(stdout, f"  历史警情 {len(rows)} 条，写入中…")
        incidents_, assignments, events, sequences = [], [], [], Counter()
        for reported_at, item, category, g, lng, lat in rows:
            day = timezone.localtime(reported_at, self.tz).date()
            sequences[day] += 1
            code = f"JQ{day:%Y%m%d}-{sequences[day]:06d}"
            incident, its_assignments, its_events = self._one(
                code, reported_at, item, category, self.grid_ctx[g], lng, lat
            )
            incidents_.append(incident)
            assignments += its_assignments
            events += its_events
        with transaction.atomic():
            Incident.objects.bulk_create(incidents_, batch_size=500)
            Assignment.objects.bulk_create(assignments, batch_size=500)
            for event, assignment in events:
                if assignment is not None:
                    event.data = {**event.data, "assignment": assignment.pk}
            IncidentEvent.objects.bulk_create([e for e, _ in events], batch_size=500)
            DailySequence.objects.bulk_create(
                [
                    DailySequence(prefix="JQ", day=day, last=last)
                    for day, last in sorted(sequences.items())
                ],
                batch_size=500,
            )
        return {
            "incidents": len(incidents_),
            "assignments": len(assignments),
            "events": len(events),
            "ratings": sum(1 for i in incidents_ if i.rating is not None),
        }

    def _reporter(self, source: str, ctx: _GridCtx):
        """(reporter, anonymous, phone) in the shape `services.report` stores."""
        rng = self.rng
        if source == Source.CITIZEN_APP and rng.random() < 0.75:
            user = rng.choice(self.citizens)
            return user, False, ""
        if source == Source.PATROL and ctx.patrol_users:
            return rng.choice(ctx.patrol_users), False, ""
        if source == Source.VOLUNTEER:
            return rng.choice(self.volunteers), False, ""
        phone = "+86" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        return None, True, phone if source == Source.PHONE_TRANSFER else ""

    def _durations(self, item: MixItem, category: Category, ctx: _GridCtx) -> dict:
        rng = self.rng
        kind = ctx.grid.kind
        urgent = category.default_priority == 1
        accept = min(max(rng.lognormvariate(math.log(32), 0.45), 6), 300)
        travel_median = {URBAN: 110, PARK: 160, SCENIC: 380, RURAL: 400}[kind] * (
            0.85 if urgent else 1.0
        )
        travel = min(max(rng.lognormvariate(math.log(travel_median), 0.45), 40), 2400)
        reinforce = rng.random() < (0.3 if urgent or item.group in ("violent", "fire") else 0.08)
        handle = min(
            max(rng.lognormvariate(math.log(GROUP_MINUTES[item.group] * 60), 0.5), 300), 9000
        )
        return {
            "accept": accept,
            "travel": travel,
            "handle": handle,
            "reinforce": reinforce,
            "expired_first": accept > 50 and rng.random() < 0.5,
        }

    def _one(self, code, reported_at, item, category, ctx: _GridCtx, lng, lat):
        rng = self.rng
        source = rng.choices(*zip(*SOURCES, strict=True))[0]
        if item.group == "fraud" and source == Source.PATROL:
            source = Source.PHONE_TRANSFER  # patrols don't stumble on telephone scams
        reporter, anonymous, phone = self._reporter(source, ctx)
        d = self._durations(item, category, ctx)
        t = {"reported": reported_at, "accepted": reported_at + timedelta(seconds=d["accept"])}
        t["arrived"] = t["accepted"] + timedelta(seconds=d["travel"])
        outcome, note, valid = pick_outcome(item.code, rng)
        incident = Incident(
            code=code,
            category=category,
            priority=category.default_priority,
            source=source,
            description=describe(item.code, rng),
            address=address_for(ctx.grid.name, ctx.grid.kind, rng),
            lng=lng,
            lat=lat,
            grid=ctx.grid,
            org=ctx.grid.org,
            org_path=ctx.grid.org.path,
            reporter=reporter,
            anonymous=anonymous,
            reporter_phone=phone,
            valid=valid,
            outcome=outcome,
            outcome_note=note,
            target_accept_s=ctx.targets.accept_seconds,
            target_arrive_s=ctx.targets.arrive_seconds,
            target_reinforce_s=ctx.targets.reinforce_seconds,
            reported_at=reported_at,
            accepted_at=t["accepted"],
            arrived_at=t["arrived"],
        )
        events = [
            self._event(
                incident,
                EventKind.REPORTED,
                reported_at,
                reporter,
                message=f"{Source(source).label}：{category.name}",
            )
        ]
        assignments = []
        primary = self._primary_unit(ctx)
        if d["expired_first"]:
            assignments += self._expired_offer(incident, ctx, primary, events)
        offered_at = reported_at + timedelta(seconds=45 if d["expired_first"] else 1)
        assignments.append(
            self._assignment(
                incident,
                primary,
                AssignmentRole.PRIMARY,
                offered_at,
                t["accepted"],
                t["arrived"],
                d["travel"],
                events,
            )
        )
        finished = t["arrived"] + timedelta(seconds=d["handle"])
        if d["reinforce"]:
            finished = max(
                finished, self._reinforce(incident, ctx, primary, t["arrived"], assignments, events)
            )
        incident.resolved_at = finished
        for assignment in assignments:
            if assignment.status == AssignmentStatus.ACCEPTED:
                assignment.status, assignment.finished_at = AssignmentStatus.DONE, finished
        self._finish(incident, ctx, primary, events)
        return incident, assignments, events

    def _primary_unit(self, ctx: _GridCtx) -> Unit:
        roll = self.rng.random()
        if ctx.own and roll < 0.55:
            return ctx.own[0]
        if len(ctx.own) > 1 and roll < 0.85:
            return self.rng.choice(ctx.own[1:])
        return self.rng.choice(ctx.station or ctx.own)

    def _expired_offer(self, incident, ctx, primary, events) -> list[Assignment]:
        others = [u for u in ctx.station if u.pk != primary.pk] or [ctx.team]
        unit = self.rng.choice(others)
        at = incident.reported_at + timedelta(seconds=1)
        eta = int(self.rng.uniform(60, 600))
        expired = Assignment(
            incident=incident,
            unit=unit,
            role=AssignmentRole.PRIMARY,
            status=AssignmentStatus.EXPIRED,
            offered_at=at,
            expires_at=at + timedelta(seconds=44),
            finished_at=at + timedelta(seconds=44),
            distance_m=round(eta * self.speed_ms / ROAD_FACTOR, 1),
            eta_seconds=eta,
        )
        events.append(self._offer_event(incident, expired, at, own=unit in ctx.own))
        events.append(
            self._event(
                incident,
                EventKind.OFFER_EXPIRED,
                expired.finished_at,
                unit=unit,
                message=f"{unit.name} 超时未接警，自动改派",
            )
        )
        return [expired]

    def _assignment(
        self, incident, unit, role, offered_at, accepted_at, arrived_at, travel_s, events
    ) -> Assignment:
        distance = travel_s * self.speed_ms / ROAD_FACTOR
        assignment = Assignment(
            incident=incident,
            unit=unit,
            role=role,
            status=AssignmentStatus.ACCEPTED,
            offered_at=offered_at,
            expires_at=offered_at + timedelta(seconds=45),
            accepted_at=accepted_at,
            arrived_at=arrived_at,
            distance_m=round(distance, 1),
            eta_seconds=int(travel_s),
        )
        actor = self._actor(unit)
        events.append(
            self._offer_event(
                incident, assignment, offered_at, own=unit.pk in self.own_units[incident.grid.pk]
            )
        )
        events.append(
            self._event(
                incident,
                EventKind.ACCEPTED,
                accepted_at,
                actor,
                unit,
                f"{unit.name} 已接警（{AssignmentRole(role).label}）",
            )
        )
        kind = EventKind.ARRIVED if role == AssignmentRole.PRIMARY else EventKind.REINFORCE_ARRIVED
        events.append(self._event(incident, kind, arrived_at, actor, unit, f"{unit.name} 已到场"))
        return assignment

    def _reinforce(self, incident, ctx, primary, arrived_at, assignments, events):
        rng = self.rng
        requested = arrived_at + timedelta(seconds=rng.uniform(30, 240))
        incident.reinforce_requested_at = requested
        events.append(
            self._event(
                incident,
                EventKind.REINFORCE_REQUESTED,
                requested,
                self._actor(primary),
                primary,
                f"{primary.name} 请求增援：现场需要支援",
            )
        )
        unit = (
            ctx.team
            if rng.random() < 0.6
            else rng.choice([u for u in ctx.station if u.pk != primary.pk] or [ctx.team])
        )
        rural = ctx.grid.kind in (RURAL, SCENIC)
        travel = min(max(rng.lognormvariate(math.log(480 if rural else 200), 0.45), 60), 2400)
        accepted = requested + timedelta(seconds=rng.uniform(8, 40))
        arrived = accepted + timedelta(seconds=travel)
        assignments.append(
            self._assignment(
                incident,
                unit,
                AssignmentRole.REINFORCEMENT,
                requested,
                accepted,
                arrived,
                travel,
                events,
            )
        )
        incident.reinforce_arrived_at = arrived
        return arrived + timedelta(seconds=rng.uniform(300, 1800))

    def _finish(self, incident: Incident, ctx: _GridCtx, primary: Unit, events) -> None:
        rng = self.rng
        incident.accept_s = (incident.accepted_at - incident.reported_at).total_seconds()
        incident.arrive_s = (incident.arrived_at - incident.reported_at).total_seconds()
        if incident.reinforce_arrived_at:
            incident.reinforce_s = (
                incident.reinforce_arrived_at - incident.reported_at
            ).total_seconds()
        message = f"处置完成：{Outcome(incident.outcome).label}。{incident.outcome_note}"
        events.append(
            self._event(
                incident,
                EventKind.RESOLVED,
                incident.resolved_at,
                self._actor(primary),
                primary,
                message,
                {"outcome": incident.outcome, "valid": incident.valid},
            )
        )
        closed = incident.resolved_at + timedelta(hours=rng.uniform(1, 72))
        if closed <= self.now:
            incident.status, incident.closed_at = Status.CLOSED, closed
            events.append(
                self._event(incident, EventKind.CLOSED, closed, ctx.chief, message="审核结案")
            )
        else:
            incident.status = Status.RESOLVED
        reporter = incident.reporter
        if (
            reporter is not None
            and reporter.role == Role.CITIZEN
            and incident.source == Source.CITIZEN_APP
            and rng.random() < 0.45
        ):
            rated = incident.resolved_at + timedelta(hours=rng.uniform(0.2, 30))
            if rated <= self.now:
                incident.rating, incident.rating_comment = pick_rating(rng)
                events.append(
                    self._event(
                        incident,
                        EventKind.RATED,
                        rated,
                        reporter,
                        message=f"评价 {incident.rating} 星 {incident.rating_comment}".strip(),
                    )
                )
        events.sort(key=lambda pair: pair[0].at)  # the timeline is read in id order

    def _offer_event(self, incident, assignment, at, *, own: bool):
        unit = assignment.unit
        why = "本网格警力" if own else "就近警力"
        role = AssignmentRole(assignment.role)
        km = (assignment.distance_m or 0) / 1000
        eta = assignment.eta_seconds or 0
        message = f"派{role.label}：{unit.name}（{why}，约 {km:.1f} 公里，预计 {eta} 秒）"
        event, _ = self._event(
            incident,
            EventKind.OFFERED,
            at,
            unit=unit,
            message=message,
            data={"role": assignment.role},
        )
        return event, assignment

    def _event(self, incident, kind, at, actor=None, unit=None, message="", data=None):
        return IncidentEvent(
            incident=incident,
            kind=kind,
            at=at,
            actor=actor,
            unit=unit,
            message=message[:500],
            data=data or {},
        ), None

    def _actor(self, unit: Unit) -> User | None:
        if unit.user_id:
            return self.s.users_by_pk[unit.user_id]
        return self.s.team_leaders.get(unit.pk)


# --- live incidents at generation time ----------------------------------------------------------


def actor_for(unit: Unit) -> User | None:
    """Who answers for a unit: its person, or a team's first member (its leader)."""
    if unit.user_id:
        return unit.user
    return unit.members.order_by("pk").first()


def _first_village(structure: Structure, town_index: int) -> GridPlan:
    return next(
        g for g in structure.plan.grids if g.town == town_index and g.kind == GridKind.RURAL_VILLAGE
    )


def _open_incidents(structure: Structure, now) -> None:
    """A few incidents in flight so the board is not empty: one offered and waiting for an
    answer, one accepted, one on scene with reinforcement on the way, and a second call about
    the same fight held as a suspected duplicate. All through the services, away from
    officer1's grids so the human demo user starts with a free unit."""

    def at(seconds_ago: float):
        return now - timedelta(seconds=seconds_ago)

    def call(grid: GridPlan, code: str, description: str, seconds_ago: float, dx_km=0.0):
        lng, lat = to_wgs84(grid.x + dx_km, grid.y)
        phone = f"+8613979{len(description):02d}{int(seconds_ago):04d}"
        return incidents.report(
            category_code=code,
            description=description,
            lng=lng,
            lat=lat,
            address=f"{grid.name}{3 + len(description) % 7}组",
            source=Source.PHONE_TRANSFER,
            reporter_phone=phone,
            client_key=phone,
            now=at(seconds_ago),
        )

    def act(result, action, seconds_ago: float, **kwargs):
        unit = result.assignment.unit if result.assignment else None
        actor = actor_for(unit) if unit else None
        if actor is None or actor.username in RESERVED_UNIT_USERS:
            return None
        return action(result.incident.code, actor, now=at(seconds_ago), **kwargs)

    # In time order, so the timeline's ids (the push sequence) follow the clock.
    fight = call(_first_village(structure, 3), "020100", "村口小卖部有人酒后打架，有人受伤", 540)
    act(fight, incidents.accept, 515)
    call(_first_village(structure, 3), "020100", "小卖部门口有几个人在打架", 300, dx_km=0.03)
    accident = call(_first_village(structure, 2), "040102", "小轿车与三轮车相撞，双方争执", 240)
    act(accident, incidents.accept, 220)
    act(fight, incidents.arrive, 180)
    act(fight, incidents.request_reinforcement, 20, note="对方人多，请求支援")
    call(_first_village(structure, 1), "060400", "两户村民因宅基地边界发生争执，有人拿着锄头", 15)


# --- entry point --------------------------------------------------------------------------------


def generate_demo_county(
    *,
    seed: int = DEFAULT_SEED,
    years: int = 2,
    now=None,
    history_per_day: float | None = None,
    stdout=None,
) -> DemoSummary:
    """Fill an empty database with the demo county. Same seed → same county."""
    started = time.monotonic()
    now = now or clock.now()
    per_day = DEFAULT_HISTORY_PER_DAY if history_per_day is None else history_per_day
    if OrgUnit.objects.exists():
        raise DemoDataExists("数据库中已有单位数据，演示数据只写入空数据库")
    _say(stdout, f"生成演示县：平安县（seed={seed}）")
    plan = plan_county(seed)
    history = {"incidents": 0, "assignments": 0, "events": 0, "ratings": 0}
    # One transaction: a failure half-way must not leave a county that `--if-empty` would then
    # mistake for a finished one.
    with transaction.atomic():
        ensure_default_categories(Category)
        structure = _write_structure(plan, now, stdout)
        if per_day > 0 and years > 0:
            history = _History(structure, seed, years, per_day, now).build(stdout)
        _open_incidents(structure, now)
        generate_disputes(
            structure, seed=seed, now=now, years=years, history_per_day=per_day, stdout=stdout
        )
        demo_volunteers.generate_volunteers(
            structure, seed=seed, now=now, years=years, history_per_day=per_day, stdout=stdout
        )
    summary = _summarise(seed, years, history, time.monotonic() - started)
    for line in summary.lines():
        _say(stdout, f"  {line}")
    return summary


def _summarise(seed: int, years: int, history: dict, seconds: float) -> DemoSummary:
    from pingan.incidents.models import OPEN_STATUSES

    kinds = Counter(Grid.objects.values_list("kind", flat=True))
    roles = Counter(User.objects.values_list("role", flat=True))
    return DemoSummary(
        seed=seed,
        years=years,
        orgs=OrgUnit.objects.count(),
        stations=OrgUnit.objects.filter(kind=OrgKind.STATION).count(),
        offices=OrgUnit.objects.filter(
            kind__in=(OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION)
        ).count(),
        grids=sum(kinds.values()),
        users=sum(roles.values()),
        units=Unit.objects.count(),
        units_on_duty=Unit.objects.filter(on_duty=True).count(),
        incidents=history["incidents"],
        events=history["events"],
        assignments=history["assignments"],
        ratings=history["ratings"],
        open_incidents=Incident.objects.filter(status__in=OPEN_STATUSES).count(),
        seconds=round(seconds, 2),
        grid_kinds=dict(kinds),
        roles=dict(roles),
    )


def ready_demo_units(now=None) -> int:
    """Put the units of the human demo logins (officer1, aux1) on duty inside their own grid.

    Dispatch ignores positions older than POSITION_STALE_MINUTES; after a restart of the demo
    those two would otherwise stop receiving reports from their grid until a phone posts a
    position, and a browser's real position lies outside the fictional county.
    """
    now = now or timezone.now()
    readied = 0
    for username in RESERVED_UNIT_USERS:
        user = User.objects.filter(username=username).first()
        grid = (
            Grid.objects.filter(Q(officer=user) | Q(auxiliaries=user)).order_by("code").first()
            if user
            else None
        )
        if grid is None or incidents.unit_for_user(user) is None:
            continue
        point = grid.geometry.representative_point()
        _place(user, (point.x, point.y), True, now)
        readied += 1
    return readied
