"""Every incident state change: report, dispatch, accept, arrive, reinforce, resolve, rate,
offer expiry, re-dispatch, merge and split. Each runs in one transaction; pushes and tasks are
sent only after commit.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q

from pingan.accounts.models import User
from pingan.core import clock, fastsql, sequences
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.geo.distance import haversine_m
from pingan.geo.location import normalise_location
from pingan.live import outbox
from pingan.orgs import refdata as org_refdata
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgKind, OrgUnit

from . import dispatch, push, throttle
from . import refdata as category_refdata
from .models import (
    ACTIVE_ASSIGNMENT,
    OPEN_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Category,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    Outcome,
    Source,
    Status,
    Unit,
)


@dataclass(frozen=True)
class ReportResult:
    incident: Incident
    assignment: Assignment | None


# --- scoped access ------------------------------------------------------------------------------


def incidents_for(user: User):
    """The incidents a user may see: staff their org subtree, others only their own reports."""
    qs = Incident.objects.select_related("category", "grid", "org", "duplicate_of")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if user.is_staff_role:
        # Their station's subtree, plus anything their unit was sent to across a boundary.
        sent_to = Assignment.objects.filter(Q(unit__user=user) | Q(unit__members=user))
        visible = Q(pk__in=sent_to.values("incident_id"))
        root = orgs.scope_org(user)
        if root is not None:
            visible |= Q(org_path__startswith=root.path)
        return qs.filter(visible)
    return qs.filter(reporter=user)


def get_incident_for(user: User, code: str) -> Incident:
    """404 alike for missing and not-yours, so codes cannot be probed."""
    incident = incidents_for(user).filter(code=code).first()
    if incident is None:
        raise NotFound("未找到该警情，或您无权查看")
    return incident


def unit_for_user(user: User) -> Unit | None:
    if not user.is_authenticated:
        return None
    unit = Unit.objects.filter(user=user).first()
    return unit or Unit.objects.filter(members=user).order_by("pk").first()


# --- timeline and push --------------------------------------------------------------------------


def _event(
    incident: Incident, kind: str, now, *, actor=None, unit=None, message="", data=None
) -> IncidentEvent:
    spec = _spec(kind, now, actor=actor, unit=unit, message=message, data=data)
    [event_id] = _events(incident, [spec])
    return IncidentEvent(pk=event_id, incident=incident, **spec)


def _spec(kind: str, now, *, actor=None, unit=None, message="", data=None) -> dict:
    """One timeline row, before it is written (see `_events`)."""
    return {
        "kind": kind,
        "at": now,
        "actor": actor if actor is not None and actor.pk else None,
        "unit": unit,
        "message": message[:500],
        "data": data or {},
    }


def _events(incident: Incident, specs: list[dict]) -> list[int]:
    """Write timeline rows of one incident in one statement (their ids back); each is pushed
    after commit by the fan-out, which computes the audience (push.py)."""
    ids = fastsql.insert_many(
        IncidentEvent,
        [
            {
                "incident_id": incident.pk,
                "kind": spec["kind"],
                "at": spec["at"],
                "actor_id": spec["actor"].pk if spec["actor"] is not None else None,
                "unit_id": spec["unit"].pk if spec["unit"] is not None else None,
                "message": spec["message"],
                "data": spec["data"],
            }
            for spec in specs
        ],
    )
    for event_id in ids:
        outbox.announce(push.SOURCE, event_id)
    return ids


def _schedule_expiry(assignment: Assignment) -> None:
    if assignment.expires_at is None:
        return
    assignment_id, run_after = assignment.pk, assignment.expires_at

    def enqueue():
        from .tasks import expire_offer

        expire_offer.using(run_after=run_after).enqueue(assignment_id)

    transaction.on_commit(enqueue)


def add_note(incident: Incident, user: User | None, message: str, *, now=None, data=None):
    """A note on an incident's timeline written by another domain (e.g. "turned into dispute
    JF…"): pushed like every other step."""
    return _event(
        incident, EventKind.NOTE, now or clock.now(), actor=user, message=message, data=data
    )


# --- photos -------------------------------------------------------------------------------------


