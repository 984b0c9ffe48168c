"""Checking and normalising what people type about a dispute and its parties."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric, uscc

from pingan.core.crypto import blind_index
from pingan.core.errors import ServiceError
from pingan.core.validation import clean_text, normalise_phone

from .models import DisputeType, Party, PartyKind, PartyRole, Vulnerability, party_identity

MAX_PARTIES = 50


@dataclass
class PartyInput:
    name: str
    kind: str = PartyKind.PERSON
    role: str = PartyRole.OTHER
    id_number: str = ""
    phone: str = ""
    address: str = ""
    vulnerability: str = ""
    notify: bool = False


def party_key(kind: str, name: str, id_number: str, phone: str) -> str:
    # The keyed hash of party_identity (Party.key recomputes the same on save).
    return blind_index("party", party_identity(kind, name, id_number, phone))


def clean_party(raw: PartyInput, index: int = 1) -> Party:
    where = f"第 {index} 位当事人"
    name = clean_text(raw.name, field="name", label=f"{where}的姓名/名称", max_len=100)
    if raw.kind not in PartyKind.values:
        raise ServiceError("bad_party_kind", f"{where}的类别无效", details={"index": index})
    if raw.role not in PartyRole.values:
        raise ServiceError("bad_party_role", f"{where}的身份无效", details={"index": index})
    if (raw.vulnerability or "") not in Vulnerability.values:
        raise ServiceError("bad_vulnerability", f"{where}的特殊群体类别无效")
    id_number = (raw.id_number or "").strip().upper()
    if id_number:
        validator = ric if raw.kind == PartyKind.PERSON else uscc
        try:
            id_number = validator.validate(id_number)
        except stdnum_errors.ValidationError as exc:
            kind = "身份证号" if raw.kind == PartyKind.PERSON else "统一社会信用代码"
            raise ServiceError(
                "bad_id_number", f"{where}的{kind}无效", details={"index": index}
            ) from exc
    phone = normalise_phone(raw.phone, field=f"parties[{index - 1}].phone")
    address = clean_text(
        raw.address, field="address", label=f"{where}的住址", max_len=200, required=False
    )
    if raw.notify and not phone:
        raise ServiceError("notify_needs_phone", f"{where}要接收短信，请填写手机号")
    return Party(
        kind=raw.kind,
        role=raw.role,
        name=name,
        id_number=id_number,
        phone=phone,
        address=address,
        vulnerability=raw.vulnerability or "",
        notify=bool(raw.notify),
        key=party_key(raw.kind, name, id_number, phone),
    )


def clean_common(type_: str, title: str, narrative: str, amount_yuan) -> tuple:
    if type_ not in DisputeType.values:
        raise ServiceError(
            "bad_type",
            "纠纷类型无效，可选："
            + "、".join(f"{v}（{label}）" for v, label in DisputeType.choices),
            details={"field": "type"},
        )
    narrative = clean_text(narrative, field="narrative", label="情况描述", max_len=5000)
    title = clean_text(title, field="title", label="事由", max_len=80, required=False)
    if not title:
        title = summary_title(narrative)
    amount = None
    if amount_yuan not in (None, ""):
        try:
            amount = Decimal(str(amount_yuan))
            if not amount.is_finite():  # NaN would raise on the range check below
                raise InvalidOperation
            amount = amount.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError) as exc:
            raise ServiceError("bad_amount", "涉及金额必须是数字") from exc
        if amount < 0 or amount >= Decimal("1e12"):
            raise ServiceError("bad_amount", "涉及金额必须在 0 到 1 万亿元之间")
    return title, narrative, amount


TITLE_MAX = 30


def summary_title(narrative: str) -> str:
    """A title from the narrative when none was typed: its first sentence, cut at a clause
    break rather than mid-word when too long, marked with an ellipsis if anything was cut."""
    first = re.split(r"[。！？!?\n]", narrative.strip(), maxsplit=1)[0].strip()
    if len(first) <= TITLE_MAX:
        return first
    cut = first[: TITLE_MAX - 1]
    clause = max(cut.rfind(mark) for mark in "，,；;、")
    if clause >= TITLE_MAX // 2:
        cut = cut[:clause]
    return cut + "…"
