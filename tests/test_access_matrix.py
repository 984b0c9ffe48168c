"""Every route × every persona: the access decision declared in tests/access_matrix.py.

Test A compares the routes found in the URL resolver and the ninja API with the table's rows,
so a new route without an access row fails (and a row for a route that is gone, too). Test B
sends each route's request as each persona against records of station A and checks the
outcome: an allowed persona is let through (never 401/403/404), a denied one gets exactly its
denial, and a denied write changes nothing.

The world and the records are built once per module (per xdist worker) inside a transaction
that is rolled back at the end; each case runs in a savepoint of its own.
"""

import functools
import json
import os
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from pingan.accounts.models import ApiToken
from pingan.accounts.services import issue_token
from pingan.core import clock
from pingan.core.uploads import PhotoUpload
from tests.access_matrix import DEFECTS, LOGIN, OK, PERSONAS, ROUTES, jpeg_bytes
from tests.conftest import world as world_fixture

# --- enumeration -------------------------------------------------------------------------------

API_PREFIX = "api/"
SKIPPED_PAGE_PREFIXES = ("api/", "admin/")


def _template(path: str) -> str:
    """ninja's "{int:membership_id}" and "{code}" alike → "{membership_id}", "{code}"."""
    return re.sub(r"\{(?:\w+:)?(\w+)\}", r"{\1}", path)


def api_routes() -> set[str]:
    """Every operation of every router as "METHOD /api/path", hidden from the schema or not,
    and the API's own views (the docs, the schema, the root)."""
    from ninja.utils import normalize_path

    from pingan.api import api

    routes = set()
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            route = normalize_path("/".join(p for p in (prefix, path) if p)).lstrip("/")
            for operation in path_view.operations:
                for method in operation.methods:
                    routes.add(f"{method} /{API_PREFIX}{_template(route)}")
    for pattern in api.urls[0]:
        # pingan.api wraps every view (JSON 405s); the API's own views are partials inside.
        callback = getattr(pattern.callback, "__wrapped__", pattern.callback)
        if isinstance(callback, functools.partial):
            routes.add(f"GET /{API_PREFIX}{pattern.pattern}")
    return routes


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


def page_routes() -> set[str]:
    from pingan import urls

    return {
        f"page {name}" if name else f"page /{route}"
        for route, name in _walk(urls.urlpatterns)
        if not route.startswith(SKIPPED_PAGE_PREFIXES)
    }


def test_every_route_has_an_access_row():
    found = api_routes() | page_routes()
    declared = set(ROUTES)
    missing = sorted(found - declared)
    stale = sorted(declared - found)
    assert not missing, "add an access row in tests/access_matrix.py for: " + ", ".join(missing)
    assert not stale, "access rows for routes that no longer exist: " + ", ".join(stale)


def test_the_schema_lists_the_same_operations():
    """The enumeration above reads ninja's routers; the public schema must agree with it."""
    from pingan.api import api

    schema = api.get_openapi_schema()
    in_schema = {
        f"{method.upper()} {_template(path)}"
        for path, operations in schema["paths"].items()
        for method in operations
    }
    own_views = {f"GET /{API_PREFIX}", f"GET /{API_PREFIX}docs", f"GET /{API_PREFIX}openapi.json"}
    assert in_schema == api_routes() - own_views


# --- the scene: records of station A -----------------------------------------------------------


@dataclass
class Scene:
    world: object
    users: dict
    now: object
    incident: str
    incident2: str
    incident_photo: int
    dispute: str
    session: int
    agreement: str
    request: str
    team: str
    invite: str
    membership: int
    pending_membership: int
    task: str
    qr_token: str
    signup: int
    report_photo: int
    helper_phone: str
    shop: str
    item: int
    order: str
    redeem_code: str
    api_token: int  # one of the citizen's signed-in devices
    keys: dict  # model → pks whose rows a denied write must leave as they were


