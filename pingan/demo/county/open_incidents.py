"""Live incidents at generation time: a few in flight so the board is not empty."""

from __future__ import annotations

from datetime import timedelta

from pingan.accounts.models import User
from pingan.incidents import services as incidents
from pingan.incidents.models import (
    Source,
    Unit,
)
from pingan.orgs.models import GridKind

from .geography import to_wgs84
from .plan import RESERVED_UNIT_USERS, GridPlan
from .structure import Structure


def actor_for(unit: Unit) -> User | None:
    """Who answers for a unit: its person, or a team's first member (its leader)."""
    if unit.user_id:
        return unit.user
    return unit.members.order_by("pk").first()


def _first_village(structure: Structure, town_index: int) -> GridPlan:
    return next(
        g for g in structure.plan.grids if g.town == town_index and g.kind == GridKind.RURAL_VILLAGE
    )


def open_incidents(structure: Structure, now) -> None:
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
