"""Input and output schemas of the incidents API (`pingan.incidents.api`).

Names are unique across the whole API: the OpenAPI document keeps one component per name.
"""

from typing import Literal

from ninja import Schema
from pydantic import Field, field_validator

from pingan.core.pagination import PageOut
from pingan.core.schemas import (
    IncidentCodeIn,
    InputSchema,
    Lat,
    Lng,
    QueryBool,
    QuerySchema,
    QueryText,
    RecordId,
    RefOut,
    RequiredText,
    Text,
    When,
)

from .models import Outcome, Status

CRS = Literal["wgs84", "gcj02", "bd09"]


# --- input schemas ------------------------------------------------------------------------------


class IncidentLocationIn(InputSchema):
    lat: Lat
    lng: Lng
    crs: CRS = "wgs84"


class ReportIn(InputSchema):
    category: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")
    description: RequiredText(2000)
    location: IncidentLocationIn
    address: Text(200) | None = None
    anonymous: bool = False
    source: Literal["citizen_app", "phone_transfer", "patrol", "volunteer", "sensor"] = (
        "citizen_app"
    )

    @field_validator("description")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("描述不能为空")
        return value


class IncidentResolveIn(InputSchema):
    outcome: Literal[tuple(Outcome.values)]  # type: ignore[valid-type]
    note: Text(2000) = ""
    valid: bool = True


class IncidentNoteIn(InputSchema):
    note: Text(500) = ""


class RateIn(InputSchema):
    rating: int = Field(ge=1, le=5)
    comment: Text(500) = ""


class RedispatchIn(InputSchema):
    unit_id: RecordId | None = None
    reason: Text(200) = ""


class MergeIn(InputSchema):
    into: IncidentCodeIn


class PositionIn(InputSchema):
    lat: Lat
    lng: Lng
    crs: CRS = "wgs84"


class DutyIn(InputSchema):
    on_duty: bool


class IncidentFilter(QuerySchema):
    status: Literal[tuple(Status.values)] | None = None  # type: ignore[valid-type]
    category: str | None = Field(default=None, pattern=r"^\d{2,6}$")
    grid: QueryText(32) | None = None
    org: QueryText(32) | None = None
    since: When | None = None
    until: When | None = None
    open: QueryBool = False
    q: QueryText(100) | None = None


class ComplianceFilter(QuerySchema):
    group: Literal["grid", "org"] = "grid"
    since: When | None = None
    until: When | None = None


# --- output schemas -----------------------------------------------------------------------------
# What `snapshot.incident_snapshot` and the helpers in `api.py` build, field for field: a key
# missing here would be dropped from the answer. Times are ISO 8601 text (Asia/Shanghai) or null.


class CategoryOut(Schema):
    code: str
    name: str
    level: int
    parent: str | None
    default_priority: int


class LatLngOut(Schema):
    lat: float
    lng: float


class MilestoneOut(Schema):
    elapsed_s: float | None = Field(description="Seconds it took; null until done")
    target_s: int
    state: Literal["not_started", "running", "met", "missed"]
    deadline: str | None = Field(default=None, description="Only while running")


class SlaOut(Schema):
    """The 1-3-5 milestones: accept in 1 minute, arrive in 3, reinforcement in 5."""

    accept: MilestoneOut
    arrive: MilestoneOut
    reinforce: MilestoneOut


class AssignmentOut(Schema):
    id: int
    unit: str
    unit_id: int
    unit_kind: str
    role: str
    status: str
    status_label: str
    offered_at: str | None
    expires_at: str | None
    accepted_at: str | None
    arrived_at: str | None
    eta_seconds: int | None
    distance_m: int | None = Field(description="Metres, rounded")


class IncidentOut(Schema):
    """An incident as lists, reports and live pushes show it."""

    code: str
    status: str
    status_label: str
    category: str
    category_name: str
    priority: int
    source: str
    description: str
    address: str
    location: LatLngOut = Field(description="WGS-84")
    grid: RefOut | None
    org: str | None
    outside_grids: bool
    duplicate_of: str | None
    valid: bool | None
    outcome: str | None
    reported_at: str | None
    accepted_at: str | None
    arrived_at: str | None
    reinforce_requested_at: str | None
    reinforce_arrived_at: str | None
    resolved_at: str | None
    rating: int | None
    sla: SlaOut
    assignment: AssignmentOut | None = Field(description="The first active assignment")
    assignments: list[AssignmentOut] = Field(description="Active assignments")


class IncidentEventOut(Schema):
    id: int
    at: str | None
    kind: str
    label: str
    message: str
    unit: str | None


class IncidentDetailOut(IncidentOut):
    timeline: list[IncidentEventOut]
    photos: list[str]
    reporter: str | None = Field(default=None, description="Staff only")
    duplicates: list[str] | None = Field(default=None, description="Staff only")


class IncidentListOut(PageOut):
    items: list[IncidentOut]
    total: int = Field(description="Same as `count` (kept for old apps)")


class PhotosOut(Schema):
    photos: list[str]


class MyAssignmentOut(AssignmentOut):
    incident: IncidentOut


class MyAssignmentListOut(PageOut):
    items: list[MyAssignmentOut]


class ComplianceOut(Schema):
    code: str
    name: str
    total: int
    accept_rate: float | None
    arrive_rate: float | None
    reinforce_rate: float | None
    accepted: int
    arrived: int
    reinforced: int
    avg_accept_s: float | None
    avg_arrive_s: float | None


class UnitOut(Schema):
    id: int
    name: str
    kind: str
    org: str
    on_duty: bool
    busy: bool
    position: LatLngOut | None
    position_at: str | None


class UnitListOut(PageOut):
    items: list[UnitOut]
