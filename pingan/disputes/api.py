"""REST endpoints for disputes (矛盾纠纷), mounted at /api/disputes.

The contract the phone apps rely on:

* Staff get the full detail (`"view": "staff"`); a resident who asked for mediation gets the
  public view (`"view": "public"`): status and public steps only, never the risk colour, other
  parties' contact data or staff notes.
* A new dispute answers 201 with its detail. Every action on one dispute
  (`POST /api/disputes/{code}/...`) answers 200 with the dispute's updated detail; a record the
  action created (a session, an agreement, a signature, a visit, a party) is in that detail,
  newest last.
* Lists answer the one page envelope `{"count", "items", "limit", "offset", "next_offset"}`
  (`pingan.core.pagination`), paged by `limit` (1-200, default 50) and `offset`.
* A dispute that does not exist and one the caller may not see are both 404, so codes cannot be
  probed. Errors are `{"error": {"code", "message", "details"?}}` like the rest of the API.

Every state change goes through `pingan.disputes.services`; this module only validates the shape
of the input, resolves usernames and turns rows into JSON. The schemas are in `schemas.py`.
"""

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from ninja import Query, Router

from pingan.accounts.models import User
from pingan.accounts.roles import can_reveal, is_staff_viewer
from pingan.audit.services import client_ip
from pingan.core import clock
from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden, NotFound, ServiceError
from pingan.core.pagination import Listing, paginated
from pingan.core.schemas import (
    AgreementNumber,
    DisputeCode,
    IncidentCode,
    QueryBool,
    QueryText,
)
from pingan.core.timefmt import iso

from . import lists, queries, services
from .models import (
    CaseOrder,
    Dispute,
    DisputeEvent,
    OrderStatus,
    Party,
    RiskRule,
    RuleKind,
)
from .schemas import (
    AcceptIn,
    AgreementIn,
    AnyDetailOut,
    ConvertIn,
    DeclineIn,
    DisputeDetailOut,
    DisputeFilterIn,
    DisputeIn,
    DisputeListOut,
    DisputeNoteIn,
    DisputeResolveIn,
    DisputeStatsOut,
    DisputeSummaryOut,
    OrderIn,
    OwnerIn,
    PartyIn,
    PartyListOut,
    PublicDisputeOut,
    PublicListOut,
    RequestIn,
    ReviewIn,
    ReviewListOut,
    RiskIn,
    RiskRuleOut,
    RouteIn,
    SessionIn,
    SignatureIn,
    VisitDueListOut,
    VisitDueOut,
    VisitIn,
)

router = Router(tags=["disputes"], auth=REQUIRED)


# --- helpers ------------------------------------------------------------------------------------


def _label(user) -> str | None:
    return user.label if user is not None else None


def _require_staff(user) -> None:
    if not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以查看纠纷列表")


def _visible(user, code: str) -> Dispute:
    return services.get_dispute_for(user, code)


def _user_named(username: str | None, field: str) -> User | None:
    """Owners are named by username in the API; an unknown one is the caller's mistake."""
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).select_related("org").first()
    if user is None:
        raise ServiceError(
            "unknown_user", f"用户 {username} 不存在或已停用", details={"field": field}
        )
    return user


def _with_counts(qs):
    """Party count and active order for a list page, as subqueries: one query however many
    rows, and only the rows on the page are counted."""
    parties = (
        Party.objects.filter(dispute=OuterRef("pk"))
        .order_by()
        .values("dispute")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        n_parties=Coalesce(Subquery(parties, output_field=IntegerField()), 0),
        active_order=Exists(
            CaseOrder.objects.filter(dispute=OuterRef("pk"), status=OrderStatus.ACTIVE)
        ),
    )


