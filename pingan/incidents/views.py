"""Pages: the citizen's report and my reports, the unit's assignments, the command board."""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from pingan.core.errors import ServiceError
from pingan.core.uploads import PhotoUpload, max_photo_read
from pingan.orgs.models import Grid
from pingan.orgs.services import grids_geojson, public_grid_outlines, visible_orgs

from . import access, queries, services
from .forms import RateForm, ReportForm, ResolveForm
from .models import (
    ACTIVE_ASSIGNMENT,
    OPEN_STATUSES,
    Assignment,
    Category,
    IncidentEvent,
    IncidentPhoto,
    Outcome,
    Status,
    Unit,
)
from .snapshot import incident_snapshot


def live_since() -> int:
    return IncidentEvent.objects.aggregate(m=Max("pk"))["m"] or 0


def _commander_required(request):
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not request.user.is_commander:
        raise PermissionDenied("只有指挥员可以访问指挥台")


def _client_key(request):
    return request.META.get("REMOTE_ADDR", "") or "unknown"


# --- citizen ------------------------------------------------------------------------------------


def report(request):
    form = ReportForm(request.POST or None)
    errors = []
    refused = None  # a quota refusal answers 429 with its Retry-After, not 400
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            photos = [
                PhotoUpload(f.name, f.read(max_photo_read()))
                for f in request.FILES.getlist("photos")
            ]
            try:
                result = services.report(
                    category_code=data["category"],
                    description=data["description"],
                    lng=data["lng"],
                    lat=data["lat"],
                    crs=data["crs"],
                    address=data["address"],
                    reporter=request.user if request.user.is_authenticated else None,
                    anonymous=data["anonymous"],
                    photos=photos,
                    client_key=_client_key(request),
                )
            except ServiceError as exc:
                errors.append(exc.message)
                refused = exc
            else:
                code = result.incident.code
                messages.success(request, f"已收到您的报警，编号 {code}。民警正在赶来。")
                if request.user.is_authenticated:
                    return redirect("my-report", code=code)
                return render(request, "incidents/reported.html", {"incident": result.incident})
        else:
            errors = form.chinese_errors()
    status = 400 if errors else 200
    if refused is not None and refused.status == 429:
        status = refused.status
    response = render(
        request,
        "incidents/report.html",
        {"form": form, "errors": errors, "grids": public_grid_outlines()},
        status=status,
    )
    if refused is not None and refused.retry_after is not None:
        response["Retry-After"] = str(refused.retry_after)
    return response


@login_required
def my_reports(request):
    incidents = access.incidents_for(request.user).filter(reporter=request.user)[:100]
    return render(
        request, "incidents/my_reports.html", {"incidents": incidents, "live_since": live_since()}
    )


def _my_report_context(request, code):
    incident = _visible_or_404(request.user, code)
    if incident.reporter_id != request.user.pk:
        raise Http404
    return _detail_context(incident)


@login_required
def my_report(request, code):
    return render(request, "incidents/my_report.html", _my_report_context(request, code))


@login_required
def my_report_part(request, code):
    return render(request, "incidents/_my_report_body.html", _my_report_context(request, code))


@login_required
@require_POST
def rate(request, code):
    form = RateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择 1 到 5 星")
    else:
        try:
            services.rate(
                code, request.user, form.cleaned_data["rating"], form.cleaned_data["comment"]
            )
            messages.success(request, "感谢您的评价")
        except ServiceError as exc:
            messages.error(request, exc.message)
    return redirect("my-report", code=code)


def _visible_or_404(user, code):
    try:
        return access.get_incident_for(user, code)
    except ServiceError as exc:
        raise Http404(exc.message) from exc


def _detail_context(incident):
    assignments = list(incident.assignments.select_related("unit").order_by("offered_at"))
    return {
        "incident": incident,
        "snap": incident_snapshot(incident, assignments),
        "events": incident.events.select_related("unit").order_by("pk"),
        "photos": incident.photos.all(),
        "assignments": assignments,
        "rate_form": RateForm(),
        "live_since": live_since(),
    }


@login_required
def photo(request, pk):
    item = IncidentPhoto.objects.select_related("incident").filter(pk=pk).first()
    if item is None:
        raise Http404
    _visible_or_404(request.user, item.incident.code)
    return FileResponse(item.image.open("rb"), content_type=item.content_type)


# --- units (officer / auxiliary) ----------------------------------------------------------------


def _unit_or_403(user):
    unit = access.unit_for_user(user)
    if unit is None:
        raise PermissionDenied("您的账号未配置为警力单元")
    return unit


def _unit_assignments(user):
    return list(access.assignments_for(user).filter(status__in=ACTIVE_ASSIGNMENT))


@login_required
def unit_home(request):
    unit = _unit_or_403(request.user)
    recent = access.assignments_for(request.user).exclude(status__in=ACTIVE_ASSIGNMENT)[:10]
    return render(
        request,
        "incidents/unit_home.html",
        {
            "unit": unit,
            "assignments": _unit_assignments(request.user),
            "recent": recent,
            "resolve_form": ResolveForm(),
            "live_since": live_since(),
        },
    )


@login_required
def unit_list_part(request):
    _unit_or_403(request.user)
    return render(
        request,
        "incidents/_unit_list.html",
        {
            "assignments": _unit_assignments(request.user),
            "resolve_form": ResolveForm(),
        },
    )


UNIT_ACTIONS = {
    "accept": lambda code, user, post: services.accept(code, user),
    "decline": lambda code, user, post: services.decline(code, user, post.get("note", "")),
    "arrive": lambda code, user, post: services.arrive(code, user),
    "reinforce": lambda code, user, post: services.request_reinforcement(
        code, user, post.get("note", "")
    ),
}


