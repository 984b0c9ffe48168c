"""Input and output schemas of the disputes API (`pingan.disputes.api`).

Names are unique across the whole API: the OpenAPI document keeps one component per name.
"""

from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from pingan.core.pagination import PageOut
from pingan.core.schemas import (
    Amount,
    InputSchema,
    Lat,
    Lng,
    QuerySchema,
    QueryText,
    RecordId,
    RefOut,
    RequiredText,
    Text,
    Username,
    When,
)

from . import lists, services
from .models import (
    Channel,
    DisputeType,
    PartyKind,
    PartyRole,
    Risk,
    Route,
    RouteBody,
    SessionOutcome,
    SignerRole,
    Status,
    Vulnerability,
)

# --- input schemas ------------------------------------------------------------------------------


class DisputeLocationIn(InputSchema):
    lng: Lng
    lat: Lat
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"


class PartyIn(InputSchema):
    name: RequiredText(100)
    kind: Literal[tuple(PartyKind.values)]  # type: ignore[valid-type]
    role: Literal[tuple(PartyRole.values)]  # type: ignore[valid-type]
    id_number: Text(30) | None = None
    phone: Text(30) | None = None
    address: Text(200) | None = None
    vulnerability: Literal[tuple(Vulnerability.values)] | None = None  # type: ignore[valid-type]
    notify: bool = False

    def to_input(self) -> services.PartyInput:
        return services.PartyInput(
            name=self.name,
            kind=self.kind,
            role=self.role,
            id_number=self.id_number or "",
            phone=self.phone or "",
            address=self.address or "",
            vulnerability=self.vulnerability or "",
            notify=self.notify,
        )


DisputeTypeIn = Literal[tuple(DisputeType.values)]  # type: ignore[valid-type]
StaffChannelIn = Literal[tuple(c.value for c in services.STAFF_CHANNELS)]  # type: ignore[valid-type]


class DisputeIn(InputSchema):
    type: DisputeTypeIn
    channel: StaffChannelIn
    title: Text(80) | None = None
    narrative: RequiredText(5000)
    grid: Text(32) | None = None
    location: DisputeLocationIn | None = None
    amount_yuan: Amount | None = Field(
        default=None, ge=0, lt=Decimal("1e12"), max_digits=14, decimal_places=2
    )
    address: Text(200) | None = None
    source_note: Text(300) | None = None
    owner: Username | None = None
    parties: list[PartyIn] = Field(min_length=1, max_length=services.MAX_PARTIES)


class RequestIn(InputSchema):
    type: DisputeTypeIn
    title: Text(80) | None = None
    narrative: RequiredText(5000)
    grid: Text(32) | None = None
    location: DisputeLocationIn | None = None
    address: Text(200) | None = None
    notify: bool = True
    # The resident is the applicant; these are the others (the resident's own entry is added).
    other_parties: list[PartyIn] = Field(default_factory=list, max_length=services.MAX_PARTIES - 1)


class ConvertIn(InputSchema):
    type: DisputeTypeIn
    title: Text(80) | None = None
    narrative: Text(5000) | None = None
    parties: list[PartyIn] = Field(min_length=1, max_length=services.MAX_PARTIES)
    owner: Username | None = None


class AcceptIn(InputSchema):
    owner: Username | None = None


class DeclineIn(InputSchema):
    reason: RequiredText(500)


class RiskIn(InputSchema):
    level: Literal["red", "yellow", "green", ""]
    reason: RequiredText(500)


class ReviewIn(InputSchema):
    note: Text(500) | None = None


class RouteIn(InputSchema):
    route: Literal[tuple(Route.values)]  # type: ignore[valid-type]
    body_kind: Literal[tuple(RouteBody.values)]  # type: ignore[valid-type]
    body_name: RequiredText(100)
    contact_name: RequiredText(50)
    contact_phone: Text(30) | None = None
    reason: Text(500) | None = None


class OwnerIn(InputSchema):
    username: Username


class DisputeNoteIn(InputSchema):
    message: RequiredText(500)


class OrderIn(InputSchema):
    owner: Username
    deadline: When
    plan: RequiredText(2000)