def summary(d: Dispute, now, *, party_count: int | None = None, has_order=None) -> dict:
    if party_count is None:
        party_count = getattr(d, "n_parties", None)
    if party_count is None:
        party_count = d.parties.count()
    if has_order is None:
        has_order = getattr(d, "active_order", None)
    if has_order is None:
        has_order = CaseOrder.objects.filter(dispute=d, status=OrderStatus.ACTIVE).exists()
    return {
        "code": d.code,
        "title": d.title,
        "type": d.type,
        "type_label": d.get_type_display(),
        "channel": d.channel,
        "channel_label": d.get_channel_display(),
        "status": d.status,
        "status_label": d.get_status_display(),
        "risk": d.risk,
        "risk_label": d.get_risk_display(),
        "risk_reasons": [r for r in d.risk_reasons if isinstance(r, dict)],
        "route": d.route,
        "route_label": d.get_route_display() if d.route else "",
        "grid": {"code": d.grid.code, "name": d.grid.name},
        "org": {"code": d.org.code, "name": d.org.name},
        "owner": d.owner.label if d.owner_id else None,
        "reported_at": iso(d.reported_at),
        "last_progress_at": iso(d.last_progress_at),
        "age_days": lists.age_days(d, now),
        "party_count": party_count,
        "has_order": bool(has_order),
    }


def _event_out(e: DisputeEvent) -> dict:
    return {
        "id": e.pk,
        "at": iso(e.at),
        "kind": e.kind,
        "label": e.get_kind_display(),
        "message": e.message,
        "actor": _label(e.actor),
        "public": e.public,
        "data": e.data if isinstance(e.data, dict) else {},
    }


def _order_out(d: Dispute, now) -> dict | None:
    order = CaseOrder.objects.filter(dispute=d).select_related("owner", "supervising_org").first()
    if order is None:
        return None
    return {
        "owner": order.owner.username,
        "owner_name": order.owner.label,
        "deadline": iso(order.deadline),
        "overdue": order.status == OrderStatus.ACTIVE and now > order.deadline,
        "plan": order.plan,
        "status": order.status,
        "status_label": order.get_status_display(),
        "supervising_org": {
            "code": order.supervising_org.code,
            "name": order.supervising_org.name,
        },
        "escalation_level": order.escalation_level,
        "created_at": iso(order.created_at),
        "done_at": iso(order.done_at),
    }


def _override_out(d: Dispute) -> dict | None:
    if not d.risk_override:
        return None
    return {
        "level": d.risk_override,
        "level_label": d.get_risk_override_display(),
        "reason": d.risk_override_reason,
        "by": _label(d.risk_override_by),
        "at": iso(d.risk_override_at),
    }


def staff_detail(d: Dispute, user) -> dict:
    now = clock.now()
    parties = list(d.parties.all())
    agreements = d.agreements.prefetch_related("signatures")
    body = summary(d, now, party_count=len(parties), has_order=None)
    body.update(
        view="staff",
        narrative=d.narrative,
        amount_yuan=str(d.amount_yuan) if d.amount_yuan is not None else None,
        address=d.address,
        source_note=d.source_note,
        incident=d.incident.code if d.incident_id else None,
        accepted_at=iso(d.accepted_at),
        resolved_at=iso(d.resolved_at),
        closed_at=iso(d.closed_at),
        resolution_note=d.resolution_note,
        relapse_count=d.relapse_count,
        risk_computed=d.risk_computed,
        risk_evaluated_at=iso(d.risk_evaluated_at),
        risk_override=_override_out(d),
        parties=[lists.masked_party(p, mask_names=False) for p in parties],
        timeline=[_event_out(e) for e in d.events.select_related("actor").order_by("at", "pk")],
        handoffs=[
            {
                "at": iso(h.at),
                "route": h.route,
                "route_label": h.get_route_display(),
                "body_kind": h.body_kind,
                "body_kind_label": h.get_body_kind_display(),
                "body_name": h.body_name,
                "contact_name": h.contact_name,
                "contact_phone": h.contact_phone,
                "reason": h.reason,
                "by": _label(h.by),
            }
            for h in d.handoffs.select_related("by")
        ],
        order=_order_out(d, now),
        sessions=[
            {
                "id": s.pk,
                "held_at": iso(s.held_at),
                "place": s.place,
                "participants": s.participants,
                "mediator": _label(s.mediator),
                "outcome": s.outcome,
                "outcome_label": s.get_outcome_display(),
                "notes": s.notes,
                "recorded_at": iso(s.recorded_at),
            }
            for s in d.sessions.select_related("mediator")
        ],
        agreements=[
            {
                "number": a.number,
                "session_id": a.session_id,
                "facts": a.facts,
                "terms": a.terms,
                "performance": a.performance,
                "mediator_body": a.mediator_body,
                "created_at": iso(a.created_at),
                "signatures": [
                    {
                        "role": s.role,
                        "role_label": s.get_role_display(),
                        "party_id": s.party_id,
                        "name": s.name,
                        "signed_at": iso(s.signed_at),
                    }
                    for s in a.signatures.all()
                ],
            }
            for a in agreements
        ],
        visits=[
            {
                "id": v.pk,
                "due_at": iso(v.due_at),
                "after_days": v.after_days,
                "status": v.status,
                "status_label": v.get_status_display(),
                "visited_at": iso(v.visited_at),
                "visited_by": _label(v.visited_by),
                "holds": v.holds,
                "note": v.note,
            }
            for v in d.visits.select_related("visited_by")
        ],
        can_reveal=can_reveal(user),
    )
    return body


