"""A deterministic demo county: 平安县, a fictional county in the hills of southern Jiangxi.

`generate_demo_county()` builds the org tree, ~100 grids, staff, citizens, dispatchable units and
two years of incident history, so every page of the platform has something real-looking to show
the moment the demo starts.

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
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.core import clock
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
HUMAN_LOGINS = ("admin", "commander", "chief1", "officer1", "aux1", "grid1", "volunteer1",
                "citizen1")
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
INDUSTRIAL_PARKS = ((0, "城东工业园", 3.4, -1.2), (0, "城南工业园", -0.8, -3.4),
                    (1, "工业集中区", -8.8, 5.4))
SCENIC_AREAS = ((4, "云岭景区", 14.0, -5.0), (1, "碧湖湿地景区", -15.0, 2.0))
SCENIC_JOINT_STATION = "云岭景区"  # this scenic area gets its own joint-service station

RURAL_VILLAGES = 75
VILLAGE_MIN_SPACING_KM = 2.4
URBAN_CORE_CLEAR_KM = 3.5  # no village seed this close to the county seat

VILLAGE_FIRST = "大小上下东西南北新老黄石高长白龙马桃竹杨罗曾刘郭枫茶松金洋田"
VILLAGE_SECOND = "坑坪洲田塘岭山湾口源溪桥陂垄坊岗头埠背排园冲寨屋"

SURNAMES = ("刘" * 6 + "罗" * 4 + "曾" * 4 + "肖" * 4 + "郭" * 3 + "李" * 5 + "王" * 5 + "陈" * 5
            + "胡" * 3 + "黄" * 4 + "钟" * 3 + "邓" * 3 + "彭" * 3 + "廖" * 3 + "谢" * 3
            + "吴" * 2 + "张" * 4 + "杨" * 2 + "周" * 2 + "徐" * 2 + "朱" * 2 + "郑" + "林"
            + "何" + "袁" + "温" + "赖" + "欧阳" [0:0] + "邱" + "卢" + "汤" + "尹" + "蔡")
GIVEN_CHARS = ("建国华明伟芳丽强军平红英文斌杰涛勇俊志海燕霞玲秀兰桂春林峰磊亮辉超刚敏静"
               "婷雪梅洪德福贵荣祥宏宇鹏飞晨浩然欣怡佳琪子轩思远嘉庆水根发金")
MOBILE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158",
                   "159", "182", "183", "187", "188", "130", "131", "132", "155", "156", "185",
                   "186", "133", "153", "173", "177", "180", "181", "189", "191", "199")


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


def _plane_to_wgs84(geometry):
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
    return shapely.Polygon(np.column_stack([cx + rx * radius * np.cos(angles),
                                            cy + ry * radius * np.sin(angles)]))


def _urban_seeds(rng: random.Random) -> list[GridPlan]:
    def ring(names, radius, start_deg, step_deg):
        out = []
        for i, name in enumerate(names):
            angle = math.radians(start_deg + step_deg * i + rng.uniform(-7, 7))
            r = radius * rng.uniform(0.88, 1.12)
            out.append(GridPlan(SEAT, GridKind.URBAN_COMMUNITY, name,
                                r * math.cos(angle), r * math.sin(angle)))
        return out

    centre = GridPlan(SEAT, GridKind.URBAN_COMMUNITY, URBAN_CENTRE, rng.uniform(-0.1, 0.1),
                      rng.uniform(-0.1, 0.1))
    return [centre, *ring(URBAN_INNER, 1.0, 30, 60), *ring(URBAN_OUTER, 2.0, 0, 45)]


def _fixed_seeds() -> list[GridPlan]:
    seeds = [GridPlan(i, GridKind.URBAN_COMMUNITY, "圩镇", t.x, t.y)
             for i, t in enumerate(TOWNS) if i != SEAT]
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
        if math.hypot(x, y) < URBAN_CORE_CLEAR_KM or not inner.contains_xy(x, y):
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
                [p for p in shapely.get_parts(cell) if isinstance(p, shapely.Polygon)])
        grid.local = cell


def _number_grids(grids: list[GridPlan]) -> None:
    """12-digit division codes: county 6 + township 3 + village 3, in the statistical ranges
    (0xx communities, 2xx villages, 4xx/5xx community- and village-like units)."""
    base = {GridKind.URBAN_COMMUNITY: 0, GridKind.RURAL_VILLAGE: 200,
            GridKind.INDUSTRIAL_PARK: 400, GridKind.SCENIC_AREA: 500}
    for town_index, town in enumerate(TOWNS):
        counters: Counter = Counter()
        # Communities keep their planned order (centre first); villages go north-west first.
        mine = [g for g in grids if g.town == town_index]
        ordered = sorted(mine, key=lambda g: (base[g.kind], 0 if g.kind ==
                                              GridKind.URBAN_COMMUNITY else (-round(g.y, 3),
                                                                             round(g.x, 3))))
        for grid in ordered:
            counters[grid.kind] += 1
            grid.division_code = f"{COUNTY_CODE}{town.township}{base[grid.kind] + counters[grid.kind]:03d}"


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


def _angle(origin: GridPlan, grid: GridPlan) -> float:
    return math.atan2(grid.y - origin.y, grid.x - origin.x) % (2 * math.pi)


def _nearest(grid: GridPlan, offices: list[OfficePlan]) -> OfficePlan:
    return min(offices, key=lambda o: math.hypot(grid.x - o.seat.x, grid.y - o.seat.y))


def _seat_offices(mine: list[GridPlan]) -> list[OfficePlan]:
    by_short = {g.short: g for g in mine}
    offices = [OfficePlan(f"{name}警务室", OrgKind.POLICE_OFFICE, SEAT, by_short[name])
               for name in GATE_OFFICES]
    offices.append(OfficePlan("工业园警务室", OrgKind.POLICE_OFFICE, SEAT,
                              by_short[INDUSTRIAL_PARKS[0][1]]))
    # The commercial centre is covered by a joint-service station (police, traffic, city
    # management in one booth), as county seats do for their busiest street.
    joint = OfficePlan(f"{URBAN_CENTRE}联勤警务站", OrgKind.JOINT_STATION, SEAT,
                       by_short[URBAN_CENTRE], grids=[by_short[URBAN_CENTRE]])
    for grid in mine:
        if grid is not joint.seat:
            _nearest(grid, offices).grids.append(grid)
    return [*offices, joint]


def _rural_offices(town: Town, mine: list[GridPlan]) -> list[OfficePlan]:
    """A centre office at the town seat plus two village offices placed by a few k-medoid
    rounds, so each office sits among the villages it covers."""
    seat = next(g for g in mine if g.short == "圩镇")
    joint = None
    rest = []
    for grid in mine:
        if grid.kind == GridKind.SCENIC_AREA and grid.short == SCENIC_JOINT_STATION:
            joint = OfficePlan(f"{grid.short}联勤警务站", OrgKind.JOINT_STATION, seat.town, grid,
                               grids=[grid])
        elif grid is not seat:
            rest.append(grid)
    medoids = [seat]
    villages = [g for g in rest if g.kind == GridKind.RURAL_VILLAGE]
    while len(medoids) < 3 and villages:
        medoids.append(max(villages, key=lambda g: min(math.hypot(g.x - m.x, g.y - m.y)
                                                       for m in medoids)))
    for _ in range(4):
        clusters = defaultdict(list)
        for grid in villages:
            clusters[min(range(len(medoids)), key=lambda i: math.hypot(
                grid.x - medoids[i].x, grid.y - medoids[i].y))].append(grid)
        for i in range(1, len(medoids)):
            members = clusters.get(i) or [medoids[i]]
            mx = sum(g.x for g in members) / len(members)
            my = sum(g.y for g in members) / len(members)
            medoids[i] = min(members, key=lambda g: math.hypot(g.x - mx, g.y - my))
    offices = [OfficePlan(f"{town.short}中心警务室", OrgKind.POLICE_OFFICE, seat.town, seat)]
    offices += [OfficePlan(f"{m.short}警务室", OrgKind.POLICE_OFFICE, seat.town, m)
                for m in sorted(medoids[1:], key=lambda g: g.division_code)]
    offices[0].grids.append(seat)
    for grid in rest:
        _nearest(grid, offices).grids.append(grid)
    return [*offices, *([joint] if joint else [])]


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
    for town_index, town in enumerate(TOWNS):
        mine = [o for o in offices if o.town == town_index]
        for n, office in enumerate(mine, start=1):
            series = 9 if office.kind == OrgKind.POLICE_OFFICE else 95
            office.code = f"{COUNTY_CODE}{town.township}{series}{n:02d}"[:12] if series == 9 else (
                f"{COUNTY_CODE}{town.township}95{n % 10}")
    plan = CountyPlan(outline=outline, grids=grids, offices=offices, people=[],
                      officer_grids={}, grid_aux={}, grid_workers={}, teams=[],
                      team_positions={}, team_on_duty={})
    _plan_people(rng, plan)
    return plan


def _plan_people(rng: random.Random, plan: CountyPlan) -> None:
    names = _Names(rng)
    people = plan.people

    def add(username, role, org_key, display=None, position=None, on_duty=False):
        person = PersonPlan(username, role, display or names.person(), names.phone(), org_key,
                            position, on_duty)
        people.append(person)
        return person

    add("admin", Role.COMMANDER, "city", "系统管理员")
    add("commander", Role.COMMANDER, "county", "指挥中心 王主任")
    for i, town in enumerate(TOWNS, start=1):
        add(f"chief{i}", Role.COMMANDER, f"station:{i - 1}", f"{names.person()}（{town.short}所长）")
    officer_n = aux_n = 0
    for office in plan.offices:  # stations in order, 城关 first: officer1 is 东门警务室's
        per_officer = 3 if office.town == SEAT else 4
        chunks = _chunks(office.grids, max(1, round(len(office.grids) / per_officer)))
        for chunk in chunks:
            officer_n += 1
            username = f"officer{officer_n}"
            on_duty = officer_n == 1 or rng.random() < 0.7
            add(username, Role.OFFICER, office.code, position=_point_near_seed(rng, chunk[0]),
                on_duty=on_duty)
            plan.officer_grids[username] = chunk
            for grid in chunk:  # 一村一辅警: every grid has its own auxiliary
                aux_n += 1
                aux = f"aux{aux_n}"
                add(aux, Role.AUXILIARY, office.code, position=_point_near_seed(rng, grid),
                    on_duty=aux_n == 1 or rng.random() < 0.7)
                plan.grid_aux[grid.code] = aux
    urban = [g for o in plan.offices if o.town == SEAT for g in o.grids
             if g.kind == GridKind.URBAN_COMMUNITY and o.kind == OrgKind.POLICE_OFFICE]
    urban.sort(key=lambda g: int(plan.grid_aux[g.code][3:]))  # grid1 shares officer1's grid
    for n, grid in enumerate(urban[:8], start=1):
        add(f"grid{n}", Role.GRID_WORKER, grid.office.code)
        plan.grid_workers[grid.code] = [f"grid{n}"]
    _plan_teams(rng, plan, add)
    for n in range(1, 41):
        add(f"volunteer{n}", Role.VOLUNTEER, "")
    for n in range(1, 301):
        add(f"citizen{n}", Role.CITIZEN, "")


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


def _say(stdout, message: str) -> None:
    if stdout is not None:
        stdout.write(message if message.endswith("\n") else message + "\n")
        if hasattr(stdout, "flush"):
            stdout.flush()


def _write_orgs(plan: CountyPlan):
    city = orgs.create_org(code=CITY_CODE, name="示范市公安局", kind=OrgKind.CITY_BUREAU,
                           division_code=f"{CITY_CODE}000000")
    county = orgs.create_org(code=COUNTY_CODE, name="平安县公安局", kind=OrgKind.COUNTY_BUREAU,
                             parent=city, division_code=f"{COUNTY_CODE}000000")
    stations = [
        orgs.create_org(code=f"{COUNTY_CODE}{t.township}000", name=f"{t.short}派出所",
                        kind=OrgKind.STATION, parent=county,
                        division_code=f"{COUNTY_CODE}{t.township}000")
        for t in TOWNS
    ]
    offices = {
        o.code: orgs.create_org(code=o.code, name=o.name, kind=o.kind, parent=stations[o.town],
                                division_code=o.seat.division_code)
        for o in plan.offices
    }
    return city, county, stations, offices


def _write_sla(county: OrgUnit, stations: list[OrgUnit]) -> None:
    # No service edits targets yet; these rows are plain configuration.
    SlaPolicy.objects.create(org=county, accept_seconds=60, arrive_seconds=180,
                             reinforce_seconds=300)
    for index, station in enumerate(stations):
        if index == SEAT:
            continue  # the county seat keeps the county's 1-3-5
        # Village roads are long: rural stations allow 10 / 15 minutes in village grids.
        SlaPolicy.objects.create(org=station, accept_seconds=60, arrive_seconds=180,
                                 reinforce_seconds=300, rural_arrive_seconds=600,
                                 rural_reinforce_seconds=900)


def _write_users(plan: CountyPlan, org_for) -> dict:
    """Demo logins through create_user (each with its own salted hash); everyone else shares
    one precomputed hash of the same demo password, which keeps generation fast."""
    shared_hash = make_password(DEMO_PASSWORD)
    users, bulk = {}, []
    for person in plan.people:
        fields = {"role": person.role, "display_name": person.display_name,
                  "phone": person.phone, "org": org_for(person.org_key)}
        if person.username in HUMAN_LOGINS:
            extra = {"is_staff": True} if person.username == "commander" else {}
            if person.username == "admin":
                users["admin"] = User.objects.create_superuser(
                    "admin", password=DEMO_PASSWORD, **fields)
            else:
                users[person.username] = User.objects.create_user(
                    person.username, password=DEMO_PASSWORD, **fields, **extra)
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
        shape = _plane_to_wgs84(grid_plan.local)
        grid = orgs.save_grid(
            code=grid_plan.code, name=grid_plan.name, kind=grid_plan.kind,
            org=offices[grid_plan.office.code], geometry=shape,
            division_code=grid_plan.division_code, officer=users[officer_of[grid_plan.code]],
        )
        orgs.assign_grid_staff(
            grid, auxiliaries=[users[plan.grid_aux[grid.code]]],
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
            name=f"{user.org.name} {Role(person.role).label}{user.display_name}", kind=kind,
            org=user.org, user=user)
        _place(user, person.position, person.on_duty, now)
    for town_index, members in plan.teams:
        station = stations[town_index]
        leader = users[members[0]]
        units[f"team:{town_index}"] = incidents.create_unit(
            name=f"{station.name}快反队", kind=UnitKind.RESPONSE_TEAM, org=station,
            members=[users[m] for m in members])
        _place(leader, plan.team_positions[town_index], plan.team_on_duty[town_index], now)
    return units


def _place(user: User, position, on_duty: bool, now) -> None:
    incidents.set_duty(user, on_duty, now=now)
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
    return Structure(plan, city, county, stations, offices, users, grids, units, geometry)


# --- the incident mix, shared with the simulator ------------------------------------------------

HOURS = {
    "day": (2, 1.5, 1, .8, .7, .9, 1.5, 2.5, 3.5, 4.5, 5, 5, 4.5, 4, 4.2, 4.5, 4.8, 5, 5.2, 5.5,
            5.8, 5, 4, 3),
    "traffic": (1, .7, .5, .5, .6, 1.2, 3, 6, 7, 5, 4, 4, 4.5, 4, 4, 4.5, 5.5, 7, 6.5, 4.5, 3.5,
                3, 2.2, 1.5),
    "night": (4, 3.5, 2.5, 1.5, .8, .5, .6, 1, 1.5, 2, 2.5, 3, 3, 3, 3, 3.2, 3.5, 4, 5, 6, 7,
              7.5, 7, 5.5),
    "office": (.5, .3, .2, .2, .2, .4, 1, 2, 4, 6, 6.5, 6, 5, 5, 6, 6.5, 6, 5, 4, 4, 3.5, 3, 2,
               1),
}

U, R, I, S = (GridKind.URBAN_COMMUNITY, GridKind.RURAL_VILLAGE, GridKind.INDUSTRIAL_PARK,
              GridKind.SCENIC_AREA)


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
    MixItem("060400", 2.2, "dispute", affinity=((U, .1), (R, 3.0), (I, .3))),
    MixItem("060500", 1.5, "dispute", affinity=((I, 5.0), (R, .5)), season="festival"),
    MixItem("060600", 1.5, "dispute"),
    MixItem("060700", 1.5, "dispute", affinity=((U, 2.0), (S, 3.0), (R, .4))),
    MixItem("069900", 1.0, "dispute", "night"),
    MixItem("070100", 1.8, "help", affinity=((S, 3.0),)),
    MixItem("070200", 3.0, "help"),
    MixItem("070300", 2.0, "help"),
    MixItem("070400", 0.4, "help", "night"),
    MixItem("070500", 3.0, "help", affinity=((U, 2.5), (R, .3))),
    MixItem("070600", 4.0, "help", affinity=((U, 1.5), (S, 3.0))),
    MixItem("079900", 3.0, "help"),
    MixItem("040101", 1.8, "traffic", "traffic", trend=0.03),
    MixItem("040102", 8.0, "traffic", "traffic", affinity=((U, 2.0), (I, 1.5)), trend=0.03,
            season="festival"),
    MixItem("040200", 4.0, "traffic", "traffic", affinity=((U, 1.5),)),
    MixItem("040300", 1.0, "traffic", "traffic"),
    MixItem("040400", 2.0, "traffic", "traffic", affinity=((U, 3.0), (S, 3.0), (R, .2)),
            season="festival"),
    MixItem("010101", 2.0, "theft", "night", trend=-0.08),
    MixItem("010102", 0.5, "theft", "night", trend=-0.08),
    MixItem("010103", 4.0, "theft", "night", affinity=((U, 2.5), (I, 2.0), (R, .5)), trend=-0.1),
    MixItem("010104", 1.0, "theft", affinity=((U, 3.0), (S, 2.0), (R, .2)), trend=-0.08),
    MixItem("010200", 0.15, "violent", "night", affinity=((U, 2.0),)),
    MixItem("010300", 0.15, "violent", affinity=((U, 2.0),)),
    MixItem("010400", 0.5, "violent", "night"),
    MixItem("010900", 0.8, "fraud", "office"),
    MixItem("090100", 1.5, "fraud", "office", trend=-0.12),
    MixItem("090200", 2.5, "fraud", "office", affinity=((U, 2.0),), trend=-0.12),
    MixItem("090300", 1.5, "fraud", "office", affinity=((U, 1.5),), trend=-0.05),
    MixItem("090400", 2.0, "fraud", "office", affinity=((U, 2.0),), trend=-0.12),
    MixItem("090500", 1.0, "fraud", "office", trend=-0.12),
    MixItem("090600", 1.0, "fraud", "office", trend=-0.1),
    MixItem("090700", 1.0, "fraud", "night", trend=-0.05),
    MixItem("020100", 4.0, "order", "night", affinity=((U, 2.0),), season="summer"),
    MixItem("020200", 1.0, "order", "night", affinity=((R, 1.5),), season="festival"),
    MixItem("020500", 1.0, "order", "night", affinity=((U, 2.0),)),
    MixItem("020600", 2.0, "order", "night"),
    MixItem("020700", 4.0, "order", "night", affinity=((U, 3.0), (R, .4)), season="summer"),
    MixItem("020800", 1.0, "order"),
    MixItem("080100", 1.0, "tip"),
    MixItem("080200", 1.0, "tip", "night"),
    MixItem("080300", 3.0, "tip"),
    MixItem("050100", 0.6, "fire", "night", season="festival"),
    MixItem("050200", 0.3, "fire"),
    MixItem("050300", 0.4, "fire", affinity=((U, .05), (I, .2), (R, 2.0), (S, 4.0)),
            season="spring"),
    MixItem("050400", 0.5, "fire", "night", affinity=((U, 3.0), (R, .5))),
    MixItem("030100", 0.3, "hazard", affinity=((U, .2), (R, 2.0), (S, 4.0)), season="summer"),
    MixItem("030600", 0.3, "hazard", affinity=((U, .3), (R, 2.0), (S, 2.0)), season="summer"),
    MixItem("999900", 3.0, "other"),
)
MIX_BY_CODE = {m.code: m for m in CATEGORY_MIX}

KIND_WEIGHT = {U: 4.0, I: 2.5, S: 1.2, R: 1.0}  # incidents per grid: towns are busier
SOURCES = ((Source.PHONE_TRANSFER, 55), (Source.CITIZEN_APP, 30), (Source.PATROL, 11),
           (Source.VOLUNTEER, 4))

OUTCOMES = {
    "dispute": ((Outcome.MEDIATED, 75), (Outcome.TRANSFERRED, 12), (Outcome.WARNING_GIVEN, 8),
                (Outcome.NO_FINDING, 5)),
    "help": ((Outcome.HELP_GIVEN, 85), (Outcome.TRANSFERRED, 8), (Outcome.NO_FINDING, 5),
             (Outcome.FALSE_REPORT, 2)),
    "traffic": ((Outcome.HANDLED_ON_SITE, 60), (Outcome.TRANSFERRED, 30),
                (Outcome.MEDIATED, 8), (Outcome.NO_FINDING, 2)),
    "theft": ((Outcome.CASE_FILED, 65), (Outcome.HANDLED_ON_SITE, 15), (Outcome.NO_FINDING, 15),
              (Outcome.FALSE_REPORT, 5)),
    "violent": ((Outcome.CASE_FILED, 85), (Outcome.HANDLED_ON_SITE, 10),
                (Outcome.NO_FINDING, 5)),
    "fraud": ((Outcome.CASE_FILED, 45), (Outcome.HANDLED_ON_SITE, 35), (Outcome.TRANSFERRED, 20)),
    "order": ((Outcome.WARNING_GIVEN, 45), (Outcome.HANDLED_ON_SITE, 25), (Outcome.CASE_FILED, 12),
              (Outcome.MEDIATED, 8), (Outcome.NO_FINDING, 10)),
    "tip": ((Outcome.TRANSFERRED, 40), (Outcome.HANDLED_ON_SITE, 30), (Outcome.NO_FINDING, 25),
            (Outcome.FALSE_REPORT, 5)),
    "fire": ((Outcome.TRANSFERRED, 55), (Outcome.HANDLED_ON_SITE, 40), (Outcome.NO_FINDING, 5)),
    "hazard": ((Outcome.HELP_GIVEN, 60), (Outcome.TRANSFERRED, 35), (Outcome.NO_FINDING, 5)),
    "other": ((Outcome.HANDLED_ON_SITE, 50), (Outcome.NO_FINDING, 30), (Outcome.FALSE_REPORT, 10),
              (Outcome.TRANSFERRED, 10)),
}
OUTCOME_NOTES = {
    Outcome.MEDIATED: ("经民警现场调解，双方达成和解", "双方签订调解协议，矛盾已化解",
                       "已联合村（居）委会调解完毕"),
    Outcome.TRANSFERRED: ("已移交相关职能部门处理", "已移交交警大队处理", "已移交司法所跟进调解",
                          "已移交消防救援大队处置"),
    Outcome.WARNING_GIVEN: ("对当事人进行了批评教育", "已对双方进行法治宣传和批评教育"),
    Outcome.CASE_FILED: ("已受案登记，转办案队侦查", "已立案，调取周边监控", "已受案，开展走访调查"),
    Outcome.HELP_GIVEN: ("已帮助当事人解决问题", "已将老人安全送回家中", "已联系家属接回",
                         "已送医救治"),
    Outcome.HANDLED_ON_SITE: ("现场处置完毕", "现场疏导完毕，秩序恢复正常", "成功劝阻，未造成损失"),
    Outcome.NO_FINDING: ("民警到场未发现报警所述情况", "到场时当事人已离开，经回访无异常"),
    Outcome.FALSE_REPORT: ("经核实为虚假报警，已对报警人进行教育",),
}
GROUP_MINUTES = {  # median minutes on scene before the handling is finished
    "dispute": 35, "help": 25, "traffic": 40, "theft": 45, "violent": 60, "fraud": 40,
    "order": 30, "tip": 20, "fire": 60, "hazard": 50, "other": 15,
}

