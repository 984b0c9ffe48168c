"""The one input layer (pingan.core.schemas), checked on every route of the API.

The routes, their path and query parameters and their bodies are read from the NinjaAPI's own
OpenAPI document, so a new route is covered without editing this file. For each one:

* a NUL byte or a lone surrogate in any text field, and text over its length, is a 422;
* JSON `true` where a number is expected, `"yes"` or `1` where a boolean is, is a 422;
* a code in the path that cannot exist (NUL, wrong pattern) is a 404, an id a 422;
* the answer is the API's JSON error, never a 500, and nothing is written.

Run it on PostgreSQL too (DATABASE_URL=postgres://…): that is where NUL bytes made 500s.
"""

import json
from urllib.parse import quote, urlencode

import pytest
from django.apps import apps
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ninja import Schema

from pingan.api import api
from pingan.core.schemas import InputSchema, QuerySchema, storable
from tests.conftest import api_client

pytestmark = pytest.mark.django_db

OPENAPI = api.get_openapi_schema()
COMPONENTS = OPENAPI.get("components", {}).get("schemas", {})
BAD_TEXT = ["a\x00b", "\x00", "a\ud800b", "\udfff"]


def resolve(node: dict, defs: dict | None = None) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = (defs or {}).get(name) or COMPONENTS[name]
    return node


def leaves(node: dict, path: tuple = (), defs: dict | None = None):
    """(path, schema) of every scalar position in a JSON schema; list items at index 0. A value
    that may be a number or its text (a decimal) counts as a number."""
    defs = {**(defs or {}), **node.get("$defs", {})}
    node = resolve(node, defs)
    options = [resolve(o, defs) for o in node.get("anyOf") or node.get("oneOf") or []]
    options = [o for o in options if o.get("type") != "null"]
    if options:
        numeric = [o for o in options if o.get("type") in ("number", "integer")]
        for option in numeric or options:
            yield from leaves(option, path, defs)
        return
    if node.get("type") == "object" and "properties" in node:
        for name, prop in node["properties"].items():
            yield from leaves(prop, (*path, name), defs)
    elif node.get("type") == "array" and "prefixItems" in node:
        for i, item in enumerate(node["prefixItems"]):
            yield from leaves(item, (*path, i), defs)
    elif node.get("type") == "array" and "items" in node:
        yield from leaves(node["items"], (*path, 0), defs)
    else:
        yield path, node


def kind(leaf: dict) -> str:
    if "enum" in leaf or "const" in leaf:
        return "choice"
    if leaf.get("format") == "binary":
        return "file"
    return leaf.get("type", "")


def put(path: tuple, value):
    """A JSON value with `value` at `path` (other list positions padded with 0)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        return [0] * head + [put(rest, value)]
    return {head: put(rest, value)}


def dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def unwrap(annotation):
    """X from X | None."""
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


def _body_models() -> dict:
    """operationId -> the body's schema class, from the operations themselves."""
    found = {}
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in operation.signature.models:
                    if model.__ninja_param_source__ == "body":
                        (field,) = model.model_fields.values()
                        found[api.get_openapi_operation_id(operation)] = unwrap(field.annotation)
    return found


def _operations():
    ops = []
    bodies = _body_models()
    for path, methods in OPENAPI["paths"].items():
        for method, op in methods.items():
            params = [p | {"schema": resolve(p["schema"])} for p in op.get("parameters", [])]
            body = form = None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = bodies[op["operationId"]].model_json_schema()
            elif "multipart/form-data" in content:
                form = content["multipart/form-data"]["schema"]
            ops.append(
                {
                    "id": f"{method.upper()} {path}",
                    "method": method,
                    "path": path,
                    "path_params": [p for p in params if p["in"] == "path"],
                    "query_params": [p for p in params if p["in"] == "query"],
                    "body": body,
                    "form": form,
                }
            )
    return ops


OPERATIONS = _operations()
WRITES = [op for op in OPERATIONS if op["body"] or op["form"]]
QUERIES = [op for op in OPERATIONS if op["query_params"]]
WITH_PATHS = [op for op in OPERATIONS if op["path_params"]]


def by_id(ops):
    return pytest.mark.parametrize("op", ops, ids=[op["id"] for op in ops])


def valid_path(op, **override) -> str:
    """The path with codes that could exist (the example of their pattern) and id 1."""
    url = op["path"]
    for p in op["path_params"]:
        schema = p["schema"]
        value = override.get(p["name"]) or schema.get("example") or "1"
        url = url.replace("{" + p["name"] + "}", quote(str(value), safe=""))
    return url


def snapshot() -> dict:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model.__module__.startswith("pingan.")
    }


def call(client, op, url, payload=None):
    method = op["method"]
    if payload is None:
        return getattr(client, method)(url)
    return client.generic(method.upper(), url, json.dumps(payload), content_type="application/json")


def assert_refused(response, status=422, field=None, message=None):
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        fields = {d["field"]: d["msg"] for d in error.get("details", [])}
        hits = [msg for f, msg in fields.items() if f == field or f.startswith(field + ".")]
        assert hits, (field, error)
        if message is not None:
            assert any(message in msg for msg in hits), (field, message, hits)
    return error


