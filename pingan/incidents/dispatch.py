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


@dataclass(frozen=True)
class Candidate:
    unit: Unit
    distance_m: float
    eta_seconds: int
    own_grid: bool


def eta_seconds(distance_m: float) -> int:
    speed_ms = settings.UNIT_SPEED_KMH * 1000 / 3600
    return int(math.ceil(distance_m * ROAD_FACTOR / speed_ms))


def candidates(
    incident: Incident, *, now, exclude_unit_ids=(), scope_path: str = "", within_target_only=False
) -> list[Candidate]:
    """On-duty free units ordered by preference.

    Order: the grid's own officer/auxiliaries able to arrive within the target, then every other
    unit by estimated travel time. `scope_path` limits the search to an org subtree (the county).
    """
    fresh_after = now - timedelta(minutes=settings.POSITION_STALE_MINUTES)
    dlat = SEARCH_RADIUS_KM / 111.32
    dlng = SEARCH_RADIUS_KM / (111.32 * max(math.cos(math.radians(incident.lat)), 0.01))
    units = (
        Unit.objects.filter(
            on_duty=True,
            current_assignment__isnull=True,
            position_at__gte=fresh_after,
            lat__range=(incident.lat - dlat, incident.lat + dlat),
            lng__range=(incident.lng - dlng, incident.lng + dlng),
        )
        .exclude(pk__in=list(exclude_unit_ids))
        .only("id", "name", "kind", "lng", "lat", "user_id", "org_id")
    )
    if scope_path:
        units = units.filter(org_path__startswith=scope_path)
    own_user_ids = set()
    if incident.grid_id:
        grid = incident.grid
        if grid.officer_id:
            own_user_ids.add(grid.officer_id)
        own_user_ids.update(grid.auxiliaries.values_list("pk", flat=True))
    found = []
    for unit in units:
        distance = haversine_m(incident.lng, incident.lat, unit.lng, unit.lat)
        eta = eta_seconds(distance)
        own = unit.user_id in own_user_ids and eta <= incident.target_arrive_s
        found.append(Candidate(unit, distance, eta, own))
    if within_target_only:
        found = [c for c in found if c.eta_seconds <= incident.target_arrive_s]
    # Own grid first; within own grid the officer before auxiliaries; then by travel time.
    found.sort(
        key=lambda c: (
            not c.own_grid,
            c.unit.kind != "officer" if c.own_grid else 0,
            c.eta_seconds,
            c.unit.pk,
        )
    )
    return found
