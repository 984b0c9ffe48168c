"""The statistics as an Excel workbook: a summary sheet and one sheet per breakdown.

Built from `queries.summary` alone, so it holds counts and rates, never a party or a case.
"""

from io import BytesIO
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pingan.core.excel import append_row

HEADER_FILL = PatternFill("solid", fgColor="F0F3F7")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
PERCENT = "0.0%"

# summary key -> (sheet name, heading of the first column)
SHEETS = (
    ("by_type", "按类型", "纠纷类型"),
    ("by_channel", "按排查渠道", "排查渠道"),
    ("by_route", "按化解途径", "化解途径"),
    ("by_risk", "按风险等级", "风险等级"),
    ("by_status", "按状态", "状态"),
)


def period_text(data: dict) -> str:
    start, end = data["period"]["from"], data["period"]["to"]
    if start and end:
        return f"{start} 至 {end}"
    if start:
        return f"{start} 起"
    if end:
        return f"截至 {end}"
    return "全部时间"


def title_text(data: dict) -> str:
    return f"矛盾纠纷统计（{data['scope']['name']}，登记时间 {period_text(data)}）"


def _title(sheet, data: dict, columns: int) -> None:
    append_row(sheet, [title_text(data)])
    sheet["A1"].font = TITLE
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    append_row(sheet, [])


def _header(sheet, labels: list[str]) -> None:
    append_row(sheet, labels)
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center")


def _widths(sheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _summary_sheet(sheet, data: dict) -> None:
    sheet.title = "概览"
    _title(sheet, data, 3)
    _header(sheet, ["指标", "数值", "说明"])
    rows = [
        ("纠纷总数", data["total"], None, "登记时间在统计区间内的纠纷，含待受理、不予受理"),
        ("已化解", data["settled"], None, "已化解（回访中）和已稳定结案"),
        ("化解率", data["resolution_rate"], PERCENT, "已化解 ÷ 纠纷总数"),
        ("化解天数中位数", data["median_days"], "0.0", "从登记到化解的整天数，已化解纠纷的中位数"),
        ("出现反复", data["relapsed"], None, "回访发现协议未履行或纠纷反复，至少一次"),
        ("曾化解", data["ever_settled"], None, "已化解的纠纷，加上反复后重新化解中的纠纷"),
        ("反复率", data["relapse_rate"], PERCENT, "出现反复 ÷ 曾化解"),
    ]
    for label, value, number_format, note in rows:
        append_row(sheet, [label, "—" if value is None else value, note])
        if number_format and value is not None:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format
    _widths(sheet, [18, 12, 48])


def _breakdown_sheet(sheet, data: dict, key: str, first_column: str) -> None:
    _title(sheet, data, 4)
    _header(sheet, [first_column, "纠纷数", "已化解", "化解率"])
    for row in data[key]:
        rate = row["settled"] / row["total"] if row["total"] else None
        append_row(
            sheet, [row["label"], row["total"], row["settled"], "—" if rate is None else rate]
        )
        if rate is not None:
            sheet.cell(row=sheet.max_row, column=4).number_format = PERCENT
    _widths(sheet, [24, 12, 12, 12])


def _month_sheet(sheet, data: dict) -> None:
    _title(sheet, data, 4)
    _header(sheet, ["登记月份", "纠纷数", "已化解", "化解率"])
    for row in data["by_month"]:
        rate = row["settled"] / row["total"] if row["total"] else None
        append_row(
            sheet, [row["month"], row["total"], row["settled"], "—" if rate is None else rate]
        )
        if rate is not None:
            sheet.cell(row=sheet.max_row, column=4).number_format = PERCENT
    _widths(sheet, [14, 12, 12, 12])


def build_workbook(data: dict) -> Workbook:
    book = Workbook()
    _summary_sheet(book.active, data)
    for key, name, first_column in SHEETS:
        _breakdown_sheet(book.create_sheet(name), data, key, first_column)
    _month_sheet(book.create_sheet("按月份"), data)
    return book


def workbook_bytes(data: dict) -> bytes:
    out = BytesIO()
    build_workbook(data).save(out)
    return out.getvalue()


def filename(data: dict) -> str:
    start = data["period"]["from"] or "起"
    end = data["period"]["to"] or "今"
    return f"矛盾纠纷统计_{data['scope']['name']}_{start}_{end}.xlsx"


def ascii_filename(data: dict) -> str:
    start = data["period"]["from"] or "start"
    end = data["period"]["to"] or "now"
    return f"dispute-stats_{data['scope']['code'] or 'all'}_{start}_{end}.xlsx"


def content_disposition(data: dict) -> str:
    """An ASCII name for old clients plus the UTF-8 Chinese one (RFC 6266 / RFC 5987)."""
    fallback = "".join(
        c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in ascii_filename(data)
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename(data), safe='')}"