def build_scene(w) -> Scene:
    from pingan.disputes import services as disputes
    from pingan.incidents import services as incidents
    from pingan.volunteers import services as volunteers
    from pingan.volunteers.models import Membership, ReportPhoto, Signup
    from tests.disputes.helpers import file
    from tests.incidents.helpers import report_at
    from tests.points.helpers import give_points, make_clerk, make_item, make_order, make_shop
    from tests.volunteers.helpers import (
        HOUR,
        add_member,
        make_profile,
        make_resident,
        make_task,
        make_team,
    )

    now = clock.now()
    # Incidents: the citizen's report in GA1 (offered to officer_a) and another one nearby.
    incident = report_at(reporter=w.citizen).incident
    incident2 = report_at(dlng=0.004, category="050100", reporter=w.citizen2).incident
    incidents.add_photos(incident, w.citizen, [PhotoUpload("a.jpg", jpeg_bytes())])
    # Disputes: one filed by the grid worker (with a session and an agreement), one mediation
    # request by the citizen, still pending.
    dispute = file(w)
    session = disputes.record_session(
        w.officer_a,
        dispute.code,
        held_at=now - HOUR,
        place="东门警务室",
        participants="王大山、李小河",
        outcome="partial",
    )
    agreement = disputes.draft_agreement(
        w.officer_a,
        dispute.code,
        facts="双方因宅基地边界发生争执",
        terms="以原界桩为准",
        mediator_body="东门社区人民调解委员会",
    )
    request = disputes.request_mediation(
        w.citizen, type="neighbour", narrative="楼上漏水", other_parties=[], grid_code="GA1"
    )
    # Volunteers: a team that needs approval, the volunteer active in it and someone pending;
    # a task under way the volunteer signed up to, checked in and reported back on, with a photo.
    make_profile(w.volunteer, phone="13800138111", home_grid_code="GA1")
    team = make_team(w, requires_approval=True)
    add_member(team, w.volunteer)
    joiner = make_resident("joiner")
    pending = volunteers.join_team(joiner, team.invite_token)
    begun = now - 3 * HOUR
    task = make_task(w, teams=[team], now=begun, starts_in=HOUR, duration=4 * HOUR)
    volunteers.sign_up(w.volunteer, task.code, now=begun)
    volunteers.check_in(w.volunteer, task.code, qr_token=task.qr_token, now=task.starts_at)
    volunteers.submit_report(
        w.volunteer,
        task.code,
        text="巡逻完毕",
        photos=[PhotoUpload("b.jpg", jpeg_bytes())],
        now=task.starts_at + HOUR,
    )
    signup = Signup.objects.get(task=task, user=w.volunteer)
    # Points: station A's shop with an item and a clerk; the citizen's order there.
    shop = make_shop(w)
    item = make_item(shop, points_price=50, stock=10)
    clerk = make_clerk(shop, username="clerk_a")
    give_points(w.citizen, 500, org=w.office_a)
    order = make_order(w.citizen, item)

    users = {p: getattr(w, p) for p in PERSONAS if p not in ("anonymous", "clerk_a")}
    users["clerk_a"] = clerk
    return Scene(
        world=w,
        users=users,
        now=now,
        incident=incident.code,
        incident2=incident2.code,
        incident_photo=incident.photos.get().pk,
        dispute=dispute.code,
        session=session.pk,
        agreement=agreement.number,
        request=request.code,
        team=team.code,
        invite=team.invite_token,
        membership=Membership.objects.get(team=team, user=w.volunteer).pk,
        pending_membership=pending.pk,
        task=task.code,
        qr_token=task.qr_token,
        signup=signup.pk,
        report_photo=ReportPhoto.objects.get(signup=signup).pk,
        helper_phone="13800138111",
        shop=shop.code,
        item=item.pk,
        order=order.code,
        redeem_code=order.redeem_code,
        api_token=ApiToken.objects.get(key_hash=ApiToken.hash_key(issue_token(w.citizen).token)).pk,
        keys={
            type(o): [o.pk]
            for o in (incident, dispute, request, team, task, signup, shop, item, order)
        }
        | {Membership: [pending.pk]},
    )


@pytest.fixture(scope="module")
def scene(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        built = build_scene(world_fixture.__wrapped__(None))
        sessions = {}
        for persona, user in built.users.items():
            client = Client()
            client.force_login(user)
            sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
        built.sessions = sessions
        yield built
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _no_throttle_memory():
    # Quotas (reports, logins) live in the cache; each case starts with none used.
    cache.clear()
    yield
    cache.clear()


# --- one request -------------------------------------------------------------------------------


def _fill(template: str, row, scene) -> str:
    def value(name):
        ref = row.params.get(name)
        assert ref is not None, f"{template}: no value for path parameter {name}"
        return str(getattr(scene, ref, ref))

    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), template)


def _body(row, scene):
    body = row.body
    return body(scene) if callable(body) else body


