"""Every dispute state change, each in one transaction; pushes and messages after commit.

Intake (four channels, incident conversion, a resident's request), parties, risk assessment
and overrides, the daily yellow review, routes and handoffs, tracked orders with escalation,
mediation sessions, agreements and signatures, resolution, return visits and relapse.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pingan.accounts.models import Role, User
from pingan.audit import services as audit
from pingan.core import clock, sequences
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.core.validation import clean_text, normalise_phone
from pingan.geo.location import normalise_location
from pingan.incidents import services as incidents
from pingan.incidents.models import Incident
from pingan.notify.services import queue_message
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid, OrgUnit

from . import push
from . import risk as rules_engine
from .access import (
    REVEAL_ROLES,
    can_reveal,
    disputes_for,
    get_dispute_for,
    is_staff_viewer,
    staff_grids,
)
from .assessment import compiled_rules, facts_for
from .models import (
    OPEN_STATUSES,
    RISK_RANK,
    ROUTE_BODIES,
    Agreement,
    CaseOrder,
    Channel,
    DailyReview,
    Dispute,
    DisputeEvent,
    EventKind,
    Handoff,
    MediationSession,
    OrderStatus,
    Party,
    PartyKind,
    PartyRole,
    ReturnVisit,
    Risk,
    Route,
    RouteBody,
    SessionOutcome,
    Signature,
    SignerRole,
    Status,
    VisitStatus,
)
from .stats import tracked
from .validation import MAX_PARTIES, PartyInput, clean_common, clean_party

STAFF_CHANNELS = (Channel.CADRE_GRID, Channel.COMMUNITY_WORK, Channel.ONLINE, Channel.CASE)


# --- scoped access ------------------------------------------------------------------------------


def _lock(user: User, code: str, *, staff: bool = True) -> Dispute:
    if staff and not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以办理纠纷")
    get_dispute_for(user, code)
    # Lock the dispute row only: with the joins, PostgreSQL would also lock the grid and org
    # rows and serialise every change to any dispute of the same office.
    return (
        Dispute.objects.select_for_update(of=("self",)).select_related("grid", "org").get(code=code)
    )


def _require_open(dispute: Dispute) -> None:
    if dispute.status not in OPEN_STATUSES:
        raise Conflict("dispute_not_open", f"纠纷已{dispute.get_status_display()}，不能再办理")


def _require_accepted(dispute: Dispute) -> None:
    if dispute.status == Status.PENDING:
        raise Conflict("dispute_pending", "请先受理该调解申请")
    _require_open(dispute)


def party_data_for(user: User, code: str, *, ip=None) -> list[Party]:
    """Unmasked parties, for those allowed; every call is written to the audit log."""
    dispute = get_dispute_for(user, code)
    if not is_staff_viewer(user) or not can_reveal(user):
        raise Forbidden("只有民警和指挥员可以查看当事人完整信息")
    parties = list(dispute.parties.all())
    audit.record(
        user,
        "view_party_data",
        "dispute",
        dispute.code,
        detail={"parties": [p.pk for p in parties]},
        ip=ip,
    )
    return parties


# --- timeline, push and messages ----------------------------------------------------------------


def _event(dispute, kind, now, *, actor=None, message="", data=None, public=False):
    event = DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        at=now,
        actor=actor if actor is not None and actor.pk else None,
        message=message[:500],
        data=data or {},
        public=public,
    )
    push.announce(event)  # delivered after commit by the fan-out (push.py)
    return event


def _progress(dispute: Dispute, now) -> None:
    dispute.last_progress_at = now


def _tell_parties(dispute: Dispute, text: str) -> int:
    """Step messages to the parties who opted in (and to the resident who asked)."""
    phones = set(
        dispute.parties.filter(notify=True).exclude(phone="").values_list("phone", flat=True)
    )
    if dispute.requester_id and dispute.requester.phone:
        phones.add(dispute.requester.phone)
    for phone in sorted(phones):
        queue_message(phone, f"【平安】{text}", topic=f"dispute:{dispute.code}")
    return len(phones)


def station_chiefs(org: OrgUnit) -> list[User]:
    """Commanders of the dispute's station (or of the unit itself above station level)."""
    station = orgs.station_of(org)
    return list(User.objects.filter(role=Role.COMMANDER, org=station, is_active=True))


def red_alert(dispute: Dispute, now, reasons: list[dict]) -> None:
    """Turning red reaches the owner and the station chief at once: live on their pages through
    the timeline push, and as a message to their phones for when no page is open."""
    why = "；".join(r["detail"] for r in reasons[:3]) or "人工调整为红色"
    people = {u.pk: u for u in station_chiefs(dispute.org)}
    if dispute.owner_id:
        people[dispute.owner_id] = dispute.owner
    for person in people.values():
        if person.phone:
            queue_message(
                person.phone,
                f"【平安】红色预警：纠纷 {dispute.code}（{dispute.title}，{dispute.grid.name}）"
                f"{why}。请立即处置。",
                topic=f"dispute:{dispute.code}",
            )


