"""The endpoint × persona access matrix: who may reach every API operation and every page.

`ROUTES` has one row per route: the API operations by method and path template
("GET /api/incidents/{code}") and the pages by URL name ("page console-incident"). A row names
the access rule (persona → expected outcome), the objects that fill its path parameters and,
for writes, a minimal body. tests/test_access_matrix.py enumerates the routes from the real
URL resolver and the ninja API and fails when a route has no row here (or a row no route), then
sends every route's request as every persona and compares the outcome with the rule.

Outcomes: `OK` means "let through": 2xx, a redirect that is not to the login page, or a
refusal about the input or the record's state (400, 405, 409, 422, 429), never 401/403/404.
A denial is exact: 401 (API without a token), `LOGIN` (page: 302 to the login page), 403, 404.
A denied write must change nothing.

The world (tests/conftest.py): station A (officer_a, aux_a, worker_a, chief_a) and station B
(officer_b) under the county (commander). The records in the path are station A's; `citizen`
reported the incident, asked for the mediation and owns the order; `volunteer` is in the team
and signed up to the task; `citizen2` is a resident with nothing of their own; `clerk_a` is
the clerk of station A's shop.
"""

import io
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import PASSWORD

OK = "ok"
LOGIN = "login"

PERSONAS = (
    "anonymous",
    "citizen",
    "citizen2",
    "volunteer",
    "clerk_a",
    "officer_a",
    "aux_a",
    "worker_a",
    "chief_a",
    "officer_b",
    "commander",
)
RESIDENTS = ("citizen", "citizen2", "volunteer")
STAFF_A = ("officer_a", "aux_a", "worker_a", "chief_a")
STAFF = (*STAFF_A, "officer_b", "commander")


def rule(default, **by_persona) -> dict[str, Any]:
    """persona → outcome: `default` for everyone not named."""
    unknown = set(by_persona) - set(PERSONAS)
    assert not unknown, f"unknown personas {unknown}"
    return {p: by_persona.get(p, default) for p in PERSONAS}


def _each(personas, outcome) -> dict[str, Any]:
    return dict.fromkeys(personas, outcome)


# --- the rules ---------------------------------------------------------------------------------
# API: everyone, signed in or not.
PUBLIC = rule(OK)
# API: any account (an anonymous request is 401).
SIGNED_IN = rule(OK, anonymous=401)
# API: staff of any station, each within their own scope; residents and clerks 403.
STAFF_ONLY = rule(403, anonymous=401, **_each(STAFF, OK))
# API: officers and commanders (they post tasks and form teams); the rest 403.
MANAGERS_ONLY = rule(403, anonymous=401, officer_a=OK, chief_a=OK, officer_b=OK, commander=OK)
# API: commanders (the station chief and the county).
COMMANDER_ONLY = rule(403, anonymous=401, chief_a=OK, commander=OK)
# API: residents (citizens and volunteers).
RESIDENT_ONLY = rule(403, anonymous=401, **_each(RESIDENTS, OK))
# API: anyone signed in but staff (residents and clerks: asking for mediation).
NOT_STAFF = rule(OK, anonymous=401, **_each(STAFF, 403))
# API: the shop clerk.
CLERK_ONLY = rule(403, anonymous=401, clerk_a=OK)
# API: accounts with a unit (officer_a, aux_a, officer_b).
UNITS_ONLY = rule(403, anonymous=401, officer_a=OK, aux_a=OK, officer_b=OK)
# A record of station A for its staff and the county; station B's staff get 404 (as for a
# missing record); residents and clerks 403 (staff-only route) ...
STAFF_A_RECORD = rule(403, anonymous=401, officer_b=404, **_each(STAFF_A, OK), commander=OK)
# ... or 404 for everyone outside, like a missing record.
STAFF_A_RECORD_404 = rule(404, anonymous=401, **_each(STAFF_A, OK), commander=OK)
# A record of station A that only its officers and commanders manage: auxiliaries and grid
# workers of the station 403, residents 403 ...
MANAGER_A_RECORD = rule(403, anonymous=401, officer_a=OK, chief_a=OK, officer_b=404, commander=OK)
# ... or residents 404.
MANAGER_A_RECORD_404 = rule(404, anonymous=401, aux_a=403, worker_a=403) | _each(
    ("officer_a", "chief_a", "commander"), OK
)
# Managed by officers and commanders in scope; the member volunteer sees it but may not manage it.
MANAGER_A_MEMBER_403 = MANAGER_A_RECORD_404 | {"volunteer": 403}
# Only officers and commanders in scope see it at all (membership decisions).
MANAGER_A_ONLY_404 = rule(404, anonymous=401, officer_a=OK, chief_a=OK, commander=OK)
# A team or task of station A: its member volunteer and the staff in scope.
MEMBER_OR_STAFF_A = STAFF_A_RECORD_404 | {"volunteer": OK}
# The member volunteer's own sign-up: only they act on it; everyone else 404.
VOLUNTEER_OWN = rule(404, anonymous=401, volunteer=OK)
# The citizen's own record, seen by staff in scope too; other residents 404.
OWN_OR_STAFF_A = STAFF_A_RECORD_404 | {"citizen": OK}
# Only the owner (citizen); everyone else 404 as if missing.
OWN_ONLY = rule(404, anonymous=401, citizen=OK)
# The unit sent to the incident (offered to officer_a); the reporter and station A's staff
# who see it 403; everyone else 404.
SENT_UNIT = rule(404, anonymous=401, citizen=403, officer_a=OK) | _each(
    ("aux_a", "worker_a", "chief_a", "commander"), 403
)
# Photos: the reporter or the unit sent to the incident.
PHOTOS = SENT_UNIT | {"citizen": OK}

