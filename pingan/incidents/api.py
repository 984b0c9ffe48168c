"""REST endpoints for incidents, unit actions, units and 1-3-5 compliance.

Every answer is typed (`schemas.py`), so the OpenAPI document describes it. Staff-only keys of an
incident's detail (`reporter`, `duplicates`) and a milestone's `deadline` (only while it runs)
are left out when they do not apply, as before: those routes serialise with `exclude_unset`.
Lists answer the page envelope of `pingan.core.pagination`.
"""

from django.db.models import Prefetch
from django.urls import reverse
from ninja import File, Query, Router
from ninja.files import UploadedFile

from pingan.core.api_auth import OPTIONAL, REQUIRED
from pingan.core.errors import Forbidden, ServiceError
from pingan.core.pagination import Listing, paginated
from pingan.core.schemas import IncidentCode, QueryBool
from pingan.core.timefmt import iso
from pingan.core.uploads import PhotoUpload, max_photo_read
from pingan.orgs.services import visible_orgs

from . import access, queries, services
from .models import Assignment, Category, Source, Unit
from .schemas import (
    CategoryOut,
    ComplianceFilter,
    ComplianceOut,
    DutyIn,
    IncidentDetailOut,
    IncidentFilter,
    IncidentListOut,
    IncidentNoteIn,
    IncidentOut,
    IncidentResolveIn,
    MergeIn,
    MyAssignmentListOut,
    MyAssignmentOut,
    PhotosOut,
    PositionIn,
    RateIn,
    RedispatchIn,
    ReportIn,
    UnitListOut,
    UnitOut,
)
from .snapshot import assignment_dict, incident_snapshot

router = Router(tags=["incidents"])
units_router = Router(tags=["units"])

# --- helpers ------------------------------------------------------------------------------------


def client_key(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def photo_urls(incident) -> list[str]:
    """The access-checked page of each photo (/photos/<pk>/), never the file under MEDIA_URL:
    media is not served, and serving it would bypass the check."""
    return [reverse("incident-photo", args=[p.pk]) for p in incident.photos.all()]


def detail(incident, user) -> dict:
    body = incident_snapshot(incident)
    events = incident.events.select_related("actor", "unit").order_by("pk")
    body["timeline"] = [
        {
            "id": e.pk,
            "at": iso(e.at),
            "kind": e.kind,
            "label": e.get_kind_display(),
            "message": e.message,
            "unit": e.unit.name if e.unit_id else None,
        }
        for e in events
    ]
    body["photos"] = photo_urls(incident)
    if user.is_staff_role or user.is_superuser:
        body["reporter"] = (
            "匿名"
            if incident.anonymous
            else (incident.reporter.label if incident.reporter_id else "")
        )
        body["duplicates"] = list(incident.duplicates.values_list("code", flat=True))
    return body


def _user(request):
    return request.auth


# --- categories and reporting -------------------------------------------------------------------


@router.get(
    "/categories",
    response=list[CategoryOut],
    auth=None,
    summary="The incident category tree (6-digit hierarchical codes)",
)
def categories(request):
    return [
        CategoryOut(
            code=c.code,
            name=c.name,
            level=c.level,
            parent=c.parent.code if c.parent_id else None,
            default_priority=c.default_priority,
        )
        for c in Category.objects.filter(active=True).select_related("parent")
    ]


@router.post(
    "/incidents",
    response={201: IncidentOut},
    exclude_unset=True,
    auth=OPTIONAL,
    summary="Report an incident (citizen or anonymous; anonymous is rate-limited)",
)
def report(request, payload: ReportIn):
    user = request.auth if getattr(request.auth, "is_authenticated", False) else None
    if payload.source != Source.CITIZEN_APP and (user is None or not user.is_staff_role):
        raise Forbidden("只有民警、辅警可以登记该来源的警情")
    result = services.report(
        category_code=payload.category,
        description=payload.description,
        lng=payload.location.lng,
        lat=payload.location.lat,
        crs=payload.location.crs,
        address=payload.address or "",
        reporter=user,
        anonymous=payload.anonymous,
        source=payload.source,
        client_key=client_key(request),
    )
    # Everything the response shows is in memory: no query after the commit.
    assignments = [result.assignment] if result.assignment is not None else []
    return 201, incident_snapshot(result.incident, assignments)


@router.post(
    "/incidents/{code}/photos",
    response={201: PhotosOut},
    auth=REQUIRED,
    summary="Attach photos to my report (JPEG, PNG or WebP)",
)
def add_photos(request, code: IncidentCode, photos: list[UploadedFile] = File(...)):
    incident = access.get_incident_for(request.auth, code)
    uploads = [PhotoUpload(p.name or "photo", p.read(max_photo_read())) for p in photos]
    services.add_photos(incident, request.auth, uploads)
    return 201, {"photos": photo_urls(incident)}


@router.get(
    "/incidents",
    response=IncidentListOut,
    exclude_unset=True,
    auth=REQUIRED,
    summary="Incidents I may see, filtered; newest first",
    description="`limit` 1-500 (default 50). `total` is `count` under its old name.",
)
@paginated(max_limit=500)
def list_incidents(request, filters: Query[IncidentFilter]):
    user = _user(request)
    org = None
    if filters.org:
        org = visible_orgs(user).filter(code=filters.org).first() if user.is_staff_role else None
        if org is None:
            raise ServiceError("unknown_org", f"单位 {filters.org} 不存在或不在您的辖区")
    qs = queries.filter_incidents(
        access.incidents_for(user),
        status=filters.status,
        category=filters.category,
        grid=filters.grid,
        org=org,
        since=filters.since,
        until=filters.until,
        open_only=filters.open,
        q=filters.q,
    )
    return Listing(
        qs.order_by("-reported_at", "-pk").prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit"))
        ),
        render=lambda rows: [incident_snapshot(i, list(i.assignments.all())) for i in rows],
        extra=lambda page: {"total": page["count"]},
    )