# --- risk ---------------------------------------------------------------------------------------


def _set_risk(dispute: Dispute, new_risk: str, now, *, actor=None, kind, message, data) -> bool:
    """Change the visible colour, recording the change; red alerts the owner and the chief."""
    old = dispute.risk
    if new_risk == old:
        return False
    dispute.risk = new_risk
    _event(dispute, kind, now, actor=actor, message=message, data={"from": old, **data})
    if new_risk == Risk.RED:
        red_alert(dispute, now, dispute.risk_reasons)
    return True


def reassess(dispute: Dispute, now, *, actor=None, rules=None) -> bool:
    """Run the rules over a locked dispute. Settled disputes keep the colour they ended with.
    Returns whether the visible colour changed. The caller saves."""
    if dispute.status not in OPEN_STATUSES:
        return False
    assessment = rules_engine.evaluate(
        facts_for(dispute, now), rules if rules is not None else compiled_rules()
    )
    reasons = assessment.reasons_as_dicts()
    dispute.risk_computed = assessment.level
    dispute.risk_reasons = reasons
    dispute.risk_evaluated_at = now
    if dispute.risk_override:
        return False
    label = Risk(assessment.level).label
    detail = "；".join(r["detail"] for r in reasons) or "未命中任何预警规则"
    return _set_risk(
        dispute,
        assessment.level,
        now,
        actor=actor,
        kind=EventKind.RISK_CHANGED,
        message=f"风险等级变为{label}：{detail}",
        data={"to": assessment.level, "reasons": reasons},
    )


@transaction.atomic
def override_risk(user: User, code: str, level: str, reason: str, now=None) -> Dispute:
    """A person sets the colour with a written reason; level "" hands it back to the rules."""
    now = now or clock.now()
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", "人工调整风险等级必须填写理由")
    if level not in ("", *Risk.values):
        raise ServiceError("bad_risk", "风险等级只能是 red、yellow、green 或空（恢复规则评估）")
    dispute = _lock(user, code)
    _require_open(dispute)
    if user.role not in REVEAL_ROLES and not user.is_superuser:
        raise Forbidden("只有民警和指挥员可以调整风险等级")
    with tracked(dispute):
        dispute.risk_override = level
        dispute.risk_override_reason = reason[:500] if level else ""
        dispute.risk_override_by = user if level else None
        dispute.risk_override_at = now if level else None
        target = level or dispute.risk_computed
        label = Risk(target).label
        changed = _set_risk(
            dispute,
            target,
            now,
            actor=user,
            kind=EventKind.RISK_OVERRIDDEN,
            message=(
                f"人工调整为{label}：{reason}" if level else f"恢复规则评估（{label}）：{reason}"
            ),
            data={"to": target, "override": level, "reason": reason},
        )
        if not changed:
            _event(
                dispute,
                EventKind.RISK_OVERRIDDEN,
                now,
                actor=user,
                message=f"人工确认为{label}：{reason}",
                data={"from": target, "to": target, "override": level, "reason": reason},
            )
        _progress(dispute, now)
        dispute.save()
    return dispute


def daily_review_list(user: User, day=None):
    """Yellow disputes still open and not yet looked at on `day` (local date)."""
    day = day or timezone.localdate(clock.now())
    reviewed = DailyReview.objects.filter(day=day).values("dispute_id")
    return (
        disputes_for(user)
        .filter(risk=Risk.YELLOW, status__in=OPEN_STATUSES)
        .exclude(pk__in=reviewed)
        .order_by("last_progress_at")
    )


@transaction.atomic
def review(user: User, code: str, note: str = "", now=None) -> DailyReview:
    now = now or clock.now()
    dispute = _lock(user, code)
    _require_open(dispute)
    day = timezone.localdate(now)
    if DailyReview.objects.filter(dispute=dispute, day=day).exists():
        raise Conflict("already_reviewed", "该纠纷今天已研判")
    entry = DailyReview.objects.create(
        dispute=dispute, day=day, by=user, note=(note or "").strip()[:500], at=now
    )
    _event(dispute, EventKind.REVIEWED, now, actor=user, message=entry.note or "已研判")
    return entry


# --- intake -------------------------------------------------------------------------------------


def _resolve_grid(user: User, grid_code, lng, lat, crs) -> Grid:
    if grid_code:
        grid = Grid.objects.select_related("org").filter(code=grid_code).first()
        if grid is None:
            raise ServiceError(
                "unknown_grid", f"网格 {grid_code} 不存在", details={"field": "grid"}
            )
        return grid
    if lng is None or lat is None:
        raise ServiceError("grid_required", "请选择网格或在地图上标出地点")
    lng, lat = normalise_location(lng, lat, crs or "wgs84")
    grid, location = orgs.locate_grid(lng, lat)
    # The index always answers with the nearest grid; a dispute outside every grid is not
    # silently handed to whichever grid happens to be nearest (maybe another county's).
    if grid is None or not location.inside:
        raise ServiceError("no_grid", "该地点不在任何网格内，请选择网格")
    return grid


