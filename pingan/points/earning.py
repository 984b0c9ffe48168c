"""Points residents earn outside volunteer tasks — confirmed tips, tips that led to an arrest,
help in a mediation — plus manual adjustments and the optional yearly expiry.

Awards are idempotent through the ledger's dedupe keys: the tip sweep may run as often as it
likes, overlap a manual call, or be retried after a crash, and each act is credited once.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Concat
from django.utils import timezone

from pingan.accounts.models import User
from pingan.accounts.roles import RESIDENT_ROLES, is_staff_viewer
from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.core.validation import normalise_phone
from pingan.disputes.access import get_dispute_for
from pingan.disputes.models import MediationSession
from pingan.incidents.models import Incident, Outcome, Status
from pingan.notify.services import queue_message

from . import ledger
from .models import EntryKind, PointEntry, RuleCode

log = logging.getLogger(__name__)

TIP_WINDOW = timedelta(days=30)
MAX_ADJUST = 100_000
TIP_STATUSES = (Status.RESOLVED, Status.CLOSED)


# --- tips ---------------------------------------------------------------------------------------


def _tip_keys(code: str) -> tuple[str, str]:
    return f"incident:{code}:tip", f"incident:{code}:arrest"


def tip_eligible(incident: Incident) -> bool:
    """A tip earns points when it was handled and found valid, and its reporter is a known
    resident (citizen or volunteer) who did not stay anonymous. Staff reports are their job."""
    reporter = incident.reporter
    return (
        incident.status in TIP_STATUSES
        and incident.valid is True
        and not incident.anonymous
        and reporter is not None
        and reporter.is_active
        and reporter.role in RESIDENT_ROLES
    )


def award_tip(incident: Incident, now=None) -> list[PointEntry]:
    """Credit the reporter of one incident; returns the entries written (none when not
    eligible, already credited, or the rules are off)."""
    if not tip_eligible(incident):
        return []
    now = now or clock.now()
    tip_key, arrest_key = _tip_keys(incident.code)
    written = []
    with transaction.atomic():
        entry = ledger.award(
            incident.reporter,
            RuleCode.TIP_CONFIRMED,
            f"线索经核实：{incident.code}",
            source_type="incident",
            source_ref=incident.code,
            dedupe_key=tip_key,
            org=incident.org,
            now=now,
        )
        if entry is not None:
            written.append(entry)
        if incident.outcome == Outcome.ARREST:
            entry = ledger.award(
                incident.reporter,
                RuleCode.TIP_ARREST,
                f"线索协助抓获嫌疑人：{incident.code}",
                source_type="incident",
                source_ref=incident.code,
                dedupe_key=arrest_key,
                org=incident.org,
                now=now,
            )
            if entry is not None:
                written.append(entry)
        total = sum(e.amount for e in written)
        if total and incident.reporter.phone:
            queue_message(
                incident.reporter.phone,
                f"【平安】您反映的线索（{incident.code}）经核实，获得 {total} 积分，"
                "可在爱心超市兑换物品。感谢支持！",
                topic=f"points:{incident.code}",
            )
    return written


def award_tips(now=None) -> int:
    """The sweep: every eligible incident handled in the last 30 days that still lacks an
    award. Returns the number of entries written. The database leaves out what was already
    credited (one probe of the dedupe index per incident), so a frequent sweep stays cheap."""
    now = now or clock.now()
    since = now - TIP_WINDOW

    def credited(suffix):
        key = Concat(Value("incident:"), OuterRef("code"), Value(suffix), output_field=CharField())
        return Exists(PointEntry.objects.filter(dedupe_key=key))

    due = (
        Incident.objects.select_related("reporter", "org")
        .filter(
            # Bounded above by `now` too: a sweep run for a past moment must not credit (and
            # date before its resolution) an incident resolved later.
            Q(resolved_at__gte=since, resolved_at__lte=now)
            | Q(resolved_at__isnull=True, closed_at__gte=since, closed_at__lte=now),
            status__in=TIP_STATUSES,
            valid=True,
            anonymous=False,
            reporter__is_active=True,
            reporter__role__in=RESIDENT_ROLES,
        )
        .annotate(tip_done=credited(":tip"), arrest_done=credited(":arrest"))
        .filter(Q(tip_done=False) | Q(outcome=Outcome.ARREST, arrest_done=False))
        .order_by("pk")
    )
    written = 0
    for incident in due:
        try:
            written += len(award_tip(incident, now=now))
        except Exception:  # one bad row must not stop the sweep for everyone else
            log.exception("tip award for %s failed", incident.code)
    return written


# --- mediation help -----------------------------------------------------------------------------


def find_resident_by_phone(phone: str) -> User:
    """The citizen or volunteer with this phone (account phone or volunteer profile)."""
    phone = normalise_phone(phone, field="helper_phone")
    if not phone:
        raise ServiceError(
            "phone_required", "请填写协助人的手机号", details={"field": "helper_phone"}
        )
    people = list(
        User.objects.filter(
            Q(phone=phone) | Q(volunteer_profile__phone=phone),
            role__in=RESIDENT_ROLES,
            is_active=True,
        ).distinct()[:2]
    )
    if not people:
        raise ServiceError(
            "unknown_helper",
            "没有使用该手机号的群众或义警账号，请让协助人先注册",
            details={"field": "helper_phone"},
        )
    if len(people) > 1:
        raise ServiceError(
            "ambiguous_helper",
            "该手机号对应多个账号，请到管理后台核实",
            details={"field": "helper_phone"},
        )
    return people[0]


def award_mediation_help(actor: User, dispute_code: str, *, session_id, helper: User, now=None):
    """Staff who can see the dispute record that a resident helped in one of its mediation
    sessions. Recording the same person for the same session again returns the first entry."""
    now = now or clock.now()
    if not is_staff_viewer(actor):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以登记协助调解")
    dispute = get_dispute_for(actor, dispute_code)
    if isinstance(session_id, bool) or not isinstance(session_id, int) or session_id < 1:
        raise NotFound("未找到该调解记录")
    session = MediationSession.objects.filter(pk=session_id, dispute=dispute).first()
    if session is None:
        raise NotFound("未找到该调解记录")
    if not isinstance(helper, User) or helper.role not in RESIDENT_ROLES or not helper.is_active:
        raise ServiceError("bad_helper", "协助人必须是群众或义警")
    key = f"mediation:{session.pk}:{helper.pk}"
    with transaction.atomic():
        entry = ledger.award(
            helper,
            RuleCode.MEDIATION_HELP,
            f"协助调解：{dispute.code}（{session.held_at:%Y-%m-%d}）",
            source_type="mediation",
            source_ref=f"{dispute.code}#{session.pk}",
            dedupe_key=key,
            org=dispute.org,
            actor=actor,
            now=now,
        )
        if entry is None:
            existing = PointEntry.objects.filter(dedupe_key=key).first()
            if existing is not None:
                return existing
            raise Conflict("rule_inactive", "协助调解积分规则未启用，未发放积分")
        if helper.phone:
            queue_message(
                helper.phone,
                f"【平安】感谢您协助调解纠纷，获得 {entry.amount} 积分。",
                topic=f"points:mediation:{session.pk}",
            )
    return entry


# --- adjustments --------------------------------------------------------------------------------


def adjust(actor: User, user: User, amount, *, reason) -> PointEntry:
    """A commander corrects a resident's balance by hand, with a written reason."""
    if not actor.is_authenticated or not actor.is_commander:
        raise Forbidden("只有指挥员可以调整积分")
    if not isinstance(user, User) or user.role not in RESIDENT_ROLES:
        raise ServiceError("bad_user", "只能调整群众或义警的积分")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ServiceError("bad_amount", "调整积分必须是非零整数")
    if abs(amount) > MAX_ADJUST:
        raise ServiceError("bad_amount", f"单次调整不能超过 {MAX_ADJUST} 分")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason or "\x00" in reason:
        raise ServiceError("reason_required", "调整积分必须填写理由")
    return ledger.post(
        user,
        amount,
        EntryKind.ADJUST,
        f"人工调整：{reason}"[:200],
        source_type="adjust",
        source_ref=actor.username,
        org=actor.org,
        actor=actor,
    )


