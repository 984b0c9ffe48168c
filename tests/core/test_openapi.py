"""The OpenAPI document describes what each operation really takes and answers.

ninja keeps one component per schema name for the whole API: two different classes with the
same name (a `NoteIn` in two routers) leave one of them described wrongly. So every
operation's request body and responses, rendered alone from its own models, must equal what
the whole document says once its references are followed.
"""

import pytest
from django.test import Client
from ninja.openapi.schema import OpenAPISchema

from pingan.api import api

JSON = "application/json"


def _inline(schema, components, depth=0):
    assert depth < 50, "recursive schema"
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return {**_inline(components[name], components, depth + 1), **_inline(rest, components)}
        return {k: _inline(v, components, depth) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, components, depth) for v in schema]
    return schema


def _operations():
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            for operation in path_view.operations:
                if operation.include_in_schema:
                    yield api.get_openapi_operation_id(operation), operation


def _alone(operation):
    """The operation's request body and responses as ninja renders them from its models."""
    gen = OpenAPISchema.__new__(OpenAPISchema)
    gen.api, gen.schemas = api, {}
    return gen.request_body(operation), gen.responses(operation), gen.schemas


@pytest.fixture(scope="module")
def document():
    doc = Client().get("/api/openapi.json").json()
    by_id = {
        op["operationId"]: op
        for methods in doc["paths"].values()
        for op in methods.values()
        if isinstance(op, dict) and "operationId" in op
    }
    return doc["components"]["schemas"], by_id


def test_every_operation_is_in_the_document(document):
    _, by_id = document
    assert {op_id for op_id, _ in _operations()} == set(by_id)


@pytest.mark.parametrize(
    ("op_id", "operation"), list(_operations()), ids=[op_id for op_id, _ in _operations()]
)
def test_bodies_and_responses_are_each_operations_own(document, op_id, operation):
    components, by_id = document
    documented = by_id[op_id]
    body, responses, own = _alone(operation)
    if body:
        assert _inline(documented["requestBody"], components) == _inline(body, own)
    for status, response in responses.items():
        # Only the JSON body: `openapi_extra` may add other media types (a QR code's SVG).
        json_body = documented["responses"][str(status)].get("content", {}).get(JSON)
        assert _inline(json_body, components) == _inline(
            response.get("content", {}).get(JSON), own
        ), f"{op_id} {status}"


def test_schema_names_are_unique_across_routers():
    """Each component name is one class: no two routers define the same name."""
    seen: dict[str, type] = {}
    for _, operation in _operations():
        models = list(operation.models) + [
            m for m in operation.response_models.values() if isinstance(m, type)
        ]
        for model in models:
            for cls in _nested(model):
                other = seen.setdefault(cls.__name__, cls)
                assert other is cls, f"{cls.__name__}: {other.__module__} and {cls.__module__}"


def _nested(model, found=None):
    """The pydantic classes a model refers to, however deep."""
    from typing import get_args

    from pydantic import BaseModel

    found = found if found is not None else set()

    def visit(annotation):
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if is_model and annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                visit(field.annotation)
        for arg in get_args(annotation):
            visit(arg)

    for field in model.model_fields.values():
        visit(field.annotation)
    # ninja's own wrappers (the operation's param and response models) are not components.
    return {cls for cls in found if not cls.__module__.startswith("ninja")}