def _staff_may_file_in(user: User, grid: Grid) -> None:
    if user.is_superuser:
        return
    root = orgs.scope_org(user)
    in_scope = root is not None and grid.org.path.startswith(root.path)
    works_here = Grid.objects.filter(pk=grid.pk).filter(pk__in=staff_grids(user)).exists()
    if not (in_scope or works_here):
        raise Forbidden("只能在本辖区的网格登记纠纷")


def _check_owner(owner: User | None, dispute_org: OrgUnit) -> None:
    if owner is None:
        return
    if owner.role not in (Role.OFFICER, Role.AUXILIARY, Role.COMMANDER) or not owner.is_active:
        raise ServiceError("bad_owner", "责任人必须是在职的民警、辅警或指挥员")
    station = orgs.station_of(dispute_org)
    if owner.org_id is None or not (
        owner.org.path.startswith(station.path) or dispute_org.path.startswith(owner.org.path)
    ):
        raise ServiceError("bad_owner", "责任人必须是本所或上级单位的人员")


def _create(
    *,
    user,
    channel,
    grid,
    type_,
    title,
    narrative,
    amount,
    parties: list[PartyInput],
    address,
    source_note,
    status,
    owner,
    now,
    requester=None,
    incident=None,
) -> Dispute:
    if not parties:
        raise ServiceError("parties_required", "至少填写一位当事人")
    if len(parties) > MAX_PARTIES:
        raise ServiceError("too_many_parties", f"当事人最多 {MAX_PARTIES} 位")
    cleaned = [clean_party(p, i) for i, p in enumerate(parties, start=1)]
    owner = owner or grid.officer
    _check_owner(owner, grid.org)
    dispute = Dispute(
        code=sequences.next_code("JF", now),
        type=type_,
        channel=channel,
        source_note=source_note,
        incident=incident,
        title=title,
        narrative=narrative,
        amount_yuan=amount,
        grid=grid,
        org=grid.org,
        org_path=grid.org.path,
        address=address,
        status=status,
        owner=owner,
        filed_by=user if user.is_staff_role or user.is_superuser else None,
        requester=requester,
        reported_at=now,
        accepted_at=now if status == Status.OPEN else None,
        last_progress_at=now,
    )
    with tracked(dispute):
        dispute.save()
        for party in cleaned:
            party.dispute = dispute
        Party.objects.bulk_create(cleaned)
        if requester is not None:
            _event(
                dispute,
                EventKind.REQUESTED,
                now,
                actor=user,
                message=f"群众申请调解：{title}",
                public=True,
            )
        elif incident is not None:
            _event(
                dispute,
                EventKind.CONVERTED,
                now,
                actor=user,
                message=f"由警情 {incident.code} 转为矛盾纠纷",
                data={"incident": incident.code},
                public=True,
            )
        else:
            _event(
                dispute,
                EventKind.FILED,
                now,
                actor=user,
                message=f"{Channel(channel).label}：{title}",
                public=True,
            )
        reassess(dispute, now, actor=None)
        dispute.save()
    if status == Status.OPEN:
        _tell_parties(dispute, f"您的纠纷（编号 {dispute.code}）已登记受理，我们将尽快联系您。")
    return dispute


@transaction.atomic
def file_dispute(
    user: User,
    *,
    type: str,
    channel: str,
    narrative: str,
    parties: list[PartyInput],
    title: str = "",
    grid_code: str | None = None,
    lng=None,
    lat=None,
    crs: str = "wgs84",
    amount_yuan=None,
    address: str = "",
    source_note: str = "",
    owner: User | None = None,
    now=None,
) -> Dispute:
    """Staff register a dispute found through one of the four screening channels."""
    now = now or clock.now()
    if not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以登记纠纷")
    if channel not in STAFF_CHANNELS:
        raise ServiceError(
            "bad_channel",
            "排查渠道无效，可选：" + "、".join(f"{c.value}（{c.label}）" for c in STAFF_CHANNELS),
            details={"field": "channel"},
        )
    title, narrative, amount = clean_common(type, title, narrative, amount_yuan)
    address = clean_text(address, field="address", label="地点", max_len=200, required=False)
    source_note = clean_text(
        source_note, field="source_note", label="来源说明", max_len=300, required=False
    )
    grid = _resolve_grid(user, grid_code, lng, lat, crs)
    _staff_may_file_in(user, grid)
    return _create(
        user=user,
        channel=channel,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=amount,
        parties=parties,
        address=address,
        source_note=source_note,
        status=Status.OPEN,
        owner=owner,
        now=now,
    )