# --- yearly expiry ------------------------------------------------------------------------------


def _year_start(year: int) -> datetime:
    return timezone.make_aware(datetime(year, 1, 1))


def _lapse_sums(cutoff: datetime):
    """FIFO: every debit, whenever it happened, spends the oldest points first. What was earned
    before `cutoff` minus everything spent so far (refunds undo their redemption) lapses."""
    return {
        "old": Sum(
            "amount",
            filter=Q(amount__gt=0, created_at__lt=cutoff) & ~Q(kind=EntryKind.REFUND),
        ),
        "spent": Sum("amount", filter=Q(amount__lt=0) | Q(kind=EntryKind.REFUND)),
    }


def _lapsing(sums: dict) -> int:
    return max(0, (sums["old"] or 0) + (sums["spent"] or 0))


def expire_points(now=None) -> int:
    """With POINTS_EXPIRE_AFTER_YEARS = N > 0, points earned in year Y that no debit has used
    lapse at the end of year Y + N (local time). Returns the number of people affected."""
    years = settings.POINTS_EXPIRE_AFTER_YEARS
    if years <= 0:
        return 0
    now = now or clock.now()
    # The latest year whose points have lapsed; earlier years are inside its sums, so a missed
    # run catches up. One grouped pass finds who has anything left to lapse.
    year = timezone.localtime(now).year - years - 1
    cutoff = _year_start(year + 1)
    rows = (
        PointEntry.objects.values("user_id")
        .annotate(**_lapse_sums(cutoff))
        .filter(old__gt=0)
        .values_list("user_id", "old", "spent")
    )
    key_of = {
        uid: f"expire:{uid}:{year}"
        for uid, old, spent in rows
        if _lapsing({"old": old, "spent": spent})
    }
    done = set(
        PointEntry.objects.filter(dedupe_key__in=list(key_of.values())).values_list(
            "dedupe_key", flat=True
        )
    )
    affected = 0
    for user_id, key in sorted(key_of.items()):
        if key in done:
            continue
        with transaction.atomic():
            user = User.objects.get(pk=user_id)
            ledger.lock_account(user, now)
            # Again under the lock: a redemption may have spent the points meanwhile.
            amount = _lapsing(
                PointEntry.objects.filter(user_id=user_id).aggregate(**_lapse_sums(cutoff))
            )
            if amount <= 0:
                continue
            entry = ledger.post(
                user,
                -amount,
                EntryKind.EXPIRE,
                f"{year} 年及以前获得的积分到期（有效期 {years} 年）",
                source_type="expiry",
                source_ref=str(year),
                dedupe_key=key,
                now=now,
            )
            affected += entry is not None
    return affected
