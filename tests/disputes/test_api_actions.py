"""Actions on one dispute over the API: the whole walk from request to closing, the checks on
each step, and denials that change nothing."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingan.core import clock
from pingan.disputes import services
from pingan.disputes.models import (
    Agreement,
    CaseOrder,
    DailyReview,
    Dispute,
    Handoff,
    MediationSession,
    ReturnVisit,
    Signature,
)
from pingan.disputes.services import PartyInput

from .helpers import file

pytestmark = pytest.mark.django_db


def post(client, path, data=None):
    raw = "" if data is None else data if isinstance(data, str) else json.dumps(data)
    return client.post(path, raw, content_type="application/json")


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code, body
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    return body


def requested(world):
    return services.request_mediation(
        world.citizen,
        type="neighbour",
        narrative="楼上漏水到我家，多次沟通无果",
        other_parties=[PartyInput(name="李小河", role="respondent", phone="13900139002")],
        grid_code=world.grid_a.code,
    )


ROUTE = {
    "route": "judicial",
    "body_kind": "mediation_committee",
    "body_name": "东门社区人民调解委员会",
    "contact_name": "陈调解",
    "contact_phone": "13700137000",
}


def session_body(**overrides):
    data = {
        "held_at": (timezone.localtime(clock.now()) - timedelta(hours=1)).isoformat(),
        "place": "东门警务室",
        "participants": "王大山、李小河、陈调解",
        "outcome": "agreed",
    }
    data.update(overrides)
    return data


AGREEMENT = {
    "facts": "楼上卫生间漏水，损坏楼下吊顶",
    "terms": "楼上一次性赔偿 2000 元，十日内修好防水",
    "mediator_body": "东门社区人民调解委员会",
    "performance": "十日内履行完毕",
}


# --- the whole walk -----------------------------------------------------------------------------


def test_request_accepted_routed_mediated_signed_resolved_and_closed(world, api):
    dispute = requested(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    citizen = api(world.citizen)

    body = ok(post(officer, f"{url}/accept", {"owner": "aux_a"}))
    assert body["status"] == "open" and body["owner"] == "aux_a"
    error(post(officer, f"{url}/accept"), 409, "not_pending")

    body = ok(post(officer, f"{url}/route", ROUTE))
    assert body["route"] == "judicial" and body["route_label"] == "司法调解化解"
    [handoff] = body["handoffs"]
    assert handoff["body_name"] == "东门社区人民调解委员会"
    assert handoff["contact_phone"] == "+8613700137000" and handoff["by"] == "officer_a"
    # Changing the route needs a reason.
    grassroots = {**ROUTE, "route": "grassroots", "body_kind": "village_committee"}
    error(post(officer, f"{url}/route", grassroots), 400, "reason_required")
    body = ok(post(officer, f"{url}/route", {**grassroots, "reason": "当事人愿意由村委会调解"}))
    assert [h["route"] for h in body["handoffs"]] == ["judicial", "grassroots"]

    body = ok(post(officer, f"{url}/sessions", session_body(notes="双方同意赔偿")))
    [session] = body["sessions"]
    assert session["outcome_label"] == "达成协议" and session["mediator"] == "officer_a"

    body = ok(post(officer, f"{url}/agreements", {**AGREEMENT, "session_id": session["id"]}))
    [agreement] = body["agreements"]
    assert agreement["number"].startswith("TJ") and agreement["session_id"] == session["id"]
    number = agreement["number"]
    for party in body["parties"]:
        signed = ok(
            post(
                officer,
                f"{url}/agreements/{number}/signatures",
                {"role": "party", "party_id": party["id"]},
            )
        )
    signed = ok(
        post(
            officer, f"{url}/agreements/{number}/signatures", {"role": "mediator", "name": "陈调解"}
        )
    )
    signatures = signed["agreements"][0]["signatures"]
    assert [s["role"] for s in signatures] == ["party", "party", "mediator"]
    assert {s["party_id"] for s in signatures[:2]} == {p["id"] for p in body["parties"]}
    error(
        post(
            officer,
            f"{url}/agreements/{number}/signatures",
            {"role": "party", "party_id": body["parties"][0]["id"]},
        ),
        409,
        "already_signed",
    )

    body = ok(post(officer, f"{url}/resolve", {"note": "双方签订协议，赔偿到位"}))
    assert body["status"] == "resolved" and len(body["visits"]) == 2
    assert [v["after_days"] for v in body["visits"]] == [7, 30]
    body = ok(post(officer, f"{url}/visits", {"holds": True, "note": "已修好，邻里和睦"}))
    assert body["status"] == "resolved"
    body = ok(post(officer, f"{url}/visits", {"holds": True, "note": "稳定"}))
    assert body["status"] == "closed"
    error(post(officer, f"{url}/visits", {"holds": True, "note": "再访"}), 409, "not_resolved")

    # The resident followed every public step, and nothing else.
    public = ok(citizen.get(url))
    assert [e["kind"] for e in public["timeline"]] == [
        "requested",
        "accepted",
        "routed",
        "rerouted",
        "session",
        "agreement",
        "resolved",
        "visited",
        "visited",
        "closed",
    ]
    assert "risk" not in public and "13700137000" not in json.dumps(public)


def test_relapse_on_a_return_visit_reopens_and_restarts_the_order(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    deadline = (clock.now() + timedelta(days=20)).isoformat()
    body = ok(
        post(
            officer,
            f"{url}/order",
            {"owner": "officer_a", "deadline": deadline, "plan": "每周走访一次"},
        )
    )
    assert body["has_order"] is True
    assert body["order"]["owner"] == "officer_a" and body["order"]["status"] == "active"
    assert body["order"]["supervising_org"] == {"code": "O-A1", "name": "东门警务室"}
    assert body["order"]["escalation_level"] == 0 and body["order"]["overdue"] is False
    body = ok(post(officer, f"{url}/resolve", {"note": "已调解"}))
    assert body["order"]["status"] == "done" and body["has_order"] is False
    first_visit = body["visits"][0]["id"]
    body = ok(
        post(
            officer,
            f"{url}/visits",
            {"holds": False, "note": "又吵起来了", "visit_id": first_visit},
        )
    )
    assert body["status"] == "open" and body["relapse_count"] == 1
    assert body["order"]["status"] == "active"
    assert [v["status"] for v in body["visits"]] == ["done", "cancelled"]
    assert body["timeline"][-1]["kind"] in ("relapsed", "order_opened", "risk_changed")
    assert "relapsed" in [e["kind"] for e in body["timeline"]]


def test_decline_a_request_with_a_reason(world, api):
    dispute = requested(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    error(post(officer, f"{url}/decline", {"reason": "  "}), 422, "invalid_input")
    error(post(officer, f"{url}/decline", {}), 422, "invalid_input")
    body = ok(post(officer, f"{url}/decline", {"reason": "属于法院已受理案件"}))
    assert body["status"] == "declined"
    public = ok(api(world.citizen).get(url))
    assert public["timeline"][-1] == {
        "at": public["timeline"][-1]["at"],
        "kind": "declined",
        "label": "不予受理",
        "message": "属于法院已受理案件",
    }


def test_actions_on_a_pending_request_wait_for_acceptance(world, api):
    dispute = requested(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    error(post(officer, f"{url}/route", ROUTE), 409, "dispute_pending")
    error(post(officer, f"{url}/notes", {"message": "先记一笔"}), 409, "dispute_pending")
    error(post(officer, f"{url}/resolve", {"note": "已化解"}), 409, "dispute_pending")


# --- risk ---------------------------------------------------------------------------------------


def test_risk_override_needs_a_reason_and_an_officer(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    for payload in (
        {"level": "red"},
        {"level": "red", "reason": ""},
        {"level": "red", "reason": " "},
    ):
        error(post(officer, f"{url}/risk", payload), 422, "invalid_input")
    error(post(officer, f"{url}/risk", {"level": "purple", "reason": "x"}), 422, "invalid_input")
    error(
        post(api(world.aux_a), f"{url}/risk", {"level": "red", "reason": "有苗头"}),
        403,
        "forbidden",
    )
    assert Dispute.objects.get(pk=dispute.pk).risk == "green"

    body = ok(post(officer, f"{url}/risk", {"level": "red", "reason": "双方有肢体冲突史"}))
    assert body["risk"] == "red" and body["risk_computed"] == "green"
    assert body["risk_override"]["level"] == "red"
    assert body["risk_override"]["reason"] == "双方有肢体冲突史"
    assert body["risk_override"]["by"] == "officer_a"
    assert body["timeline"][-1]["kind"] == "risk_overridden"

    body = ok(post(officer, f"{url}/risk", {"level": "", "reason": "冲突已平息，恢复规则评估"}))
    assert body["risk"] == "green" and body["risk_override"] is None


# --- owner, notes, orders -----------------------------------------------------------------------


def test_owner_changes_by_username(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}"
    error(post(api(world.officer_a), f"{url}/owner", {"username": "ghost"}), 400, "unknown_user")
    error(post(api(world.officer_a), f"{url}/owner", {"username": "citizen"}), 400, "bad_owner")
    error(post(api(world.officer_a), f"{url}/owner", {"username": ""}), 422, "invalid_input")
    # A grid worker is neither owner nor commander.
    error(post(api(world.worker_a), f"{url}/owner", {"username": "aux_a"}), 403, "forbidden")
    assert Dispute.objects.get(pk=dispute.pk).owner == world.officer_a
    body = ok(post(api(world.officer_a), f"{url}/owner", {"username": "aux_a"}))
    assert body["owner"] == "aux_a"
    assert body["timeline"][-1]["kind"] == "owner_changed"
    body = ok(post(api(world.chief_a), f"{url}/owner", {"username": "chief_a"}))
    assert body["owner"] == "chief_a"


def test_notes_are_staff_only_timeline_entries(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}"
    error(post(api(world.worker_a), f"{url}/notes", {"message": "\t"}), 422, "invalid_input")
    body = ok(post(api(world.worker_a), f"{url}/notes", {"message": "已入户了解情况"}))
    note = body["timeline"][-1]
    assert (note["kind"], note["message"], note["actor"], note["public"]) == (
        "note",
        "已入户了解情况",
        "worker_a",
        False,
    )


def test_add_party_validates_and_masks(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}/parties"
    officer = api(world.officer_a)
    new = {"name": "周大海", "kind": "person", "role": "other", "phone": "13700137999"}
    error(post(officer, url, {**new, "phone": "12"}), 400, "bad_phone")
    error(post(officer, url, {**new, "id_number": "123456789012345678"}), 400, "bad_id_number")
    error(post(officer, url, {**new, "name": ""}), 422, "invalid_input")
    assert Dispute.objects.get(pk=dispute.pk).parties.count() == 2
    body = ok(post(officer, url, new))
    assert body["party_count"] == 3
    assert body["parties"][-1]["name"] == "周大海"
    assert body["parties"][-1]["phone"] == "137****7999"


@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"owner": "officer_a", "deadline": "yesterday", "plan": "x"}, 422, "invalid_input"),
        ({"owner": "officer_a", "plan": "x"}, 422, "invalid_input"),
        ({"owner": "officer_a", "deadline": "+1d", "plan": " "}, 422, "invalid_input"),
        ({"owner": "ghost", "deadline": "+1d", "plan": "走访"}, 400, "unknown_user"),
        ({"owner": "worker_a", "deadline": "+1d", "plan": "走访"}, 400, "bad_owner"),
        ({"owner": "officer_a", "deadline": "-1h", "plan": "走访"}, 400, "bad_deadline"),
        ({"owner": "officer_a", "deadline": "+400d", "plan": "走访"}, 400, "bad_deadline"),
    ],
)
def test_bad_orders_are_refused(world, api, payload, status, code):
    dispute = file(world)
    relative = {"+1d": timedelta(days=1), "-1h": -timedelta(hours=1), "+400d": timedelta(days=400)}
    if payload.get("deadline") in relative:
        payload = {**payload, "deadline": (clock.now() + relative[payload["deadline"]]).isoformat()}
    error(post(api(world.officer_a), f"/api/disputes/{dispute.code}/order", payload), status, code)
    assert not CaseOrder.objects.exists()


def test_order_deadline_without_offset_is_local_time(world, api):
    dispute = file(world)
    local = timezone.localtime(clock.now() + timedelta(days=3)).replace(microsecond=0)
    body = ok(
        post(
            api(world.chief_a),
            f"/api/disputes/{dispute.code}/order",
            {
                "owner": "officer_a",
                "deadline": local.replace(tzinfo=None).isoformat(),
                "plan": "盯办",
            },
        )
    )
    assert body["order"]["deadline"] == local.isoformat()
    assert CaseOrder.objects.get().deadline == local


def test_auxiliaries_and_grid_workers_cannot_open_orders(world, api):
    dispute = file(world)
    deadline = (clock.now() + timedelta(days=3)).isoformat()
    for persona in ("aux_a", "worker_a"):
        error(
            post(
                api(getattr(world, persona)),
                f"/api/disputes/{dispute.code}/order",
                {"owner": "officer_a", "deadline": deadline, "plan": "盯办"},
            ),
            403,
            "forbidden",
        )
    assert not CaseOrder.objects.exists()


# --- sessions, agreements, signatures: bad input ------------------------------------------------


def test_session_and_agreement_checks(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}"
    officer = api(world.officer_a)
    future = (clock.now() + timedelta(days=1)).isoformat()
    error(post(officer, f"{url}/sessions", session_body(held_at=future)), 400, "bad_held_at")
    error(post(officer, f"{url}/sessions", session_body(outcome="won")), 422, "invalid_input")
    error(post(officer, f"{url}/sessions", session_body(place="")), 422, "invalid_input")
    error(post(officer, f"{url}/sessions", session_body(held_at="soon")), 422, "invalid_input")
    assert not MediationSession.objects.exists()
    error(post(officer, f"{url}/agreements", {**AGREEMENT, "terms": " "}), 422, "invalid_input")
    error(
        post(officer, f"{url}/agreements", {**AGREEMENT, "session_id": 99}), 400, "unknown_session"
    )
    error(
        post(officer, f"{url}/agreements", {**AGREEMENT, "session_id": 2**40}), 422, "invalid_input"
    )
    assert not Agreement.objects.exists()


def test_signatures_check_role_party_and_the_agreements_dispute(world, api):
    dispute = file(world)
    other = file(world, parties=[PartyInput(name="赵一", role="applicant")])
    officer = api(world.officer_a)
    number = ok(post(officer, f"/api/disputes/{dispute.code}/agreements", AGREEMENT))["agreements"][
        0
    ]["number"]
    url = f"/api/disputes/{dispute.code}/agreements/{number}/signatures"
    stranger = other.parties.get().pk
    error(post(officer, url, {"role": "party", "party_id": stranger}), 400, "unknown_party")
    error(post(officer, url, {"role": "party"}), 400, "unknown_party")
    error(post(officer, url, {"role": "witness"}), 400, "name_required")
    error(post(officer, url, {"role": "judge", "name": "x"}), 422, "invalid_input")
    # The agreement belongs to another dispute than the one in the path.
    error(
        post(
            officer,
            f"/api/disputes/{other.code}/agreements/{number}/signatures",
            {"role": "witness", "name": "周见证"},
        ),
        404,
        "not_found",
    )
    error(
        post(
            officer,
            f"/api/disputes/{dispute.code}/agreements/TJ20000101-000001/signatures",
            {"role": "witness", "name": "周见证"},
        ),
        404,
        "not_found",
    )
    assert not Signature.objects.exists()


def test_visit_checks(world, api):
    dispute = file(world)
    url = f"/api/disputes/{dispute.code}/visits"
    officer = api(world.officer_a)
    error(post(officer, url, {"holds": True, "note": "稳定"}), 409, "not_resolved")
    services.resolve(world.officer_a, dispute.code, "已调解")
    error(post(officer, url, {"holds": "perhaps", "note": "稳定"}), 422, "invalid_input")
    error(post(officer, url, {"holds": True, "note": ""}), 422, "invalid_input")
    error(
        post(officer, url, {"holds": True, "note": "稳定", "visit_id": 999}), 400, "unknown_visit"
    )
    assert not ReturnVisit.objects.filter(status="done").exists()


# --- denials change nothing ---------------------------------------------------------------------


def _state(code):
    d = Dispute.objects.get(code=code)
    return (
        d.status,
        d.risk,
        d.risk_override,
        d.route,
        d.owner_id,
        d.last_progress_at,
        d.events.count(),
        d.parties.count(),
        Handoff.objects.filter(dispute=d).count(),
        MediationSession.objects.filter(dispute=d).count(),
        Agreement.objects.filter(dispute=d).count(),
        Signature.objects.filter(agreement__dispute=d).count(),
        DailyReview.objects.filter(dispute=d).count(),
        CaseOrder.objects.filter(dispute=d).count(),
        ReturnVisit.objects.filter(dispute=d).count(),
    )


@pytest.fixture
def case(world):
    """A resident's request, accepted, with a session and an agreement to sign."""
    dispute = requested(world)
    services.accept_request(world.officer_a, dispute.code)
    session = services.record_session(
        world.officer_a,
        dispute.code,
        held_at=clock.now() - timedelta(hours=1),
        place="东门警务室",
        participants="双方",
        outcome="partial",
    )
    agreement = services.draft_agreement(
        world.officer_a, dispute.code, session_id=session.pk, **AGREEMENT
    )
    return dispute, agreement