@transaction.atomic
def request_mediation(
    user: User,
    *,
    type: str,
    narrative: str,
    other_parties: list[PartyInput],
    title: str = "",
    grid_code: str | None = None,
    lng=None,
    lat=None,
    crs: str = "wgs84",
    address: str = "",
    notify: bool = True,
    now=None,
) -> Dispute:
    """A resident asks for mediation; the grid's officer is told and accepts or declines it."""
    now = now or clock.now()
    if not user.is_authenticated:
        raise Forbidden("请先登录再申请调解")
    if user.is_staff_role:
        raise Forbidden("工作人员请在民警端登记纠纷")
    title, narrative, _ = clean_common(type, title, narrative, None)
    address = clean_text(address, field="address", label="地点", max_len=200, required=False)
    grid = _resolve_grid(user, grid_code, lng, lat, crs)
    open_requests = Dispute.objects.filter(requester=user, status=Status.PENDING).count()
    if open_requests >= settings.DISPUTE_MAX_PENDING_REQUESTS:
        raise ServiceError(
            "too_many_requests", "您已有多件调解申请在等待受理，请等待工作人员联系", status=429
        )
    me = PartyInput(
        name=user.display_name or user.username,
        kind=PartyKind.PERSON,
        role=PartyRole.APPLICANT,
        phone=user.phone,
        notify=bool(notify and user.phone),
    )
    return _create(
        user=user,
        channel=Channel.CITIZEN_REQUEST,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=None,
        parties=[me, *other_parties],
        address=address,
        source_note="",
        status=Status.PENDING,
        owner=None,
        now=now,
        requester=user,
    )


@transaction.atomic
def convert_incident(
    user: User,
    incident_code: str,
    *,
    type: str,
    parties: list[PartyInput],
    narrative: str = "",
    title: str = "",
    owner: User | None = None,
    now=None,
) -> Dispute:
    """One action turns a handled incident into a dispute (the "law-enforcement case" channel),
    keeping the link both ways: the dispute names the incident and the incident's timeline
    names the dispute."""
    now = now or clock.now()
    if not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以转为纠纷")
    visible = incidents.get_incident_for(user, incident_code)
    # Locked so two officers converting the same incident at once make one dispute.
    incident = Incident.objects.select_for_update().get(pk=visible.pk)
    if Dispute.objects.filter(incident=incident).exists():
        existing = Dispute.objects.get(incident=incident)
        raise Conflict("already_converted", f"该警情已转为纠纷 {existing.code}")
    if incident.grid_id is None:
        raise ServiceError("no_grid", "该警情不在任何网格内，无法转为纠纷")
    title, narrative, _ = clean_common(
        type, title or f"警情 {incident.code} 引发纠纷", narrative or incident.description, None
    )
    grid = Grid.objects.select_related("org").get(pk=incident.grid_id)
    dispute = _create(
        user=user,
        channel=Channel.CASE,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=None,
        parties=parties,
        address=incident.address,
        source_note=f"警情 {incident.code}",
        status=Status.OPEN,
        owner=owner,
        now=now,
        incident=incident,
    )
    incidents.add_note(
        incident,
        user,
        f"已转为矛盾纠纷 {dispute.code}",
        now=now,
        data={"dispute": dispute.code},
    )
    return dispute


@transaction.atomic
def accept_request(user: User, code: str, owner: User | None = None, now=None) -> Dispute:
    now = now or clock.now()
    dispute = _lock(user, code)
    if dispute.status != Status.PENDING:
        raise Conflict("not_pending", "该申请不在待受理状态")
    owner = owner or dispute.owner or dispute.grid.officer or user
    _check_owner(owner, dispute.org)
    with tracked(dispute):
        dispute.status = Status.OPEN
        dispute.accepted_at = now
        dispute.owner = owner
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.ACCEPTED,
            now,
            actor=user,
            message=f"已受理，责任人：{owner.label}",
            data={"owner": owner.username},
            public=True,
        )
        reassess(dispute, now)
        dispute.save()
    _tell_parties(dispute, f"您的调解申请（{dispute.code}）已受理，责任人：{owner.label}。")
    return dispute


@transaction.atomic
def decline_request(user: User, code: str, reason: str, now=None) -> Dispute:
    now = now or clock.now()
    reason = clean_text(reason, field="reason", label="不予受理的理由", max_len=500)
    dispute = _lock(user, code)
    if dispute.status != Status.PENDING:
        raise Conflict("not_pending", "该申请不在待受理状态")
    with tracked(dispute):
        dispute.status = Status.DECLINED
        dispute.closed_at = now
        dispute.resolution_note = reason
        _progress(dispute, now)
        _event(dispute, EventKind.DECLINED, now, actor=user, message=reason, public=True)
        dispute.save()
    _tell_parties(dispute, f"您的调解申请（{dispute.code}）未予受理：{reason}")
    return dispute


