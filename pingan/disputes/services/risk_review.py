"""Risk: the rules' colour, re-run on each change; a person's override with a written reason;
the daily review of yellow disputes.
"""

from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import User
from pingan.accounts.roles import REVEAL_ROLES, is_manager
from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, ServiceError

from .. import risk as rules_engine
from ..access import disputes_for
from ..assessment import compiled_rules, facts_for
from ..models import OPEN_STATUSES, RISK_RANK, DailyReview, Dispute, EventKind, Risk
from ..stats import tracked
from .guards import _lock, _require_open
from .timeline import _event, _progress, red_alert


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
    """An officer's or commander's daily look at an open dispute; auxiliaries and grid
    workers follow disputes up but do not sign off the review (as on the review board)."""
    now = now or clock.now()
    if not is_manager(user):
        raise Forbidden("只有民警和指挥员可以研判纠纷")
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


def risk_rank(level: str) -> int:
    return RISK_RANK.get(level, 0)
