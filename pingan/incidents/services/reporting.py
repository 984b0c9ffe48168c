"""A new report: validation, the duplicate check and the first dispatch, in one short
transaction."""

import math
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction

from pingan.accounts.models import User
from pingan.accounts.roles import is_resident
from pingan.core import clock, fastsql, sequences
from pingan.core.errors import ServiceError
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.geo.distance import haversine_m
from pingan.geo.location import normalise_location
from pingan.orgs import refdata as org_refdata
from pingan.orgs import services as orgs

from .. import refdata as category_refdata
from .. import throttle
from ..models import OPEN_STATUSES, Assignment, Category, EventKind, Incident, Source, Status
from .dispatching import _dispatch, _search
from .timeline import _event, _events, _spec, _store_photos


@dataclass(frozen=True)
class ReportResult:
    incident: Incident
    assignment: Assignment | None


@lru_cache(maxsize=4)
def _duplicate_sql(vendor: str) -> str:
    statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    return (
        f"SELECT id, lng, lat FROM {Incident._meta.db_table} WHERE category_id = %s"
        f" AND status IN ({statuses}) AND duplicate_of_id IS NULL AND reported_at >= %s"
        # No ORDER BY: sorting by time would steer the planner to the (category, reported_at)
        # index and a scan of every report of the category in the window; the rows in a
        # 200 m band are few, and are ordered here.
        " AND lat BETWEEN %s AND %s AND lng BETWEEN %s AND %s"
    )


def find_duplicate(category: Category, lng: float, lat: float, now) -> Incident | None:
    """An open report of the same category within DUPLICATE_RADIUS_M and the last
    DUPLICATE_WINDOW_MINUTES, if any (plain SQL: it runs on every report)."""
    radius = settings.DUPLICATE_RADIUS_M
    dlat = radius / 111_320
    dlng = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    window_start = now - timedelta(minutes=settings.DUPLICATE_WINDOW_MINUTES)
    rows = fastsql.fetchall(
        _duplicate_sql(connection.vendor),
        [
            category.pk,
            Incident._meta.get_field("reported_at").get_db_prep_value(window_start, connection),
            lat - dlat,
            lat + dlat,
            lng - dlng,
            lng + dlng,
        ],
    )
    for other_id, other_lng, other_lat in sorted(rows):  # ids grow with time
        if haversine_m(lng, lat, other_lng, other_lat) <= radius:
            return Incident.objects.select_related("category", "grid", "org").get(pk=other_id)
    return None


def check_distance(location) -> None:
    """Refuse a point farther than REPORT_MAX_DISTANCE_KM from every grid: not a place this
    deployment answers for (a mistyped or forged position, 12,000 km away, must not be queued for
    dispatch in the county). Without any grid there is nothing to measure against."""
    limit_km = settings.REPORT_MAX_DISTANCE_KM
    if limit_km and location is not None and location.distance_m > limit_km * 1000:
        raise ServiceError(
            "outside_area",
            f"报警位置距本辖区最近的网格约 {location.distance_m / 1000:.0f} 公里，"
            f"超出受理范围（{limit_km:g} 公里）。请确认位置；紧急情况请直接拨打 110",
        )


