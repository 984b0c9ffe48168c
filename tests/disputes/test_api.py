"""GET endpoints of /api/disputes: scoping, filters, paging, the staff and public views, the
audited full party view, the review and visit lists, the rules, and route ordering."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from pingan.audit.models import AuditEntry
from pingan.core import clock
from pingan.disputes import services
from pingan.disputes.models import RiskRule
from pingan.disputes.services import PartyInput

from .helpers import file, two_neighbours

pytestmark = pytest.mark.django_db

RED_NARRATIVE = "两家因宅基地边界争吵，王某扬言要砍死对方"


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def codes(response):
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def request_by_citizen(world, **kwargs):
    return services.request_mediation(
        world.citizen,
        type=kwargs.pop("type", "neighbour"),
        narrative=kwargs.pop("narrative", "邻居家漏水到我家，多次沟通无果"),
        other_parties=[PartyInput(name="李小河", role="respondent", phone="13900139002")],
        grid_code=world.grid_a.code,
        **kwargs,
    )


# --- authentication and role --------------------------------------------------------------------

GET_PATHS = [
    "/api/disputes",
    "/api/disputes/requests/mine",
    "/api/disputes/review",
    "/api/disputes/visits/due",
    "/api/disputes/rules",
    "/api/disputes/{code}",
    "/api/disputes/{code}/parties",
    "/api/disputes/{code}/parties?full=true",
]


@pytest.mark.parametrize("path", GET_PATHS)
def test_anonymous_and_bad_tokens_get_401(world, path):
    dispute = file(world)
    url = path.format(code=dispute.code)
    for client in (Client(), Client(headers={"Authorization": "Bearer forged"})):
        response = client.get(url)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/api/disputes", "/api/disputes/review", "/api/disputes/visits/due", "/api/disputes/rules"],
)
@pytest.mark.parametrize("persona", ["citizen", "volunteer"])
def test_staff_lists_are_refused_to_residents(world, api, path, persona):
    file(world)
    response = api(getattr(world, persona)).get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


# --- the list -----------------------------------------------------------------------------------


def test_list_is_scoped_to_grid_staff_and_command(world, api):
    in_a = file(world)
    in_b = file(world, user=world.officer_b, grid_code=world.grid_b.code)
    for persona in ("officer_a", "aux_a", "worker_a", "chief_a"):
        assert codes(api(getattr(world, persona)).get("/api/disputes")) == [in_a.code], persona
    assert codes(api(world.officer_b).get("/api/disputes")) == [in_b.code]
    assert set(codes(api(world.commander).get("/api/disputes"))) == {in_a.code, in_b.code}


def test_list_summary_has_labels_and_no_personal_data(world, api):
    dispute = file(
        world, title="宅基地边界", narrative=RED_NARRATIVE, amount_yuan=5000, address="东门路 3 号"
    )
    services.open_order(
        world.officer_a,
        dispute.code,
        owner=world.officer_a,
        deadline=clock.now() + timedelta(days=10),
        plan="每周回访",
    )
    response = api(world.officer_a).get("/api/disputes")
    [item] = response.json()["items"]
    assert item["code"] == dispute.code
    assert (item["type"], item["type_label"]) == ("neighbour", "邻里纠纷")
    assert (item["channel"], item["channel_label"]) == ("cadre_grid", "村居干部、网格员排查")
    assert (item["status"], item["status_label"]) == ("open", "化解中")
    assert (item["risk"], item["risk_label"]) == ("red", "红色")
    assert [r["rule"] for r in item["risk_reasons"]] == ["threat-violence"]
    assert (item["route"], item["route_label"]) == ("", "")
    assert item["grid"] == {"code": "GA1", "name": "东门社区"}
    assert item["org"] == {"code": "O-A1", "name": "东门警务室"}
    assert item["owner"] == "officer_a"
    assert item["party_count"] == 2 and item["has_order"] is True
    assert item["age_days"] == 0
    assert item["reported_at"].endswith("+08:00")
    text = response.content.decode()
    for secret in ("王大山", "李小河", "13800138001", "8001", "东门路 3 号", "王某"):
        assert secret not in text


def test_list_filters(world, api):
    now = clock.now()
    old = file(world, now=now - timedelta(days=40), type="debt", channel="online")
    red = file(world, narrative=RED_NARRATIVE)
    routed = file(world, narrative="楼上噪音扰民")
    services.set_route(
        world.officer_a,
        routed.code,
        route="grassroots",
        body_kind="village_committee",
        body_name="东门社区居委会",
        contact_name="赵主任",
    )
    pending = request_by_citizen(world)
    file(world, user=world.officer_b, grid_code=world.grid_b.code, narrative=RED_NARRATIVE)
    client = api(world.officer_a)

    def only(query):
        return set(codes(client.get(f"/api/disputes?{query}")))

    assert only("risk=red") == {red.code}
    assert only("status=pending") == {pending.code}
    assert only("status=open_all") == {old.code, red.code, routed.code, pending.code}
    assert only("type=debt") == {old.code}
    assert only("channel=online") == {old.code}
    assert only("channel=citizen_request") == {pending.code}
    assert only("route=grassroots") == {routed.code}
    assert only("route=none") == {old.code, red.code, pending.code}
    assert only("grid=GA1") == {old.code, red.code, routed.code, pending.code}
    assert only("grid=GB1") == set()
    assert only("min_age_days=30") == {old.code}
    assert only("max_age_days=30") == {red.code, routed.code, pending.code}
    assert only(f"q={red.code}") == {red.code}
    assert only("q=噪音") == {routed.code}
    assert only("risk=red&type=debt") == set()


@pytest.mark.parametrize(
    "query",
    [
        "risk=purple",
        "status=gone",
        "type=feud",
        "channel=rumour",
        "route=magic",
        "min_age_days=-1",
        "max_age_days=99999",
        "min_age_days=abc",
        "limit=0",
        "limit=201",
        "offset=-5",
        "offset=99999999999999999999",
        "q=" + "字" * 51,
        "q=%00",
    ],
)
def test_bad_filters_are_422_with_the_field(world, api, query):
    file(world)
    response = api(world.officer_a).get(f"/api/disputes?{query}")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["details"][0]["field"] == query.split("=")[0]


def test_paging_is_newest_first_and_counts_everything(world, api):
    now = clock.now()
    filed = [file(world, now=now - timedelta(hours=h)).code for h in range(5)]
    client = api(world.officer_a)
    first = client.get("/api/disputes?limit=2").json()
    second = client.get("/api/disputes?limit=2&offset=2").json()
    last = client.get("/api/disputes?limit=2&offset=4").json()
    assert first["count"] == second["count"] == last["count"] == 5
    pages = [i["code"] for page in (first, second, last) for i in page["items"]]
    assert pages == filed


def test_list_query_count_does_not_grow_with_rows(world, api, django_assert_max_num_queries):
    client = api(world.commander)
    file(world)
    client.get("/api/disputes")  # the token's first use writes last_used_at once
    # Token, scope, count and one page query; the party counts and orders are subqueries.
    with django_assert_max_num_queries(5) as one_row:
        assert len(client.get("/api/disputes").json()["items"]) == 1
    now = clock.now()
    for i in range(12):
        dispute = file(
            world,
            user=world.officer_b if i % 2 else world.officer_a,
            grid_code=world.grid_b.code if i % 2 else world.grid_a.code,
            now=now - timedelta(minutes=i),
            parties=two_neighbours() + [PartyInput(name=f"单位{i}", kind="organisation")],
        )
        if i % 3 == 0:
            services.open_order(
                world.commander,
                dispute.code,
                owner=world.commander,
                deadline=now + timedelta(days=5),
                plan="跟踪",
            )
    with django_assert_max_num_queries(5) as many_rows:
        items = client.get("/api/disputes?limit=200").json()["items"]
    assert len(items) == 13
    assert len(many_rows) == len(one_row)
    assert sum(i["has_order"] for i in items) == 4
    assert sorted({i["party_count"] for i in items}) == [2, 3]


# --- one dispute --------------------------------------------------------------------------------


def test_staff_detail_has_everything_for_the_case(world, api):
    dispute = file(world, narrative=RED_NARRATIVE, amount_yuan="12000.5", address="东门路 3 号")
    services.add_note(world.officer_a, dispute.code, "已电话联系双方")
    body = api(world.aux_a).get(f"/api/disputes/{dispute.code}").json()
    assert body["view"] == "staff"
    assert body["narrative"] == RED_NARRATIVE
    assert body["amount_yuan"] == "12000.50"
    assert body["address"] == "东门路 3 号"
    names = {p["name"]: p for p in body["parties"]}
    # Staff working the case see names; contact data stays masked until the audited view.
    assert set(names) == {"王大山", "李小河"}
    assert names["王大山"]["phone"] == "138****8001"
    assert [e["kind"] for e in body["timeline"]] == ["filed", "risk_changed", "note"]
    assert body["timeline"][-1]["message"] == "已电话联系双方"
    assert body["risk"] == "red" and body["risk_override"] is None
    assert body["order"] is None and body["handoffs"] == [] and body["visits"] == []
    # An auxiliary works the case but may not reveal personal data; an officer may.
    assert body["can_reveal"] is False
    assert api(world.officer_a).get(f"/api/disputes/{dispute.code}").json()["can_reveal"]


@pytest.mark.parametrize("persona", ["officer_b", "citizen", "citizen2", "volunteer"])
def test_detail_of_someone_elses_dispute_is_404_like_a_missing_one(world, api, persona):
    dispute = file(world)
    client = api(getattr(world, persona))
    for code in (dispute.code, "JF20000101-999999", "no such thing", "%00"):
        response = client.get(f"/api/disputes/{code}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_resident_sees_only_the_public_view_of_their_request(world, api):
    dispute = request_by_citizen(world, narrative="邻居扬言要砍死我，因为漏水的事")
    services.accept_request(world.officer_a, dispute.code)
    services.add_note(world.officer_a, dispute.code, "内部：申请人情绪激动，注意稳控")
    services.override_risk(world.officer_a, dispute.code, "red", "双方有肢体冲突史")
    services.add_party(
        world.officer_a,
        dispute.code,
        PartyInput(name="周大海", role="other", phone="13700137999", id_number=""),
    )
    response = api(world.citizen).get(f"/api/disputes/{dispute.code}")
    assert response.status_code == 200
    body = response.json()
    assert body["view"] == "public"
    assert body["status"] == "open"
    assert [e["kind"] for e in body["timeline"]] == ["requested", "accepted"]
    text = response.content.decode()
    for leak in (
        "risk",
        "red",
        "红色",
        "肢体冲突",
        "稳控",
        "13900139002",
        "13700137999",
        "139****9002",
        "9002",
        "李小河",
        "周大海",
    ):
        assert leak not in text, leak
    assert {p["name"] for p in body["parties"]} >= {"李**", "周**"}
    # The same view in the resident's own list.
    mine = api(world.citizen).get("/api/disputes/requests/mine").json()
    assert mine["count"] == 1 and mine["items"] == [body]


def test_my_requests_are_only_mine(world, api):
    mine = request_by_citizen(world)
    file(world)
    assert [
        i["code"] for i in api(world.citizen).get("/api/disputes/requests/mine").json()["items"]
    ] == [mine.code]
    assert api(world.citizen2).get("/api/disputes/requests/mine").json() == {
        "count": 0,
        "items": [],
        "limit": 50,
        "offset": 0,
        "next_offset": None,
    }
    assert api(world.officer_a).get("/api/disputes/requests/mine").json()["count"] == 0


# --- parties: masked and audited full view ------------------------------------------------------


def _parties_with_contact(world):
    return [
        PartyInput(
            name="王大山",
            role="applicant",
            phone="13800138001",
            id_number="11010519491231002X",
            address="东门路 3 号",
        ),
        PartyInput(name="李小河", role="respondent", phone="13900139002"),
    ]


def test_masked_parties_are_not_audited(world, api):
    dispute = file(world, parties=_parties_with_contact(world))
    response = api(world.worker_a).get(f"/api/disputes/{dispute.code}/parties")
    assert response.status_code == 200
    body = response.json()
    assert body["full"] is False
    first = body["items"][0]
    assert first["phone"] == "138****8001"
    assert first["id_number"] == "110***********002X"
    assert first["address"] == "已登记"
    assert "13800138001" not in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_full_parties_are_audited_for_an_officer(world, api):
    dispute = file(world, parties=_parties_with_contact(world))
    client = api(world.officer_a)
    response = client.get(
        f"/api/disputes/{dispute.code}/parties?full=true", REMOTE_ADDR="10.20.30.40"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["full"] is True
    first = body["items"][0]
    assert (first["phone"], first["id_number"], first["address"]) == (
        "+8613800138001",
        "11010519491231002X",
        "东门路 3 号",
    )
    [entry] = AuditEntry.objects.all()
    assert entry.actor == world.officer_a
    assert (entry.action, entry.object_type, entry.object_ref) == (
        "view_personal_data",
        "dispute",
        dispute.code,
    )
    assert entry.ip == "10.20.30.40"
    assert sorted(entry.detail["parties"]) == sorted(p["id"] for p in body["items"])


@pytest.mark.parametrize(
    "persona,status", [("aux_a", 403), ("worker_a", 403), ("officer_b", 404), ("citizen", 403)]
)
def test_full_parties_are_refused_and_the_refusal_audited(world, api, persona, status):
    dispute = request_by_citizen(world)
    response = api(getattr(world, persona)).get(f"/api/disputes/{dispute.code}/parties?full=true")
    assert response.status_code == status
    assert "13900139002" not in response.content.decode()
    # Staff refused the full view are recorded as refused; nothing is recorded as shown.
    denied = 1 if persona in ("aux_a", "worker_a") else 0
    assert AuditEntry.objects.filter(outcome="denied").count() == denied
    assert AuditEntry.objects.count() == denied


# --- review, visits due, rules; fixed paths win over /{code} ------------------------------------


def test_daily_review_list_and_review(world, api):
    yellow = file(world, amount_yuan=200000)
    # Other parties, so the repeat rule does not make this one yellow too.
    file(world, parties=[PartyInput(name="赵一", role="applicant")])
    file(world, user=world.officer_b, grid_code=world.grid_b.code, amount_yuan=300000)
    client = api(world.officer_a)
    listed = client.get("/api/disputes/review")
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["code"] == yellow.code and item["risk"] == "yellow"
    assert item["risk_reasons"][0]["rule"] == "large-amount"
    done = post(client, f"/api/disputes/{yellow.code}/review", {"note": "已约谈双方"})
    assert done.status_code == 200
    assert done.json()["timeline"][-1]["kind"] == "reviewed"
    assert client.get("/api/disputes/review").json() == []
    assert client.get("/api/disputes/review?paged=true").json() == {
        "count": 0,
        "items": [],
        "limit": 50,
        "offset": 0,
        "next_offset": None,
    }
    again = post(client, f"/api/disputes/{yellow.code}/review", {})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_reviewed"


def test_visits_due_lists_what_is_due_in_scope(world, api):
    now = clock.now()
    dispute = file(world, now=now - timedelta(days=10))
    services.resolve(world.officer_a, dispute.code, "双方和解", now=now - timedelta(days=8))
    later = file(world)
    services.resolve(world.officer_a, later.code, "双方和解")
    response = api(world.officer_a).get("/api/disputes/visits/due")
    assert response.status_code == 200
    [visit] = response.json()
    assert visit["dispute"]["code"] == dispute.code
    assert visit["after_days"] == 7 and visit["owner"] == "officer_a"
    assert api(world.officer_b).get("/api/disputes/visits/due").json() == []
    assert api(world.officer_b).get("/api/disputes/visits/due?paged=true").json() == {
        "count": 0,
        "items": [],
        "limit": 50,
        "offset": 0,
        "next_offset": None,
    }


def test_rules_show_the_active_rules_with_their_parameters(world, api):
    RiskRule.objects.filter(code="weapon").update(active=False)
    rules = api(world.worker_a).get("/api/disputes/rules").json()
    by_code = {r["code"]: r for r in rules}
    assert "weapon" not in by_code
    assert by_code["large-amount"]["params"] == {"yuan": 100000}
    assert by_code["large-amount"]["level"] == "yellow"
    assert by_code["threat-violence"]["level_label"] == "红色"
    assert "砍死" in by_code["threat-violence"]["params"]["keywords"]
    assert all(r["kind_label"] and r["name"] for r in rules)
    assert set(by_code) == set(RiskRule.objects.filter(active=True).values_list("code", flat=True))


def test_openapi_documents_every_dispute_path(world):
    paths = Client().get("/api/openapi.json").json()["paths"]
    expected = {
        "/api/disputes": {"get", "post"},
        "/api/disputes/requests": {"post"},
        "/api/disputes/requests/mine": {"get"},
        "/api/disputes/from-incident/{incident_code}": {"post"},
        "/api/disputes/review": {"get"},
        "/api/disputes/visits/due": {"get"},
        "/api/disputes/rules": {"get"},
        "/api/disputes/stats": {"get"},
        "/api/disputes/{code}": {"get"},
        "/api/disputes/{code}/parties": {"get", "post"},
        "/api/disputes/{code}/agreements/{number}/signatures": {"post"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
        for method in methods:
            assert paths[path][method]["summary"], path
    for action in (
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
    ):
        assert "post" in paths[f"/api/disputes/{{code}}/{action}"], action


def test_stats_endpoint_matches_the_scope(world, api):
    file(world)
    file(world, grid_code=world.grid_b.code, user=world.officer_b)
    county = api(world.commander).get("/api/disputes/stats").json()
    station = api(world.chief_a).get("/api/disputes/stats").json()
    assert county["total"] == 2 and station["total"] == 1
    assert station["scope"]["code"] == world.station_a.code
    assert {row["value"]: row["total"] for row in station["by_type"]}["neighbour"] == 1


def test_stats_endpoint_denials_and_bad_months(world, api):
    assert api().get("/api/disputes/stats").status_code == 401
    assert api(world.officer_a).get("/api/disputes/stats").status_code == 403
    bad = api(world.commander).get("/api/disputes/stats?from=2026-13")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_month"
    outside = api(world.chief_a).get(f"/api/disputes/stats?org={world.station_b.code}")
    assert outside.status_code in (403, 404)
