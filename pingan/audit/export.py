"""The audit search as an Excel workbook, with every entry's chain values (so the copy can be
checked against the log). Text that a spreadsheet would read as a formula stays text
(pingan/core/excel.py): user names, object references and details come from outside."""

import json
from io import BytesIO
from urllib.parse import quote

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from pingan.core.excel import clean, neutralise

from .services import action_label

# An export is one search's evidence, not a backup (that is the archive): a bounded workbook.
MAX_ROWS = 50_000
HEADER = (
    "序号",
    "时间",
    "操作人",
    "操作人编号",
    "操作",
    "操作代码",
    "结果",
    "对象类型",
    "对象",
    "IP",
    "详情",
    "密钥标识",
    "前一条校验值",
    "校验值",
)
WIDTHS = (8, 20, 16, 10, 16, 18, 8, 14, 24, 16, 60, 18, 20, 20)


def _row(entry) -> list:
    return [
        entry.seq,
        timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
        entry.actor_label,
        entry.actor_id,
        action_label(entry.action),
        entry.action,
        entry.get_outcome_display(),
        entry.object_type,
        entry.object_ref,
        entry.ip or "",
        json.dumps(entry.detail, ensure_ascii=False, sort_keys=True) if entry.detail else "",
        entry.key_id,
        entry.prev_mac,
        entry.mac,
    ]


def workbook_bytes(entries) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("审计日志")
    for index, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.append(list(HEADER))
    for entry in entries:
        cells = []
        for value in _row(entry):
            cells.append(neutralise(WriteOnlyCell(sheet, value=clean(value))))
        sheet.append(cells)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(stamp: str) -> str:
    fallback = f"audit_{stamp}.xlsx"
    name = f"审计日志_{stamp}.xlsx"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