def actions(dispute, agreement):
    party_id = dispute.parties.first().pk
    deadline = (clock.now() + timedelta(days=5)).isoformat()
    return [
        ("parties", {"name": "周大海", "kind": "person", "role": "other"}),
        ("accept", {"owner": "aux_a"}),
        ("decline", {"reason": "不属于调解范围"}),
        ("risk", {"level": "red", "reason": "有冲突"}),
        ("review", {"note": "已研判"}),
        ("route", ROUTE),
        ("owner", {"username": "aux_a"}),
        ("notes", {"message": "记录"}),
        ("order", {"owner": "officer_a", "deadline": deadline, "plan": "盯办"}),
        ("sessions", session_body()),
        ("agreements", AGREEMENT),
        (f"agreements/{agreement.number}/signatures", {"role": "party", "party_id": party_id}),
        ("resolve", {"note": "已化解"}),
        ("visits", {"holds": True, "note": "稳定"}),
    ]


@pytest.mark.parametrize("index", range(14))
def test_denied_actions_change_nothing(world, api, case, index):
    dispute, agreement = case
    action, payload = actions(dispute, agreement)[index]
    url = f"/api/disputes/{dispute.code}/{action}"
    before = _state(dispute.code)
    expected = [
        (Client(), {401}),
        (Client(headers={"Authorization": "Bearer forged"}), {401}),
        (api(world.officer_b), {404}),
        (api(world.citizen2), {403, 404}),
        (api(world.volunteer), {403, 404}),
        # The resident who asked may follow the case but not work it.
        (api(world.citizen), {403}),
    ]
    for client, statuses in expected:
        response = post(client, url, payload)
        assert response.status_code in statuses, (action, response.content)
        assert "error" in response.json()
        assert _state(dispute.code) == before, action