def send(key: str, persona: str, scene: Scene, extra_headers: dict | None = None):
    row = ROUTES[key]
    if key.startswith("page "):
        name = key[len("page ") :]
        kwargs = {k: getattr(scene, v, v) for k, v in row.params.items()}
        url = name if name.startswith("/") else reverse(name, kwargs=kwargs)
        client = Client()
        if persona != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = scene.sessions[persona]
        if row.method == "POST":
            return row.method, client.post(url, _body(row, scene) or {})
        return row.method, client.get(url)
    method, template = key.split(" ", 1)
    url = _fill(template, row, scene)
    headers = dict(extra_headers or {})
    if persona != "anonymous":
        headers["Authorization"] = f"Bearer {issue_token(scene.users[persona]).token}"
    client = Client(headers=headers)
    body = _body(row, scene)
    if method == "GET":
        return method, client.get(url)
    if row.multipart:
        assert method == "POST", f"{key}: multipart is sent with POST only"
        return method, client.post(url, body or {})
    if body is None:
        return method, client.generic(method, url)
    return method, client.generic(method, url, json.dumps(body), content_type="application/json")


def outcome(key: str, response) -> str | int:
    status = response.status_code
    if response.streaming:
        # Read to the end: the test client then closes the file without the request_finished
        # signal closing the database connection (which would end the module's transaction).
        b"".join(response.streaming_content)
    if status in (401, 403, 404):
        return status
    if status == 302 and response["Location"].startswith(settings.LOGIN_URL):
        return LOGIN
    if status >= 500:
        return status
    return OK


# --- nothing changes on a denial ---------------------------------------------------------------

# Tables a refused request may write: the audit trail and the tokens/sessions of the request.
NOT_FINGERPRINTED = {"audit", "sessions", "admin", "contenttypes", "auth", "django_tasks_db"}


def _fingerprinted_models():
    return [
        m
        for m in apps.get_models()
        if m._meta.managed and not m._meta.proxy and m._meta.app_label not in NOT_FINGERPRINTED
    ]


def fingerprint(scene: Scene):
    qn = connection.ops.quote_name
    models = [m for m in _fingerprinted_models() if m.__name__ != "ApiToken"]
    counts_sql = "SELECT " + ", ".join(
        f"(SELECT COUNT(*) FROM {qn(m._meta.db_table)})" for m in models
    )
    with connection.cursor() as cursor:
        cursor.execute(counts_sql)
        counts = dict(zip([m._meta.label for m in models], cursor.fetchone(), strict=True))
    rows = {
        model._meta.label: list(model.objects.filter(pk__in=pks).order_by("pk").values())
        for model, pks in scene.keys.items()
    }
    return counts, rows


# --- the matrix --------------------------------------------------------------------------------

RECORD_TO = os.environ.get("ACCESS_MATRIX_RECORD")
DENIALS = (401, 403, 404, LOGIN)


def _case(key, persona):
    marks = ()
    if (key, persona) in DEFECTS and not RECORD_TO:
        marks = pytest.mark.xfail(strict=True, reason=DEFECTS[key, persona])
    return pytest.param(key, persona, marks=marks, id=f"{key} | {persona}")


def test_defects_name_real_cases():
    for key, persona in DEFECTS:
        assert key in ROUTES and persona in PERSONAS, (key, persona)
        assert ROUTES[key].rule[persona] in DENIALS, "a defect row must expect a denial"


@pytest.mark.parametrize(
    ("key", "persona"), [_case(k, p) for k in sorted(ROUTES) for p in PERSONAS]
)
def test_access(scene, db, key, persona):
    row = ROUTES[key]
    expected = row.rule[persona]
    writes = not key.startswith("GET ") and (not key.startswith("page ") or row.method == "POST")
    # A denial, or a refusal pinned to its exact status (a page's redirect with a message, a
    # 400 for a record outside the scope): the write must have changed nothing.
    check_unchanged = writes and expected != OK
    before = fingerprint(scene) if check_unchanged else None
    _, response = send(key, persona, scene)
    got = outcome(key, response)
    if isinstance(expected, int) and expected not in DENIALS:
        got = response.status_code
    if RECORD_TO:
        with open(f"{RECORD_TO}.{os.getpid()}", "a") as out:
            out.write(json.dumps([key, persona, got, response.status_code]) + "\n")
        return
    assert got == expected, (
        f"{key} as {persona}: expected {expected}, got {got} "
        f"({response.status_code} {response.content[:300]!r})"
    )
    if check_unchanged:
        assert fingerprint(scene) == before, f"{key} as {persona} was refused but changed data"
