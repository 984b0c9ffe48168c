"""Choosing a unit for an incident: the grid's own officer or auxiliary first, else the fastest.

Travel time is estimated from straight-line distance, a road detour factor and a speed
setting; positions older than POSITION_STALE_MINUTES do not count (the unit may have moved).
"""

import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from pingan.geo.distance import haversine_m

from .models import Incident, Unit

ROAD_FACTOR = 1.3  # straight line → road distance, a common rule of thumb for rural roads
SEARCH_RADIUS_KM = 60  # no unit further than this is offered automatically
NEAR_RADIUS_KM = 8


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    distance_m: float
    eta_seconds: int
    own_grid: bool


def eta_seconds(distance_m: float) -> int:
    speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
    return int(math.ceil(distance_m * ROAD_FACTOR / speed_ms))


# Look close first: at province scale a 60 km box holds thousands of units, and the nearest
# free one is almost always within a few kilometres.
SEARCH_RADII_KM = (NEAR_RADIUS_KM, SEARCH_RADIUS_KM)

UNIT_FIELDS = ("id", "name", "kind", "lng", "lat", "user_id", "org_id")


def _units_in_box(incident: Incident, radius_km: float, *, fresh_after, exclude, scope_path):
    dlat = radius_km / 111.32
    dlng = radius_km / (111.32 * max(math.cos(math.radians(incident.lat)), 0.01))
    rows = Unit.objects.filter(
        on_duty=True,
        current_assignment__isnull=True,
        position_at__gte=fresh_after,
        lat__range=(incident.lat - dlat, incident.lat + dlat),
        lng__range=(incident.lng - dlng, incident.lng + dlng),
    ).exclude(pk__in=list(exclude))
    if scope_path:
        rows = rows.filter(org_path__startswith=scope_path)
    # Plain tuples: building a model instance per row was most of the cost at scale.
    return list(rows.values_list(*UNIT_FIELDS))


def candidates(
    incident: Incident, *, now, exclude_unit_ids=(), scope_path: str = ""
) -> list[Candidate]:
    """On-duty free units ordered by preference.

    Order: the grid's own officer/auxiliaries able to arrive within the target, then every other
    unit by estimated travel time. `scope_path` limits the search to an org subtree (the county).
    """
    fresh_after = now - timedelta(minutes=settings.POSITION_STALE_MINUTES)
    own_user_ids = set()
    if incident.grid_id:
        grid = incident.grid
        if grid.officer_id:
            own_user_ids.add(grid.officer_id)
        own_user_ids.update(grid.auxiliaries.values_list("pk", flat=True))
    rows = []
    for radius in SEARCH_RADII_KM:
        rows = _units_in_box(
            incident,
            radius,
            fresh_after=fresh_after,
            exclude=exclude_unit_ids,
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
    return [
        Candidate(Unit(**dict(zip(UNIT_FIELDS, row, strict=True))), distance, eta, own)
        for _, row, distance, eta, own in ranked
    ]