def _store_photos(incident: Incident, checked) -> None:
    for photo, content_type, ext in checked:
        stored = IncidentPhoto(
            incident=incident, content_type=content_type, size=len(photo.content)
        )
        digest = hashlib.sha1(photo.content).hexdigest()[:8]
        stored.image.save(f"{incident.code}-{digest}.{ext}", ContentFile(photo.content), save=False)
        stored.save()


@transaction.atomic
def add_photos(incident: Incident, user: User, photos: list[PhotoUpload], now=None) -> int:
    """The reporter, or a unit sent to the incident, adds photos later."""
    now = now or clock.now()
    incident = _lock_incident(incident)
    if incident.reporter_id != user.pk and unit_for_user(user) is None:
        raise Forbidden("只有报警人或处警民警可以上传照片")
    existing = incident.photos.count()
    if existing + len(photos) > settings.PHOTO_MAX_COUNT:
        raise ServiceError("too_many_photos", f"每个警情最多 {settings.PHOTO_MAX_COUNT} 张照片")
    if not photos:
        raise ServiceError("no_photos", "请选择要上传的照片")
    _store_photos(incident, check_photos(photos))
    _event(incident, EventKind.NOTE, now, actor=user, message=f"上传照片 {len(photos)} 张")
    return len(photos)


# --- report -------------------------------------------------------------------------------------


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
    checked_photos = check_photos(list(photos))
    # A 110 transfer with the caller's number is not anonymous even without an account.
    has_account = reporter is not None and reporter.is_authenticated
    is_anonymous = anonymous or (not has_account and not reporter_phone)
    grid_ref, location = orgs.locate_grid_ref(lng, lat)
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


# --- dispatch -----------------------------------------------------------------------------------


def _search_scope(incident: Incident) -> str:
    """Automatic dispatch looks for units within the incident's county."""
    if incident.org_id is None:
        return ""
    return org_refdata.county_path(incident.org_id) or incident.org_path


def _own_unit_users(incident: Incident) -> set[int]:
    """The grid's officer and auxiliaries, from the reference cache."""
    grid = org_refdata.grid(incident.grid_id) if incident.grid_id else None
    if grid is None:
        return set()
    users = set(grid.auxiliary_ids)
    if grid.officer_id:
        users.add(grid.officer_id)
    return users


def _offer(
    incident: Incident, candidate: dispatch.Candidate, now, *, role, by=None, reason=""
) -> Assignment | None:
    """Offer the incident to one unit; None when another transaction took the unit first."""
    timeout = settings.DISPATCH_OFFER_TIMEOUT_SECONDS
    assignment = Assignment(
        incident=incident,
        unit=candidate.unit,
        role=role,
        status=AssignmentStatus.OFFERED,
        offered_at=now,
        expires_at=now + timedelta(seconds=timeout) if timeout > 0 else None,
        distance_m=candidate.distance_m,
        eta_seconds=candidate.eta_seconds,
        dispatched_by=by,
        reason=reason[:200],
    )
    assignment.pk = fastsql.insert(
        Assignment,
        **{f.attname: getattr(assignment, f.attname) for f in _ASSIGNMENT_FIELDS},
    )
    # The conditional UPDATE is the lock: of two transactions racing for the last free unit,
    # the second re-checks `current_assignment IS NULL` after the first commits. The loser
    # takes its offer back with a DELETE, cheaper than a savepoint around every offer.
    taken = fastsql.execute(_TAKE_UNIT_SQL, [assignment.pk, candidate.unit.pk, True])
    if not taken:
        fastsql.execute(_DELETE_ASSIGNMENT_SQL, [assignment.pk])
        return None
    return assignment


_ASSIGNMENT_FIELDS = [f for f in Assignment._meta.concrete_fields if not f.primary_key]
_TAKE_UNIT_SQL = (
    f"UPDATE {Unit._meta.db_table} SET current_assignment_id = %s"
    " WHERE id = %s AND current_assignment_id IS NULL AND on_duty = %s"
)
_DELETE_ASSIGNMENT_SQL = f"DELETE FROM {Assignment._meta.db_table} WHERE id = %s"
_SET_STATUS_SQL = f"UPDATE {Incident._meta.db_table} SET status = %s WHERE id = %s"


def _offered_unit_ids(incident: Incident) -> set[int]:
    return set(incident.assignments.values_list("unit_id", flat=True))


# Racing reports can take every unit of the near search box between the read and the offer;
# the search is then repeated without them, which widens the box when it has emptied.
CANDIDATE_PASSES = 3