@router.get(
    "/incidents/{code}",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
    summary="One incident with its timeline",
)
def get_incident(request, code: IncidentCode):
    return detail(access.get_incident_for(request.auth, code), request.auth)


def _after(request, code):
    return detail(access.get_incident_for(request.auth, code), request.auth)


@router.post(
    "/incidents/{code}/accept",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def accept(request, code: IncidentCode):
    services.accept(code, request.auth)
    return _after(request, code)


@router.post(
    "/incidents/{code}/decline",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def decline(request, code: IncidentCode, payload: IncidentNoteIn | None = None):
    services.decline(code, request.auth, payload.note if payload else "")
    return _after(request, code)


@router.post(
    "/incidents/{code}/arrive",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def arrive(request, code: IncidentCode):
    services.arrive(code, request.auth)
    return _after(request, code)


@router.post(
    "/incidents/{code}/reinforce",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def reinforce(request, code: IncidentCode, payload: IncidentNoteIn | None = None):
    services.request_reinforcement(code, request.auth, payload.note if payload else "")
    return _after(request, code)


@router.post(
    "/incidents/{code}/resolve",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def resolve(request, code: IncidentCode, payload: IncidentResolveIn):
    services.resolve(
        code, request.auth, outcome=payload.outcome, note=payload.note, valid=payload.valid
    )
    return _after(request, code)


@router.post(
    "/incidents/{code}/rate",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def rate(request, code: IncidentCode, payload: RateIn):
    services.rate(code, request.auth, payload.rating, payload.comment)
    return _after(request, code)


@router.post(
    "/incidents/{code}/redispatch",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def redispatch(request, code: IncidentCode, payload: RedispatchIn):
    services.redispatch(code, request.auth, unit_id=payload.unit_id, reason=payload.reason)
    return _after(request, code)


@router.post(
    "/incidents/{code}/merge",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def merge(request, code: IncidentCode, payload: MergeIn):
    services.merge(code, payload.into, request.auth)
    return _after(request, payload.into)


@router.post(
    "/incidents/{code}/split",
    response=IncidentDetailOut,
    exclude_unset=True,
    auth=REQUIRED,
)
def split(request, code: IncidentCode):
    services.split(code, request.auth)
    return _after(request, code)


@router.get(
    "/assignments/mine",
    response=list[MyAssignmentOut] | MyAssignmentListOut,
    exclude_unset=True,
    auth=REQUIRED,
    summary="Offers and assignments of my unit, newest first",
)
@paginated(legacy_array=True)
def my_assignments(request, active: QueryBool = True):
    qs = access.assignments_for(request.auth).order_by("-offered_at", "-pk")
    if active:
        qs = qs.filter(status__in=("offered", "accepted", "arrived"))
    return Listing(
        qs,
        render=lambda rows: [
            {**assignment_dict(a), "incident": incident_snapshot(a.incident)} for a in rows
        ],
    )


@router.get(
    "/sla/compliance",
    response=list[ComplianceOut],
    auth=REQUIRED,
    summary="1-3-5 compliance per grid or org unit",
)
def sla_compliance(request, filters: Query[ComplianceFilter]):
    if not request.auth.is_staff_role and not request.auth.is_superuser:
        raise Forbidden()
    qs = queries.filter_incidents(
        access.incidents_for(request.auth), since=filters.since, until=filters.until
    )
    return queries.compliance(qs, filters.group)


# --- units --------------------------------------------------------------------------------------


def unit_dict(unit: Unit) -> dict:
    return {
        "id": unit.pk,
        "name": unit.name,
        "kind": unit.kind,
        "org": unit.org.name,
        "on_duty": unit.on_duty,
        "busy": unit.current_assignment_id is not None,
        "position": ({"lat": unit.lat, "lng": unit.lng} if unit.lat is not None else None),
        "position_at": unit.position_at.isoformat() if unit.position_at else None,
    }


@units_router.get("/me", response=UnitOut, auth=REQUIRED)
def my_unit(request):
    unit = access.unit_for_user(request.auth)
    if unit is None:
        raise Forbidden("您的账号未配置为警力单元")
    return unit_dict(Unit.objects.select_related("org").get(pk=unit.pk))


@units_router.post("/me/position", response=UnitOut, auth=REQUIRED)
def my_position(request, payload: PositionIn):
    unit = services.update_position(request.auth, payload.lng, payload.lat, payload.crs)
    return unit_dict(Unit.objects.select_related("org").get(pk=unit.pk))


@units_router.post("/me/duty", response=UnitOut, auth=REQUIRED)
def my_duty(request, payload: DutyIn):
    unit = services.set_duty(request.auth, payload.on_duty)
    return unit_dict(Unit.objects.select_related("org").get(pk=unit.pk))


@units_router.get(
    "",
    response=list[UnitOut] | UnitListOut,
    auth=REQUIRED,
    summary="Units in my jurisdiction",
)
@paginated(legacy_array=True, array_limit=None)
def list_units(request, on_duty: QueryBool | None = None):
    user = request.auth
    if not user.is_commander:
        raise Forbidden("只有指挥员可以查看警力分布")
    qs = Unit.objects.select_related("org").in_jurisdiction(user)
    if on_duty is not None:
        qs = qs.filter(on_duty=on_duty)
    return Listing(
        qs.order_by("org_path", "name", "pk"), render=lambda rows: [unit_dict(u) for u in rows]
    )