def test_every_action_succeeds_for_the_right_person(world, api, case):
    """The same payloads as the denial test do work for staff, so those denials are real."""
    dispute, agreement = case
    officer = api(world.officer_a)
    done = set()
    for action, payload in actions(dispute, agreement):
        if action in ("accept", "decline"):
            continue  # the case is already accepted; covered by the walk above
        if action == "visits":
            ok(post(officer, f"/api/disputes/{dispute.code}/resolve", {"note": "已化解"}))
        if action == "resolve":
            continue  # done right before the visit
        ok(post(officer, f"/api/disputes/{dispute.code}/{action}", payload))
        done.add(action)
    assert len(done) == 11
    fresh = requested(world)
    ok(post(api(world.chief_a), f"/api/disputes/{fresh.code}/accept", {"owner": "aux_a"}))
    other = requested(world)
    ok(post(officer, f"/api/disputes/{other.code}/decline", {"reason": "不属于调解范围"}))


# --- no action body produces a 500 --------------------------------------------------------------

FIELDS = sorted(
    {"name", "kind", "role", "phone", "id_number", "owner", "username", "reason", "level"}
    | {"route", "body_kind", "body_name", "contact_name", "contact_phone", "deadline", "plan"}
    | {"held_at", "place", "participants", "outcome", "notes", "facts", "terms"}
    | {"mediator_body", "session_id", "party_id", "note", "holds", "visit_id", "message"}
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.datetimes().map(lambda d: d.isoformat())
    | st.sampled_from(["red", "", "judicial", "mediation_committee", "party", "officer_a"])
)
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3), max_leaves=6)
ACTIONS = [
    "parties",
    "accept",
    "decline",
    "risk",
    "review",
    "route",
    "owner",
    "notes",
    "order",
    "sessions",
    "agreements",
    "resolve",
    "visits",
]


@pytest.mark.parametrize("action", ACTIONS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_no_action_body_produces_a_500(world, api, case, action, data):
    dispute, _ = case
    response = post(api(world.officer_a), f"/api/disputes/{dispute.code}/{action}", data)
    assert response.status_code < 500, response.content
    assert response.status_code == 200 or "error" in response.json()