def _search(incident: Incident, now, exclude: set[int]) -> list[dispatch.Candidate]:
    return dispatch.candidates(
        incident,
        now=now,
        exclude_unit_ids=exclude,
        scope_path=_search_scope(incident),
        own_user_ids=_own_unit_users(incident),
    )


def _free_candidates(incident: Incident, now, exclude: set[int], first_search=None):
    """Candidates in preference order; units found taken when offered are skipped and the
    search runs again (up to CANDIDATE_PASSES) so a farther free unit is still found.
    `first_search`: the first pass's result when the caller searched already (the report
    searches before its transaction, so the write lock is not held through the search)."""
    taken: set[int] = set()
    for attempt in range(CANDIDATE_PASSES):
        if attempt == 0 and first_search is not None:
            found = first_search
        else:
            found = _search(incident, now, exclude | taken)
        if not found:
            return
        for candidate in found:
            yield candidate
            taken.add(candidate.unit.pk)


def _dispatch(
    incident: Incident,
    now,
    *,
    role=AssignmentRole.PRIMARY,
    by=None,
    retry=False,
    timeline: list[dict] | None = None,
    first=False,
    first_search=None,
) -> Assignment | None:
    """Offer the incident to the best free unit that has not had it yet.

    A retry (the sweep, for an incident still waiting) may go back to units that let an
    earlier offer expire, better than nobody, and records nothing when there is still no one.
    `timeline`: rows the caller has not written yet, written together with this step's
    (`first`: a new incident, which no unit has been offered yet).
    """
    timeline = list(timeline or [])
    exclude = set() if retry or first else _offered_unit_ids(incident)
    chosen = None
    for candidate in _free_candidates(incident, now, exclude, first_search):
        assignment = _offer(incident, candidate, now, role=role, by=by)
        if assignment is None:
            continue
        chosen, offered = _offered(
            incident, candidate, assignment, now, role=role, by=by, retry=retry
        )
        timeline.append(offered)
        break
    if chosen is None:
        # Nobody with a fresh position (e.g. no phone reported one since a restart): never let
        # the report wait without an offer while the grid's own staff or the station's team is
        # on duty. Costs queries only here, never when the normal search found someone.
        chosen = _dispatch_fallback(
            incident, now, role=role, by=by, exclude=exclude, timeline=timeline
        )
    if chosen is None and not retry:
        waiting = (
            "暂无可派警力，等待空闲警力" if role == AssignmentRole.PRIMARY else ("暂无可派增援警力")
        )
        timeline.append(_spec(EventKind.NO_UNIT, now, message=waiting, data={"role": role}))
    if timeline:
        _events(incident, timeline)
    return chosen


def _offered(incident, candidate, assignment, now, *, role, by, retry, why=None):
    """After a successful offer: the incident's status, the expiry and the OFFERED row."""
    if role == AssignmentRole.PRIMARY and incident.status == Status.PENDING:
        fastsql.execute(_SET_STATUS_SQL, [Status.DISPATCHED, incident.pk])
        incident.status = Status.DISPATCHED
    if why is None:
        why = "重新派警" if retry else "本网格警力" if candidate.own_grid else "就近警力"
    if candidate.distance_m is not None:
        where = f"约 {candidate.distance_m / 1000:.1f} 公里，预计 {candidate.eta_seconds} 秒"
    else:
        where = "位置未知"
    spec = _spec(
        EventKind.OFFERED,
        now,
        actor=by,
        unit=candidate.unit,
        message=f"派{AssignmentRole(role).label}：{candidate.unit.name}（{why}，{where}）",
        data={"assignment": assignment.pk, "role": role},
    )
    _schedule_expiry(assignment)
    return assignment, spec


def _station_path(incident: Incident) -> str:
    """The path of the police station above (or at) the incident's org, from the cache."""
    if incident.org_id is None:
        return ""
    for org_id in reversed(org_refdata.ancestor_ids(incident.org_id)):
        found = org_refdata.org(org_id)
        if found is not None and found.kind == OrgKind.STATION:
            return found.path
    return ""


