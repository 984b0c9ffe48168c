"""Everyday handling of a dispute: handing it to another owner, recording work notes."""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Forbidden
from pingan.core.validation import clean_text

from ..models import Dispute, DisputeEvent, EventKind
from ..stats import tracked
from .guards import _check_owner, _lock, _require_accepted, _require_open
from .risk_review import reassess
from .timeline import _event, _progress


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