def public_party(p: Party) -> dict:
    """What a resident sees of anyone on the case: kind, role and a surname, no contact data."""
    data = lists.masked_party(p, mask_names=True)
    return {k: data[k] for k in ("kind", "kind_label", "role", "role_label", "name")}


def public_view(d: Dispute, events=None, parties=None) -> dict:
    """The resident's view: the steps marked public, never risk, notes or contact data."""
    if events is None:
        events = d.events.filter(public=True).order_by("at", "pk")
    if parties is None:
        parties = d.parties.all()
    return {
        "view": "public",
        "code": d.code,
        "title": d.title,
        "type": d.type,
        "type_label": d.get_type_display(),
        "status": d.status,
        "status_label": d.get_status_display(),
        "grid": {"code": d.grid.code, "name": d.grid.name},
        "address": d.address,
        "narrative": d.narrative,
        "reported_at": iso(d.reported_at),
        "last_progress_at": iso(d.last_progress_at),
        "parties": [public_party(p) for p in parties],
        "timeline": [
            {"at": iso(e.at), "kind": e.kind, "label": e.get_kind_display(), "message": e.message}
            for e in events
            if e.public
        ],
    }


def detail_for(user, d: Dispute) -> dict:
    return staff_detail(d, user) if is_staff_viewer(user) else public_view(d)


def _after(request, code: DisputeCode) -> dict:
    return detail_for(request.auth, services.get_dispute_for(request.auth, code))


# --- collection endpoints (fixed paths first, so `/{code}` does not swallow them) ---------------


@router.get(
    "",
    response=DisputeListOut,
    summary="纠纷列表 · Disputes I may see, filtered and paged",
    description=(
        "Scoped to the caller (owner, grid staff, filer, chain of command); staff only. "
        "No personal data: parties are only counted. status=open_all means pending or open; "
        "route=none means no route chosen yet. Ordered newest first."
    ),
)
@paginated()
def list_disputes(request, filters: Query[DisputeFilterIn]):
    user = request.auth
    _require_staff(user)
    now = clock.now()
    qs = lists.filter_disputes(services.disputes_for(user), filters.to_filters(), now=now)
    return Listing(
        _with_counts(qs).order_by("-reported_at", "-pk"),
        render=lambda rows: [summary(d, now) for d in rows],
    )