def _dispatch_fallback(
    incident: Incident, now, *, role, by, exclude: set[int], timeline: list[dict]
) -> Assignment | None:
    found = dispatch.fallback_candidates(
        incident,
        own_user_ids=_own_unit_users(incident),
        station_path=_station_path(incident),
        exclude_unit_ids=exclude,
    )
    for candidate in found:
        assignment = _offer(incident, candidate, now, role=role, by=by)
        if assignment is None:
            continue
        own = candidate.fallback == dispatch.FALLBACK_OWN_GRID
        who = "本网格在岗警力" if own else "派出所快反队"
        minutes = settings.POSITION_STALE_MINUTES
        timeline.append(
            _spec(
                EventKind.POSITION_FALLBACK,
                now,
                unit=candidate.unit,
                message=f"附近没有 {minutes} 分钟内上报过位置的空闲警力，已按值班安排派"
                f"{who} {candidate.unit.name}，请指挥员核实警力位置并跟进到场",
                data={"role": role, "fallback": candidate.fallback, "unit": candidate.unit.pk},
            )
        )
        chosen, spec = _offered(
            incident,
            candidate,
            assignment,
            now,
            role=role,
            by=by,
            retry=False,
            why=f"{who}，位置未更新",
        )
        timeline.append(spec)
        return chosen
    return None


def _free_unit(assignment: Assignment) -> None:
    Unit.objects.filter(pk=assignment.unit_id, current_assignment=assignment).update(
        current_assignment=None
    )


def _units_of(user: User):
    """The units a person answers for: their own, and any team they are a member of."""
    return Unit.objects.filter(Q(user=user) | Q(members=user)).values("pk")


def _active_assignment_for(incident: Incident, user: User) -> Assignment:
    assignment = (
        incident.assignments.select_for_update(of=("self",))
        .select_related("unit")
        .filter(unit__in=_units_of(user), status__in=ACTIVE_ASSIGNMENT)
        .order_by("offered_at")
        .first()
    )
    if assignment is None:
        raise Forbidden("该警情当前没有派给您")
    return assignment


def _lock_visible(code: str, user: User) -> Incident:
    """Lock an incident the user may see; NotFound alike for missing and out of scope. One
    statement: the scope filter and the row lock together."""
    incident = incidents_for(user).select_for_update(of=("self",)).filter(code=code).first()
    if incident is None:
        raise NotFound("未找到该警情，或您无权查看")
    return incident


def _lock_incident(incident_or_code) -> Incident:
    code = incident_or_code.code if isinstance(incident_or_code, Incident) else incident_or_code
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("category", "grid", "org")
        .get(code=code)
    )


def _lock_for_unit_action(code: str, user: User) -> tuple[Incident, Assignment]:
    """The open incident, locked, and the user's unit's active assignment on it."""
    incident = _lock_visible(code, user)
    _require_open(incident)
    return incident, _active_assignment_for(incident, user)


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise Conflict("incident_closed", f"警情已{incident.get_status_display()}，不能再操作")


@transaction.atomic
def accept(code: str, user: User, now=None) -> Assignment:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status != AssignmentStatus.OFFERED:
        raise Conflict("already_accepted", "您已接警")
    if assignment.expires_at and assignment.expires_at <= now:
        raise Conflict("offer_expired", "派警已超时，已改派其他警力")
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = now
    assignment.save(update_fields=["status", "accepted_at"])
    fields = []
    if incident.accepted_at is None:
        incident.accepted_at = now
        incident.accept_s = (now - incident.reported_at).total_seconds()
        fields += ["accepted_at", "accept_s"]
    if incident.status in (Status.PENDING, Status.DISPATCHED):
        incident.status = Status.ACCEPTED
        fields.append("status")
    if fields:
        incident.save(update_fields=fields)
    _event(
        incident,
        EventKind.ACCEPTED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 已接警（{assignment.get_role_display()}）",
    )
    return assignment


@transaction.atomic
def decline(code: str, user: User, reason: str = "", now=None) -> Assignment | None:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status != AssignmentStatus.OFFERED:
        raise Conflict("cannot_decline", "已接警，不能拒绝；如需支援请请求增援")
    assignment.status = AssignmentStatus.DECLINED
    assignment.finished_at = now
    assignment.reason = reason[:200]
    assignment.save(update_fields=["status", "finished_at", "reason"])
    _free_unit(assignment)
    _event(
        incident,
        EventKind.DECLINED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 拒绝：{reason or '未说明'}",
    )
    return _dispatch(incident, now, role=assignment.role)


