"""The volunteers' run, planned: its settings and the pieces of its plan (a person's stint in a
team, a team's, a task's and a shop's life), and the simulated clock the steps run on.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pingan.accounts.models import User
from pingan.core import clock
from pingan.orgs.models import GridKind
from pingan.points.models import (
    Shop,
)
from pingan.volunteers.models import (
    Task,
    Team,
)

from . import tales

DEFAULT_DENSITY = 14.0
# At a thin incident history the task history thins too, but never below this share.
MIN_SCALE = 0.2
HISTORY_DAYS = 365
# Tasks posted in this last stretch are played step by step through the services; older ones
# are written as the services would have left them (see `Signups._write_past`), since a year of
# sign-ups, check-ins and reviews call by call would take minutes.
SERVICE_WINDOW = timedelta(days=14)
# Steps are never planned closer to `now` than this.
SAFETY = timedelta(minutes=2)
URBAN, RURAL, PARK, SCENIC = (
    GridKind.URBAN_COMMUNITY,
    GridKind.RURAL_VILLAGE,
    GridKind.INDUSTRIAL_PARK,
    GridKind.SCENIC_AREA,
)
M_PER_DEG = 111_320.0


@contextmanager
def clock_at(moment: datetime):
    """Services read the time from `clock.now`; during a step it is the step's moment."""
    real = clock.now
    clock.now = lambda: moment
    try:
        yield
    finally:
        clock.now = real


# --- the plan's pieces --------------------------------------------------------------------------


@dataclass
class Stint:
    """One person's application to one team and what becomes of it."""

    user: User
    team: str  # TeamSpec.key
    applied_at: datetime
    fate: str  # active / left / removed / rejected / pending
    decided_at: datetime | None = None  # approval (or rejection) time, approval teams only
    ended_at: datetime | None = None  # left or removed
    by_chief: bool = False  # decided by the station chief rather than the leader
    membership_id: int | None = None

    @property
    def active_from(self) -> datetime | None:
        if self.fate in ("rejected", "pending"):
            return None
        return self.decided_at or self.applied_at

    def active_over(self, start: datetime, end: datetime) -> bool:
        begun = self.active_from
        return (
            begun is not None and begun <= start and (self.ended_at is None or self.ended_at > end)
        )


@dataclass
class TeamLife:
    spec: tales.TeamSpec
    leader: User
    founder: User  # the chief or commander who sets it up
    org: object
    grids: list  # GridPlan
    founded_at: datetime
    stints: list[Stint] = field(default_factory=list)
    team: Team | None = None
    officers: list[User] = field(default_factory=list)


@dataclass
class TaskLife:
    key: int
    kind: str
    title: str
    description: str
    poster: User
    posted_at: datetime
    starts_at: datetime
    ends_at: datetime
    address: str
    point: tuple[float, float]
    route: list
    slots: int
    teams: list[str]
    grid_codes: list[str] = field(default_factory=list)
    rush: bool = False
    signups: list[tuple[datetime, User]] = field(default_factory=list)
    cancels: list[tuple[datetime, User]] = field(default_factory=list)
    cancel_at: datetime | None = None
    cancel_reason: str = ""
    review_at: datetime | None = None  # None: nobody has reviewed it yet
    show: float = 0.92  # share of accepted volunteers who turn up
    must_show: tuple = ()  # users who always turn up and report
    code: str = ""
    qr_token: str = ""
    on_site: list = field(default_factory=list)  # (user, signup id)
    task: Task | None = None  # the older history's task row
    confirmed: list = field(default_factory=list)  # its confirmed sign-ups


@dataclass
class ShopLife:
    town: int
    name: str
    kind: str
    specs: tuple
    clerk: User
    shop: Shop | None = None
    items: list = field(default_factory=list)  # (RewardItem, ItemSpec)
