"""The audit chain's arithmetic: keys, the canonical form of an entry and its HMAC-SM3.

    mac(entry) = HMAC-SM3(key[entry.key_id], canonical(entry fields) + entry.prev_mac)

`canonical` is JSON with sorted keys, no spaces and UTF-8 text, of every stored field except the
row id and the MAC itself; the time is UTC with microseconds. The first entry's `prev_mac` is
GENESIS. No database and no Django model here: the archive and the verifier use the same
functions on rows read back from a file.

Keys: AUDIT_HMAC_KEY (a setting from the environment) signs new entries; AUDIT_HMAC_OLD_KEYS
(comma-separated) still verify entries signed before a rotation. Unset, the key is derived from
SECRET_KEY (the demo's and the tests' are generated in the data folder). Each entry stores the
key's id, a digest of the key, so a verifier knows which key to use and reveals nothing of it.
"""

import hmac as std_hmac
import ipaddress
import json
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes, hmac
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.ipv6 import clean_ipv6_address

GENESIS = "0" * 64
# The stored fields a MAC covers, in the canonical form's keys.
FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_ref",
    "detail",
    "ip",
    "outcome",
    "key_id",
    "prev_mac",
)


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _key_bytes(value: str) -> bytes:
    if value:
        return value.encode()
    # No key of its own: derived from SECRET_KEY, bound to this purpose.
    return std_hmac.new(settings.SECRET_KEY.encode(), b"pingan.audit.hmac-sm3", "sha256").digest()


def key_id(key: bytes) -> str:
    return sm3(b"pingan.audit.key-id:" + key).hex()[:16]


def current_key() -> tuple[str, bytes]:
    key = _key_bytes(getattr(settings, "AUDIT_HMAC_KEY", "") or "")
    return key_id(key), key


def known_keys() -> dict[str, bytes]:
    """Every key an entry may have been signed with, by id: the current one and the old ones."""
    keys = [_key_bytes(getattr(settings, "AUDIT_HMAC_KEY", "") or "")]
    keys += [k.encode() for k in getattr(settings, "AUDIT_HMAC_OLD_KEYS", []) or [] if k]
    return {key_id(k): k for k in keys}


def normal_detail(detail) -> dict:
    """What a JSON column gives back: plain JSON types, string keys (dates and decimals as
    text). The MAC is computed on this, so it is the same before and after the round trip."""
    if not detail:
        return {}
    value = _storable(json.loads(json.dumps(detail, cls=DjangoJSONEncoder)))
    return value if isinstance(value, dict) else {"value": value}


def storable_text(text: str) -> str:
    """Text every database stores: no NUL (PostgreSQL refuses it), no lone surrogate."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _storable(value):
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {storable_text(k): _storable(v) for k, v in value.items()}
    return value


def normal_ip(ip) -> str | None:
    """The address as the database gives it back (Django's IPv6 form), or None if not one."""
    if not ip:
        return None
    text = str(ip).strip()
    try:
        if ":" in text:
            return clean_ipv6_address(text)
        return str(ipaddress.IPv4Address(text))
    except (ValueError, ValidationError):
        return None


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: dict) -> bytes:
    """`values`: the FIELDS (extra keys are ignored); `at` a datetime or its utc_text."""
    data = {name: values.get(name) for name in FIELDS}
    if isinstance(data["at"], datetime):
        data["at"] = utc_text(data["at"])
    data["detail"] = data["detail"] or {}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_mac(values: dict, key: bytes) -> str:
    signer = hmac.HMAC(key, hashes.SM3())
    signer.update(canonical(values))
    signer.update(str(values["prev_mac"]).encode())
    return signer.finalize().hex()


def values_of(entry) -> dict:
    """The FIELDS of an AuditEntry (or anything with those attributes), plus its mac."""
    data = {name: getattr(entry, name) for name in FIELDS}
    data["mac"] = entry.mac
    return data


def as_record(entry) -> dict:
    """One archive line / export row: the fields, the MAC, the time as text."""
    data = values_of(entry)
    data["at"] = utc_text(data["at"])
    return data


def check_link(values: dict, expected_seq: int, prev_mac: str, keys: dict[str, bytes]):
    """Why this entry is not the next link after (expected_seq - 1, prev_mac), or None.

    Returns (kind, message) with kind one of "gap", "reordered", "unknown_key", "mac_mismatch"
    and a Chinese message; the caller adds the entry's number and time.
    """
    seq = values["seq"]
    if seq > expected_seq:
        return "gap", f"缺少第 {expected_seq} 至 {seq - 1} 条（被删除）"
    if seq < expected_seq:
        return "reordered", f"序号 {seq} 出现在第 {expected_seq} 条的位置（顺序被改动）"
    if values["prev_mac"] != prev_mac:
        return "broken_link", "前一条校验值不符（前面的记录被改动、删除或插入）"
    key = keys.get(values["key_id"])
    if key is None:
        return "unknown_key", f"密钥 {values['key_id']} 未配置（AUDIT_HMAC_OLD_KEYS）"
    if not std_hmac.compare_digest(compute_mac(values, key), str(values["mac"])):
        return "mac_mismatch", "校验值不符（本条内容被改动）"
    return None
