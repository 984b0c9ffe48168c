"""Schemathesis over the whole OpenAPI document, as four personas: anonymous, a resident, an
officer and a commander (issue 11, point 7; security review F11/F12).

Every generated request goes through the HTTP workers' own WSGI application (pingan.wsgi: /api/
through API_MIDDLEWARE) in this process, on the test database with the `world` fixture, with a
real bearer token for each persona. It must never be answered 5xx, and every answer must match
what the document says of it: its status is documented (the error envelope is declared for
400/401/403/404/409/413/422/423/429/503 on every operation), its content type, and its body's
schema.

Budget: a few examples per operation in each of schemathesis's examples, coverage and fuzzing
phases, derandomised (the same cases on every run); no stateful phase. Select it with
`-m schemathesis`; HYPOTHESIS_PROFILE does not change it (the budget is set here).
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pingan.accounts.services import issue_token
from pingan.incidents.services import report
from pingan.wsgi import application
from tests.conftest import GA1_CENTER

PERSONAS = ("anonymous", "citizen", "officer", "commander")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = {
    "seed": 20261205,
    "suppress-health-check": ["all"],
    "generation": {"max-examples": 4, "deterministic": True, "database": "none"},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}


@pytest.fixture(params=PERSONAS)
def persona(request, world):
    """The user the run acts as (None: anonymous), with something of theirs to act on."""
    # schemathesis 4.32's lazy schema reads and relabels `node._nodeid`, which pytest 9.2 no
    # longer has (it keeps `_id`): give it the attribute it reads.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    user = {
        "anonymous": None,
        "citizen": world.citizen,
        "officer": world.officer_a,
        "commander": world.commander,
    }[request.param]
    report(
        category_code="020100",
        description="模糊测试前的警情",
        lng=GA1_CENTER[0],
        lat=GA1_CENTER[1],
        reporter=world.citizen,
    )
    return user


@pytest.fixture
def api_schema(persona):
    # The werkzeug client calls the app in this thread: keep Django from closing the test's
    # connection at each request's start and end (an in-memory SQLite would be lost).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/openapi.json", application, config=schemathesis.Config.from_dict(CONFIG)
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.schemathesis
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
def test_the_api_keeps_its_contract(case, persona):
    headers = {}
    if persona is not None:
        # A fresh token for each case: a fuzzed logout or password change may revoke the last.
        headers["Authorization"] = f"Bearer {issue_token(persona).token}"
    case.call_and_validate(headers=headers, checks=CHECKS)
