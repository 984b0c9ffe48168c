"""Choosing a unit for an incident: the grid's own officer or auxiliary first, else the fastest.

Travel time is estimated from straight-line distance, a road detour factor and a speed
setting; positions older than POSITION_STALE_MINUTES do not count (the unit may have moved).
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.db.models import Q

from pingan.geo.distance import haversine_m

from .models import Incident, Unit, UnitKind

ROAD_FACTOR = 1.3  # straight line → road distance, a common rule of thumb for rural roads
SEARCH_RADIUS_KM = 60  # no unit further than this is offered automatically
NEAR_RADIUS_KM = 8


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    distance_m: float | None
    eta_seconds: int | None
    own_grid: bool
    # Set for a fallback offer (no unit has a fresh position): "own_grid" or "response_team".
    fallback: str = ""


class _RankedCandidates(list):
    """Candidates built on demand: a box can hold hundreds of free units, and the first one
    offered is nearly always taken, so only the ones reached become model instances."""

    def __init__(self, ranked):
        super().__init__(ranked)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return _candidate(item) if not isinstance(index, slice) else [_candidate(i) for i in item]

    def __iter__(self):
        for item in super().__iter__():
            yield _candidate(item)


def _candidate(item) -> Candidate:
    _, row, distance, eta, own = item
    return Candidate(Unit(**dict(zip(UNIT_FIELDS, row, strict=True))), distance, eta, own)


def eta_seconds(distance_m: float) -> int:
    speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
    return int(math.ceil(distance_m * ROAD_FACTOR / speed_ms))


# Look close first: at province scale a 60 km box holds thousands of units, and the nearest
# free one is almost always within a few kilometres.
SEARCH_RADII_KM = (NEAR_RADIUS_KM, SEARCH_RADIUS_KM)

UNIT_FIELDS = ("id", "name", "kind", "lng", "lat", "user_id", "org_id")
UNIT_COLUMNS = UNIT_FIELDS  # attnames and columns coincide for these


@lru_cache(maxsize=4)
def _box_sql(scoped: bool, vendor: str) -> str:
    # Plain SQL built once: the ORM spent ~3 ms of Python building this query per report.
    table = Unit._meta.db_table
    sql = (
        f"SELECT {', '.join(UNIT_COLUMNS)} FROM {table} WHERE on_duty = %s"
        " AND current_assignment_id IS NULL AND position_at >= %s"
        " AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s"
    )
    return sql + " AND org_path LIKE %s" if scoped else sql


def _units_in_box(lng, lat, radius_km: float, *, fresh_after, exclude, scope_path):
    dlat = radius_km / 111.32
    dlng = radius_km / (111.32 * max(math.cos(math.radians(lat)), 0.01))
    params = [
        True,
        Unit._meta.get_field("position_at").get_db_prep_value(fresh_after, connection),
        lat - dlat,
        lat + dlat,
        lng - dlng,
        lng + dlng,
    ]
    if scope_path:
        params.append(scope_path + "%")
    with connection.cursor() as cursor:
        cursor.execute(_box_sql(bool(scope_path), connection.vendor), params)
        rows = cursor.fetchall()
    # Plain tuples: building a model instance per row was most of the cost at scale.
    return [row for row in rows if row[0] not in exclude] if exclude else rows


def own_unit_users(grid) -> set[int]:
    """The users whose units count as the grid's own: its officer and its auxiliaries."""
    users = {grid.officer_id} if grid.officer_id else set()
    users.update(grid.auxiliaries.values_list("pk", flat=True))
    return users


def candidates(
    incident: Incident,
    *,
    now,
    exclude_unit_ids=(),
    scope_path: str = "",
    own_user_ids: set[int] | None = None,
) -> list[Candidate]:
    """On-duty free units ordered by preference.

    Order: the grid's own officer/auxiliaries able to arrive within the target, then every other
    unit by estimated travel time. `scope_path` limits the search to an org subtree (the county).
    `own_user_ids` are the grid's own people when the caller has them at hand (the report path
    reads them from the reference cache); otherwise they are read from the grid.
    """
    fresh_after = now - timedelta(minutes=settings.POSITION_STALE_MINUTES)
    if own_user_ids is None:
        own_user_ids = own_unit_users(incident.grid) if incident.grid_id else set()
    rows = []
    for radius in SEARCH_RADII_KM:
        rows = _units_in_box(
            incident.lng,
            incident.lat,
            radius,
            fresh_after=fresh_after,
            exclude=set(exclude_unit_ids),
            scope_path=scope_path,
        )
        # Nobody beyond the near box could meet a 1-3-5 target (8 km ≈ 21 min at 30 km/h
        # with detours), so the grid's own people, if free and in time, are in the first box.
        if rows:
            break
    ranked = []
    for row in rows:
        distance = haversine_m(incident.lng, incident.lat, row[3], row[4])
        eta = eta_seconds(distance)
        own = row[5] in own_user_ids and eta <= incident.target_arrive_s
        # Own grid first; within own grid the officer before auxiliaries; then by travel time.
        key = (not own, row[2] != "officer" if own else False, eta, row[0])
        ranked.append((key, row, distance, eta, own))
    ranked.sort(key=lambda item: item[0])
    return _RankedCandidates(ranked)


FALLBACK_OWN_GRID = "own_grid"
FALLBACK_RESPONSE_TEAM = "response_team"


def fallback_candidates(
    incident: Incident, *, own_user_ids: set[int], station_path: str, exclude_unit_ids=()
) -> list[Candidate]:
    """When no free unit has a fresh position: the grid's own on-duty officer and auxiliaries,
    then the station's on-duty quick-response teams, wherever their last position was (or
    without one). Only run after the normal search found nobody, so it costs the report path
    nothing in the usual case. Distance and ETA come from a last known position, if any."""
    wanted = Q(user_id__in=own_user_ids) if own_user_ids else Q(pk__in=[])
    if station_path:
        wanted |= Q(kind=UnitKind.RESPONSE_TEAM, org_path__startswith=station_path)
    units = (
        Unit.objects.filter(wanted, on_duty=True, current_assignment__isnull=True)
        .exclude(pk__in=list(exclude_unit_ids))
        .only(*UNIT_FIELDS)
    )
    ranked = []
    for unit in units:
        own = unit.user_id in own_user_ids
        distance = eta = None
        if unit.lng is not None and unit.lat is not None:
            distance = haversine_m(incident.lng, incident.lat, unit.lng, unit.lat)
            eta = eta_seconds(distance)
        rank = 0 if own and unit.kind == UnitKind.OFFICER else 1 if own else 2
        key = (rank, eta if eta is not None else math.inf, unit.pk)
        why = FALLBACK_OWN_GRID if own else FALLBACK_RESPONSE_TEAM
        ranked.append((key, Candidate(unit, distance, eta, own, why)))
    ranked.sort(key=lambda item: item[0])
    return [candidate for _, candidate in ranked]
