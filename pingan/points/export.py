"""The volunteer statistics as an Excel workbook (openpyxl): team statistics, the unit's
monthly leaderboard and each team's. Built from `recognition` alone, so it holds the same
numbers as the page, with names masked and no phone numbers at all."""

from datetime import date
from io import BytesIO
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pingan.core.excel import append_row

from . import recognition as r

HEADER_FILL = PatternFill("solid", fgColor="F0F3F7")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
PERCENT = "0.0%"
MAX_TEAM_BOARDS = 200
TEAM_BOARD_LIMIT = 20

STATS_HEADER = [
    "队伍",
    "所属单位",
    "队员数",
    "活跃队员",
    "服务时长（小时）",
    "任务数",
    "名额",
    "已报满",
    "报满率",
    "发放积分",
    "兑换积分",
]
BOARD_HEADER = ["名次", "姓名", "队伍", "获得积分", "服务时长（小时）"]


def _title(sheet, text: str, columns: int) -> None:
    append_row(sheet, [text])
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


def scope_name(org) -> str:
    return org.name if org is not None else "全部"


def stats_row(row: dict) -> list:
    name = "合计" if row["is_total"] else row["team"]["name"]
    org_name = row["org"]["name"] if row["org"] else "全部"
    return [
        name,
        org_name,
        row["members"],
        row["active"],
        float(row["hours"]),
        row["tasks"],
        row["slots"],
        row["filled"],
        "—" if row["fill_rate"] is None else row["fill_rate"],
        row["points_issued"],
        row["points_redeemed"],
    ]


def board_row(row: dict) -> list:
    team = row["team"]["name"] if row["team"] else ""
    return [row["rank"], row["name"], team, row["points"], float(row["hours"])]


def _stats_sheet(sheet, org, start: date, end: date, rows: list[dict]) -> None:
    sheet.title = "队伍统计"
    _title(sheet, f"义警队伍统计（{scope_name(org)}，{start} 至 {end}）", len(STATS_HEADER))
    _header(sheet, STATS_HEADER)
    for row in rows:
        append_row(sheet, stats_row(row))
        if row["fill_rate"] is not None:
            sheet.cell(row=sheet.max_row, column=9).number_format = PERCENT
        if row["is_total"]:
            for cell in sheet[sheet.max_row]:
                cell.font = BOLD
    append_row(sheet, [])
    append_row(
        sheet, ["说明：活跃队员为统计区间内通过本队至少签到一次的队员；服务时长为已确认的时长。"]
    )
    append_row(sheet, ["报满率 = 已报名名额 ÷ 发布名额；合计行按人、按任务去重。"])
    _widths(sheet, [22, 18, 10, 10, 16, 10, 10, 10, 10, 12, 12])


def _board_sheet(sheet, title: str, rows: list[dict]) -> None:
    _title(sheet, title, len(BOARD_HEADER))
    _header(sheet, BOARD_HEADER)
    for row in rows:
        append_row(sheet, board_row(row))
    if not rows:
        append_row(sheet, ["本月暂无积分记录"])
    _widths(sheet, [8, 14, 22, 12, 16])


def _team_boards_sheet(sheet, month: date, boards: list[tuple]) -> None:
    _title(sheet, f"各队积分排行（{r.month_key(month)}，每队前 {TEAM_BOARD_LIMIT} 名）", 5)
    _header(sheet, ["队伍", "名次", "姓名", "获得积分", "服务时长（小时）"])
    for team, rows in boards:
        for row in rows:
            append_row(
                sheet, [team.name, row["rank"], row["name"], row["points"], float(row["hours"])]
            )
    _widths(sheet, [22, 8, 14, 12, 16])


def build_workbook(*, org, start: date, end: date, month: date | None = None, team=None):
    month = month or date(end.year, end.month, 1)
    book = Workbook()
    _stats_sheet(book.active, org, start, end, r.team_stats(org=org, start=start, end=end))
    _board_sheet(
        book.create_sheet("单位排行"),
        f"积分排行（{scope_name(org)}，{r.month_key(month)}）",
        r.leaderboard(month=month, org=org, limit=r.MAX_LIMIT),
    )
    teams = [team] if team is not None else list(r.teams_in(org)[:MAX_TEAM_BOARDS])
    boards = [(t, r.leaderboard(month=month, team=t, limit=TEAM_BOARD_LIMIT)) for t in teams]
    _team_boards_sheet(book.create_sheet("各队排行"), month, boards)
    return book


def workbook_bytes(**kwargs) -> bytes:
    out = BytesIO()
    build_workbook(**kwargs).save(out)
    return out.getvalue()


def content_disposition(org, start: date, end: date) -> str:
    """An ASCII name for old clients plus the UTF-8 Chinese one (RFC 6266 / RFC 5987)."""
    code = "".join(
        c for c in (org.code if org is not None else "all") if c.isascii() and c.isalnum()
    )
    fallback = f"volunteer-stats_{code or 'org'}_{start}_{end}.xlsx"
    name = f"义警统计_{scope_name(org)}_{start}_{end}.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