def test_the_incidents_api_documents_its_answers(document):
    """A phone client can generate code from it: no free-form `dict` answers."""
    _, by_id = document
    for op_id, operation in _operations():
        if "incidents" not in operation.view_func.__module__:
            continue
        for status, response in by_id[op_id]["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            assert schema.get("additionalProperties") is not True, (op_id, status)
            assert schema != {"type": "object"}, (op_id, status)


# --- every answer is typed ----------------------------------------------------------------------

# 2xx answers that are not JSON, each with its reason. Every other 2xx answer is typed JSON.
NOT_JSON = {
    ("get", "/api/volunteers/teams/{code}/qr.svg"): "an SVG image: the team's invite QR code",
    ("get", "/api/volunteers/tasks/{code}/qr.svg"): "an SVG image: the task's check-in QR code",
    ("get", "/api/points/orders/{code}/qr.svg"): "an SVG image: the order's redeem QR code",
}

# Properties that are free-form JSON objects by design, each with its reason.
FREE_FORM = {
    ("EventOut", "data"): "a dispute step's details, their keys depending on the event kind",
    ("RiskRuleOut", "params"): "a risk rule's thresholds, editable by admins, keys per rule kind",
}


def _untyped(schema, components, where="", owner=None, seen=frozenset()):
    """Where `schema` leaves a client guessing: `{}` (anything), an object with no properties
    or with untyped extra keys, an array with no item type. `owner` is the component whose
    properties are being walked, for `FREE_FORM`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        return _untyped(components[name], components, where, name, seen | {name})
    problems = []
    if not schema:
        return [f"{where or '(body)'}: any value"]
    extra = schema.get("additionalProperties")
    if schema.get("type") == "object" or "properties" in schema:
        if extra is True or (not schema.get("properties") and not isinstance(extra, dict)):
            problems.append(f"{where or '(body)'}: free-form object")
        for key, prop in schema.get("properties", {}).items():
            if (owner, key) not in FREE_FORM:
                problems += _untyped(prop, components, f"{where}.{key}", owner, seen)
    if isinstance(extra, dict):
        problems += _untyped(extra, components, f"{where}{{}}", None, seen)
    if schema.get("type") == "array":
        if "items" not in schema:
            problems.append(f"{where or '(body)'}: array of anything")
        else:
            problems += _untyped(schema["items"], components, f"{where}[]", None, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for choice in schema.get(key, []):
            problems += _untyped(choice, components, where, owner, seen)
    return problems


def test_the_untyped_check_sees_untyped_answers():
    components = {
        "Free": {"type": "object", "properties": {"data": {"type": "object"}}},
        "EventOut": {"type": "object", "properties": {"data": {"type": "object"}}},
    }
    assert _untyped({}, components)
    assert _untyped({"type": "object"}, components)
    assert _untyped({"type": "object", "additionalProperties": True}, components)
    assert _untyped({"type": "array"}, components)
    assert _untyped({"type": "array", "items": {"$ref": "#/components/schemas/Free"}}, components)
    assert _untyped({"anyOf": [{"type": "string"}, {}]}, components)
    assert not _untyped({"type": "object", "additionalProperties": {"type": "integer"}}, {})
    assert not _untyped({"$ref": "#/components/schemas/EventOut"}, components)  # allowed


def test_every_answer_is_typed():
    """A phone client generates code from the document: every 2xx answer is typed JSON (no
    `dict`, no missing `response=`), or one of the `NOT_JSON` answers, which say what they are."""
    doc = Client().get("/api/openapi.json").json()
    components = doc["components"]["schemas"]
    problems, not_json = [], set()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            for status, response in op["responses"].items():
                if not str(status).startswith("2") or str(status) == "204":
                    continue
                content = response.get("content", {})
                where = f"{method.upper()} {path} {status}"
                if (method, path) in NOT_JSON:
                    not_json.add((method, path))
                    assert content and JSON not in content, f"{where}: not documented as not JSON"
                elif JSON not in content:
                    problems.append(f"{where}: no JSON schema (a `response=` is missing)")
                else:
                    problems += [
                        f"{where} {p}" for p in _untyped(content[JSON]["schema"], components)
                    ]
    assert not problems, "\n".join(problems)
    assert not_json == set(NOT_JSON), "NOT_JSON names an operation that no longer exists"
    for name, key in FREE_FORM:
        assert key in components[name]["properties"], f"FREE_FORM: no {name}.{key}"