class SessionIn(InputSchema):
    held_at: When
    place: RequiredText(100)
    participants: RequiredText(500)
    outcome: Literal[tuple(SessionOutcome.values)]  # type: ignore[valid-type]
    notes: Text(5000) | None = None


class AgreementIn(InputSchema):
    facts: RequiredText(5000)
    terms: RequiredText(5000)
    mediator_body: RequiredText(100)
    performance: Text(500) | None = None
    session_id: RecordId | None = None


class SignatureIn(InputSchema):
    role: Literal[tuple(SignerRole.values)]  # type: ignore[valid-type]
    party_id: RecordId | None = None
    name: Text(100) | None = None


class DisputeResolveIn(InputSchema):
    note: RequiredText(2000)


class VisitIn(InputSchema):
    holds: bool
    note: RequiredText(500)
    visit_id: RecordId | None = None


class DisputeFilterIn(QuerySchema):
    risk: Literal[tuple(Risk.values)] | None = None  # type: ignore[valid-type]
    status: Literal[(*Status.values, "open_all")] | None = None  # type: ignore[valid-type]
    type: DisputeTypeIn | None = None
    channel: Literal[tuple(Channel.values)] | None = None  # type: ignore[valid-type]
    route: Literal[(*Route.values, "none")] | None = None  # type: ignore[valid-type]
    grid: QueryText(32) | None = None
    min_age_days: int | None = Field(default=None, ge=0, le=3650)
    max_age_days: int | None = Field(default=None, ge=0, le=3650)
    q: QueryText(50) | None = None

    def to_filters(self) -> lists.DisputeFilters:
        return lists.DisputeFilters(
            risk=self.risk or "",
            status=self.status or "",
            type=self.type or "",
            channel=self.channel or "",
            route=self.route or "",
            grid=self.grid or "",
            min_age_days=self.min_age_days,
            max_age_days=self.max_age_days,
            q=self.q or "",
        )


# --- output schemas -----------------------------------------------------------------------------


class RiskReasonOut(Schema):
    rule: str = ""
    name: str = ""
    level: str = ""
    detail: str = ""


class DisputeSummaryOut(Schema):
    code: str
    title: str
    type: str
    type_label: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    risk: str
    risk_label: str
    risk_reasons: list[RiskReasonOut]
    route: str
    route_label: str
    grid: RefOut
    org: RefOut
    owner: str | None
    reported_at: str
    last_progress_at: str
    age_days: int
    party_count: int
    has_order: bool = Field(description="An active tracked order (重点订单跟踪中)")


class DisputeListOut(PageOut):
    items: list[DisputeSummaryOut]


class PartyOut(Schema):
    id: int
    kind: str
    kind_label: str
    role: str
    role_label: str
    name: str
    id_number: str
    phone: str
    address: str
    vulnerability: str
    vulnerability_label: str
    notify: bool


class PartyListOut(Schema):
    full: bool
    items: list[PartyOut]


class EventOut(Schema):
    id: int
    at: str
    kind: str
    label: str
    message: str
    actor: str | None
    public: bool
    data: dict = Field(
        description="Details of the step, their keys depending on `kind` (from, to, owner …)"
    )


class HandoffOut(Schema):
    at: str
    route: str
    route_label: str
    body_kind: str
    body_kind_label: str
    body_name: str
    contact_name: str
    contact_phone: str
    reason: str
    by: str | None


class CaseOrderOut(Schema):
    owner: str
    owner_name: str
    deadline: str
    overdue: bool
    plan: str
    status: str
    status_label: str
    supervising_org: RefOut
    escalation_level: int
    created_at: str
    done_at: str | None


class SessionOut(Schema):
    id: int
    held_at: str
    place: str
    participants: str
    mediator: str | None
    outcome: str
    outcome_label: str
    notes: str
    recorded_at: str


class SignatureOut(Schema):
    role: str
    role_label: str
    party_id: int | None
    name: str
    signed_at: str


class AgreementOut(Schema):
    number: str
    session_id: int | None
    facts: str
    terms: str
    performance: str
    mediator_body: str
    created_at: str
    signatures: list[SignatureOut]


