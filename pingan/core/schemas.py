"""The one input layer of the API: every router's input schemas and parameter types.

* `InputSchema` is the base of every JSON body. Its types are strict: JSON `true` is not the
  number 1, the string "yes" (or the number 1) is not a boolean, "5" is not a number. A float
  still takes a JSON integer (`"lat": 30`). Times and amounts, which JSON can only send as
  text, stay lax through `When` and `Amount`.
* `QuerySchema` is the base of query-string filters. A query string is all text, so numbers are
  parsed from it; booleans through `QueryBool`, which takes true/false/1/0 only.
* Both refuse NUL characters (PostgreSQL text cannot store them) and lone UTF-16 surrogates
  (not characters at all: no encoder can write them) in every text field, nested lists
  included, with a Chinese message. `Text(n)`, `RequiredText(n)` and `QueryText(n)` carry the
  same check and a length limit, so they also work as loose parameters outside a schema.
* Path parameters that are codes use the code types below (`IncidentCode`, `DisputeCode` …),
  checked by the pattern their generator produces (`pingan.core.sequences.next_code`:
  `JQ20261123-000123`). Anything else cannot exist, so it is a 404 like a code that does not
  exist, and never reaches the database.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    field_validator,
)

from .errors import NotFound
from .validation import has_forbidden_characters

MAX_ID = 2**31 - 1

# --- text ---------------------------------------------------------------------------------------


def storable(value: str) -> str:
    """Text a database can store: no NUL, no lone surrogate."""
    if "\x00" in value:
        raise ValueError("不能包含空字符")
    if has_forbidden_characters(value):
        raise ValueError("包含无效字符")
    return value


def _storable_input(value: Any) -> Any:
    # Before the type's own check: strict text refuses a lone surrogate too, but in English.
    return storable(value) if isinstance(value, str) else value


def not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("不能为空")
    return value


def _walk_storable(value: Any) -> Any:
    if isinstance(value, str):
        storable(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _walk_storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_storable(key)
            _walk_storable(item)
    return value


def Text(max_length: int, *, min_length: int = 0):  # noqa: N802 - reads as a type
    """Text of at most `max_length` characters (may be empty), storable."""
    return Annotated[
        str, BeforeValidator(_storable_input), Field(min_length=min_length, max_length=max_length)
    ]


def RequiredText(max_length: int):  # noqa: N802 - reads as a type
    """Text with at least one non-space character, at most `max_length`, storable."""
    return Annotated[
        str,
        BeforeValidator(_storable_input),
        Field(min_length=1, max_length=max_length),
        AfterValidator(not_blank),
    ]


def QueryText(max_length: int = 100):  # noqa: N802 - reads as a type
    """A query-string text parameter (`q`, a filter's code): storable, limited."""
    return Annotated[str, BeforeValidator(_storable_input), Field(max_length=max_length)]


# A grid, org or team code given as a reference (grids are imported with their own codes).
RefCode = Annotated[str, BeforeValidator(_storable_input), Field(min_length=1, max_length=32)]
Username = Annotated[str, Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")]
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Lng = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
# [lng, lat]: JSON has no tuples, so the pair itself is parsed from a list; its numbers are not.
LngLat = Annotated[tuple[Lng, Lat], Strict(False)]


# --- times and amounts (JSON sends them as text: parsed, not strict) ----------------------------


def _aware(value: datetime) -> datetime:
    # Years far off would overflow on the conversion to UTC; nothing is recorded for them.
    if not 1900 <= value.year <= 2100:
        raise ValueError("时间超出范围")
    # A phone may send local wall time without an offset: read it in the project's zone.
    if timezone.is_naive(value):
        return timezone.make_aware(value)
    # Real zones lie within ±14 h; PostgreSQL refuses a displacement beyond ±16 h.
    offset = value.utcoffset()
    if offset is not None and abs(offset) > timedelta(hours=14):
        raise ValueError("时区偏移超出范围")
    return value


When = Annotated[datetime, Strict(False), AfterValidator(_aware)]
# A decimal from a JSON number or its text; `true` is still refused.
Amount = Annotated[Decimal, Strict(False)]


# --- booleans in a query string -----------------------------------------------------------------


def _query_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
    raise ValueError("应为 true 或 false")


QueryBool = Annotated[bool, BeforeValidator(_query_bool)]


# --- bases --------------------------------------------------------------------------------------


class _Storable(Schema):
    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value):
        # Every text field, declared with a text type or not, lists and tuples included.
        return _walk_storable(value)


class InputSchema(_Storable):
    """Base of every JSON body: strict types, storable text."""

    model_config = ConfigDict(strict=True)


class QuerySchema(_Storable):
    """Base of every query-string filter: values parsed from text, storable text."""


class PageIn(QuerySchema):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)


# --- codes in paths -----------------------------------------------------------------------------

# sequences.next_code: prefix, local day, a number of at least 6 digits (the columns hold 20).
_SEQUENCE_CODE = r"{prefix}\d{{8}}-\d{{6,9}}"


def _code_type(pattern: str, example: str, *, not_found: str | None):
    """A code checked by its pattern: in a path a 404 (`not_found`), in a body a 422."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            if not_found is not None:
                raise NotFound(not_found)
            raise ValueError("编号格式不正确")
        return value

    return Annotated[
        str,
        AfterValidator(check),
        Field(json_schema_extra={"pattern": f"^{pattern}$", "example": example}),
    ]


def sequence_code(prefix: str, what: str, *, in_body: bool = False):
    """A code made by `next_code(prefix, …)`: JQ20261123-000123."""
    return _code_type(
        _SEQUENCE_CODE.format(prefix=prefix),
        f"{prefix}20261123-000123",
        not_found=None if in_body else f"未找到该{what}，或您无权查看",
    )


# In paths: 404 like a code that does not exist.
IncidentCode = sequence_code("JQ", "警情")
DisputeCode = sequence_code("JF", "纠纷")
AgreementNumber = sequence_code("TJ", "协议书")
TeamCode = sequence_code("YJ", "队伍")
TaskCode = sequence_code("RW", "任务")
ShopCode = sequence_code("SP", "兑换点")
OrderCode = sequence_code("DH", "兑换订单")
# secrets.token_urlsafe(16): 22 characters of the URL-safe alphabet (the column holds 32).
InviteToken = _code_type(
    r"[A-Za-z0-9_-]{1,32}",
    "q3Z0b8mJc1xRkN4tVw7yAg",
    not_found="邀请链接无效或已失效，请向队长索取新的二维码",
)
# What a clerk typed or a scanner read: the service normalises spaces, dashes and case.
RedeemCodeText = _code_type(
    r"[A-Za-z0-9 -]{1,40}", "7KQ4-M9XP-2B", not_found="核销码无效或不属于本兑换点"
)

# In bodies: a 422 on the field, like any other malformed value.
IncidentCodeIn = sequence_code("JQ", "警情", in_body=True)
DisputeCodeIn = sequence_code("JF", "纠纷", in_body=True)


# --- shared output shapes -----------------------------------------------------------------------


class RefOut(Schema):
    """A record named by its code: a grid, an org unit, a team, a dispute."""

    code: str
    name: str