@pytest.fixture
def client(world):
    # The commander is authenticated for every router: validation comes before permissions.
    return api_client(world.commander)


def body_cases(op):
    """(field, body, expected message or None) for every refused value of every body field."""
    for path, leaf in leaves(op["body"]):
        field, k = dotted(path), kind(leaf)
        if k == "string":
            free = "pattern" not in leaf and "format" not in leaf
            for bad in BAD_TEXT:
                message = ("空字符" if "\x00" in bad else "无效字符") if free else None
                yield field, put(path, bad), message
            if "maxLength" in leaf:
                yield field, put(path, "长" * (leaf["maxLength"] + 1)), None
            if "format" not in leaf:  # a time may be a number (a Unix timestamp)
                yield field, put(path, 5), None
        elif k == "choice":
            yield field, put(path, "\x00"), None
        elif k == "integer":
            yield field, put(path, True), None
            yield field, put(path, "1"), None
        elif k == "number":
            yield field, put(path, True), None
        elif k == "boolean":
            yield field, put(path, "yes"), None
            yield field, put(path, 1), None


# --- every body -------------------------------------------------------------------------------


@by_id([op for op in WRITES if op["body"]])
def test_every_body_refuses_nul_surrogates_long_text_and_loose_types(client, op):
    url = valid_path(op)
    cases = list(body_cases(op))
    assert cases, f"{op['id']}: a body with no field to check"
    before = snapshot()
    for field, payload, message in cases:
        assert_refused(call(client, op, url, payload), field=field, message=message)
    assert snapshot() == before, f"{op['id']}: a refused body changed data"


def test_anonymous_report_with_nul_in_the_description_is_a_422_not_a_500(world):
    body = {
        "category": "010100",
        "description": "打架\x00",
        "location": {"lat": 26.3, "lng": 114.3},
    }
    before = snapshot()
    response = api_client().post("/api/incidents", body, content_type="application/json")
    assert_refused(response, field="description", message="空字符")
    assert snapshot() == before


def form_texts(op) -> list[str]:
    properties = op["form"].get("properties", {}) if op["form"] else {}
    return [name for name, prop in properties.items() if kind(resolve(prop)) == "string"]


@by_id([op for op in WRITES if form_texts(op)])
def test_every_form_refuses_nul_text(client, op):
    url = valid_path(op)
    texts = form_texts(op)
    before = snapshot()
    for name in texts:
        for bad in ("a\x00b", "长" * 5000):
            response = client.post(url, {name: bad})
            assert_refused(response, field=name)
    assert snapshot() == before


# --- every query string -----------------------------------------------------------------------


@by_id(QUERIES)
def test_every_query_parameter_refuses_nul_long_text_and_loose_types(client, op):
    url = valid_path(op)
    before = snapshot()
    for param in op["query_params"]:
        name, leaf = param["name"], param["schema"]
        options = [resolve(o) for o in leaf.get("anyOf", [leaf])]
        leaf = next((o for o in options if o.get("type") != "null"), leaf)
        bad = ["\x00", "a\x00b"]
        if kind(leaf) == "string" and "maxLength" in leaf:
            bad.append("x" * (leaf["maxLength"] + 1))
        if kind(leaf) == "boolean":
            bad += ["yes", "on", "2"]
        if kind(leaf) in ("integer", "number"):
            bad += ["true", "x"]
        for value in bad:
            response = client.get(url + "?" + urlencode({name: value}))
            assert_refused(response, field=name)
    assert snapshot() == before


def test_incident_search_with_nul_is_a_422_not_a_500(world):
    response = api_client(world.commander).get("/api/incidents?q=%00")
    assert_refused(response, field="q", message="空字符")


# --- every path parameter ---------------------------------------------------------------------


@by_id(WITH_PATHS)
def test_every_path_code_is_checked_by_its_pattern(client, op):
    before = snapshot()
    for param in op["path_params"]:
        schema = param["schema"]
        if schema.get("type") == "integer":
            for bad in ("%00", "true", "1.5"):
                url = op["path"].replace("{" + param["name"] + "}", bad)
                url = valid_path({**op, "path": url})
                assert_refused(call(client, op, url, {}), status=422)
            continue
        example = schema["example"]
        bad_codes = ["%00", example[:2] + "%00X", "x" * 41]
        if schema["pattern"][1:3].isalpha():
            # A code made by next_code (JQ20261123-000123): no other shape can exist.
            bad_codes += [example + "X", example.lower(), example[:2] + "-NOPE"]
        for bad in bad_codes:
            url = op["path"].replace("{" + param["name"] + "}", bad)
            url = valid_path({**op, "path": url})
            response = call(client, op, url, {})
            assert_refused(response, status=404)
    assert snapshot() == before


def test_incident_path_with_nul_is_a_404_not_a_500(world):
    response = api_client(world.officer_a).get("/api/incidents/JQ%00X")
    assert_refused(response, status=404)


