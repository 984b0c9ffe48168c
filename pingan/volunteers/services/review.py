"""The officer's review of a volunteer's work: confirmation fixes the hours and credits points
through the ledger in the same transaction; rejection gives a reason.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound
from pingan.points import ledger
from pingan.points.models import RuleCode

from .. import push
from ..access import can_manage_task, signups_for
from ..models import Review, Signup, SignupStatus
from ..validation import clean_text
from .guards import _record_id
from .texts import _phone_of, _text_to


def _lock_signup_for_review(actor: User, signup_id) -> Signup:
    signup_id = _record_id(signup_id)
    if signup_id is None:
        raise NotFound("未找到该报名记录，或您无权查看")
    visible = signups_for(actor).filter(pk=signup_id).first()
    if visible is None:
        raise NotFound("未找到该报名记录，或您无权查看")
    if not can_manage_task(actor, visible.task):
        raise Forbidden("只有发布任务的民警或辖区指挥员可以确认任务")
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("task", "task__org", "team", "user")
        .get(pk=signup_id)
    )
    if signup.review:
        raise Conflict("already_reviewed", f"该任务已审核（{signup.get_review_display()}）")
    if signup.status != SignupStatus.ACCEPTED or signup.checked_in_at is None:
        raise Conflict("not_checked_in", "志愿者未签到，不能审核")
    return signup


def service_hours(signup: Signup, now=None) -> Decimal:
    """Check-in to check-out (or the task's end), both clipped to the task window: an early
    check-in (VOLUNTEER_CHECKIN_EARLY_MINUTES) or a late check-out (the grace) earns nothing."""
    task = signup.task
    start = max(signup.checked_in_at, task.starts_at)
    end = min(signup.checked_out_at or task.ends_at, task.ends_at)
    seconds = max(0.0, (end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _present_in_window(signup: Signup) -> bool:
    """Whether any of the time between check-in and check-out lies inside the task's window."""
    task = signup.task
    start = max(signup.checked_in_at, task.starts_at)
    end = min(signup.checked_out_at or task.ends_at, task.ends_at)
    return end > start


@transaction.atomic
def confirm_work(actor: User, signup_id, now=None) -> Signup:
    """Confirm a volunteer's work: hours are fixed and points credited in this transaction
    (idempotent in the ledger, and a reviewed sign-up cannot be reviewed again)."""
    now = now or clock.now()
    signup = _lock_signup_for_review(actor, signup_id)
    task = signup.task
    if signup.checked_out_at is None and now < task.ends_at:
        raise Conflict("not_finished", "志愿者尚未签退，任务也未结束，暂不能确认")
    hours = service_hours(signup)
    if not _present_in_window(signup):
        # Nothing to credit: e.g. checked in early and out again before the task began.
        raise Conflict(
            "outside_window",
            "志愿者的签到、签退不在任务时间内（"
            f"{timezone.localtime(task.starts_at):%m-%d %H:%M} 至 "
            f"{timezone.localtime(task.ends_at):%m-%d %H:%M}），不能确认，请选择不予确认",
        )
    source = {"source_type": "task", "source_ref": task.code}
    where = {"org": task.org, "team": signup.team, "actor": actor, "now": now}
    entries = [
        ledger.award(
            signup.user,
            RuleCode.TASK_CONFIRMED,
            f"完成任务：{task.title}",
            task_kind=task.kind,
            dedupe_key=f"task:{task.code}:{signup.user_id}:done",
            **source,
            **where,
        ),
        ledger.award(
            signup.user,
            RuleCode.PATROL_HOUR,
            f"在岗 {hours} 小时：{task.title}",
            units=float(hours),
            task_kind=task.kind,
            dedupe_key=f"task:{task.code}:{signup.user_id}:hours",
            **source,
            **where,
        ),
    ]
    points = sum(e.amount for e in entries if e is not None)
    signup.review = Review.CONFIRMED
    signup.reviewed_at = now
    signup.reviewed_by = actor
    signup.hours = hours
    signup.points_awarded = points
    signup.save(update_fields=["review", "reviewed_at", "reviewed_by", "hours", "points_awarded"])
    text = f"任务“{task.title}”已确认：服务 {hours} 小时，获得 {points} 积分。"
    push.to_users([signup.user_id], "work_confirmed", text, task=task, points=points)
    _text_to(_phone_of(signup.user), text, f"task:{task.code}")
    return signup


@transaction.atomic
def reject_work(actor: User, signup_id, *, reason, now=None) -> Signup:
    now = now or clock.now()
    reason = clean_text(reason, field="reason", label="不予确认原因", max_len=200)
    signup = _lock_signup_for_review(actor, signup_id)
    task = signup.task
    signup.review = Review.REJECTED
    signup.reviewed_at = now
    signup.reviewed_by = actor
    signup.review_reason = reason
    signup.save(update_fields=["review", "reviewed_at", "reviewed_by", "review_reason"])
    text = f"任务“{task.title}”未予确认：{reason}"
    push.to_users([signup.user_id], "work_rejected", text, task=task)
    _text_to(_phone_of(signup.user), text, f"task:{task.code}")
    return signup
