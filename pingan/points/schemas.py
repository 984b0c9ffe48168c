"""Input and output schemas of the points API (`pingan.points.api` and its recognition
endpoints, `pingan.points.api_recognition`).

Names are unique across the whole API: the OpenAPI document keeps one component per name.
"""

from typing import Literal

from ninja import Schema
from pydantic import Field

from pingan.core.pagination import PageOut
from pingan.core.schemas import (
    DisputeCodeIn,
    InputSchema,
    QuerySchema,
    RecordId,
    RefOut,
    RequiredText,
    Text,
    Username,
)

from . import services
from .earning import MAX_ADJUST
from .models import EntryKind, OrderStatus

# --- input schemas ------------------------------------------------------------------------------


class RedeemIn(InputSchema):
    item: RecordId
    quantity: int = Field(default=1, ge=1, le=services.MAX_QUANTITY)


class CancelIn(InputSchema):
    reason: Text(200) | None = None


class VerifyIn(InputSchema):
    code: Text(40, min_length=1)


class MediationHelpIn(InputSchema):
    dispute: DisputeCodeIn
    session: RecordId
    helper_phone: Text(30, min_length=1)


class AdjustIn(InputSchema):
    user: Username
    amount: int = Field(ge=-MAX_ADJUST, le=MAX_ADJUST)
    reason: RequiredText(200)


class LedgerFilterIn(QuerySchema):
    user: Username | None = None
    kind: Literal[tuple(EntryKind.values)] | None = None  # type: ignore[valid-type]


class OrderFilterIn(QuerySchema):
    status: Literal[tuple(OrderStatus.values)] | None = None  # type: ignore[valid-type]


# --- output schemas -----------------------------------------------------------------------------


class BalanceOut(Schema):
    user: str
    balance: int


class EntryOut(Schema):
    id: int
    user: str
    amount: int
    kind: str
    kind_label: str
    rule: str
    reason: str
    source_type: str
    source_ref: str
    org: str | None
    team: str | None
    created_at: str


class LedgerOut(PageOut):
    balance: int | None = Field(description="The person's balance when one person's ledger")
    items: list[EntryOut]


class PointRuleOut(Schema):
    code: str
    label: str
    points: int
    task_kinds: list[str]


class ItemOut(Schema):
    id: int
    name: str
    description: str
    points_price: int
    stock: int
    limit_per_person: int | None
    limit_period: str
    active: bool


class ShopOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    org: str
    address: str
    phone: str
    opening_hours: str
    lng: float | None
    lat: float | None
    active: bool


class ShopListOut(PageOut):
    items: list[ShopOut]


class ShopDetailOut(ShopOut):
    items: list[ItemOut]


class OrderOut(Schema):
    code: str
    status: str
    status_label: str
    item: ItemOut
    shop: ShopOut
    quantity: int
    points: int
    user: str = Field(description="The resident (name masked unless it is the caller)")
    redeem_code: str | None = Field(description="Only for the order's owner")
    verify_url: str | None = Field(description="What the order's QR code opens; owner only")
    created_at: str
    expires_at: str
    verified_at: str | None
    cancelled_at: str | None
    cancel_reason: str


class OrderListOut(PageOut):
    items: list[OrderOut]


class EntryWithBalanceOut(Schema):
    entry: EntryOut
    balance: int


# --- recognition: leaderboard and team statistics ----------------------------------------------


class LeaderboardScopeOut(Schema):
    kind: Literal["team", "org"] = Field(description="A team's board or an org unit's subtree")
    code: str = Field(description="The team's or unit's code; empty for everything")
    name: str


class LeaderboardRowOut(Schema):
    rank: int = Field(description="Equal points share a rank (1, 1, 3 …)")
    user_id: int
    name: str = Field(description="Masked on the server")
    team: RefOut | None = Field(
        description="The board's team, else the team the person earned most through"
    )
    points: int = Field(description="Points earned in the month (refunds are not earnings)")
    hours: float = Field(description="Confirmed hours of tasks checked in during the month")


class LeaderboardOut(Schema):
    month: str = Field(description="YYYY-MM, Asia/Shanghai")
    scope: LeaderboardScopeOut
    rows: list[LeaderboardRowOut]


class TeamStatsPeriodOut(Schema):
    from_: str = Field(alias="from", description="First day, YYYY-MM-DD (inclusive)")
    to: str = Field(description="Last day, YYYY-MM-DD (inclusive)")


class TeamStatsRowOut(Schema):
    """One team's figures."""

    team: RefOut
    org: RefOut
    members: int = Field(description="Members on the period's last day")
    active: int = Field(description="Members who checked in on a task in the period")
    hours: float = Field(description="Confirmed hours served")
    tasks: int = Field(description="Tasks offered starting in the period, not cancelled")
    slots: int
    filled: int
    fill_rate: float | None = Field(description="filled / slots; null without slots")
    points_issued: int = Field(description="EARN entries carrying the team")
    points_redeemed: int = Field(description="Orders placed in the period by the members")
    team_active: bool = Field(description="Whether the team is still active")


class TeamStatsTotalsOut(Schema):
    """All teams together: people and tasks counted once."""

    team: None = Field(description="Always null: the totals are of every team")
    org: RefOut | None = Field(description="The unit counted; null for everything")
    members: int = Field(description="Members on the period's last day")
    active: int = Field(description="Members who checked in on a task in the period")
    hours: float = Field(description="Confirmed hours served")
    tasks: int = Field(description="Tasks offered starting in the period, not cancelled")
    slots: int
    filled: int
    fill_rate: float | None = Field(description="filled / slots; null without slots")
    points_issued: int = Field(description="EARN entries carrying the team")
    points_redeemed: int = Field(description="Orders placed in the period by the members")


class TeamStatsOut(Schema):
    period: TeamStatsPeriodOut
    scope: RefOut = Field(description="The unit counted; code empty for everything")
    teams: list[TeamStatsRowOut]
    totals: TeamStatsTotalsOut
