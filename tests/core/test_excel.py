"""Excel exports keep user text as text (issue 11 point 6, security review F8): text that a
spreadsheet would read as a formula is written as a string cell, through one helper
(pingan/core/excel.py) that every export uses."""

import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from pingan.core import clock
from pingan.core.excel import append_row
from pingan.points import recognition
from pingan.volunteers.services import create_team

ROOT = Path(__file__).resolve().parents[2] / "pingan"
HYPERLINK = '=HYPERLINK("http://x","a")'


def saved(book) -> Workbook:
    out = BytesIO()
    book.save(out)
    return load_workbook(BytesIO(out.getvalue()))


@pytest.mark.parametrize(
    "text", [HYPERLINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_formula_text_is_a_text_cell(text):
    book = Workbook()
    append_row(book.active, [text, 7, "普通文字"])
    cells = saved(book).active[1]
    assert cells[0].data_type == "s" and cells[0].quotePrefix is True
    assert cells[0].value.strip() == text.strip()
    assert (cells[1].value, cells[1].data_type) == (7, "n")
    assert (cells[2].value, cells[2].data_type, cells[2].quotePrefix) == ("普通文字", "s", False)


def test_control_characters_an_xlsx_cannot_hold_are_dropped():
    book = Workbook()
    append_row(book.active, ["a\x01b\x1fc"])
    assert saved(book).active["A1"].value == "abc"


@pytest.mark.django_db
def test_a_team_named_as_a_formula_is_text_in_the_volunteer_export(world):
    team = create_team(world.officer_a, name=HYPERLINK, org=world.office_a)
    today = clock.now().date()
    data = recognition.export_xlsx(org=world.county, start=date(today.year, 1, 1), end=today)
    cells = [
        cell
        for sheet in load_workbook(BytesIO(data)).worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value == team.name
    ]
    assert cells, "the team is in the workbook"
    assert all(cell.data_type == "s" for cell in cells)
    assert not any(cell.data_type == "f" for cell in cells)


def test_every_export_writes_through_the_helper():
    """Every module that builds a workbook writes its cells through pingan/core/excel.py
    (append_row, or clean + neutralise for write-only sheets)."""
    exports = [p for p in ROOT.rglob("*.py") if "from openpyxl import" in p.read_text()]
    assert len(exports) >= 2
    for path in exports:
        text = path.read_text()
        if path.name != "excel.py":
            assert "from pingan.core.excel import" in text, path
            if "WriteOnlyCell" not in text:
                assert not re.search(r"\bsheet\.append\(", text), path