@transaction.atomic
def arrive(code: str, user: User, now=None) -> Assignment:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status == AssignmentStatus.OFFERED:
        raise Conflict("not_accepted", "请先接警再确认到场")
    if assignment.status == AssignmentStatus.ARRIVED:
        raise Conflict("already_arrived", "已确认到场")
    assignment.status = AssignmentStatus.ARRIVED
    assignment.arrived_at = now
    assignment.save(update_fields=["status", "arrived_at"])
    # Whoever reaches the scene first is the first unit on scene for the 3-minute clock.
    if incident.arrived_at is None:
        incident.arrived_at = now
        incident.arrive_s = (now - incident.reported_at).total_seconds()
    incident.status = Status.ON_SCENE
    kind = EventKind.ARRIVED
    if assignment.role == AssignmentRole.REINFORCEMENT:
        kind = EventKind.REINFORCE_ARRIVED
        if incident.reinforce_arrived_at is None:
            incident.reinforce_arrived_at = now
            incident.reinforce_s = (now - incident.reported_at).total_seconds()
    incident.save(
        update_fields=["arrived_at", "arrive_s", "status", "reinforce_arrived_at", "reinforce_s"]
    )
    _event(
        incident,
        kind,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 已到场",
    )
    return assignment


@transaction.atomic
def request_reinforcement(code: str, user: User, note: str = "", now=None) -> Assignment | None:
    now = now or clock.now()
    incident, assignment = _lock_for_unit_action(code, user)
    if assignment.status == AssignmentStatus.OFFERED:
        raise Conflict("not_accepted", "请先接警再请求增援")
    if incident.reinforce_requested_at is None:
        incident.reinforce_requested_at = now
        incident.save(update_fields=["reinforce_requested_at"])
    _event(
        incident,
        EventKind.REINFORCE_REQUESTED,
        now,
        actor=user,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 请求增援：{note or '现场需要支援'}",
    )
    return _dispatch(incident, now, role=AssignmentRole.REINFORCEMENT)


def _finish_assignments(incident: Incident, now) -> None:
    for assignment in incident.assignments.select_for_update().filter(status__in=ACTIVE_ASSIGNMENT):
        was_offer = assignment.status == AssignmentStatus.OFFERED
        assignment.status = AssignmentStatus.CANCELLED if was_offer else AssignmentStatus.DONE
        assignment.finished_at = now
        assignment.save(update_fields=["status", "finished_at"])
        _free_unit(assignment)


@transaction.atomic
def resolve(
    code: str, user: User, *, outcome: str, note: str = "", valid: bool = True, now=None
) -> Incident:
    """The unit on scene (or a commander in scope) closes the handling with an outcome."""
    now = now or clock.now()
    if outcome not in Outcome.values:
        raise ServiceError("bad_outcome", "处置结果无效")
    incident = _lock_visible(code, user)
    _require_open(incident)
    unit = None
    if not user.is_commander:
        unit = _active_assignment_for(incident, user).unit
    incident.status = Status.RESOLVED
    incident.resolved_at = now
    incident.outcome = outcome
    incident.outcome_note = note[:2000]
    incident.valid = bool(valid) and outcome not in (Outcome.FALSE_REPORT, Outcome.DUPLICATE)
    incident.save(update_fields=["status", "resolved_at", "outcome", "outcome_note", "valid"])
    _finish_assignments(incident, now)
    _event(
        incident,
        EventKind.RESOLVED,
        now,
        actor=user,
        unit=unit,
        message=f"处置完成：{Outcome(outcome).label}" + (f"。{note}" if note else ""),
        data={"outcome": outcome, "valid": incident.valid},
    )
    # Duplicates linked to this one are resolved with it.
    for dup in incident.duplicates.filter(status__in=OPEN_STATUSES):
        _close_as_duplicate(dup, incident, now, user)
    return incident