@login_required
@require_POST
def unit_action(request, code, action):
    _unit_or_403(request.user)
    try:
        if action == "resolve":
            form = ResolveForm(request.POST)
            if not form.is_valid():
                raise ServiceError("bad_outcome", "请选择处置结果")
            services.resolve(
                code,
                request.user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                valid=form.cleaned_data["valid"],
            )
        elif action in UNIT_ACTIONS:
            UNIT_ACTIONS[action](code, request.user, request.POST)
        else:
            raise Http404
    except ServiceError as exc:
        messages.error(request, exc.message)
    if request.headers.get("HX-Request"):
        return unit_list_part(request)
    return redirect("unit-home")


@login_required
@require_POST
def unit_duty(request):
    on = request.POST.get("on_duty") == "1"
    try:
        services.set_duty(request.user, on)
        if "lat" in request.POST and "lng" in request.POST:
            services.update_position(request.user, request.POST["lng"], request.POST["lat"])
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("unit-home")


# --- console ------------------------------------------------------------------------------------


def _board_incidents(user):
    return (
        access.incidents_for(user)
        .filter(status__in=OPEN_STATUSES)
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit"))
        )
        .order_by("-reported_at")[:300]
    )


@login_required
def board(request):
    _commander_required(request)
    user = request.user
    incidents = list(_board_incidents(user))
    snaps = [incident_snapshot(i, list(i.assignments.all())) for i in incidents]
    grids = Grid.objects.filter(org__in=visible_orgs(user)).select_related("org", "officer")
    units = Unit.objects.in_jurisdiction(user).filter(on_duty=True)
    return render(
        request,
        "incidents/board.html",
        {
            "snaps": snaps,
            "grids_json": grids_geojson(grids),
            "snaps_json": snaps,
            "units_json": [
                {"name": u.name, "lat": u.lat, "lng": u.lng, "busy": bool(u.current_assignment_id)}
                for u in units
                if u.lat is not None
            ],
            "live_since": live_since(),
            "counts": {
                "open": len(snaps),
                "pending": sum(1 for s in snaps if s["status"] in ("pending", "dispatched")),
                "on_duty": units.count(),
                "outside": sum(1 for s in snaps if s["outside_grids"]),
            },
        },
    )


@login_required
def board_row(request, code):
    _commander_required(request)
    incident = _visible_or_404(request.user, code)
    return render(request, "incidents/_board_row.html", {"s": incident_snapshot(incident)})


@login_required
def console_incident(request, code):
    _commander_required(request)
    incident = _visible_or_404(request.user, code)
    context = _detail_context(incident)
    context["units"] = (
        Unit.objects.in_jurisdiction(request.user)
        .filter(on_duty=True, current_assignment__isnull=True)
        .order_by("name")
    )
    context["duplicates"] = incident.duplicates.all()
    context["outcomes"] = Outcome.choices
    return render(request, "incidents/console_incident.html", context)


@login_required
@require_POST
def console_action(request, code, action):
    _commander_required(request)
    user, post = request.user, request.POST
    target = code
    try:
        if action == "redispatch":
            unit_id = post.get("unit_id") or None
            services.redispatch(
                code,
                user,
                unit_id=int(unit_id) if unit_id else None,
                reason=post.get("reason", "")[:200],
            )
        elif action == "merge":
            target = post.get("into", "").strip()
            services.merge(code, target, user)
        elif action == "split":
            services.split(code, user)
        elif action == "resolve":
            form = ResolveForm(post)
            if not form.is_valid():
                raise ServiceError("bad_outcome", "请选择处置结果")
            services.resolve(
                code,
                user,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                valid=form.cleaned_data["valid"],
            )
        else:
            raise Http404
        messages.success(request, "操作成功")
    except (ServiceError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", "输入有误"))
        target = code
    return redirect(reverse("console-incident", kwargs={"code": target}))


@login_required
def compliance(request):
    _commander_required(request)
    group = request.GET.get("group", "grid")
    if group not in ("grid", "org"):
        group = "grid"
    qs = access.incidents_for(request.user)
    rows = queries.compliance(qs, group)
    total = queries.compliance(qs.exclude(org__isnull=True).filter(), "org")
    return render(
        request, "incidents/compliance.html", {"rows": rows, "group": group, "org_rows": total}
    )


@login_required
def console_incidents(request):
    """Searchable history for the console: filters by status, category, grid, dates, text."""
    _commander_required(request)
    params = request.GET
    errors = []

    def parse_day(name, end=False):
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
        except ValueError:
            errors.append(f"日期格式应为 年-月-日，例如 2026-11-23（{raw}）")
            return None
        moment = datetime.combine(day, time.max if end else time.min)
        return timezone.make_aware(moment)

    status = params.get("status") or None
    if status and status not in Status.values:
        errors.append("状态无效")
        status = None
    category = params.get("category") or None
    if category and not (category.isdigit() and len(category) == 6):
        errors.append("类别无效")
        category = None
    qs = queries.filter_incidents(
        access.incidents_for(request.user),
        status=status,
        category=category,
        grid=params.get("grid") or None,
        since=parse_day("since"),
        until=parse_day("until", end=True),
        q=(params.get("q") or "")[:100] or None,
    ).order_by("-reported_at")
    page = Paginator(qs, 50).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/console_incidents.html",
        {
            "page": page,
            "errors": errors,
            "statuses": Status.choices,
            "categories": Category.objects.filter(level__lte=2, active=True).order_by("code"),
            "params": params,
            "query": query.urlencode(),
        },
        status=400 if errors else 200,
    )
