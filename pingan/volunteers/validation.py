"""Checking what people type about themselves, teams and tasks, with Chinese messages.

Every function raises `ServiceError` with a machine-readable code and `details={"field": …}`,
so the API can point at the field and the pages can show the message as it is.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from django.conf import settings
from django.utils import timezone

from pingan.core.errors import ServiceError
from pingan.core.validation import clean_text, normalise_phone
from pingan.geo.location import normalise_location

from .models import Availability, Skill, TaskKind

__all__ = [
    "clean_text",
    "clean_choices",
    "clean_mobile",
    "clean_real_name",
    "clean_slots",
    "clean_radius",
    "clean_window",
    "clean_route",
    "clean_kind",
    "clean_location",
    "TaskWindow",
    "MAX_TASK_DAYS",
    "MAX_SLOTS",
    "MAX_ROUTE_POINTS",
    "MAX_AUDIENCE",
]

MAX_TASK_DAYS = 7
MAX_SLOTS = 10_000
MAX_ROUTE_POINTS = 500
# Teams or grids one task may be offered to: a county has at most a few hundred of each.
MAX_AUDIENCE = 500
RADIUS_MIN_M = 20
RADIUS_MAX_M = 5_000
MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def _bad(code: str, message: str, field: str):
    return ServiceError(code, message, details={"field": field})


def clean_real_name(value) -> str:
    name = clean_text(value, field="real_name", label="真实姓名", max_len=32)
    if len(name) < 2:
        raise _bad("bad_real_name", "请填写真实姓名（至少两个字）", "real_name")
    return name


def clean_mobile(value, *, field: str = "phone") -> str:
    """A mobile number in E.164: the leader and the station text it."""
    if not isinstance(value, str):
        raise _bad("bad_phone", "手机号必须是文字", field)
    phone = normalise_phone(value, field=field)
    if not phone:
        raise _bad("phone_required", "请填写手机号", field)
    if phonenumbers.number_type(phonenumbers.parse(phone)) not in MOBILE_TYPES:
        raise _bad("bad_phone", f"请填写手机号码（不是座机）：{value.strip()}", field)
    return phone


def clean_choices(values, choices, *, field: str, label: str) -> list[str]:
    """A list of known choice values, de-duplicated, in the order given."""
    if values is None:
        return []
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise _bad("invalid_input", f"{label}必须是列表", field)
    known = dict(choices)
    cleaned: list[str] = []
    for value in values:
        if not isinstance(value, str) or value not in known:
            options = "、".join(f"{k}（{v}）" for k, v in known.items())
            raise _bad(f"bad_{field}", f"{label}无效：{value!r}，可选 {options}", field)
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


def clean_skills(values) -> list[str]:
    return clean_choices(values, Skill.choices, field="skills", label="特长")


def clean_availability(values) -> list[str]:
    return clean_choices(values, Availability.choices, field="availability", label="可服务时间")


def clean_kind(value) -> str:
    if not isinstance(value, str) or value not in TaskKind.values:
        options = "、".join(f"{k}（{v}）" for k, v in TaskKind.choices)
        raise _bad("bad_kind", f"任务类型无效，可选：{options}", "kind")
    return value


def _int(value, *, code: str, message: str, field: str) -> int:
    # bool is an int in Python; True slots is a client bug, not one slot.
    if isinstance(value, bool):
        raise _bad(code, message, field)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise _bad(code, message, field)
    return value


def clean_slots(value) -> int:
    message = f"名额必须是 1 到 {MAX_SLOTS} 之间的整数"
    slots = _int(value, code="bad_slots", message=message, field="slots")
    if not 1 <= slots <= MAX_SLOTS:
        raise _bad("bad_slots", message, "slots")
    return slots


def clean_radius(value) -> int:
    if value in (None, ""):
        return settings.VOLUNTEER_CHECKIN_RADIUS_M
    message = f"签到半径必须是 {RADIUS_MIN_M} 到 {RADIUS_MAX_M} 米之间的整数"
    radius = _int(value, code="bad_radius", message=message, field="checkin_radius_m")
    if not RADIUS_MIN_M <= radius <= RADIUS_MAX_M:
        raise _bad("bad_radius", message, "checkin_radius_m")
    return radius


@dataclass(frozen=True)
class TaskWindow:
    starts_at: datetime
    ends_at: datetime


def _aware(value, field: str, label: str) -> datetime:
    if not isinstance(value, datetime):
        raise _bad("bad_time", f"{label}必须是时间", field)
    # A naive time is local wall time, as a phone or a form sends it.
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def clean_window(starts_at, ends_at, now) -> TaskWindow:
    starts_at = _aware(starts_at, "starts_at", "开始时间")
    ends_at = _aware(ends_at, "ends_at", "结束时间")
    if starts_at <= now:
        raise _bad("starts_in_past", "开始时间必须晚于现在", "starts_at")
    if ends_at <= starts_at:
        raise _bad("bad_window", "结束时间必须晚于开始时间", "ends_at")
    if ends_at - starts_at > timedelta(days=MAX_TASK_DAYS):
        raise _bad("window_too_long", f"一次任务最长 {MAX_TASK_DAYS} 天", "ends_at")
    if starts_at - now > timedelta(days=366):
        raise _bad("starts_too_late", "开始时间不能晚于一年以后", "starts_at")
    return TaskWindow(starts_at, ends_at)


def clean_location(lng, lat, crs, *, field: str = "location") -> tuple[float, float]:
    """(lng, lat) in WGS-84 from any of the three datums; ServiceError on nonsense."""
    for value in (lng, lat):
        if isinstance(value, bool) or value is None:
            raise _bad("bad_location", "坐标无效：经纬度必须是数字", field)
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad("bad_location", "坐标无效：经纬度必须是有限数值", field)
    if not isinstance(crs, str):
        raise _bad("bad_crs", "坐标系只能是 wgs84、gcj02 或 bd09", field)
    try:
        return normalise_location(lng, lat, crs)
    except ServiceError as exc:
        exc.details = {"field": field}
        raise


def clean_route(route, crs) -> list[list[float]]:
    """A patrol route as [[lng, lat], …] in WGS-84 (rounded to ~1 cm)."""
    if route in (None, ""):
        return []
    if isinstance(route, str | bytes | dict) or not hasattr(route, "__iter__"):
        raise _bad("bad_route", "路线必须是坐标点列表 [[经度, 纬度], …]", "route")
    points = list(route)
    if len(points) > MAX_ROUTE_POINTS:
        raise _bad("bad_route", f"路线最多 {MAX_ROUTE_POINTS} 个点", "route")
    if len(points) == 1:
        raise _bad("bad_route", "路线至少需要两个点", "route")
    cleaned = []
    for index, point in enumerate(points, start=1):
        if (
            isinstance(point, str | bytes | dict)
            or not hasattr(point, "__len__")
            or len(point) != 2
        ):
            raise _bad("bad_route", f"路线第 {index} 个点必须是 [经度, 纬度]", "route")
        lng, lat = clean_location(point[0], point[1], crs, field="route")
        cleaned.append([round(lng, 7), round(lat, 7)])
    return cleaned