@transaction.atomic
def rate(code: str, user: User, rating: int, comment: str = "", now=None) -> Incident:
    now = now or clock.now()
    incident = _lock_incident(code)
    if incident.reporter_id != user.pk:
        raise NotFound("未找到该警情，或您无权查看")
    if incident.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict("not_resolved", "警情处置完成后才能评价")
    if incident.rating is not None:
        raise Conflict("already_rated", "您已评价过")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError("bad_rating", "评分应为 1 到 5 星")
    incident.rating = rating
    incident.rating_comment = comment[:500]
    incident.save(update_fields=["rating", "rating_comment"])
    _event(
        incident, EventKind.RATED, now, actor=user, message=f"评价 {rating} 星 {comment}".strip()
    )
    return incident


# --- timeouts, sweeping, manual control ---------------------------------------------------------


@transaction.atomic
def expire_offer(assignment_id: int, now=None) -> Assignment | None:
    """An unanswered offer times out: free the unit and offer the next one. Idempotent."""
    now = now or clock.now()
    assignment = (
        Assignment.objects.select_related("incident", "unit").filter(pk=assignment_id).first()
    )
    if assignment is None:
        return None
    incident = _lock_incident(assignment.incident.code)
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=assignment_id)
    )
    if (
        assignment.status != AssignmentStatus.OFFERED
        or assignment.expires_at is None
        or assignment.expires_at > now
    ):
        return None
    assignment.status = AssignmentStatus.EXPIRED
    assignment.finished_at = now
    assignment.save(update_fields=["status", "finished_at"])
    _free_unit(assignment)
    _event(
        incident,
        EventKind.OFFER_EXPIRED,
        now,
        unit=assignment.unit,
        message=f"{assignment.unit.name} 超时未接警，自动改派",
    )
    if not incident.is_open:
        return None
    return _dispatch(incident, now, role=assignment.role)


def sweep(now=None) -> dict:
    """Expire overdue offers and retry incidents still waiting for a unit.

    Offer expiry is scheduled as a task per offer; this sweep is the safety net (a worker that
    was down) and the retry for incidents that found no free unit.
    """
    now = now or clock.now()
    expired = 0
    for assignment_id in Assignment.objects.filter(
        status=AssignmentStatus.OFFERED, expires_at__lte=now
    ).values_list("pk", flat=True):
        expire_offer(assignment_id, now)
        expired += 1
    retried = 0
    waiting = (
        Incident.objects.filter(status=Status.PENDING, duplicate_of__isnull=True)
        .exclude(assignments__status__in=ACTIVE_ASSIGNMENT)
        .values_list("code", flat=True)[:200]
    )
    for code in waiting:
        with transaction.atomic():
            incident = _lock_incident(code)
            waiting_still = (
                incident.status == Status.PENDING
                and not incident.assignments.filter(status__in=ACTIVE_ASSIGNMENT).exists()
            )
            if waiting_still and _dispatch(incident, now, retry=True):
                retried += 1
    return {"expired": expired, "retried": retried}


def _require_commander(user: User, code: str) -> Incident:
    if not user.is_commander:
        raise Forbidden("只有指挥员可以执行此操作")
    get_incident_for(user, code)
    return _lock_incident(code)


@transaction.atomic
def redispatch(
    code: str, user: User, *, unit_id: int | None = None, reason: str = "", now=None
) -> Assignment | None:
    """A commander takes the incident off its current unit and gives it to another (or the best)."""
    now = now or clock.now()
    incident = _require_commander(user, code)
    _require_open(incident)
    target = None
    if unit_id is not None:
        target = Unit.objects.filter(pk=unit_id).first()
        root = orgs.scope_org(user) if not user.is_superuser else None
        if target is None or (root is not None and not target.org_path.startswith(root.path)):
            raise NotFound("未找到该警力单元，或不在您的辖区")
        if not target.on_duty:
            raise Conflict("unit_off_duty", f"{target.name} 不在岗")
        if target.current_assignment_id is not None:
            raise Conflict("unit_busy", f"{target.name} 正在处置其他警情")
    for old in incident.assignments.select_for_update().filter(
        role=AssignmentRole.PRIMARY, status__in=ACTIVE_ASSIGNMENT
    ):
        old.status = AssignmentStatus.CANCELLED
        old.finished_at = now
        old.save(update_fields=["status", "finished_at"])
        _free_unit(old)
    _event(
        incident,
        EventKind.REDISPATCHED,
        now,
        actor=user,
        message=f"指挥员改派：{reason or '人工调度'}",
    )
    if target is None:
        return _dispatch(incident, now, by=user)
    distance = (
        haversine_m(incident.lng, incident.lat, target.lng, target.lat)
        if target.lng is not None
        else 0
    )
    candidate = dispatch.Candidate(target, distance, dispatch.eta_seconds(distance), False)
    assignment = _offer(
        incident, candidate, now, role=AssignmentRole.PRIMARY, by=user, reason=reason
    )
    if assignment is None:
        raise Conflict("unit_busy", f"{target.name} 刚被派往其他警情")
    if incident.status == Status.PENDING:
        Incident.objects.filter(pk=incident.pk).update(status=Status.DISPATCHED)
    _event(
        incident,
        EventKind.OFFERED,
        now,
        actor=user,
        unit=target,
        message=f"人工派警：{target.name}",
        data={"assignment": assignment.pk},
    )
    _schedule_expiry(assignment)
    return assignment


