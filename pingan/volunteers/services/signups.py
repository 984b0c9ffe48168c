"""The sign-up rush: first come, first served, with a waiting list in lock order; giving up a
place promotes the first in line.

The hot path (sign_up) is hand-written SQL on purpose, see the comments on the statements.
"""

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from pingan.accounts.models import User
from pingan.accounts.roles import is_resident
from pingan.core import clock
from pingan.core.errors import Conflict, NotFound

from .. import push
from ..access import get_task_for
from ..models import LIVE_SIGNUP, Signup, SignupStatus, Task, TaskStatus
from .tasks import _lock_task
from .texts import _phone_of, _text_to

# The checks before any lock, in one hand-written statement: the ORM version (four nested
# subqueries) cost ~4 ms of Python CPU per sign-up to build and compile, a third of the
# request's server CPU in the rush benchmark (docs/benchmarks.md).
_OFFER_FACTS_SQL = """
    SELECT t.id,
        (SELECT m.team_id FROM volunteers_membership m
            JOIN volunteers_task_teams tt ON tt.team_id = m.team_id AND tt.task_id = t.id
            WHERE m.user_id = %(user)s AND m.status = 'active'
            ORDER BY m.team_id LIMIT 1),
        EXISTS (SELECT 1 FROM volunteers_task_grids tg
            JOIN volunteers_volunteerprofile p ON p.home_grid_id = tg.grid_id
            WHERE tg.task_id = t.id AND p.user_id = %(user)s),
        EXISTS (SELECT 1 FROM volunteers_volunteerprofile p WHERE p.user_id = %(user)s),
        EXISTS (SELECT 1 FROM volunteers_signup s
            WHERE s.task_id = t.id AND s.user_id = %(user)s
            AND s.status IN ('accepted', 'waiting'))
    FROM volunteers_task t WHERE t.code = %(code)s
"""


# PostgreSQL: lock, decide, insert and count in ONE autocommit statement, so no Python runs
# (and no thread waits for the GIL) while the task row is locked. With the ORM transaction
# (SELECT … FOR UPDATE, INSERT, UPDATE, COMMIT: four round trips under the lock) the lock was
# held ~25 ms per sign-up under load and the rush queued on it (Lock:tuple).
_SIGN_UP_SQL = """
    WITH t AS (
        SELECT id, taken < slots AS free FROM volunteers_task
        WHERE id = %(task)s AND status = 'published' AND ends_at > %(now)s
        FOR UPDATE
    ), ins AS (
        INSERT INTO volunteers_signup (task_id, user_id, team_id, status, created_at,
            accepted_at, promoted, checkin_method, checkout_method, report_text, review,
            review_reason, hours, points_awarded)
        SELECT t.id, %(user)s, %(team)s,
            CASE WHEN t.free THEN 'accepted' ELSE 'waiting' END, %(now)s,
            CASE WHEN t.free THEN %(now)s::timestamptz END, false, '', '', '', '', '', 0, 0
        FROM t
        RETURNING id, status
    ), upd AS (
        UPDATE volunteers_task SET taken = taken + 1
        WHERE id = %(task)s AND EXISTS (SELECT 1 FROM ins WHERE status = 'accepted')
    )
    SELECT id, status FROM ins
"""


def _offer_facts(user: User, code: str):
    """One query, before any lock: the task's id and whether it is offered to the user (their
    first offered team), whether they have a profile and a live sign-up already."""
    with connection.cursor() as cursor:
        cursor.execute(_OFFER_FACTS_SQL, {"user": user.pk, "code": code})
        row = cursor.fetchone()
    if row is None:
        return None
    keys = ("pk", "offered_team", "in_grid", "has_profile", "live")
    return dict(zip(keys, row, strict=True))


def _claim_in_one_statement(user: User, facts: dict, now) -> Signup:
    params = {"task": facts["pk"], "user": user.pk, "team": facts["offered_team"], "now": now}
    with connection.cursor() as cursor:
        cursor.execute(_SIGN_UP_SQL, params)
        row = cursor.fetchone()
    if row is None:
        raise Conflict("task_closed", "任务已结束或已取消，不能报名")
    accepted = row[1] == SignupStatus.ACCEPTED
    return Signup(
        pk=row[0],
        task_id=facts["pk"],
        user=user,
        team_id=facts["offered_team"],
        status=row[1],
        created_at=now,
        accepted_at=now if accepted else None,
    )