def report(
    *,
    category_code: str,
    description: str,
    lng,
    lat,
    crs: str = "wgs84",
    address: str = "",
    reporter: User | None = None,
    anonymous: bool = False,
    source: str = Source.CITIZEN_APP,
    photos: list[PhotoUpload] = (),
    client_key: str = "",
    reporter_phone: str = "",
    now=None,
) -> ReportResult:
    """A report and its dispatch decision in ONE short transaction of about ten plain
    statements: the anonymous quota, the day's code, the duplicate check, the incident, the
    unit search and offer, the timeline. Reference data (categories, grids and their staff, the
    org tree, the 1-3-5 targets) comes from per-process caches, and nothing is pushed from
    here: the fan-out hears of the new timeline rows after commit (live/outbox.py)."""
    now = now or clock.now()
    description = (description or "").strip()
    if not description:
        raise ServiceError("empty_description", "请填写警情描述")
    if len(description) > 2000:
        raise ServiceError("description_too_long", "警情描述不能超过 2000 字")
    if len(address or "") > 200:
        raise ServiceError("address_too_long", "地址不能超过 200 字")
    if source not in Source.values:
        raise ServiceError("bad_source", "警情来源无效")
    category_ref = category_refdata.category(str(category_code))
    if category_ref is None:
        raise ServiceError("unknown_category", f"警情类别 {category_code} 不存在")
    lng, lat = normalise_location(lng, lat, crs)
    if lng == 0 and lat == 0:
        # What a phone without a fix, or a form sent without a point, says: never a place.
        raise ServiceError("bad_location", "报警位置无效，请在地图上选择或使用手机定位")
    # A 110 transfer with the caller's number is not anonymous even without an account.
    has_account = reporter is not None and reporter.is_authenticated
    is_anonymous = anonymous or (not has_account and not reporter_phone)
    if reporter is not None and has_account and is_resident(reporter):
        throttle.take_resident_report(reporter, now)
    grid_ref, location = orgs.locate_grid_ref(lng, lat)
    check_distance(location)
    checked_photos = check_photos(list(photos))
    grid = orgs.grid_from_ref(grid_ref) if grid_ref is not None else None
    org = orgs.cached_org(grid_ref.org_id) if grid_ref is not None else None
    category = Category(
        id=category_ref.id,
        code=category_ref.code,
        name=category_ref.name,
        default_priority=category_ref.default_priority,
    )
    targets = org_refdata.targets(org.pk if org else None, grid.kind if grid else None)

    # The reads come first, outside the transaction: on SQLite its write lock (and on
    # PostgreSQL its row locks) are then held only for the writes. A unit found free here and
    # taken meanwhile is skipped by the offer's conditional update; two identical reports in the
    # same instant may both be dispatched (the commander can merge them).
    duplicate_of = find_duplicate(category, lng, lat, now)
    incident = Incident(
        code="",  # numbered inside the transaction
        category=category,
        priority=category.default_priority,
        status=Status.PENDING,
        source=source,
        description=description,
        address=(address or "").strip(),
        lng=lng,
        lat=lat,
        grid=grid,
        org=org,
        org_path=org.path if org else "",
        outside_grids=bool(location and not location.inside),
        distance_to_grid_m=round(location.distance_m, 1) if location else 0,
        reporter=reporter if has_account else None,
        anonymous=is_anonymous,
        reporter_phone=reporter_phone,
        duplicate_of=duplicate_of,
        target_accept_s=targets.accept_seconds,
        target_arrive_s=targets.arrive_seconds,
        target_reinforce_s=targets.reinforce_seconds,
        reported_at=now,
    )
    found = None if duplicate_of is not None else _search(incident, now, set())
    with transaction.atomic():
        if not has_account:
            throttle.take_anonymous_report(client_key or "unknown", now)
        incident.code = sequences.next_code("JQ", now)  # JQ20261123-000123
        incident.pk = fastsql.insert(
            Incident, **{f.attname: getattr(incident, f.attname) for f in _INCIDENT_FIELDS}
        )
        _store_photos(incident, checked_photos)
        message = f"{Source(source).label}：{category.name}"
        if location and not location.inside:
            message += (
                f"（不在任何网格内，就近归入{grid.name}，相距约 {location.distance_m:.0f} 米）"
            )
        timeline = [_spec(EventKind.REPORTED, now, actor=incident.reporter, message=message)]
        assignment = None
        if duplicate_of is not None:
            timeline.append(
                _spec(
                    EventKind.LINKED_DUPLICATE,
                    now,
                    message=f"与 {duplicate_of.code} 地点、时间相近，关联为疑似重复，未重复派警",
                    data={"duplicate_of": duplicate_of.code},
                )
            )
            _events(incident, timeline)
            _event(
                duplicate_of,
                EventKind.DUPLICATE_REPORTED,
                now,
                message=f"收到疑似重复报警 {incident.code}",
                data={"duplicate": incident.code},
            )
        else:
            # The REPORTED row is written with the dispatch's own, in one statement.
            assignment = _dispatch(incident, now, timeline=timeline, first=True, first_search=found)
    return ReportResult(incident, assignment)


_INCIDENT_FIELDS = [f for f in Incident._meta.concrete_fields if not f.primary_key]