# Pages: the same ideas; the anonymous visitor is sent to the login page.
PAGE_PUBLIC = rule(OK)
PAGE_SIGNED_IN = rule(OK, anonymous=LOGIN)
PAGE_STAFF_ONLY = rule(403, anonymous=LOGIN, **_each(STAFF, OK))
PAGE_MANAGERS_ONLY = rule(
    403, anonymous=LOGIN, officer_a=OK, chief_a=OK, officer_b=OK, commander=OK
)
PAGE_COMMANDER_ONLY = rule(403, anonymous=LOGIN, chief_a=OK, commander=OK)
PAGE_RESIDENT_ONLY = rule(403, anonymous=LOGIN, **_each(RESIDENTS, OK))
PAGE_NOT_STAFF = rule(OK, anonymous=LOGIN, **_each(STAFF, 403))
PAGE_CLERK_ONLY = rule(403, anonymous=LOGIN, clerk_a=OK)
PAGE_UNITS_ONLY = rule(403, anonymous=LOGIN, officer_a=OK, aux_a=OK, officer_b=OK)
PAGE_STAFF_A_RECORD = STAFF_A_RECORD | {"anonymous": LOGIN}
PAGE_STAFF_A_RECORD_404 = STAFF_A_RECORD_404 | {"anonymous": LOGIN}
PAGE_MANAGER_A_RECORD = MANAGER_A_RECORD | {"anonymous": LOGIN}
PAGE_MANAGER_A_RECORD_404 = MANAGER_A_RECORD_404 | {"anonymous": LOGIN}
PAGE_OWN_ONLY = OWN_ONLY | {"anonymous": LOGIN}
PAGE_OWN_OR_STAFF_A = OWN_OR_STAFF_A | {"anonymous": LOGIN}
PAGE_MEMBER_OR_STAFF_A = MEMBER_OR_STAFF_A | {"anonymous": LOGIN}
# A page form whose service refusals come back as a message on a redirect (302): the refusal
# is still checked to have changed nothing.
REDIRECTED = 302

# Known defects: (route, persona) → why; the row says what must happen, and the case is a strict
# xfail until the application is fixed (tests/test_access_matrix.py).
# An entry goes when its defect is fixed: a strict xfail that passes fails the suite.
DEFECTS: dict[tuple[str, str], str] = {}


# --- rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    rule: dict | None
    # path parameter → name of a Scene attribute (tests/test_access_matrix.py) or a literal
    params: dict = field(default_factory=dict)
    # JSON body (API) or form data (pages): a dict, or a callable taking the Scene
    body: Any = None
    multipart: bool = False  # API: send `body` as multipart/form-data (files allowed)
    method: str = "GET"  # pages only: the API key says its method