@pytest.mark.parametrize(
    "url",
    [
        "/api/incidents/JQ20000101-000001",
        "/api/disputes/JF20000101-000001",
        "/api/volunteers/tasks/RW20000101-000001",
        "/api/volunteers/teams/YJ20000101-000001",
        "/api/points/orders/DH20000101-000001",
        "/api/points/shops/SP20000101-000001",
    ],
)
def test_a_code_of_the_right_shape_that_does_not_exist_is_a_404(client, url):
    assert_refused(client.get(url), status=404)


# --- the layer is used everywhere -------------------------------------------------------------


def test_the_document_lists_every_route_of_every_router():
    registered = set()
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                for method in op.methods:
                    registered.add((method.lower(), f"/api{prefix.rstrip('/')}/{path}".rstrip("/")))
    listed = {(op["method"], op["path"].rstrip("/")) for op in OPERATIONS}
    normalised = {(m, p.replace("//", "/")) for m, p in registered}
    assert normalised == listed


def test_every_input_goes_through_the_shared_bases():
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for op in view.operations:
                for model in op.signature.models:
                    source = model.__ninja_param_source__
                    for field in model.model_fields.values():
                        annotation = field.annotation
                        inner = [a for a in getattr(annotation, "__args__", ()) if a is not None]
                        target = inner[0] if inner else annotation
                        if not isinstance(target, type):
                            continue
                        if source == "body":
                            assert issubclass(target, InputSchema), (op.view_func, target)
                        if source == "query" and issubclass(target, Schema):
                            assert issubclass(target, QuerySchema), (op.view_func, target)


def test_every_text_is_limited_and_every_path_code_has_a_pattern():
    for op in OPERATIONS:
        for p in op["path_params"]:
            schema = p["schema"]
            assert schema.get("type") == "integer" or "pattern" in schema, (op["id"], p)
        for p in op["query_params"]:
            for leaf in [resolve(o) for o in p["schema"].get("anyOf", [p["schema"]])]:
                if kind(leaf) == "string":
                    assert {"maxLength", "pattern", "format"} & set(leaf), (op["id"], p)
        if op["body"]:
            for path, leaf in leaves(op["body"]):
                if kind(leaf) == "string":
                    bounded = {"maxLength", "pattern", "format"} & set(leaf)
                    assert bounded, (op["id"], dotted(path))


# --- what stays accepted ----------------------------------------------------------------------


def test_floats_still_take_json_integers_and_booleans_take_true(world):
    officer = api_client(world.officer_a)
    response = officer.post(
        "/api/units/me/position",
        {"lat": 26, "lng": 114},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    response = officer.post(
        "/api/units/me/duty", {"on_duty": False}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["on_duty"] is False
    listing = api_client(world.commander).get("/api/units?on_duty=false")
    assert listing.status_code == 200
    assert api_client(world.commander).get("/api/incidents?open=1&limit=5").status_code == 200


def test_storable_allows_astral_characters():
    assert storable("巡逻 😀") == "巡逻 😀"


# --- generated text, per router ---------------------------------------------------------------


def _free_text_fields(router_prefix: str):
    found = []
    for op in WRITES:
        if not op["body"] or not op["path"].startswith(router_prefix):
            continue
        for path, leaf in leaves(op["body"]):
            if kind(leaf) == "string" and "pattern" not in leaf and "format" not in leaf:
                found.append((op, path))
    return found


# Every router with a text field in a body (units and orgs have none: the tests above check
# their numbers, booleans and query strings).
ROUTERS = ["/api/auth", "/api/incidents", "/api/disputes", "/api/volunteers", "/api/points"]
poisoned = st.builds(
    lambda before, bad, after: before + bad + after,
    st.text(max_size=10),
    st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00", "\udfff"]),
    st.text(max_size=10),
)
GENERATED = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("router_prefix", ROUTERS)
@GENERATED
@given(index=st.integers(min_value=0, max_value=10_000), text=poisoned)
@example(index=0, text="\x00")
@example(index=0, text="\ud800")
def test_generated_text_with_nul_or_surrogates_is_refused_on_every_router(
    client, router_prefix, index, text
):
    fields = _free_text_fields(router_prefix)
    assert fields, router_prefix
    op, path = fields[index % len(fields)]
    before = snapshot()
    response = call(client, op, valid_path(op), put(path, text))
    assert_refused(response, field=dotted(path))
    assert snapshot() == before


@pytest.mark.django_db
def test_a_time_with_an_impossible_offset_is_refused_not_a_500(world, api):
    """Found by schemathesis on PostgreSQL: an offset of -21:17 reached the database (500)."""
    client = api(world.commander)
    for value in ("2026-05-12T03:35:39-21:17", "5783-05-12T03:35:39+08:00"):
        for path in ("/api/sla/compliance", "/api/incidents"):
            response = client.get(path, {"since": value})
            assert response.status_code == 422, (path, value, response.content)
    good = client.get("/api/sla/compliance", {"since": "2026-05-12T03:35:39+08:00"})
    assert good.status_code == 200
