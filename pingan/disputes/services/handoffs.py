"""Resolution routes (the "3"): grassroots, judicial or departmental, each handed to a named
body and a contact there; changing route needs a reason.
"""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.validation import clean_text, normalise_phone

from ..models import ROUTE_BODIES, EventKind, Handoff, Route, RouteBody
from ..stats import tracked
from .guards import _lock, _require_accepted
from .risk_review import reassess
from .timeline import _event, _progress, _tell_parties


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
