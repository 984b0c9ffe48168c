"""Checking and normalising what people type, shared by every domain's services.

The errors carry one vocabulary: `invalid_input` (not text at all, or characters no text may
hold), `<field>_required`, `<field>_too_long`, `bad_phone`; `details.field` names the field.
"""

import re

import phonenumbers

from .errors import ServiceError

# NUL (PostgreSQL text cannot store it) and lone UTF-16 surrogates (not characters at all:
# they cannot be encoded to UTF-8 and fail in the driver, the JSON encoder or the log).
_FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def has_forbidden_characters(text: str) -> bool:
    return _FORBIDDEN_CHARACTERS.search(text) is not None


def clean_text(value, *, field: str, label: str, max_len: int, required: bool = True) -> str:
    """Trimmed text within `max_len` characters; refuses non-text, NUL and lone surrogates."""
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ServiceError("invalid_input", f"{label}必须是文字", details={"field": field})
    if has_forbidden_characters(text):
        raise ServiceError("invalid_input", f"{label}含有无法保存的字符", details={"field": field})
    if required and not text:
        raise ServiceError(f"{field}_required", f"{label}不能为空", details={"field": field})
    if len(text) > max_len:
        raise ServiceError(
            f"{field}_too_long", f"{label}不能超过 {max_len} 字", details={"field": field}
        )
    return text


def normalise_phone(raw: str, *, field: str = "phone") -> str:
    """A Chinese (or international) phone number in E.164, or "" when none was given."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ServiceError("bad_phone", f"手机号无效：{raw}", details={"field": field}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ServiceError("bad_phone", f"手机号无效：{raw}", details={"field": field})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