@transaction.atomic
def add_party(user: User, code: str, party: PartyInput, now=None) -> Party:
    now = now or clock.now()
    dispute = _lock(user, code)
    _require_open(dispute)
    if dispute.parties.count() >= MAX_PARTIES:
        raise ServiceError("too_many_parties", f"当事人最多 {MAX_PARTIES} 位")
    row = clean_party(party, dispute.parties.count() + 1)
    row.dispute = dispute
    with tracked(dispute):
        row.save()
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.PARTY_ADDED,
            now,
            actor=user,
            message=f"增加当事人（{row.get_role_display()}）",  # the label: pages speak Chinese
        )
        reassess(dispute, now)
        dispute.save()
    return row


@transaction.atomic
def assign_owner(user: User, code: str, owner: User, now=None) -> Dispute:
    now = now or clock.now()
    dispute = _lock(user, code)
    _require_open(dispute)
    if not (user.is_commander or user.is_superuser or dispute.owner_id == user.pk):
        raise Forbidden("只有指挥员或现责任人可以变更责任人")
    _check_owner(owner, dispute.org)
    old = dispute.owner.label if dispute.owner_id else "无"
    dispute.owner = owner
    _progress(dispute, now)
    _event(
        dispute,
        EventKind.OWNER_CHANGED,
        now,
        actor=user,
        message=f"责任人由 {old} 变更为 {owner.label}",
        data={"owner": owner.username},
    )
    dispute.save()
    return dispute


@transaction.atomic
def add_note(user: User, code: str, message: str, now=None) -> DisputeEvent:
    now = now or clock.now()
    message = clean_text(message, field="message", label="工作记录", max_len=500)
    dispute = _lock(user, code)
    _require_accepted(dispute)
    with tracked(dispute):
        _progress(dispute, now)
        event = _event(dispute, EventKind.NOTE, now, actor=user, message=message)
        reassess(dispute, now)
        dispute.save()
    return event


# --- routes (the "3") ---------------------------------------------------------------------------


@transaction.atomic
def set_route(
    user: User,
    code: str,
    *,
    route: str,
    body_kind: str,
    body_name: str,
    contact_name: str,
    contact_phone: str = "",
    reason: str = "",
    now=None,
) -> Handoff:
    """Choose or change the resolution route; a change needs a reason. The handoff names the
    receiving body and whom to contact there."""
    now = now or clock.now()
    if route not in Route.values:
        raise ServiceError("bad_route", "化解途径只能是 grassroots、judicial 或 departmental")
    if body_kind not in {b.value for b in ROUTE_BODIES[Route(route)]}:
        allowed = "、".join(sorted(RouteBody(b).label for b in ROUTE_BODIES[Route(route)]))
        raise ServiceError("bad_route_body", f"{Route(route).label}的承办机构只能是：{allowed}")
    body_name = clean_text(body_name, field="body_name", label="承办机构名称", max_len=100)
    contact_name = clean_text(contact_name, field="contact_name", label="联系人", max_len=50)
    contact_phone = normalise_phone(contact_phone, field="contact_phone")
    reason = clean_text(reason, field="reason", label="理由", max_len=500, required=False)
    dispute = _lock(user, code)
    _require_accepted(dispute)
    changing = bool(dispute.route)
    if changing and not reason:
        raise ServiceError("reason_required", "变更化解途径必须填写理由")
    handoff = Handoff.objects.create(
        dispute=dispute,
        at=now,
        route=route,
        body_kind=body_kind,
        body_name=body_name,
        contact_name=contact_name,
        contact_phone=contact_phone,
        reason=reason,
        by=user,
    )
    old = dispute.get_route_display() if changing else ""
    old_route = dispute.route
    with tracked(dispute):
        dispute.route = route
        dispute.route_body = body_kind
        dispute.handoff_body = body_name
        dispute.handoff_contact = contact_name
        dispute.handoff_phone = contact_phone
        _progress(dispute, now)
        label = Route(route).label
        _event(
            dispute,
            EventKind.REROUTED if changing else EventKind.ROUTED,
            now,
            actor=user,
            message=(
                f"由{old}改为{label}，移交{body_name}（{contact_name}）：{reason}"
                if changing
                else f"{label}，移交{body_name}（联系人 {contact_name}）"
            ),
            data={"route": route, "body": body_name, "from": old_route},
            public=True,
        )
        reassess(dispute, now)
        dispute.save()
    _tell_parties(
        dispute, f"您的纠纷（{dispute.code}）已交由{body_name}办理，联系人 {contact_name}。"
    )
    return handoff


# --- tracked orders (the "1") -------------------------------------------------------------------