@router.post(
    "",
    response={201: DisputeDetailOut},
    summary="登记纠纷 · Staff file a dispute from a screening channel",
    description=(
        "grid (code) or location {lng, lat, crs} places it; owner is a username and defaults to "
        "the grid's officer. The risk colour is computed at once from the active rules."
    ),
)
def file_dispute(request, payload: DisputeIn):
    user = request.auth
    _require_staff(user)
    loc = payload.location
    dispute = services.file_dispute(
        user,
        type=payload.type,
        channel=payload.channel,
        narrative=payload.narrative,
        parties=[p.to_input() for p in payload.parties],
        title=payload.title or "",
        grid_code=payload.grid or None,
        lng=loc.lng if loc else None,
        lat=loc.lat if loc else None,
        crs=loc.crs if loc else "wgs84",
        amount_yuan=payload.amount_yuan,
        address=payload.address or "",
        source_note=payload.source_note or "",
        owner=_user_named(payload.owner, "owner"),
    )
    return 201, _after(request, dispute.code)


@router.post(
    "/requests",
    response={201: PublicDisputeOut},
    summary="申请调解 · A resident asks for mediation",
    description=(
        "The resident becomes the applicant party (with their account's phone); other_parties "
        "are the people or organisations the dispute is with. Answers with the public view."
    ),
)
def request_mediation(request, payload: RequestIn):
    loc = payload.location
    dispute = services.request_mediation(
        request.auth,
        type=payload.type,
        narrative=payload.narrative,
        other_parties=[p.to_input() for p in payload.other_parties],
        title=payload.title or "",
        grid_code=payload.grid or None,
        lng=loc.lng if loc else None,
        lat=loc.lat if loc else None,
        crs=loc.crs if loc else "wgs84",
        address=payload.address or "",
        notify=payload.notify,
    )
    return 201, public_view(dispute)


@router.get(
    "/requests/mine",
    response=PublicListOut,
    summary="我的调解申请 · My mediation requests with their public steps",
)
@paginated()
def my_requests(request):
    user = request.auth
    qs = (
        services.disputes_for(user)
        .filter(requester=user)
        .order_by("-reported_at", "-pk")
        .prefetch_related(
            "parties",
            Prefetch(
                "events",
                queryset=DisputeEvent.objects.filter(public=True).order_by("at", "pk"),
                to_attr="public_events",
            ),
        )
    )
    return Listing(
        qs, render=lambda rows: [public_view(d, d.public_events, d.parties.all()) for d in rows]
    )


@router.post(
    "/from-incident/{incident_code}",
    response={201: DisputeDetailOut},
    summary="警情转纠纷 · Turn an incident into a dispute, linked both ways",
    description="A second conversion of the same incident is 409 already_converted.",
)
def convert_incident(request, incident_code: IncidentCode, payload: ConvertIn):
    user = request.auth
    _require_staff(user)
    dispute = services.convert_incident(
        user,
        incident_code,
        type=payload.type,
        parties=[p.to_input() for p in payload.parties],
        narrative=payload.narrative or "",
        title=payload.title or "",
        owner=_user_named(payload.owner, "owner"),
    )
    return 201, _after(request, dispute.code)


@router.get(
    "/review",
    response=list[DisputeSummaryOut] | ReviewListOut,
    summary="每日研判 · Today's yellow disputes not yet reviewed",
)
@paginated(legacy_array=True)
def review_list(request):
    user = request.auth
    _require_staff(user)
    now = clock.now()
    return Listing(
        _with_counts(services.daily_review_list(user)).order_by("last_progress_at", "pk"),
        render=lambda rows: [summary(d, now) for d in rows],
    )


@router.get(
    "/visits/due",
    response=list[VisitDueOut] | VisitDueListOut,
    summary="待回访 · Return visits that are due",
)
@paginated(legacy_array=True)
def visits_due(request):
    user = request.auth
    _require_staff(user)
    qs = services.visits_due(user).select_related("dispute__owner").order_by("due_at", "pk")
    return Listing(qs, render=lambda rows: [_visit_due_out(v) for v in rows])


def _visit_due_out(v) -> dict:
    return {
        "id": v.pk,
        "due_at": iso(v.due_at),
        "after_days": v.after_days,
        "dispute": {"code": v.dispute.code, "name": v.dispute.title},
        "grid": {"code": v.dispute.grid.code, "name": v.dispute.grid.name},
        "owner": v.dispute.owner.label if v.dispute.owner_id else None,
    }


