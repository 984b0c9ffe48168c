"""On the task: check-in and check-out, proved by GPS near the meeting point (or the end of the
route) or by scanning the task's QR code on site, each inside its time window.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict, NotFound, ServiceError
from pingan.geo.distance import haversine_m

from ..access import get_task_for
from ..models import LIVE_SIGNUP, CheckMethod, Signup, SignupStatus, Task, TaskStatus
from ..validation import clean_location


def _lock_own_signup(user: User, code) -> Signup:
    task = get_task_for(user, code)
    signup = (
        Signup.objects.select_for_update(of=("self",))
        .select_related("task")
        .filter(task=task, user=user, status__in=LIVE_SIGNUP)
        .first()
    )
    if signup is None:
        raise NotFound("您没有报名该任务")
    if signup.status != SignupStatus.ACCEPTED:
        raise Conflict("not_accepted", "您在候补名单中，尚未获得名额")
    if signup.task.status != TaskStatus.PUBLISHED:
        raise Conflict("task_closed", f"任务已{signup.task.get_status_display()}")
    return signup


def _where(task: Task, *, lng, lat, crs, qr_token, targets) -> tuple[str, float | None, tuple]:
    """How the volunteer proved they are there: (method, distance in metres, (lng, lat))."""
    if qr_token not in (None, ""):
        if not isinstance(qr_token, str) or not secrets.compare_digest(
            qr_token.encode("utf-8", "replace"), task.qr_token.encode()
        ):
            raise ServiceError("bad_qr", "二维码无效：不是本任务的现场签到码")
        return CheckMethod.QR, None, (None, None)
    if lng in (None, "") or lat in (None, ""):
        raise ServiceError("location_required", "请允许定位，或扫描现场二维码签到")
    wgs = clean_location(lng, lat, crs)
    distance = min(haversine_m(wgs[0], wgs[1], t[0], t[1]) for t in targets)
    if distance > task.checkin_radius_m:
        raise ServiceError(
            "too_far",
            f"距集合点 {distance:.0f} 米，超出签到范围 {task.checkin_radius_m} 米",
            details={"distance_m": round(distance), "radius_m": task.checkin_radius_m},
        )
    return CheckMethod.GPS, distance, wgs


@transaction.atomic
def check_in(
    user: User, code, *, lng=None, lat=None, crs="wgs84", qr_token=None, now=None
) -> Signup:
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    task = signup.task
    if signup.checked_in_at is not None:
        raise Conflict("already_checked_in", "您已签到")
    opens = task.starts_at - timedelta(minutes=settings.VOLUNTEER_CHECKIN_EARLY_MINUTES)
    if not opens <= now < task.ends_at:
        raise Conflict(
            "outside_window",
            f"签到时间为 {timezone.localtime(opens):%m-%d %H:%M} 至 "
            f"{timezone.localtime(task.ends_at):%m-%d %H:%M}",
        )
    targets = [(task.meeting_lng, task.meeting_lat)]
    method, distance, (wlng, wlat) = _where(
        task, lng=lng, lat=lat, crs=crs, qr_token=qr_token, targets=targets
    )
    signup.checked_in_at = now
    signup.checkin_method = method
    signup.checkin_lng, signup.checkin_lat = wlng, wlat
    signup.checkin_distance_m = round(distance, 1) if distance is not None else None
    signup.save(
        update_fields=[
            "checked_in_at",
            "checkin_method",
            "checkin_lng",
            "checkin_lat",
            "checkin_distance_m",
        ]
    )
    return signup


@transaction.atomic
def check_out(
    user: User, code, *, lng=None, lat=None, crs="wgs84", qr_token=None, now=None
) -> Signup:
    """Near the meeting point or the end of the route, until VOLUNTEER_CHECKOUT_GRACE_MINUTES
    after the task ends (only the time inside the task's window counts, see service_hours)."""
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    task = signup.task
    if signup.checked_in_at is None:
        raise Conflict("not_checked_in", "请先签到")
    if signup.checked_out_at is not None:
        raise Conflict("already_checked_out", "您已签退")
    closes = task.ends_at + timedelta(minutes=settings.VOLUNTEER_CHECKOUT_GRACE_MINUTES)
    if not signup.checked_in_at <= now <= closes:
        raise Conflict(
            "outside_window", f"签退时间已过（截至 {timezone.localtime(closes):%m-%d %H:%M}）"
        )
    targets = [(task.meeting_lng, task.meeting_lat)]
    if task.route:
        targets.append(tuple(task.route[-1]))
    method, _distance, (wlng, wlat) = _where(
        task, lng=lng, lat=lat, crs=crs, qr_token=qr_token, targets=targets
    )
    signup.checked_out_at = now
    signup.checkout_method = method
    signup.checkout_lng, signup.checkout_lat = wlng, wlat
    signup.save(update_fields=["checked_out_at", "checkout_method", "checkout_lng", "checkout_lat"])
    return signup