@transaction.atomic
def open_order(user: User, code: str, *, owner: User, deadline, plan: str, now=None) -> CaseOrder:
    now = now or clock.now()
    plan = clean_text(plan, field="plan", label="跟踪计划", max_len=2000)
    if deadline is None or deadline <= now:
        raise ServiceError("bad_deadline", "办结时限必须晚于现在", details={"field": "deadline"})
    if deadline > now + timedelta(days=365):
        raise ServiceError("bad_deadline", "办结时限不能超过一年", details={"field": "deadline"})
    dispute = _lock(user, code)
    _require_accepted(dispute)
    if not (user.role in REVEAL_ROLES or user.is_superuser):
        raise Forbidden("只有民警和指挥员可以列入订单管理")
    _check_owner(owner, dispute.org)
    order = CaseOrder.objects.filter(dispute=dispute).first()
    if order is not None and order.status == OrderStatus.ACTIVE:
        raise Conflict("order_exists", "该纠纷已在订单管理中")
    order = order or CaseOrder(dispute=dispute, created_at=now, created_by=user)
    order.owner = owner
    order.deadline = deadline
    order.plan = plan
    order.status = OrderStatus.ACTIVE
    order.supervising_org = dispute.org
    order.escalation_level = 0
    order.next_escalation_at = deadline
    order.done_at = None
    order.save()
    _progress(dispute, now)
    local = timezone.localtime(deadline)
    _event(
        dispute,
        EventKind.ORDER_OPENED,
        now,
        actor=user,
        message=f"列入重点订单管理，承办人 {owner.label}，时限 {local:%Y-%m-%d %H:%M}",
        data={"owner": owner.username, "deadline": deadline.isoformat()},
    )
    dispute.save()
    return order


def _close_order(dispute: Dispute, now, actor) -> None:
    order = CaseOrder.objects.filter(dispute=dispute, status=OrderStatus.ACTIVE).first()
    if order is None:
        return
    order.status = OrderStatus.DONE
    order.done_at = now
    order.save(update_fields=["status", "done_at"])
    late = " （逾期办结）" if now > order.deadline else ""
    _event(dispute, EventKind.ORDER_CLOSED, now, actor=actor, message=f"订单办结{late}")


def escalate_overdue(now=None) -> int:
    """Overdue orders climb one level of the org tree, then again every escalation interval
    while the dispute stays unresolved. Safe to run from several sweepers at once."""
    now = now or clock.now()
    interval = timedelta(hours=settings.DISPUTE_ORDER_ESCALATION_HOURS)
    escalated = 0
    due = CaseOrder.objects.filter(status=OrderStatus.ACTIVE, next_escalation_at__lte=now)
    for order_id, dispute_id in due.values_list("pk", "dispute_id")[:500]:
        with transaction.atomic():
            # The dispute first, then its order: the order resolve() takes them in (it locks
            # the dispute, then closes the order). Locking the order first deadlocked with it.
            dispute = Dispute.objects.select_for_update().filter(pk=dispute_id).first()
            order = (
                CaseOrder.objects.select_for_update(of=("self",))
                .select_related("supervising_org")
                .filter(pk=order_id, status=OrderStatus.ACTIVE, next_escalation_at__lte=now)
                .first()
            )
            if dispute is None or order is None:
                continue
            current = order.supervising_org
            parent = current.parent
            order.next_escalation_at = now + interval
            if parent is None:
                # Already at the top: stays there, reminded each interval.
                order.save(update_fields=["next_escalation_at"])
                continue
            order.supervising_org = parent
            order.escalation_level += 1
            order.save(update_fields=["supervising_org", "escalation_level", "next_escalation_at"])
            _event(
                dispute,
                EventKind.ORDER_ESCALATED,
                now,
                message=f"订单逾期未办结，由{current.name}上报{parent.name}督办",
                data={"from": current.code, "to": parent.code, "level": order.escalation_level},
            )
            for chief in User.objects.filter(role=Role.COMMANDER, org=parent, is_active=True):
                if chief.phone:
                    queue_message(
                        chief.phone,
                        f"【平安】纠纷订单 {dispute.code}（{dispute.title}）已逾期，"
                        f"上报{parent.name}督办。",
                        topic=f"dispute:{dispute.code}",
                    )
            escalated += 1
    return escalated


# --- mediation ----------------------------------------------------------------------------------


@transaction.atomic
def record_session(
    user: User,
    code: str,
    *,
    held_at,
    place: str,
    participants: str,
    outcome: str,
    notes: str = "",
    now=None,
) -> MediationSession:
    now = now or clock.now()
    place = clean_text(place, field="place", label="调解地点", max_len=100)
    participants = clean_text(participants, field="participants", label="参加人员", max_len=500)
    notes = clean_text(notes, field="notes", label="调解经过", max_len=5000, required=False)
    if outcome not in SessionOutcome.values:
        raise ServiceError("bad_outcome", "调解结果只能是 agreed、partial、adjourned 或 failed")
    if held_at is None or held_at > now + timedelta(minutes=5):
        raise ServiceError("bad_held_at", "调解时间不能晚于现在（请在调解后记录）")
    dispute = _lock(user, code)
    _require_accepted(dispute)
    if held_at < dispute.reported_at - timedelta(days=1):
        raise ServiceError("bad_held_at", "调解时间不能早于纠纷登记时间")
    session = MediationSession.objects.create(
        dispute=dispute,
        held_at=held_at,
        place=place,
        participants=participants,
        mediator=user,
        outcome=outcome,
        notes=notes,
        recorded_at=now,
    )
    with tracked(dispute):
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.SESSION,
            now,
            actor=user,
            message=f"{place}调解：{SessionOutcome(outcome).label}",
            data={"session": session.pk, "outcome": outcome},
            public=True,
        )
        reassess(dispute, now)
        dispute.save()
    _tell_parties(
        dispute,
        f"您的纠纷（{dispute.code}）已在{place}调解，结果：{SessionOutcome(outcome).label}。",
    )
    return session


