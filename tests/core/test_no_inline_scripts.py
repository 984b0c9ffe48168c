"""No page runs inline script (issue 11, point 6): the Content Security Policy allows scripts
from our own files only, so an inline <script> or an on* handler would be dead code in the
browser, and a page that relied on one would be broken.

Every page route of the access matrix (tests/access_matrix.py) is rendered as the first persona
allowed to see it, with the matrix's records of station A, and its HTML is parsed: each <script>
must have a src or be JSON data (Django's json_script), no element may carry an on* attribute,
and no link may be a javascript: URL. Swagger UI (/api/docs) is checked too."""

from html.parser import HTMLParser

import pytest

from tests.access_matrix import OK, PERSONAS, ROUTES
from tests.test_access_matrix import (  # noqa: F401 - the matrix's fixtures, shared
    _no_throttle_memory,
    outcome,
    scene,
    send,
)

DATA_TYPES = {"application/json", "application/ld+json"}


class InlineScriptFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline_script = False
        self._script_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name.lower() in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            kind = (names.get("type") or "").strip().lower()
            self._inline_script = not names.get("src") and kind not in DATA_TYPES
            self._script_text = []

    def handle_data(self, data):
        if self._inline_script:
            self._script_text.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._inline_script:
            self.problems.append("<script>" + "".join(self._script_text).strip()[:80])
            self._inline_script = False


def inline_scripts(html: str) -> list[str]:
    finder = InlineScriptFinder()
    finder.feed(html)
    return finder.problems


def test_the_finder_finds_what_it_looks_for():
    assert inline_scripts("<script>alert(1)</script>") == ["<script>alert(1)"]
    assert inline_scripts('<button onclick="x()">') == ["<button onclick='x()'>"]
    assert inline_scripts('<a href=" javascript:x()">') == ["<a href=' javascript:x()'>"]
    assert inline_scripts('<script src="/static/a.js"></script>') == []
    assert inline_scripts('<script type="application/json" id="d">{"a": 1}</script>') == []


PAGE_KEYS = sorted(k for k, row in ROUTES.items() if k.startswith("page ") and row.method == "GET")


def _first_allowed(key: str) -> str | None:
    rule = ROUTES[key].rule or {}
    for persona in PERSONAS:
        if rule.get(persona) == OK:
            return persona
    return None


@pytest.mark.parametrize("key", PAGE_KEYS)
def test_rendered_pages_have_no_inline_script(scene, db, key):  # noqa: F811 - the fixture
    persona = _first_allowed(key)
    if persona is None:
        pytest.skip(f"{key}: nobody sees it as a page")
    _, response = send(key, persona, scene)
    assert outcome(key, response) == OK, (key, persona, response.status_code)
    if response.streaming or "text/html" not in response.get("Content-Type", ""):
        return  # a photo, a workbook: no HTML
    assert inline_scripts(response.content.decode()) == [], key


def test_swagger_ui_has_no_inline_script(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert inline_scripts(response.content.decode()) == []
