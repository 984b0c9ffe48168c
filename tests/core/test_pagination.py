"""One pagination for every list (issue #10): the envelope, the paging, and a guard.

The guard reads the OpenAPI document: every GET that answers a list either answers the page
envelope (and is paged through here) or is named below as a reference table or part of one
record. A new list endpoint that is not paged, or paged but not exercised here, fails.
"""

import json
from datetime import timedelta

import pytest
from django.test import Client

from pingan.accounts.services import issue_token
from pingan.core import clock
from pingan.core.pagination import Listing, Pagination
from pingan.core.schemas import PageIn
from pingan.disputes import services as disputes
from pingan.disputes.services import PartyInput
from pingan.volunteers import services as volunteers
from tests.disputes.helpers import file
from tests.incidents.helpers import report_at
from tests.points.helpers import give_points, make_item, make_order, make_shop
from tests.volunteers.helpers import make_task, make_team, team_with_volunteers

ENVELOPE = {"count", "items", "limit", "offset", "next_offset"}

# GETs answering a JSON array on purpose: small reference tables and one report.
NOT_PAGED_ARRAYS = {
    "/api/categories": "the category tree, a reference table (about a hundred rows)",
    "/api/sla/compliance": "a report: one aggregate row per grid or org unit",
    "/api/disputes/rules": "the active risk rules, a reference table",
    "/api/points/rules": "the active earning rules, a reference table",
}
# GETs whose body has an `items` list that belongs to one record.
RECORD_SUBLISTS = {
    "/api/disputes/{code}/parties": "the parties of one dispute (at most MAX_PARTIES)",
    "/api/points/shops/{code}": "one shop with its reward items",
}

# Every paged list: who asks, with which filters, and at least how many rows the data below
# gives them (so paging with limit=1 takes several pages where it can).
LISTS = {
    "/api/auth/tokens": ("citizen", {}, 3),
    "/api/incidents": ("officer_a", {}, 3),
    "/api/assignments/mine": ("officer_a", {"active": "false"}, 1),
    "/api/units": ("commander", {}, 3),
    "/api/grids": ("commander", {}, 2),
    "/api/orgs": ("commander", {}, 5),
    "/api/disputes": ("officer_a", {}, 3),
    "/api/disputes/requests/mine": ("citizen", {}, 2),
    "/api/disputes/review": ("officer_a", {}, 2),
    "/api/disputes/visits/due": ("officer_a", {}, 2),
    "/api/volunteers/teams": ("officer_a", {}, 3),
    "/api/volunteers/tasks": ("officer_a", {"view": "all"}, 3),
    "/api/volunteers/tasks/{code}/signups": ("officer_a", {}, 3),
    "/api/volunteers/me/history": ("v0000", {}, 1),
    "/api/points/ledger": ("citizen", {}, 3),
    "/api/points/orders": ("citizen", {}, 2),
    "/api/points/shops": ("citizen", {}, 2),
}
# Lists that answered a bare array before: still the array unless paged=true.
ARRAY_BY_DEFAULT = {
    "/api/assignments/mine",
    "/api/units",
    "/api/grids",
    "/api/orgs",
    "/api/disputes/review",
    "/api/disputes/visits/due",
    "/api/volunteers/teams",
    "/api/volunteers/tasks/{code}/signups",
    "/api/points/shops",
}
# Keys kept from the bodies before the envelope, with what they mirror.
KEPT = {"/api/incidents": {"total": "count"}, "/api/volunteers/me/history": {"signups": "items"}}


def _openapi() -> dict:
    return Client().get("/api/openapi.json").json()


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _shapes(schema: dict, components: dict) -> list[dict]:
    schema = _resolve(schema, components)
    if "anyOf" in schema:
        return [_resolve(s, components) for s in schema["anyOf"]]
    return [schema]


def _list_gets(doc: dict) -> dict[str, set[str]]:
    """GET paths answering an array, the envelope, or an object with `items`."""
    components = doc["components"]["schemas"]
    found: dict[str, set[str]] = {}
    for path, methods in doc["paths"].items():
        get = methods.get("get")
        if not get or "200" not in get["responses"]:
            continue
        content = get["responses"]["200"].get("content", {}).get("application/json")
        if not content:
            continue
        for shape in _shapes(content["schema"], components):
            if shape.get("type") == "array":
                found.setdefault(path, set()).add("array")
            elif "items" in shape.get("properties", {}):
                kind = "envelope" if set(shape["properties"]) >= ENVELOPE else "items"
                found.setdefault(path, set()).add(kind)
    return found


def test_every_list_is_paged_the_same_way():
    doc = _openapi()
    found = _list_gets(doc)
    paged = {path for path, kinds in found.items() if "envelope" in kinds}
    assert paged == set(LISTS), "a list endpoint is not paged, or not exercised below"
    arrays = {path for path, kinds in found.items() if kinds == {"array"}}
    assert arrays == set(NOT_PAGED_ARRAYS), "a new list answers a bare array: page it"
    others = {path for path, kinds in found.items() if kinds == {"items"}}
    assert others == set(RECORD_SUBLISTS)
    # The old bare-array lists offer both shapes; every other paged list only the envelope.
    assert {p for p in paged if "array" in found[p]} == ARRAY_BY_DEFAULT
    for path in paged:
        names = {p["name"] for p in doc["paths"][path]["get"].get("parameters", [])}
        assert {"limit", "offset"} <= names, path
        assert ("paged" in names) == (path in ARRAY_BY_DEFAULT), path


