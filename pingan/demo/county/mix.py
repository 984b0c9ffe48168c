"""The incident mix, shared with the simulator: which categories happen how often, at what
hours, in which kinds of grid and season, and where in a grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from pingan.incidents.models import (
    Category,
    Source,
)
from pingan.orgs.models import GridKind

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
