"""The county's fixed shape and its grids: six towns in a wobbly outline, the county seat's
communities, villages scattered between them, all cut into grids that tile the county exactly
(Voronoi cells) and numbered with 12-digit division codes. Plain geometry in a local km plane
centred on the county seat; `to_wgs84` / `plane_to_wgs84` place it on the map.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import shapely

from pingan.orgs.models import GridKind

if TYPE_CHECKING:
    from .offices import OfficePlan

CITY_CODE = "360800"
COUNTY_CODE = "360827"
# The county seat (城关镇) in WGS-84; the local plane below is in km from here.
ORIGIN_LNG, ORIGIN_LAT = 114.30, 26.30
KM_PER_DEG_LAT = 111.32
KM_PER_DEG_LNG = 111.32 * math.cos(math.radians(ORIGIN_LAT))

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


# --- grids: everything structural about them, computed from the seed alone ------------------------


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


def to_wgs84(x, y) -> tuple[float, float]:
    return ORIGIN_LNG + x / KM_PER_DEG_LNG, ORIGIN_LAT + y / KM_PER_DEG_LAT


def plane_to_wgs84(geometry):
    scale = np.array([1 / KM_PER_DEG_LNG, 1 / KM_PER_DEG_LAT])
    origin = np.array([ORIGIN_LNG, ORIGIN_LAT])
    return shapely.transform(geometry, lambda coords: coords * scale + origin)


def county_outline(rng: random.Random):
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


def urban_seeds(rng: random.Random) -> list[GridPlan]:
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


def fixed_seeds() -> list[GridPlan]:
    seeds = [
        GridPlan(i, GridKind.URBAN_COMMUNITY, "圩镇", t.x, t.y)
        for i, t in enumerate(TOWNS)
        if i != SEAT
    ]
    seeds += [GridPlan(t, GridKind.INDUSTRIAL_PARK, n, x, y) for t, n, x, y in INDUSTRIAL_PARKS]
    seeds += [GridPlan(t, GridKind.SCENIC_AREA, n, x, y) for t, n, x, y in SCENIC_AREAS]
    return seeds


def village_seeds(rng: random.Random, outline, taken: list[GridPlan]) -> list[GridPlan]:
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


def cut_cells(outline, grids: list[GridPlan]) -> None:
    """Voronoi cells of the seeds, clipped to the outline: grids tile the county exactly."""
    seeds = shapely.multipoints([(g.x, g.y) for g in grids])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=outline, ordered=True))
    for grid, cell in zip(grids, shapely.intersection(cells, outline), strict=True):
        if not isinstance(cell, shapely.Polygon | shapely.MultiPolygon):
            cell = shapely.MultiPolygon(
                [p for p in shapely.get_parts(cell) if isinstance(p, shapely.Polygon)]
            )
        grid.local = cell


def number_grids(grids: list[GridPlan]) -> None:
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


def point_near_seed(rng: random.Random, grid: GridPlan, spread_km: float = 0.3):
    """A WGS-84 point inside the grid near its centre: where staff usually are."""
    for _ in range(200):
        x, y = rng.gauss(grid.x, spread_km), rng.gauss(grid.y, spread_km)
        if grid.local.contains(shapely.Point(x, y)):
            return to_wgs84(x, y)
    return to_wgs84(grid.x, grid.y)  # the seed is always inside its own cell