@pytest.fixture
def lists_world(world):
    """At least the rows LISTS promises, for each list."""
    now = clock.now()
    for i in range(3):
        report_at(dlng=0.001 * i, reporter=world.citizen, client_key=f"pg{i}")
    for _ in range(3):
        file(world, amount_yuan=200000)
    for days in (10, 11):
        old = file(world, now=now - timedelta(days=days))
        disputes.resolve(world.officer_a, old.code, "双方和解", now=now - timedelta(days=8))
    for n in range(2):
        disputes.request_mediation(
            world.citizen,
            type="neighbour",
            narrative=f"邻居噪音扰民 {n}",
            other_parties=[PartyInput(name="李小河", role="respondent")],
            grid_code=world.grid_a.code,
        )
    team, members = team_with_volunteers(world, 3)
    make_team(world, name="东门二队")
    make_team(world, name="东门三队")
    task = make_task(world, teams=[team], slots=2)
    make_task(world, title="夜间巡逻二")
    make_task(world, title="夜间巡逻三")
    for user in members:  # two accepted, one waiting
        volunteers.sign_up(user, task.code)
    give_points(world.citizen, 300)
    give_points(world.citizen, 20)
    shop = make_shop(world)
    make_shop(world, name="大坑合作超市", org=world.office_b)
    item = make_item(shop, points_price=10)
    make_order(world.citizen, item)
    make_order(world.citizen, item)
    for device in ("手机一", "手机二", "平板"):
        issue_token(world.citizen, device)
    return {"{code}": task.code}


def _key(item: dict) -> str:
    return str(item.get("code") or item.get("id") or json.dumps(item, sort_keys=True))


def _max_limit(doc: dict, path: str) -> int:
    [limit] = [p for p in doc["paths"][path]["get"]["parameters"] if p["name"] == "limit"]
    schema = limit["schema"]
    bounds = [s.get("maximum") for s in schema.get("anyOf", [schema]) if "maximum" in s]
    return bounds[0]


@pytest.mark.parametrize("template", sorted(LISTS))
def test_paging_through_a_list_yields_every_row_once(world, lists_world, api, template):
    username, filters, at_least = LISTS[template]
    path = template
    for marker, value in lists_world.items():
        path = path.replace(marker, value)
    client = api(getattr(world, username, None) or _user(username))
    max_limit = _max_limit(_openapi(), template)
    extra = {**filters, "paged": "true"} if template in ARRAY_BY_DEFAULT else dict(filters)

    whole = client.get(path, {**extra, "limit": max_limit})
    assert whole.status_code == 200, whole.content
    body = whole.json()
    assert set(body) >= ENVELOPE
    count = body["count"]
    assert count >= at_least
    assert len(body["items"]) == count and body["next_offset"] is None
    assert (body["limit"], body["offset"]) == (max_limit, 0)
    for kept, mirrors in KEPT.get(template, {}).items():
        assert body[kept] == body[mirrors]

    seen, offset, pages = [], 0, 0
    while offset is not None:
        page = client.get(path, {**extra, "limit": 1, "offset": offset}).json()
        assert page["count"] == count and page["limit"] == 1 and page["offset"] == offset
        assert len(page["items"]) == 1
        seen.extend(_key(i) for i in page["items"])
        offset, pages = page["next_offset"], pages + 1
    assert pages == count
    assert seen == [_key(i) for i in body["items"]]
    assert len(set(seen)) == count

    beyond = client.get(path, {**extra, "offset": count + 5}).json()
    assert beyond["items"] == [] and beyond["count"] == count
    assert beyond["next_offset"] is None and beyond["limit"] == 50

    too_many = client.get(path, {**extra, "limit": max_limit + 1})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["code"] == "invalid_input"
    for bad in ({"limit": 0}, {"offset": -1}, {"offset": 1_000_001}):
        assert client.get(path, {**extra, **bad}).status_code == 422

    if template in ARRAY_BY_DEFAULT:
        # Apps built before the envelope: the bare array, paged by the same limit and offset.
        legacy = client.get(path, filters)
        assert legacy.status_code == 200
        assert [_key(i) for i in legacy.json()] == seen
        second = client.get(path, {**filters, "limit": 1, "offset": 1}).json()
        assert [_key(i) for i in second] == seen[1:2]


def _user(username):
    from pingan.accounts.models import User

    return User.objects.get(username=username)


def test_a_list_is_ordered_by_a_unique_key_last(world):
    """Equal sort keys (same time, same name) must not let rows swap between pages."""
    from pingan.core.pagination import stable
    from pingan.orgs.models import OrgUnit

    assert stable(OrgUnit.objects.order_by("kind")).query.order_by == ("kind", "pk")
    assert stable(OrgUnit.objects.all()).query.order_by == ("path", "pk")
    assert stable(OrgUnit.objects.order_by("name", "-pk")).query.order_by == ("name", "-pk")
    assert stable(OrgUnit.objects.order_by("-id")).query.order_by == ("-id",)


def test_the_paginator_on_plain_lists():
    paginator = Pagination()
    body = paginator.paginate_queryset(
        Listing(list(range(5)), render=lambda rows: [r * 10 for r in rows], extra={"x": 1}),
        PageIn(limit=2, offset=2),
        None,
    )
    assert body == {
        "count": 5,
        "items": [20, 30],
        "limit": 2,
        "offset": 2,
        "next_offset": 4,
        "x": 1,
    }
    last = paginator.paginate_queryset(list(range(5)), PageIn(limit=2, offset=4), None)
    assert last["items"] == [4] and last["next_offset"] is None