def api(rule, body=None, *, multipart=False, **params) -> Row:
    return Row(rule, params, body, multipart)


def page(rule, method="GET", body=None, **params) -> Row:
    return Row(rule, params, body, method=method)


def _later(hours):
    def make(scene):
        return (scene.now + timedelta(hours=hours)).isoformat()

    return make


def _party():
    return {"name": "王大山", "kind": "person", "role": "applicant", "phone": "13800138001"}


def _new_task(s):
    return {
        "kind": "night_patrol",
        "title": "夜间巡逻",
        "starts_at": _later(24)(s),
        "ends_at": _later(27)(s),
        "meeting_address": "东门社区警务室门口",
        "lng": 114.30,
        "lat": 26.30,
        "slots": 3,
        "grids": ["GA1"],
    }


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg")


ROUTES: dict[str, Row] = {
    # --- accounts ------------------------------------------------------------------------------
    "GET /api/": api(rule(404)),  # ninja's root: nothing there
    "GET /api/docs": api(PUBLIC),
    "GET /api/openapi.json": api(PUBLIC),
    "POST /api/auth/login": api(PUBLIC, {"username": "citizen", "password": PASSWORD}),
    "POST /api/auth/logout": api(SIGNED_IN),
    "GET /api/auth/me": api(SIGNED_IN),
    # Public: the body's name and password say whose it is (a weak new one: 400 for everyone).
    "POST /api/auth/password": api(
        rule(400), {"username": "citizen", "password": PASSWORD, "new_password": "weak"}
    ),
    "GET /api/auth/tokens": api(SIGNED_IN),
    # Own devices only (a security administrator's too: tests/accounts/test_security.py).
    "DELETE /api/auth/tokens/{token_id}": api(
        rule(404, anonymous=401, citizen=OK), token_id="api_token"
    ),
    # --- orgs ----------------------------------------------------------------------------------
    "GET /api/grids": api(STAFF_ONLY),
    "GET /api/orgs": api(STAFF_ONLY),
    # --- incidents -----------------------------------------------------------------------------
    "GET /api/categories": api(PUBLIC),
    "POST /api/incidents": api(
        PUBLIC,
        {
            "category": "020100",
            "description": "有人在路口打架",
            "location": {"lng": 114.305, "lat": 26.305},
        },
    ),
    "GET /api/incidents": api(SIGNED_IN),
    "POST /api/incidents/{code}/photos": api(
        PHOTOS, lambda s: {"photos": [_jpeg()]}, multipart=True, code="incident"
    ),
    "GET /api/incidents/{code}": api(OWN_OR_STAFF_A, code="incident"),
    "POST /api/incidents/{code}/accept": api(SENT_UNIT, code="incident"),
    "POST /api/incidents/{code}/decline": api(SENT_UNIT, {}, code="incident"),
    "POST /api/incidents/{code}/arrive": api(SENT_UNIT, code="incident"),
    "POST /api/incidents/{code}/reinforce": api(SENT_UNIT, {}, code="incident"),
    "POST /api/incidents/{code}/resolve": api(
        SENT_UNIT | _each(("chief_a", "commander"), OK), {"outcome": "mediated"}, code="incident"
    ),
    "POST /api/incidents/{code}/rate": api(OWN_ONLY, {"rating": 5}, code="incident"),
    "POST /api/incidents/{code}/redispatch": api(COMMANDER_ONLY, {}, code="incident"),
    "POST /api/incidents/{code}/merge": api(
        COMMANDER_ONLY, lambda s: {"into": s.incident2}, code="incident"
    ),
    "POST /api/incidents/{code}/split": api(COMMANDER_ONLY, code="incident"),
    "GET /api/assignments/mine": api(SIGNED_IN),
    "GET /api/sla/compliance": api(STAFF_ONLY),
    "GET /api/units/me": api(UNITS_ONLY),
    "POST /api/units/me/position": api(UNITS_ONLY, {"lat": 26.301, "lng": 114.301}),
    "POST /api/units/me/duty": api(UNITS_ONLY, {"on_duty": True}),
    "GET /api/units": api(COMMANDER_ONLY),
    # --- disputes ------------------------------------------------------------------------------
    "GET /api/disputes": api(STAFF_ONLY),
    "POST /api/disputes": api(
        STAFF_A_RECORD | {"officer_b": 403},
        {
            "type": "neighbour",
            "channel": "cadre_grid",
            "narrative": "两家因宅基地边界争吵",
            "grid": "GA1",
            "parties": [_party()],
        },
    ),
    "POST /api/disputes/requests": api(
        NOT_STAFF, {"type": "neighbour", "narrative": "楼上漏水", "grid": "GA1"}
    ),
    "GET /api/disputes/requests/mine": api(SIGNED_IN),
    "POST /api/disputes/from-incident/{incident_code}": api(
        STAFF_A_RECORD, {"type": "neighbour", "parties": [_party()]}, incident_code="incident"
    ),
    "GET /api/disputes/review": api(STAFF_ONLY),
    "GET /api/disputes/visits/due": api(STAFF_ONLY),
    "GET /api/disputes/stats": api(COMMANDER_ONLY),
    "GET /api/disputes/rules": api(STAFF_ONLY),
    "GET /api/disputes/{code}": api(STAFF_A_RECORD_404, code="dispute"),
    "GET /api/disputes/{code}/parties": api(STAFF_A_RECORD, code="dispute"),
    "POST /api/disputes/{code}/parties": api(
        STAFF_A_RECORD, {"name": "赵某", "kind": "person", "role": "other"}, code="dispute"
    ),
    "POST /api/disputes/{code}/accept": api(
        STAFF_A_RECORD_404 | {"citizen": 403}, {}, code="request"
    ),
    "POST /api/disputes/{code}/decline": api(
        STAFF_A_RECORD, {"reason": "不属于调解范围"}, code="request"
    ),
    "POST /api/disputes/{code}/risk": api(
        MANAGER_A_RECORD, {"level": "red", "reason": "双方冲突升级"}, code="dispute"
    ),
    "POST /api/disputes/{code}/review": api(MANAGER_A_RECORD, {}, code="dispute"),
    "POST /api/disputes/{code}/route": api(
        STAFF_A_RECORD,
        {
            "route": "grassroots",
            "body_kind": "village_committee",
            "body_name": "东门社区居委会",
            "contact_name": "陈主任",
        },
        code="dispute",
    ),
    "POST /api/disputes/{code}/owner": api(
        MANAGER_A_RECORD_404, {"username": "officer_a"}, code="dispute"
    ),
    "POST /api/disputes/{code}/notes": api(
        STAFF_A_RECORD, {"message": "电话联系双方"}, code="dispute"
    ),
    "POST /api/disputes/{code}/order": api(
        MANAGER_A_RECORD_404,
        lambda s: {"owner": "officer_a", "deadline": _later(72)(s), "plan": "三日内上门调解"},
        code="dispute",
    ),
    "POST /api/disputes/{code}/sessions": api(
        STAFF_A_RECORD,
        lambda s: {
            "held_at": _later(-1)(s),
            "place": "东门警务室",
            "participants": "王大山、李小河",
            "outcome": "agreed",
        },
        code="dispute",
    ),
    "POST /api/disputes/{code}/agreements": api(
        STAFF_A_RECORD,
        {"facts": "边界争执", "terms": "以原界桩为准", "mediator_body": "东门社区人民调解委员会"},
        code="dispute",
    ),
    "POST /api/disputes/{code}/agreements/{number}/signatures": api(
        STAFF_A_RECORD_404, {"role": "mediator"}, code="dispute", number="agreement"
    ),
    "POST /api/disputes/{code}/resolve": api(STAFF_A_RECORD, {"note": "双方和解"}, code="dispute"),
    "POST /api/disputes/{code}/visits": api(
        STAFF_A_RECORD, {"holds": True, "note": "回访无异常"}, code="dispute"
    ),
    # --- volunteers ----------------------------------------------------------------------------
    "GET /api/volunteers/profile": api(RESIDENT_ONLY | {"citizen": 404, "citizen2": 404}),
    "PUT /api/volunteers/profile": api(
        RESIDENT_ONLY, {"real_name": "张三", "phone": "13800138123"}
    ),
    "GET /api/volunteers/teams": api(SIGNED_IN),
    "POST /api/volunteers/teams": api(
        MANAGERS_ONLY | {"officer_b": 400}, {"name": "西门义警队", "org": "O-A1"}
    ),
    "GET /api/volunteers/teams/{code}": api(MEMBER_OR_STAFF_A, code="team"),
    "POST /api/volunteers/teams/{code}/invite/reset": api(MANAGER_A_MEMBER_403, code="team"),
    "GET /api/volunteers/teams/{code}/qr.svg": api(MANAGER_A_MEMBER_403, code="team"),
    "POST /api/volunteers/teams/{code}/leave": api(VOLUNTEER_OWN, code="team"),
    "GET /api/volunteers/join/{token}": api(SIGNED_IN, token="invite"),
    "POST /api/volunteers/join/{token}": api(RESIDENT_ONLY, token="invite"),
    "POST /api/volunteers/memberships/{membership_id}/approve": api(
        MANAGER_A_ONLY_404, {}, membership_id="pending_membership"
    ),
    "POST /api/volunteers/memberships/{membership_id}/reject": api(
        MANAGER_A_ONLY_404, {}, membership_id="pending_membership"
    ),
    "POST /api/volunteers/memberships/{membership_id}/remove": api(
        MANAGER_A_ONLY_404, {"reason": "长期未参加"}, membership_id="membership"
    ),
    "GET /api/volunteers/tasks": api(SIGNED_IN),
    "POST /api/volunteers/tasks": api(MANAGERS_ONLY | {"officer_b": 400}, _new_task),
    "GET /api/volunteers/tasks/{code}": api(MEMBER_OR_STAFF_A, code="task"),
    "GET /api/volunteers/tasks/{code}/qr.svg": api(MANAGER_A_MEMBER_403, code="task"),
    "POST /api/volunteers/tasks/{code}/cancel": api(
        MANAGER_A_MEMBER_403, {"reason": "天气原因"}, code="task"
    ),
    "POST /api/volunteers/tasks/{code}/signup": api(VOLUNTEER_OWN, code="task"),
    "POST /api/volunteers/tasks/{code}/signup/cancel": api(VOLUNTEER_OWN, code="task"),
    "POST /api/volunteers/tasks/{code}/checkin": api(VOLUNTEER_OWN, {}, code="task"),
    "POST /api/volunteers/tasks/{code}/checkout": api(VOLUNTEER_OWN, {}, code="task"),
    "POST /api/volunteers/tasks/{code}/report": api(
        VOLUNTEER_OWN, {"text": "巡逻完毕，一切正常"}, multipart=True, code="task"
    ),
    "GET /api/volunteers/tasks/{code}/signups": api(
        STAFF_A_RECORD_404 | {"volunteer": 403}, code="task"
    ),
    "POST /api/volunteers/signups/{signup_id}/confirm": api(
        MANAGER_A_MEMBER_403, signup_id="signup"
    ),
    "POST /api/volunteers/signups/{signup_id}/reject": api(
        MANAGER_A_MEMBER_403, {"reason": "未按要求巡逻"}, signup_id="signup"
    ),
    "GET /api/volunteers/me/history": api(SIGNED_IN),
    # --- points --------------------------------------------------------------------------------
    "GET /api/points/balance": api(SIGNED_IN),
    "GET /api/points/ledger": api(SIGNED_IN),
    "GET /api/points/rules": api(SIGNED_IN),
    "GET /api/points/shops": api(SIGNED_IN),
    "GET /api/points/shops/{code}": api(SIGNED_IN | {"officer_b": 404}, code="shop"),
    "POST /api/points/orders": api(RESIDENT_ONLY, lambda s: {"item": s.item}),
    "GET /api/points/orders": api(SIGNED_IN),
    "GET /api/points/orders/{code}": api(OWN_OR_STAFF_A | {"clerk_a": OK}, code="order"),
    "GET /api/points/orders/{code}/qr.svg": api(OWN_ONLY, code="order"),
    "POST /api/points/orders/{code}/cancel": api(
        MANAGER_A_RECORD_404 | {"citizen": OK, "clerk_a": OK}, {}, code="order"
    ),
    "GET /api/points/verify/{redeem_code}": api(CLERK_ONLY, redeem_code="redeem_code"),
    "POST /api/points/verify": api(CLERK_ONLY, lambda s: {"code": s.redeem_code}),
    "POST /api/points/mediation-help": api(
        STAFF_A_RECORD,
        lambda s: {"dispute": s.dispute, "session": s.session, "helper_phone": s.helper_phone},
    ),
    "POST /api/points/adjust": api(
        COMMANDER_ONLY, {"user": "citizen", "amount": 10, "reason": "奖励"}
    ),
    "GET /api/points/leaderboard": api(STAFF_ONLY),
    "GET /api/points/stats": api(STAFF_ONLY),
    # --- pages: accounts -----------------------------------------------------------------------
    "page /favicon.ico": page(PAGE_PUBLIC),
    # The installable app: its manifest, service worker and offline page are for everyone.
    "page manifest": page(PAGE_PUBLIC),
    "page service-worker": page(PAGE_PUBLIC),
    "page offline": page(PAGE_PUBLIC),
    "page home": page(PAGE_PUBLIC),
    "page login": page(PAGE_PUBLIC),
    "page logout": page(rule(LOGIN), "POST"),  # signed in or not: to the login page
    # The second sign-in step without a first one: back to the login page.
    "page login-otp": page(rule(LOGIN)),
    "page login-enrol": page(rule(LOGIN)),
    "page account": page(PAGE_SIGNED_IN),
    "page account-password": page(PAGE_SIGNED_IN),
    # A device that is not yours: a message on the account page, nothing revoked.
    "page account-token-revoke": page(
        rule(REDIRECTED, anonymous=LOGIN, citizen=OK), "POST", token_id="api_token"
    ),
    "page account-recovery-codes": page(rule(REDIRECTED, anonymous=LOGIN), "POST"),
    # --- pages: incidents ----------------------------------------------------------------------
    "page report": page(PAGE_PUBLIC),
    "page my-reports": page(PAGE_SIGNED_IN),
    "page my-report": page(PAGE_OWN_ONLY, code="incident"),
    "page my-report-part": page(PAGE_OWN_ONLY, code="incident"),
    "page rate": page(rule(REDIRECTED, anonymous=LOGIN), "POST", {"rating": "5"}, code="incident"),
    "page incident-photo": page(PAGE_OWN_OR_STAFF_A, pk="incident_photo"),
    "page unit-home": page(PAGE_UNITS_ONLY),
    "page unit-list-part": page(PAGE_UNITS_ONLY),
    "page unit-duty": page(
        PAGE_UNITS_ONLY
        | _each(
            ("citizen", "citizen2", "volunteer", "clerk_a", "worker_a", "chief_a", "commander"),
            REDIRECTED,
        ),
        "POST",
        {"on_duty": "1"},
    ),
    "page unit-action": page(
        PAGE_UNITS_ONLY | {"aux_a": REDIRECTED, "officer_b": REDIRECTED},
        "POST",
        code="incident",
        action="accept",
    ),
    "page console-board": page(PAGE_COMMANDER_ONLY),
    "page console-compliance": page(PAGE_COMMANDER_ONLY),
    "page console-incidents": page(PAGE_COMMANDER_ONLY),
    "page console-incident": page(PAGE_COMMANDER_ONLY, code="incident"),
    "page console-row": page(PAGE_COMMANDER_ONLY, code="incident"),
    "page console-action": page(PAGE_COMMANDER_ONLY, "POST", code="incident", action="redispatch"),
    # --- pages: orgs ---------------------------------------------------------------------------
    "page console-grid-import": page(PAGE_COMMANDER_ONLY),
    # --- pages: disputes -----------------------------------------------------------------------
    "page disputes-board": page(PAGE_MANAGERS_ONLY),
    "page disputes-board-part": page(PAGE_MANAGERS_ONLY),
    "page disputes-review": page(PAGE_MANAGERS_ONLY),
    "page dispute-stats": page(PAGE_COMMANDER_ONLY),
    "page dispute-stats-export": page(PAGE_COMMANDER_ONLY),
    "page disputes-review-action": page(
        PAGE_MANAGER_A_RECORD, "POST", {"note": "已阅"}, code="dispute"
    ),
    "page disputes-mine": page(PAGE_STAFF_ONLY),
    "page disputes-mine-part": page(PAGE_STAFF_ONLY),
    "page dispute-new": page(PAGE_STAFF_ONLY),
    "page dispute-from-incident": page(PAGE_STAFF_A_RECORD, incident_code="incident"),
    "page dispute-detail": page(PAGE_STAFF_A_RECORD_404, code="dispute"),
    "page dispute-reveal": page(PAGE_MANAGER_A_RECORD_404, "POST", code="dispute"),
    "page dispute-agreement-print": page(
        PAGE_MANAGER_A_RECORD_404, code="dispute", number="agreement"
    ),
    "page dispute-action": page(
        PAGE_STAFF_A_RECORD_404, "POST", {"message": "电话联系"}, code="dispute", action="note"
    ),
    "page mediation-request": page(PAGE_NOT_STAFF),
    "page mediation-mine": page(PAGE_SIGNED_IN),
    "page mediation-status": page(PAGE_OWN_ONLY, code="request"),
    "page mediation-status-part": page(PAGE_OWN_ONLY, code="request"),
    # --- pages: volunteers ---------------------------------------------------------------------
    "page volunteer-home": page(PAGE_RESIDENT_ONLY),
    "page volunteer-task": page(
        PAGE_RESIDENT_ONLY | {"citizen": 404, "citizen2": 404}, code="task"
    ),
    "page volunteer-task-scan": page(
        PAGE_RESIDENT_ONLY | {"citizen": 404, "citizen2": 404}, code="task", qr_token="qr_token"
    ),
    "page volunteer-mine": page(PAGE_RESIDENT_ONLY),
    "page volunteer-join": page(PAGE_RESIDENT_ONLY, token="invite"),
    "page volunteer-profile": page(PAGE_RESIDENT_ONLY),
    "page volunteer-teams": page(PAGE_RESIDENT_ONLY),
    "page volunteer-photo": page(PAGE_STAFF_A_RECORD_404 | {"volunteer": OK}, pk="report_photo"),
    "page tasks-list": page(PAGE_STAFF_ONLY),
    "page tasks-new": page(PAGE_MANAGERS_ONLY),
    "page tasks-detail": page(PAGE_STAFF_A_RECORD, code="task"),
    "page tasks-qr": page(PAGE_MANAGER_A_RECORD, code="task"),
    "page console-teams": page(PAGE_MANAGERS_ONLY),
    "page console-team-new": page(PAGE_MANAGERS_ONLY),
    "page console-team": page(PAGE_MANAGER_A_RECORD, code="team"),
    # --- pages: points -------------------------------------------------------------------------
    "page points-mine": page(PAGE_RESIDENT_ONLY),
    "page shop-home": page(PAGE_RESIDENT_ONLY),
    "page shop-orders": page(PAGE_RESIDENT_ONLY),
    "page shop-order": page(PAGE_RESIDENT_ONLY | {"citizen2": 404, "volunteer": 404}, code="order"),
    "page shop-order-cancel": page(
        PAGE_RESIDENT_ONLY | {"citizen2": 404, "volunteer": 404}, "POST", code="order"
    ),
    "page shop-verify": page(PAGE_CLERK_ONLY),
    "page shop-verify-code": page(PAGE_CLERK_ONLY, redeem_code="redeem_code"),
    "page console-ledger": page(PAGE_STAFF_ONLY),
    "page console-shops": page(PAGE_STAFF_ONLY),
    "page console-shop": page(PAGE_STAFF_A_RECORD, code="shop"),
    "page console-shop-action": page(
        PAGE_MANAGER_A_RECORD, "POST", {"stock": "5"}, code="shop", action="restock"
    ),
    "page console-volunteer-stats": page(PAGE_STAFF_ONLY),
    "page console-volunteer-stats-xlsx": page(PAGE_STAFF_ONLY),
    # The audit administrator's pages (pingan/audit/pages.py): no persona here may read the
    # audit, the county commander included (tests/audit/test_pages.py has the one who may).
    "page audit-search": page(rule(403, anonymous=LOGIN)),
    "page audit-export": page(rule(403, anonymous=LOGIN)),
    "page audit-entry": page(rule(403, anonymous=LOGIN), seq="1"),
}