class VisitOut(Schema):
    id: int
    due_at: str
    after_days: int
    status: str
    status_label: str
    visited_at: str | None
    visited_by: str | None
    holds: bool | None
    note: str


class RiskOverrideOut(Schema):
    level: str
    level_label: str
    reason: str
    by: str | None
    at: str | None


class DisputeDetailOut(DisputeSummaryOut):
    view: Literal["staff"]
    narrative: str
    amount_yuan: str | None = Field(description="Decimal as text, e.g. 12000.00")
    address: str
    source_note: str
    incident: str | None
    accepted_at: str | None
    resolved_at: str | None
    closed_at: str | None
    resolution_note: str
    relapse_count: int
    risk_computed: str
    risk_evaluated_at: str | None
    risk_override: RiskOverrideOut | None
    parties: list[PartyOut]
    timeline: list[EventOut]
    handoffs: list[HandoffOut]
    order: CaseOrderOut | None
    sessions: list[SessionOut]
    agreements: list[AgreementOut]
    visits: list[VisitOut]
    can_reveal: bool


class PublicPartyOut(Schema):
    kind: str
    kind_label: str
    role: str
    role_label: str
    name: str


class PublicEventOut(Schema):
    at: str
    kind: str
    label: str
    message: str


class PublicDisputeOut(Schema):
    view: Literal["public"]
    code: str
    title: str
    type: str
    type_label: str
    status: str
    status_label: str
    grid: RefOut
    address: str
    narrative: str
    reported_at: str
    last_progress_at: str
    parties: list[PublicPartyOut]
    timeline: list[PublicEventOut]


AnyDetailOut = Annotated[DisputeDetailOut | PublicDisputeOut, Field(discriminator="view")]


class PublicListOut(PageOut):
    items: list[PublicDisputeOut]


class VisitDueOut(Schema):
    id: int
    due_at: str
    after_days: int
    dispute: RefOut
    grid: RefOut
    owner: str | None


class ReviewListOut(PageOut):
    items: list[DisputeSummaryOut]


class VisitDueListOut(PageOut):
    items: list[VisitDueOut]


class RiskRuleOut(Schema):
    code: str
    name: str
    kind: str
    kind_label: str
    level: str
    level_label: str
    params: dict = Field(description="The rule's thresholds, their keys depending on `kind`")
    description: str


# --- statistics ---------------------------------------------------------------------------------


class DisputeStatsPeriodOut(Schema):
    from_: str | None = Field(alias="from", description="First month, YYYY-MM; null: open")
    to: str | None = Field(description="Last month, YYYY-MM (inclusive); null: open")


class DisputeBreakdownOut(Schema):
    """Disputes of one value of a dimension (a type, a channel, a route …)."""

    value: str = Field(description='The value; route "none" when no route was chosen')
    label: str
    total: int
    settled: int


class DisputeMonthOut(Schema):
    month: str = Field(description="YYYY-MM, by registration month")
    total: int
    settled: int


class DisputeStatsOut(Schema):
    """The figures of `pingan.disputes.queries.summary` (the console's statistics page)."""

    scope: RefOut = Field(description="The unit counted; code empty for everything")
    period: DisputeStatsPeriodOut
    total: int = Field(description="Disputes registered in the period, requests included")
    settled: int = Field(description="Resolved, or closed as stable, now")
    resolution_rate: float | None = Field(description="settled / total (化解率); null: none")
    median_days: float | None = Field(
        description="Median days from registration to resolution (capped at 365); null: none"
    )
    relapsed: int = Field(description="Disputes a return visit found broken at least once")
    ever_settled: int = Field(description="Settled now, or reopened by a relapse")
    relapse_rate: float | None = Field(description="relapsed / ever_settled (反复率)")
    by_type: list[DisputeBreakdownOut]
    by_channel: list[DisputeBreakdownOut]
    by_route: list[DisputeBreakdownOut]
    by_risk: list[DisputeBreakdownOut]
    by_status: list[DisputeBreakdownOut]
    by_month: list[DisputeMonthOut] = Field(description="Every month of the period, in order")