@transaction.atomic
def draft_agreement(
    user: User,
    code: str,
    *,
    facts: str,
    terms: str,
    mediator_body: str,
    performance: str = "",
    session_id: int | None = None,
    now=None,
) -> Agreement:
    now = now or clock.now()
    facts = clean_text(facts, field="facts", label="纠纷主要事实", max_len=5000)
    terms = clean_text(terms, field="terms", label="协议内容", max_len=5000)
    mediator_body = clean_text(mediator_body, field="mediator_body", label="调解组织", max_len=100)
    performance = clean_text(
        performance, field="performance", label="履行方式与期限", max_len=500, required=False
    )
    dispute = _lock(user, code)
    _require_accepted(dispute)
    session = None
    if session_id is not None:
        session = MediationSession.objects.filter(pk=session_id, dispute=dispute).first()
        if session is None:
            raise ServiceError("unknown_session", "该调解记录不属于此纠纷")
    agreement = Agreement.objects.create(
        dispute=dispute,
        session=session,
        number=sequences.next_code("TJ", now),
        facts=facts,
        terms=terms,
        performance=performance,
        mediator_body=mediator_body,
        created_at=now,
        created_by=user,
    )
    _progress(dispute, now)
    _event(
        dispute,
        EventKind.AGREEMENT,
        now,
        actor=user,
        message=f"形成调解协议书 {agreement.number}",
        data={"agreement": agreement.number},
        public=True,
    )
    dispute.save()
    return agreement


def get_agreement_for(user: User, number: str) -> Agreement:
    agreement = (
        Agreement.objects.select_related("dispute", "dispute__grid", "dispute__org")
        .filter(number=number, dispute__in=disputes_for(user).values("pk"))
        .first()
    )
    if agreement is None:
        raise NotFound("未找到该协议书，或您无权查看")
    return agreement


@transaction.atomic
def sign_agreement(
    user: User,
    number: str,
    *,
    role: str,
    party_id: int | None = None,
    name: str = "",
    now=None,
) -> Signature:
    """Record that someone signed the paper agreement: who and when (not an e-signature)."""
    now = now or clock.now()
    if role not in SignerRole.values:
        raise ServiceError(
            "bad_signer_role", "签字人身份只能是 party、mediator、recorder 或 witness"
        )
    agreement = get_agreement_for(user, number)
    dispute = _lock(user, agreement.dispute.code)
    party = None
    if role == SignerRole.PARTY:
        party = Party.objects.filter(pk=party_id, dispute=dispute).first() if party_id else None
        if party is None:
            raise ServiceError("unknown_party", "请选择本纠纷的当事人签字")
        if Signature.objects.filter(agreement=agreement, party=party).exists():
            raise Conflict("already_signed", f"{party.name} 已签字")
        name = party.name
    else:
        name = clean_text(name, field="name", label="签字人姓名", max_len=100)
    signature = Signature.objects.create(
        agreement=agreement,
        role=role,
        party=party,
        name=name,
        signed_at=now,
        recorded_by=user,
    )
    _progress(dispute, now)
    _event(
        dispute,
        EventKind.SIGNED,
        now,
        actor=user,
        message=f"{SignerRole(role).label}{name} 在协议书 {agreement.number} 上签字",
        data={"agreement": agreement.number, "role": role},
    )
    dispute.save()
    return signature


# --- resolution, return visits and relapse ------------------------------------------------------


@transaction.atomic
def resolve(user: User, code: str, note: str, now=None) -> Dispute:
    now = now or clock.now()
    note = clean_text(note, field="note", label="化解情况", max_len=2000)
    dispute = _lock(user, code)
    _require_accepted(dispute)
    with tracked(dispute):
        dispute.status = Status.RESOLVED
        dispute.resolved_at = now
        dispute.resolution_note = note
        _progress(dispute, now)
        _event(dispute, EventKind.RESOLVED, now, actor=user, message=note, public=True)
        _close_order(dispute, now, user)
        ReturnVisit.objects.bulk_create(
            ReturnVisit(dispute=dispute, due_at=now + timedelta(days=days), after_days=days)
            for days in settings.DISPUTE_RETURN_VISIT_DAYS
        )
        dispute.save()
    _tell_parties(dispute, f"您的纠纷（{dispute.code}）已化解，我们将按期回访。")
    return dispute