def _claim_with_orm(user: User, facts: dict, now) -> Signup:
    with transaction.atomic():
        task = (
            Task.objects.select_for_update()
            .only("pk", "status", "slots", "taken", "ends_at")
            .get(pk=facts["pk"])
        )
        if task.status != TaskStatus.PUBLISHED or task.ends_at <= now:
            raise Conflict("task_closed", "任务已结束或已取消，不能报名")
        accepted = task.taken < task.slots
        signup = Signup.objects.create(
            task_id=task.pk,
            user=user,
            team_id=facts["offered_team"],
            status=SignupStatus.ACCEPTED if accepted else SignupStatus.WAITING,
            created_at=now,
            accepted_at=now if accepted else None,
        )
        if accepted:
            Task.objects.filter(pk=task.pk).update(taken=F("taken") + 1)
    return signup


def sign_up(user: User, code, now=None) -> Signup:
    """First come, first served. The task row is locked only for the decision and two writes:
    accepted while `taken < slots`, else waiting (the waiting list is id order, which is the
    order the lock was granted)."""
    now = now or clock.now()
    if not user.is_authenticated or not isinstance(code, str) or not is_resident(user):
        raise NotFound("未找到该任务，或您无权查看")
    facts = _offer_facts(user, code)
    if facts is None or not (facts["offered_team"] or facts["in_grid"]):
        raise NotFound("未找到该任务，或您无权查看")
    if not facts["has_profile"]:
        raise Conflict("profile_required", "请先填写志愿者档案（真实姓名和手机号）")
    if facts["live"]:
        raise Conflict("already_signed_up", "您已报名该任务")
    # Inside a caller's transaction the statement would not commit on its own: keep the ORM
    # path there (and on SQLite, whose IMMEDIATE transactions serialise writers anyway).
    one_statement = connection.vendor == "postgresql" and not connection.in_atomic_block
    try:
        if one_statement:
            return _claim_in_one_statement(user, facts, now)
        return _claim_with_orm(user, facts, now)
    except IntegrityError as exc:
        # The same person pressing twice at once: the partial unique index stops the second.
        raise Conflict("already_signed_up", "您已报名该任务") from exc


def waiting_position(signup: Signup) -> int | None:
    """1 for the first in line; None unless the sign-up is waiting."""
    if signup.status != SignupStatus.WAITING:
        return None
    return Signup.objects.filter(
        task_id=signup.task_id, status=SignupStatus.WAITING, pk__lte=signup.pk
    ).count()


def signup_of(user: User, task: Task) -> Signup | None:
    """The user's live sign-up for a task, else their latest one (for the task page)."""
    if not user.is_authenticated:
        return None
    rows = Signup.objects.filter(task=task, user=user)
    return rows.filter(status__in=LIVE_SIGNUP).first() or rows.order_by("-pk").first()


@transaction.atomic
def cancel_signup(user: User, code, now=None) -> Signup:
    """Give up a place (or leave the waiting list). A freed slot goes to the first in line,
    who is promoted in this same transaction and told."""
    now = now or clock.now()
    task = get_task_for(user, code)
    task = _lock_task(task.code)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .filter(task=task, user=user, status__in=LIVE_SIGNUP)
        .first()
    )
    if signup is None:
        raise NotFound("您没有报名该任务")
    if signup.checked_in_at is not None:
        raise Conflict("already_checked_in", "已签到，不能取消报名")
    if task.status != TaskStatus.PUBLISHED or task.ends_at <= now:
        raise Conflict("task_closed", "任务已结束或已取消")
    held_slot = signup.status == SignupStatus.ACCEPTED
    signup.status = SignupStatus.CANCELLED
    signup.cancelled_at = now
    signup.save(update_fields=["status", "cancelled_at"])
    if held_slot:
        _promote_first_in_line(task, now)
    return signup


def _promote_first_in_line(task: Task, now) -> Signup | None:
    """Called with the task locked and one slot just freed."""
    first = (
        Signup.objects.select_for_update(of=("self",))
        .filter(task=task, status=SignupStatus.WAITING)
        .order_by("pk")
        .first()
    )
    if first is None:
        Task.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
        task.taken -= 1
        return None
    first.status = SignupStatus.ACCEPTED
    first.accepted_at = now
    first.promoted = True
    first.save(update_fields=["status", "accepted_at", "promoted"])
    local = timezone.localtime(task.starts_at)
    text = (
        f"候补成功：您已获得任务“{task.title}”的名额，"
        f"请于 {local:%m-%d %H:%M} 到 {task.meeting_address} 集合。"
    )
    push.to_users([first.user_id], "promoted", text, task=task)
    _text_to(_phone_of(first.user), text, f"task:{task.code}")
    return first