def _close_as_duplicate(dup: Incident, into: Incident, now, user) -> None:
    dup.status = Status.MERGED
    dup.duplicate_of = into
    dup.closed_at = now
    dup.outcome = Outcome.DUPLICATE
    dup.valid = False
    dup.save(update_fields=["status", "duplicate_of", "closed_at", "outcome", "valid"])
    _finish_assignments(dup, now)
    _event(
        dup,
        EventKind.MERGED,
        now,
        actor=user,
        message=f"并入 {into.code}",
        data={"into": into.code},
    )


@transaction.atomic
def merge(code: str, into_code: str, user: User, now=None) -> Incident:
    now = now or clock.now()
    dup = _require_commander(user, code)
    into = _require_commander(user, into_code)
    if dup.pk == into.pk:
        raise ServiceError("merge_self", "不能与自身合并")
    _require_open(dup)
    _close_as_duplicate(dup, into, now, user)
    _event(
        into,
        EventKind.MERGED,
        now,
        actor=user,
        message=f"合并 {dup.code}",
        data={"merged": dup.code},
    )
    return into


@transaction.atomic
def split(code: str, user: User, now=None) -> Assignment | None:
    """Undo a duplicate link: the report becomes its own incident and is dispatched."""
    now = now or clock.now()
    incident = _require_commander(user, code)
    if incident.duplicate_of_id is None:
        raise Conflict("not_duplicate", "该警情不是疑似重复警情")
    original = incident.duplicate_of
    incident.duplicate_of = None
    if incident.status == Status.MERGED:
        incident.status = Status.PENDING
        incident.closed_at = None
        incident.outcome = ""
        incident.valid = None
    incident.save(update_fields=["duplicate_of", "status", "closed_at", "outcome", "valid"])
    _event(incident, EventKind.SPLIT, now, actor=user, message=f"与 {original.code} 拆分，单独处置")
    _event(original, EventKind.SPLIT, now, actor=user, message=f"{incident.code} 已拆分为独立警情")
    return _dispatch(incident, now, by=user)


# --- units --------------------------------------------------------------------------------------


def _require_unit(user: User) -> Unit:
    unit = unit_for_user(user)
    if unit is None:
        raise Forbidden("您的账号未配置为警力单元")
    return unit


def set_duty(user: User, on_duty: bool) -> Unit:
    unit = _require_unit(user)
    with transaction.atomic():
        Unit.objects.filter(pk=unit.pk).update(on_duty=bool(on_duty))
    unit.on_duty = bool(on_duty)
    return unit


def update_position(user: User, lng, lat, crs: str = "wgs84", now=None) -> Unit:
    now = now or clock.now()
    unit = _require_unit(user)
    lng, lat = normalise_location(lng, lat, crs)
    Unit.objects.filter(pk=unit.pk).update(lng=lng, lat=lat, position_at=now)
    unit.lng, unit.lat, unit.position_at = lng, lat, now
    return unit


def create_unit(
    *, name: str, kind: str, org: OrgUnit, user: User | None = None, members=()
) -> Unit:
    with transaction.atomic():
        unit = Unit.objects.create(name=name, kind=kind, org=org, org_path=org.path, user=user)
        if members:
            unit.members.add(*members)
    return unit


def assignments_for(user: User):
    """Offers and assignments of the user's own unit and of the teams they belong to."""
    return (
        Assignment.objects.filter(unit__in=_units_of(user))
        .select_related("incident", "incident__category", "incident__grid", "unit")
        .order_by("-offered_at")
    )
