"""Dispute pages: the console board by colour with the daily review, one dispute's file and its
action forms, the printable agreement, the officer's own cases and filing form, and the
resident's mediation request with its public status.

Every change goes through `services`; a ServiceError becomes a Chinese message next to the
form that caused it, with what the user typed kept.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pingan.accounts.roles import can_reveal, is_manager, is_staff_viewer
from pingan.audit import services as audit
from pingan.audit.models import Action as AuditAction
from pingan.audit.services import client_ip
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.masking import mask_name
from pingan.incidents import services as incident_services
from pingan.orgs.models import Grid

from . import forms as f
from . import lists, services
from .models import (
    OPEN_STATUSES,
    Channel,
    DisputeEvent,
    DisputeType,
    PartyRole,
    Risk,
    Route,
    Status,
    VisitStatus,
)

BOARD_LIMIT = 100  # cards drawn per colour; the column count is always the full number
STATUS_FILTERS = [("", "全部在办"), (Status.PENDING, "待受理"), (Status.OPEN, "化解中")]


def dispute_since() -> int:
    """The newest timeline id when the page was drawn: the live socket catches up from it."""
    return DisputeEvent.objects.aggregate(m=Max("pk"))["m"] or 0


def _staff_required(request) -> None:
    if not is_staff_viewer(request.user):
        raise PermissionDenied("只有民警、辅警、网格员和指挥员可以办理纠纷")


def _board_viewer_required(request) -> None:
    if not is_manager(request.user):
        raise PermissionDenied("只有指挥员和民警可以查看纠纷研判台")


def _staff_dispute_or_404(request, code):
    """Staff with access see the file; everyone else gets the same 404, so codes cannot be
    probed (residents follow their own requests on the /mediation/ pages)."""
    if not is_staff_viewer(request.user):
        raise Http404("未找到该纠纷")
    try:
        return services.get_dispute_for(request.user, code)
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def _may_manage(user) -> bool:
    return can_reveal(user)


def _worked_grids(user):
    return Grid.objects.filter(Q(officer=user) | Q(auxiliaries=user) | Q(grid_workers=user)).values(
        "pk"
    )


def _risk_first():
    return Case(
        When(risk=Risk.RED, then=Value(0)),
        When(risk=Risk.YELLOW, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )


def _order_state(dispute, now) -> dict | None:
    # Reverse one-to-one: a missing order raises an AttributeError subclass, hence getattr.
    order = getattr(dispute, "order", None)
    if order is None:
        return None
    active = order.status == "active"
    return {
        "order": order,
        "active": active,
        "overdue": active and order.deadline < now,
        "escalated": order.escalation_level > 0,
    }


def _card(dispute, now) -> dict:
    return {
        "d": dispute,
        "age": lists.age_days(dispute, now),
        "reasons": dispute.risk_reasons or [],
        "order": _order_state(dispute, now),
    }


# --- console board -------------------------------------------------------------------------------


def _days(params, name, errors) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()):
        errors.append(f"天数必须是 0 到 3650 之间的整数（{raw[:10]}）")
        return None
    return int(raw)


def parse_board_filters(params) -> tuple[lists.DisputeFilters, list[str]]:
    errors: list[str] = []
    status = (params.get("status") or "").strip()
    if status not in dict(STATUS_FILTERS):
        errors.append("状态无效")
        status = ""
    filters = lists.DisputeFilters(
        status=status,
        type=(params.get("type") or "").strip(),
        channel=(params.get("channel") or "").strip(),
        route=(params.get("route") or "").strip(),
        grid=(params.get("grid") or "").strip()[:32],
        min_age_days=_days(params, "min_age", errors),
        max_age_days=_days(params, "max_age", errors),
        q=params.get("q") or "",
        open_only=True,
    )
    try:
        lists.validate_filters(filters)
    except ServiceError as exc:
        errors.append(exc.message)
        filters = lists.DisputeFilters(open_only=True)
    return filters, errors


def _board_context(request) -> dict:
    user = request.user
    now = clock.now()
    filters, errors = parse_board_filters(request.GET)
    qs = lists.filter_disputes(services.disputes_for(user), filters, now=now)
    counts = {row["risk"]: row["n"] for row in qs.order_by().values("risk").annotate(n=Count("pk"))}
    columns = []
    for risk in lists.BOARD_COLUMNS:
        rows = (
            qs.filter(risk=risk)
            .select_related("order", "order__supervising_org")
            .order_by("-reported_at")[:BOARD_LIMIT]
        )
        cards = [_card(d, now) for d in rows]
        total = counts.get(risk, 0)
        columns.append(
            {
                "risk": risk,
                "label": Risk(risk).label,
                "count": total,
                "cards": cards,
                "more": max(0, total - len(cards)),
            }
        )
    return {
        "columns": columns,
        "filters": filters,
        "errors": errors,
        "query": request.GET.urlencode(),
    }


@login_required
def board(request):
    _board_viewer_required(request)
    context = _board_context(request)
    user = request.user
    context.update(
        types=DisputeType.choices,
        channels=Channel.choices,
        routes=[*Route.choices, ("none", "未确定途径")],
        statuses=STATUS_FILTERS,
        grids=f.visible_grids(user),
        review_count=services.daily_review_list(user).count(),
        visits_count=services.visits_due(user).count(),
        dispute_since=dispute_since(),
    )
    return render(request, "disputes/board.html", context, status=400 if context["errors"] else 200)


@login_required
def board_part(request):
    _board_viewer_required(request)
    return render(request, "disputes/_board.html", _board_context(request))


# --- daily review (yellow) and visits due --------------------------------------------------------


def _review_context(request, *, failed: str = "", error: str = "", note: str = "") -> dict:
    user = request.user
    now = clock.now()
    yellow, shown = [], False
    for dispute in services.daily_review_list(user)[:200]:
        card = _card(dispute, now)
        if dispute.code == failed:
            card.update(error=error, note=note)
            shown = True
        yellow.append(card)
    return {
        "yellow": yellow,
        # An error about a dispute no longer on the list (e.g. reviewed meanwhile) goes on top.
        "errors": [error] if error and not shown else [],
        "visits": list(services.visits_due(user, now)[:200]),
        "today": timezone.localdate(now),
        "dispute_since": dispute_since(),
    }


@login_required
def review_page(request):
    _board_viewer_required(request)
    return render(request, "disputes/review.html", _review_context(request))


@login_required
@require_POST
def review_action(request, code):
    _board_viewer_required(request)
    note = (request.POST.get("note") or "").strip()
    try:
        services.review(request.user, code, note)
    except ServiceError as exc:
        context = _review_context(request, failed=code, error=exc.message, note=note)
        return render(request, "disputes/review.html", context, status=exc.status)
    messages.success(request, f"纠纷 {code} 已研判")
    return redirect("disputes-review")


# --- one dispute ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    form: type
    run: Callable  # (user, dispute, form) -> success message


def _accept(user, d, form):
    done = services.accept_request(user, d.code, owner=form.cleaned_data["owner"])
    return f"已受理，责任人：{done.owner.label}"


def _decline(user, d, form):
    services.decline_request(user, d.code, form.cleaned_data["reason"])
    return "已决定不予受理，并告知申请人"


def _override(user, d, form):
    data = form.cleaned_data
    done = services.override_risk(user, d.code, data["level"], data["reason"])
    return f"风险等级现为{done.get_risk_display()}"


def _route(user, d, form):
    data = form.cleaned_data
    handoff = services.set_route(
        user,
        d.code,
        route=data["route"],
        body_kind=data["body_kind"],
        body_name=data["body_name"],
        contact_name=data["contact_name"],
        contact_phone=data["contact_phone"],
        reason=data["reason"],
    )
    return f"已交由{handoff.body_name}办理"


def _owner(user, d, form):
    done = services.assign_owner(user, d.code, form.cleaned_data["owner"])
    return f"责任人已变更为 {done.owner.label}"


def _note(user, d, form):
    services.add_note(user, d.code, form.cleaned_data["message"])
    return "已记录"


def _order(user, d, form):
    data = form.cleaned_data
    services.open_order(
        user, d.code, owner=data["owner"], deadline=data["deadline"], plan=data["plan"]
    )
    return "已列入重点订单管理"


def _session(user, d, form):
    data = form.cleaned_data
    services.record_session(
        user,
        d.code,
        held_at=data["held_at"],
        place=data["place"],
        participants=data["participants"],
        outcome=data["outcome"],
        notes=data["notes"],
    )
    return "已记录调解"


def _agreement(user, d, form):
    data = form.cleaned_data
    agreement = services.draft_agreement(
        user,
        d.code,
        facts=data["facts"],
        terms=data["terms"],
        mediator_body=data["mediator_body"],
        performance=data["performance"],
        session_id=data["session"],
    )
    return f"已形成调解协议书 {agreement.number}"


def _sign(user, d, form):
    data = form.cleaned_data
    signature = services.sign_agreement(
        user, data["agreement"], role=data["role"], party_id=data["party"], name=data["name"]
    )
    return f"已记录 {signature.name} 签字"


def _resolve(user, d, form):
    services.resolve(user, d.code, form.cleaned_data["note"])
    return "纠纷已化解，已安排回访"


def _visit(user, d, form):
    data = form.cleaned_data
    holds = data["holds"] == "yes"
    services.record_visit(user, d.code, holds=holds, note=data["note"], visit_id=data["visit"])
    return "已记录回访" if holds else "已记录回访：纠纷反复，已重新启动化解"


def _party(user, d, form):
    party = services.add_party(user, d.code, form.party_input())
    return f"已增加当事人 {party.name}"


ACTIONS = {
    "accept": Action(f.AcceptForm, _accept),
    "decline": Action(f.DeclineForm, _decline),
    "override": Action(f.OverrideForm, _override),
    "route": Action(f.RouteForm, _route),
    "owner": Action(f.OwnerForm, _owner),
    "note": Action(f.NoteForm, _note),
    "order": Action(f.OrderForm, _order),
    "session": Action(f.SessionForm, _session),
    "agreement": Action(f.AgreementForm, _agreement),
    "sign": Action(f.SignForm, _sign),
    "resolve": Action(f.ResolveForm, _resolve),
    "visit": Action(f.VisitForm, _visit),
    "party": Action(f.AddPartyForm, _party),
}


def _initial(dispute, name) -> dict:
    now = timezone.localtime(clock.now())
    if name == "override":
        return {"level": dispute.risk}
    if name == "route":
        return {"route": dispute.route, "body_kind": dispute.route_body}
    if name == "order":
        return {"owner": dispute.owner_id}
    if name == "session":
        return {"held_at": now.replace(second=0, microsecond=0), "place": dispute.grid.name}
    if name == "agreement":
        return {"facts": dispute.narrative, "mediator_body": dispute.handoff_body}
    return {}


# Shown in this order; (title, button label, button colour).
ACTION_LOOK = {
    "accept": ("受理申请", "受理", "green"),
    "decline": ("不予受理", "不予受理", "grey"),
    "route": ("化解途径 / 移交", "保存途径", ""),
    "session": ("记录调解", "保存调解记录", ""),
    "agreement": ("调解协议书", "形成协议书", ""),
    "sign": ("记录签字", "记录签字", ""),
    "note": ("工作记录", "记录", ""),
    "order": ("列入订单管理（重点跟踪）", "列入订单", "amber"),
    "override": ("人工调整风险等级", "调整", "amber"),
    "owner": ("变更责任人", "变更", "grey"),
    "party": ("增加当事人", "增加", "grey"),
    "resolve": ("化解完成", "确认化解", "green"),
    "visit": ("回访", "保存回访", "green"),
}


def _visible_actions(user, dispute, order, agreements) -> set[str]:
    """What this user may do now; services check again, this only keeps the page short."""
    status = dispute.status
    manage = _may_manage(user)
    names = set()
    if status == Status.PENDING:
        names |= {"accept", "decline"}
    if status in OPEN_STATUSES:
        names.add("party")
        if manage:
            names.add("override")
        if user.is_commander or dispute.owner_id == user.pk:
            names.add("owner")
    if status == Status.OPEN:
        names |= {"route", "session", "agreement", "note", "resolve"}
        if agreements:
            names.add("sign")
        if manage and not (order and order["active"]):
            names.add("order")
    if status == Status.RESOLVED:
        names.add("visit")
    return names


def _detail_context(request, dispute, *, bound=None, full_parties=None) -> dict:
    user = request.user
    now = clock.now()
    bound = bound or {}
    parties = list(dispute.parties.all())
    agreements = list(dispute.agreements.prefetch_related("signatures").order_by("created_at"))
    order = _order_state(dispute, now)
    visible = _visible_actions(user, dispute, order, agreements)
    actions = []
    for name, (title, button, colour) in ACTION_LOOK.items():
        if name not in visible and name not in bound:
            continue
        form = bound.get(name) or ACTIONS[name].form(
            dispute=dispute, initial=_initial(dispute, name), auto_id=f"{name}-%s"
        )
        actions.append(
            {
                "name": name,
                "title": title,
                "button": button,
                "colour": colour,
                "form": form,
                "open": name in bound,
            }
        )
    return {
        "dispute": dispute,
        "age": lists.age_days(dispute, now),
        "order": order,
        "parties": [lists.masked_party(p, mask_names=False) for p in parties],
        "full_parties": full_parties,
        "events": dispute.events.select_related("actor").order_by("at", "pk"),
        "handoffs": dispute.handoffs.order_by("at", "pk"),
        "sessions": dispute.sessions.select_related("mediator").order_by("held_at"),
        "agreements": agreements,
        "visits": dispute.visits.order_by("due_at"),
        "actions": actions,
        "can_reveal": can_reveal(user),
        "incident_link": user.is_commander,
        "dispute_since": dispute_since(),
    }


@login_required
def detail(request, code):
    dispute = _staff_dispute_or_404(request, code)
    return render(request, "disputes/detail.html", _detail_context(request, dispute))


@login_required
@require_POST
def act(request, code, action):
    dispute = _staff_dispute_or_404(request, code)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    form = spec.form(request.POST, dispute=dispute, auto_id=f"{action}-%s")
    status = 400
    if form.is_valid():
        try:
            message = spec.run(request.user, dispute, form)
        except ServiceError as exc:
            form.service_error(exc)
            status = exc.status
        else:
            messages.success(request, message)
            return redirect(reverse("dispute-detail", kwargs={"code": dispute.code}))
    # Re-read: the failed change was rolled back, but render what is really stored.
    dispute = services.get_dispute_for(request.user, code)
    context = _detail_context(request, dispute, bound={action: form})
    return render(request, "disputes/detail.html", context, status=status)


@login_required
@require_POST
def reveal(request, code):
    """The audited full view of the parties: shown in this response only, never cached."""
    dispute = _staff_dispute_or_404(request, code)
    try:
        parties = services.party_data_for(request.user, code, ip=client_ip(request))
    except ServiceError as exc:
        context = _detail_context(request, dispute)
        context["reveal_error"] = exc.message
        return render(request, "disputes/detail.html", context, status=exc.status)
    context = _detail_context(request, dispute, full_parties=[lists.full_party(p) for p in parties])
    response = render(request, "disputes/detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _national(phone: str) -> str:
    """+8613800138001 → 13800138001: a paper form carries the number as people dial it."""
    return phone[3:] if phone.startswith("+86") else phone


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


@login_required
def print_agreement(request, code, number):
    dispute = _staff_dispute_or_404(request, code)
    try:
        agreement = services.get_agreement_for(request.user, number)
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    if agreement.dispute_id != dispute.pk:
        raise Http404("未找到该协议书")
    try:
        # A paper agreement carries names, ID numbers and addresses: a full, audited view.
        parties = services.party_data_for(request.user, code, ip=client_ip(request))
    except ServiceError as exc:
        raise PermissionDenied(exc.message) from exc
    signatures = list(agreement.signatures.all())
    by_party = {s.party_id: s for s in signatures if s.party_id}
    rows = []
    for party in parties:
        data = lists.full_party(party)
        data["phone"] = _national(data["phone"])
        rows.append({"p": data, "signature": by_party.get(party.pk)})
    response = render(
        request,
        "disputes/agreement_print.html",
        {
            "dispute": dispute,
            "agreement": agreement,
            "parties": rows,
            # One paragraph per line, each indented like the rest of the document.
            "facts": _lines(agreement.facts),
            "terms": _lines(agreement.terms),
            "performance": _lines(agreement.performance) or ["按上述协议内容履行。"],
            "others": [s for s in signatures if not s.party_id],
            "copies": len(parties) + 1,
            "date": timezone.localtime(agreement.created_at),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


# --- officer / auxiliary / grid worker -----------------------------------------------------------


def _mine_context(request) -> dict:
    user = request.user
    now = clock.now()
    mine = services.disputes_for(user).filter(
        Q(owner=user) | Q(filed_by=user) | Q(grid__in=_worked_grids(user)) | Q(order__owner=user)
    )
    open_rows = (
        mine.filter(status__in=OPEN_STATUSES)
        .select_related("order", "order__supervising_org")
        .order_by(_risk_first(), "-reported_at")[:100]
    )
    settled = mine.exclude(status__in=OPEN_STATUSES).order_by("-last_progress_at")[:20]
    return {
        "cards": [_card(d, now) for d in open_rows],
        "settled": settled,
        "visits": list(services.visits_due(user, now)[:50]),
    }


@login_required
def mine(request):
    _staff_required(request)
    context = _mine_context(request)
    context["dispute_since"] = dispute_since()
    return render(request, "disputes/mine.html", context)


@login_required
def mine_part(request):
    _staff_required(request)
    return render(request, "disputes/_mine_list.html", _mine_context(request))


def _intake_error(form, exc: ServiceError) -> None:
    # Party messages name the party ("第 2 位当事人的手机号无效"), so service errors go to the
    # top of the form rather than next to a dispute field that happens to share their name.
    form.add_error(None, exc.message)


@login_required
def new(request):
    _staff_required(request)
    user = request.user
    grids = list(f.filing_grids(user)[:2])
    initial = {"channel": Channel.CADRE_GRID}
    if len(grids) == 1:
        initial["grid"] = grids[0].code
    form = f.FileForm(request.POST or None, user=user, initial=initial)
    rows = f.party_rows(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dispute = services.file_dispute(
                user,
                type=data["type"],
                channel=data["channel"],
                narrative=data["narrative"],
                parties=f.as_inputs(f.filled(rows)),
                title=data["title"],
                grid_code=data["grid"],
                amount_yuan=data["amount_yuan"],
                address=data["address"],
                source_note=data["source_note"],
            )
        except ServiceError as exc:
            _intake_error(form, exc)
        else:
            messages.success(
                request,
                f"已登记纠纷 {dispute.code}，风险等级：{dispute.get_risk_display()}",
            )
            return redirect("dispute-detail", code=dispute.code)
    return render(
        request,
        "disputes/new.html",
        {"form": form, "rows": f.padded(rows), **f.PARTY_CHOICES},
        status=400 if form.errors else 200,
    )


@login_required
def from_incident(request, incident_code):
    _staff_required(request)
    user = request.user
    try:
        incident = incident_services.get_incident_for(user, incident_code)
    except ServiceError as exc:
        raise Http404(exc.message) from exc
    existing = services.disputes_for(user).filter(incident=incident).first()
    initial = {"title": f"警情 {incident.code} 引发纠纷", "narrative": incident.description}
    form = f.ConvertForm(request.POST or None, initial=initial)
    if request.method == "POST":
        rows = f.party_rows(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                dispute = services.convert_incident(
                    user,
                    incident.code,
                    type=data["type"],
                    parties=f.as_inputs(f.filled(rows)),
                    narrative=data["narrative"],
                    title=data["title"],
                )
            except ServiceError as exc:
                _intake_error(form, exc)
            else:
                messages.success(request, f"已将警情 {incident.code} 转为纠纷 {dispute.code}")
                return redirect("dispute-detail", code=dispute.code)
    else:
        rows = []
        reporter = incident.reporter if not incident.anonymous else None
        if reporter is not None:
            row = f.blank_row(PartyRole.APPLICANT)
            row.update(name=reporter.label, phone=reporter.phone)
            rows.append(row)
            if reporter.phone:  # the reporter's number in full, in the form: an audited view
                audit.record(
                    user,
                    AuditAction.VIEW_PERSONAL_DATA,
                    "incident",
                    incident.code,
                    detail={"fields": ["reporter.phone"], "purpose": "convert_to_dispute"},
                    request=request,
                )
    return render(
        request,
        "disputes/from_incident.html",
        {
            "form": form,
            "incident": incident,
            "existing": existing,
            "rows": f.padded(rows),
            **f.PARTY_CHOICES,
        },
        status=400 if form.errors else 200,
    )


# --- residents -----------------------------------------------------------------------------------


@login_required
def mediation_request(request):
    user = request.user
    if user.is_staff_role:
        return render(request, "disputes/mediation_staff.html", status=403)
    form = f.RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        others = []
        if data["other_name"] or data["other_phone"]:
            others.append(
                services.PartyInput(
                    name=data["other_name"],
                    role=PartyRole.RESPONDENT,
                    phone=data["other_phone"],
                )
            )
        try:
            dispute = services.request_mediation(
                user,
                type=data["type"],
                narrative=data["narrative"],
                other_parties=others,
                title=data["title"],
                grid_code=data["grid"],
                address=data["address"],
                notify=data["notify"],
            )
        except ServiceError as exc:
            _intake_error(form, exc)
        else:
            messages.success(
                request, f"已收到您的调解申请，编号 {dispute.code}。工作人员会尽快与您联系。"
            )
            return redirect("mediation-status", code=dispute.code)
    return render(
        request,
        "disputes/mediation_request.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@login_required
def mediation_mine(request):
    requests = (
        services.disputes_for(request.user)
        .filter(requester=request.user)
        .order_by("-reported_at")[:100]
    )
    return render(
        request,
        "disputes/mediation_mine.html",
        {"requests": requests, "dispute_since": dispute_since()},
    )


def _status_context(request, code) -> dict:
    dispute = services.disputes_for(request.user).filter(requester=request.user, code=code).first()
    if dispute is None:
        raise Http404("未找到该申请")
    others = [
        {"role": p.get_role_display(), "name": mask_name(p.name)}
        for p in dispute.parties.exclude(role=PartyRole.APPLICANT)
    ]
    return {
        "dispute": dispute,
        "others": others,
        # Only the public steps: no risk colour, no staff notes, nobody's phone number.
        "events": dispute.events.filter(public=True).order_by("at", "pk"),
        "visits_done": dispute.visits.filter(status=VisitStatus.DONE).count(),
    }


@login_required
def mediation_status(request, code):
    context = _status_context(request, code)
    context["dispute_since"] = dispute_since()
    return render(request, "disputes/mediation_status.html", context)


@login_required
def mediation_status_part(request, code):
    return render(request, "disputes/_mediation_body.html", _status_context(request, code))
