"""Input and output schemas of the volunteers API (`pingan.volunteers.api`).

Names are unique across the whole API: the OpenAPI document keeps one component per name.
"""

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, Field

from pingan.core.pagination import PageOut
from pingan.core.schemas import (
    InputSchema,
    Lat,
    Lng,
    LngLat,
    QuerySchema,
    RefCode,
    RefOut,
    Text,
)
from pingan.core.schemas import When as BaseWhen

from .models import Availability, Skill, TaskKind

# --- input schemas ------------------------------------------------------------------------------


def _task_years(value: datetime) -> datetime:
    # Tasks are posted for these years only.
    if not 2000 <= value.year <= 2100:
        raise ValueError("时间超出范围")
    return value


When = Annotated[BaseWhen, AfterValidator(_task_years)]
Crs = Literal["wgs84", "gcj02", "bd09"]
SkillIn = Literal[tuple(Skill.values)]  # type: ignore[valid-type]
AvailabilityIn = Literal[tuple(Availability.values)]  # type: ignore[valid-type]


class ProfileIn(InputSchema):
    real_name: Text(32)
    phone: Text(30)
    skills: list[SkillIn] = Field(default_factory=list, max_length=len(Skill.values))
    availability: list[AvailabilityIn] = Field(
        default_factory=list, max_length=len(Availability.values)
    )
    home_grid: RefCode | None = Field(default=None, description="Grid code (居住网格), optional")


class TeamIn(InputSchema):
    name: Text(64)
    org: RefCode = Field(description="Org unit code within the caller's jurisdiction")
    description: Text(500) = ""
    requires_approval: bool = True
    leader: Text(150) | None = Field(default=None, description="Leader's username")
    grids: list[RefCode] = Field(default_factory=list, max_length=500)


class MembershipNoteIn(InputSchema):
    note: Text(200) = ""


class ReasonIn(InputSchema):
    reason: Text(200)


class TaskIn(InputSchema):
    kind: Literal[tuple(TaskKind.values)]  # type: ignore[valid-type]
    title: Text(100)
    description: Text(2000) = ""
    starts_at: When
    ends_at: When
    meeting_address: Text(200)
    lng: Lng
    lat: Lat
    crs: Crs = "wgs84"
    route: list[LngLat] = Field(
        default_factory=list, max_length=500, description="[[lng, lat], …] in `crs`"
    )
    checkin_radius_m: int | None = Field(default=None, ge=20, le=5000)
    slots: int = Field(ge=1, le=10_000)
    teams: list[RefCode] = Field(default_factory=list, max_length=500)
    grids: list[RefCode] = Field(default_factory=list, max_length=500)


class PlaceIn(InputSchema):
    """Either a position (lng, lat, crs) or the on-site QR token (`qr`)."""

    lng: Lng | None = None
    lat: Lat | None = None
    crs: Crs = "wgs84"
    qr: Text(64) | None = None


class TaskListIn(QuerySchema):
    view: Literal["open", "mine", "all"] = "open"


# --- output schemas -----------------------------------------------------------------------------


class ProfileOut(Schema):
    real_name: str
    phone: str = Field(description="The owner's own number, in full (E.164)")
    skills: list[str]
    skill_labels: list[str]
    availability: list[str]
    availability_labels: list[str]
    home_grid: RefOut | None
    role: str
    created_at: str
    updated_at: str


class TeamOut(Schema):
    code: str
    name: str
    org: RefOut
    description: str
    leader: str | None
    requires_approval: bool
    active: bool
    members: int = Field(description="Active members")
    my_status: str | None = Field(description="The caller's membership: pending / active / null")
    can_manage: bool


class MemberOut(Schema):
    id: int = Field(description="Membership id (for approve / reject / remove)")
    name: str
    phone: str = Field(description="Masked, e.g. 138****5678")
    skills: list[str]
    status: str
    status_label: str
    is_leader: bool
    applied_at: str
    joined_at: str | None


class TeamDetailOut(TeamOut):
    grids: list[RefOut]
    member_list: list[MemberOut]
    pending: list[MemberOut] = Field(description="Applications to decide (managers only)")
    invite_url: str | None = Field(description="Managers only")
    qr_url: str | None = Field(description="Managers only: the invite QR code as SVG")


class TeamPreviewOut(Schema):
    code: str
    name: str
    org: RefOut
    description: str
    requires_approval: bool
    members: int
    has_profile: bool
    my_status: str | None


class MembershipOut(Schema):
    id: int
    team: RefOut
    status: str
    status_label: str
    applied_at: str
    joined_at: str | None
    ended_at: str | None
    note: str


class PointOut(Schema):
    lng: float
    lat: float


class TaskOut(Schema):
    code: str
    title: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    org: RefOut
    starts_at: str
    ends_at: str
    meeting_address: str
    slots: int
    taken: int
    left: int
    waiting: int
    my_status: str | None


class MySignupOut(Schema):
    id: int
    task: str
    task_title: str
    status: str
    status_label: str
    position: int | None = Field(description="Place on the waiting list, 1 = next")
    promoted: bool
    team: RefOut | None
    created_at: str
    accepted_at: str | None
    cancelled_at: str | None
    checked_in_at: str | None
    checkin_method: str
    checked_out_at: str | None
    checkout_method: str
    report_text: str
    reported_at: str | None
    photos: list[str]
    review: str
    review_label: str
    review_reason: str
    hours: str = Field(description="Decimal as text, e.g. 2.50")
    points_awarded: int


class VolunteerRefOut(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked")


class SignupOut(MySignupOut):
    user: VolunteerRefOut
    checkin_distance_m: float | None


class TaskDetailOut(TaskOut):
    description: str
    meeting: PointOut = Field(description="WGS-84")
    route: list[list[float]]
    checkin_radius_m: int
    teams: list[RefOut]
    grids: list[RefOut]
    posted_by: str | None
    published_at: str
    cancelled_at: str | None
    cancel_reason: str
    can_manage: bool
    qr_token: str | None = Field(description="Managers only: what the on-site QR encodes")
    qr_url: str | None = Field(description="Managers only: the on-site QR code as SVG")
    my_signup: MySignupOut | None


class TaskListOut(PageOut):
    items: list[TaskOut]


class TeamListOut(PageOut):
    items: list[TeamOut]


class SignupResultOut(Schema):
    status: Literal["accepted", "waiting"]
    status_label: str
    position: int | None
    signup: int
    task: str
    created_at: str


class SignupListOut(PageOut):
    items: list[SignupOut]


class HistoryOut(PageOut):
    tasks_done: int
    hours: str
    points_earned: int
    items: list[MySignupOut]
    signups: list[MySignupOut] = Field(description="The same rows as `items` (kept for old apps)")