@router.get(
    "/stats",
    response=DisputeStatsOut,
    by_alias=True,  # the period's `from`
    summary="纠纷统计 · Resolution rate, median days, relapse rate and counts",
    description=(
        "Commanders only, within their jurisdiction. `from` / `to` are months (YYYY-MM, "
        "inclusive, by registration month); `org` narrows to one unit inside the scope. The "
        "same figures as the console's statistics page and its Excel export."
    ),
)
def dispute_stats(
    request,
    from_: QueryText(20) = Query("", alias="from"),
    to: QueryText(20) = "",
    org: QueryText(32) = "",
):
    month_from = queries.parse_month(from_, field="from", label="起始月份")
    month_to = queries.parse_month(to, field="to", label="截止月份")
    return queries.summary(
        request.auth, month_from=month_from, month_to=month_to, org_code=org.strip() or None
    )


@router.get(
    "/rules",
    response=list[RiskRuleOut],
    summary="预警规则 · The active risk rules behind the colours",
)
def risk_rules(request):
    _require_staff(request.auth)
    return [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "kind_label": RuleKind(r.kind).label if r.kind in RuleKind.values else r.kind,
            "level": r.level,
            "level_label": r.get_level_display(),
            "params": r.params if isinstance(r.params, dict) else {},
            "description": r.description,
        }
        for r in RiskRule.objects.filter(active=True).order_by("code")
    ]


# --- one dispute --------------------------------------------------------------------------------


@router.get(
    "/{code}",
    response=AnyDetailOut,
    summary="纠纷详情 · One dispute",
    description=(
        'Staff get "view": "staff" with parties (names shown, contact data masked), the whole '
        "timeline, handoffs, order, sessions, agreements and visits; the resident who asked gets "
        '"view": "public".'
    ),
)
def get_dispute(request, code: DisputeCode):
    return detail_for(request.auth, _visible(request.auth, code))


@router.get(
    "/{code}/parties",
    response=PartyListOut,
    summary="当事人 · Parties, masked or in full (full=true is audited)",
    description="full=true is for officers and commanders and writes an audit entry.",
)
def get_parties(request, code: DisputeCode, full: QueryBool = False):
    user = request.auth
    _require_staff(user)
    if full:
        parties = services.party_data_for(user, code, ip=client_ip(request))
        return {"full": True, "items": [lists.full_party(p) for p in parties]}
    dispute = services.get_dispute_for(user, code)
    return {
        "full": False,
        "items": [lists.masked_party(p, mask_names=False) for p in dispute.parties.all()],
    }


@router.post("/{code}/parties", response=DisputeDetailOut, summary="增加当事人 · Add a party")
def add_party(request, code: DisputeCode, payload: PartyIn):
    services.add_party(request.auth, code, payload.to_input())
    return _after(request, code)


@router.post(
    "/{code}/accept",
    response=DisputeDetailOut,
    summary="受理申请 · Accept a resident's request (owner optional)",
)
def accept(request, code: DisputeCode, payload: AcceptIn | None = None):
    _visible(request.auth, code)
    owner = _user_named(payload.owner if payload else None, "owner")
    services.accept_request(request.auth, code, owner=owner)
    return _after(request, code)


@router.post(
    "/{code}/decline",
    response=DisputeDetailOut,
    summary="不予受理 · Decline a resident's request with a reason",
)
def decline(request, code: DisputeCode, payload: DeclineIn):
    services.decline_request(request.auth, code, payload.reason)
    return _after(request, code)


@router.post(
    "/{code}/risk",
    response=DisputeDetailOut,
    summary='人工调整风险等级 · Override the colour with a reason ("" returns to the rules)',
)
def override_risk(request, code: DisputeCode, payload: RiskIn):
    services.override_risk(request.auth, code, payload.level, payload.reason)
    return _after(request, code)


@router.post(
    "/{code}/review",
    response=DisputeDetailOut,
    summary="研判 · Record today's daily review of a yellow dispute",
)
def review(request, code: DisputeCode, payload: ReviewIn | None = None):
    note = payload.note if payload and payload.note else ""
    services.review(request.auth, code, note)
    return _after(request, code)