@transaction.atomic
def record_visit(
    user: User, code: str, *, holds: bool, note: str, visit_id: int | None = None, now=None
) -> ReturnVisit:
    """Record a return visit. If the settlement did not hold, the dispute reopens (a relapse);
    when the last visit finds it holding, the dispute is closed as stable."""
    now = now or clock.now()
    note = clean_text(note, field="note", label="回访情况", max_len=500)
    if not isinstance(holds, bool):
        raise ServiceError("bad_holds", "请选择协议是否履行、纠纷是否反复")
    dispute = _lock(user, code)
    if dispute.status != Status.RESOLVED:
        raise Conflict("not_resolved", "只有已化解的纠纷需要回访")
    due = dispute.visits.filter(status=VisitStatus.DUE)
    visit = due.filter(pk=visit_id).first() if visit_id else due.order_by("due_at").first()
    if visit is None:
        raise ServiceError("unknown_visit", "没有待回访的记录")
    visit.status = VisitStatus.DONE
    visit.visited_at = now
    visit.visited_by = user
    visit.holds = holds
    visit.note = note
    visit.save()
    with tracked(dispute):
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.VISITED,
            now,
            actor=user,
            message=f"{visit.after_days} 天回访：{'稳定' if holds else '出现反复'}。{note}",
            data={"visit": visit.pk, "holds": holds},
            public=True,
        )
        if not holds:
            _relapse(dispute, now, user)
        elif not dispute.visits.filter(status=VisitStatus.DUE).exists():
            dispute.status = Status.CLOSED
            dispute.closed_at = now
            _event(
                dispute, EventKind.CLOSED, now, actor=user, message="回访稳定，结案", public=True
            )
        dispute.save()
    if not holds:
        _tell_parties(dispute, f"您的纠纷（{dispute.code}）回访发现反复，已重新启动化解。")
    return visit


def _relapse(dispute: Dispute, now, user) -> None:
    dispute.status = Status.OPEN
    dispute.relapse_count += 1
    dispute.resolved_at = None
    dispute.closed_at = None
    dispute.visits.filter(status=VisitStatus.DUE).update(status=VisitStatus.CANCELLED)
    _event(
        dispute,
        EventKind.RELAPSED,
        now,
        actor=user,
        message=f"第 {dispute.relapse_count} 次反复，重新化解",
        public=True,
    )
    order = CaseOrder.objects.filter(dispute=dispute).first()
    if order is not None:
        order.status = OrderStatus.ACTIVE
        order.deadline = now + timedelta(days=settings.DISPUTE_RELAPSE_ORDER_DAYS)
        order.next_escalation_at = order.deadline
        order.done_at = None
        order.save()
        _event(
            dispute,
            EventKind.ORDER_OPENED,
            now,
            actor=user,
            message=f"订单重新启动，时限 {timezone.localtime(order.deadline):%Y-%m-%d}",
        )
    reassess(dispute, now, actor=user)


# --- periodic work ------------------------------------------------------------------------------


def reassess_due(now=None, limit: int = 200) -> int:
    """Re-run the rules on open disputes not evaluated for an hour (the "no progress" rule
    depends on time passing, and administrators may have tuned the rules).

    At most `limit` per call, one by one (a few ms each): the sweeper calls this every minute
    beside the dispatch sweep, so 200 keeps it to about a second and covers 12,000 open
    disputes an hour. Larger installations run `reassess_disputes` (bulk.py) on a schedule."""
    now = now or clock.now()
    rules = compiled_rules()
    stale_before = now - timedelta(hours=1)
    codes = list(
        Dispute.objects.filter(status__in=OPEN_STATUSES)
        .filter(Q(risk_evaluated_at__lt=stale_before) | Q(risk_evaluated_at__isnull=True))
        .order_by("risk_evaluated_at")
        .values_list("code", flat=True)[:limit]
    )
    changed = 0
    for code in codes:
        with transaction.atomic():
            dispute = (
                Dispute.objects.select_for_update(of=("self",))
                .select_related("grid", "org")
                .get(code=code)
            )
            with tracked(dispute):
                changed += reassess(dispute, now, rules=rules)
                dispute.save(
                    update_fields=["risk", "risk_computed", "risk_reasons", "risk_evaluated_at"]
                )
    return changed


def sweep(now=None) -> dict:
    now = now or clock.now()
    return {"escalated": escalate_overdue(now), "reassessed": reassess_due(now)}


def visits_due(user: User, now=None):
    now = now or clock.now()
    return (
        ReturnVisit.objects.filter(
            status=VisitStatus.DUE,
            due_at__lte=now,
            dispute__in=disputes_for(user).values("pk"),
        )
        .select_related("dispute", "dispute__grid")
        .order_by("due_at")
    )


def risk_rank(level: str) -> int:
    return RISK_RANK.get(level, 0)