@router.post(
    "/{code}/route",
    response=DisputeDetailOut,
    summary="化解途径 · Choose or change the route and hand off (a change needs a reason)",
)
def set_route(request, code: DisputeCode, payload: RouteIn):
    services.set_route(
        request.auth,
        code,
        route=payload.route,
        body_kind=payload.body_kind,
        body_name=payload.body_name,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone or "",
        reason=payload.reason or "",
    )
    return _after(request, code)


@router.post(
    "/{code}/owner",
    response=DisputeDetailOut,
    summary="变更责任人 · Hand the dispute to another owner",
)
def assign_owner(request, code: DisputeCode, payload: OwnerIn):
    user = request.auth
    _visible(user, code)
    owner = _user_named(payload.username, "username")
    dispute = services.assign_owner(user, code, owner)
    # A current owner who is not on the grid may hand the case away and lose sight of it:
    # they still get the result of what they just did.
    if services.disputes_for(user).filter(pk=dispute.pk).exists():
        return _after(request, code)
    return staff_detail(dispute, user)


@router.post("/{code}/notes", response=DisputeDetailOut, summary="工作记录 · Add a staff note")
def add_note(request, code: DisputeCode, payload: DisputeNoteIn):
    services.add_note(request.auth, code, payload.message)
    return _after(request, code)


@router.post(
    "/{code}/order",
    response=DisputeDetailOut,
    summary="列入订单管理 · Track as an order: owner, deadline, plan",
)
def open_order(request, code: DisputeCode, payload: OrderIn):
    user = request.auth
    _visible(user, code)
    owner = _user_named(payload.owner, "owner")
    services.open_order(user, code, owner=owner, deadline=payload.deadline, plan=payload.plan)
    return _after(request, code)


@router.post(
    "/{code}/sessions",
    response=DisputeDetailOut,
    summary="调解记录 · Record a mediation session",
)
def record_session(request, code: DisputeCode, payload: SessionIn):
    services.record_session(
        request.auth,
        code,
        held_at=payload.held_at,
        place=payload.place,
        participants=payload.participants,
        outcome=payload.outcome,
        notes=payload.notes or "",
    )
    return _after(request, code)


@router.post(
    "/{code}/agreements",
    response=DisputeDetailOut,
    summary="调解协议书 · Draft a mediation agreement",
)
def draft_agreement(request, code: DisputeCode, payload: AgreementIn):
    services.draft_agreement(
        request.auth,
        code,
        facts=payload.facts,
        terms=payload.terms,
        mediator_body=payload.mediator_body,
        performance=payload.performance or "",
        session_id=payload.session_id,
    )
    return _after(request, code)


@router.post(
    "/{code}/agreements/{number}/signatures",
    response=DisputeDetailOut,
    summary="协议签字 · Record who signed the paper agreement, and when",
)
def sign_agreement(request, code: DisputeCode, number: AgreementNumber, payload: SignatureIn):
    user = request.auth
    _visible(user, code)
    if services.get_agreement_for(user, number).dispute.code != code:
        raise NotFound("未找到该协议书，或您无权查看")
    services.sign_agreement(
        user, number, role=payload.role, party_id=payload.party_id, name=payload.name or ""
    )
    return _after(request, code)


@router.post(
    "/{code}/resolve",
    response=DisputeDetailOut,
    summary="化解 · Mark resolved; return visits are scheduled",
)
def resolve(request, code: DisputeCode, payload: DisputeResolveIn):
    services.resolve(request.auth, code, payload.note)
    return _after(request, code)


@router.post(
    "/{code}/visits",
    response=DisputeDetailOut,
    summary="回访 · Record a return visit (holds=false reopens the dispute)",
)
def record_visit(request, code: DisputeCode, payload: VisitIn):
    services.record_visit(
        request.auth,
        code,
        holds=payload.holds,
        note=payload.note,
        visit_id=payload.visit_id,
    )
    return _after(request, code)
