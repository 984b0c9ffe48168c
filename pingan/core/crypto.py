"""Personal data at rest: SM4 encryption and keyed (blind) indexes for exact search.

Values are encrypted with SM4 in GCM mode (authenticated: a wrong key or an altered value is
refused, never decrypted to garbage) and stored as text that names its format and key:

    sm4g1:<kid>:<base64(nonce 12 bytes | ciphertext | tag 16 bytes)>

so keys can be rotated while older rows still decrypt. The header is bound to the ciphertext as
associated data. Exact search goes through a blind index: HMAC-SM3 of the normalised value under
a separate index key, stored in a sibling column (pingan/core/fields.py); equal values give equal
hashes, and nothing about the value can be read back from it without the key.

Keys come from the environment (settings.DATA_KEYS, settings.DATA_INDEX_KEY; docs/deployment.md):

- DATA_KEYS: "kid:base64(16-byte key),kid:…"; the first one encrypts, all of them decrypt;
- DATA_INDEX_KEY: base64 of at least 16 random bytes.

The demo and the tests generate both once and keep them in the data folder (0600), as they keep
SECRET_KEY; anywhere else settings refuse to load without them. New keys:
`python -m pingan.core.crypto`.
"""

import base64
import binascii
import contextlib
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .env import EnvError, env_list, env_str

VERSION = "sm4g1"
KEY_BYTES = 16  # SM4 has 128-bit keys
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_INDEX_KEY_BYTES = 16
KEY_FILE = "data_keys"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class CryptoError(Exception):
    """A key or a stored value that cannot be used. Messages never contain the value."""


class DecryptionError(CryptoError):
    pass


# --- keys ------------------------------------------------------------------------------------


def _b64(text: str, what: str) -> bytes:
    text = text.strip()
    try:
        return base64.b64decode(
            text + "=" * (-len(text) % 4), altchars=_altchars(text), validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise EnvError(f"{what} is not valid base64") from exc


def _altchars(text: str) -> bytes | None:
    # Accept both the standard and the URL-safe alphabet.
    return b"-_" if ("-" in text or "_" in text) else None


def parse_data_keys(specs) -> list[tuple[str, bytes]]:
    """["kid:base64", …] → [(kid, 16-byte key), …]; refuses anything malformed, loudly."""
    keys: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    for spec in specs:
        kid, sep, encoded = str(spec).strip().partition(":")
        if not sep or not _KID.match(kid):
            raise EnvError(
                "DATA_KEYS must be a comma-separated list of kid:base64key, the kid 1-16 of "
                "A-Z a-z 0-9 _ -"
            )
        if kid in seen:
            raise EnvError(f"DATA_KEYS names the key id {kid!r} twice")
        key = _b64(encoded, f"DATA_KEYS key {kid!r}")
        if len(key) != KEY_BYTES:
            raise EnvError(f"DATA_KEYS key {kid!r} must be {KEY_BYTES} bytes, got {len(key)}")
        seen.add(kid)
        keys.append((kid, key))
    if not keys:
        raise EnvError("DATA_KEYS is empty")
    return keys


def parse_index_key(value: str) -> bytes:
    key = _b64(value or "", "DATA_INDEX_KEY")
    if len(key) < MIN_INDEX_KEY_BYTES:
        raise EnvError(f"DATA_INDEX_KEY must be at least {MIN_INDEX_KEY_BYTES} bytes")
    return key


def new_data_key(kid: str | None = None) -> str:
    """A fresh "kid:base64key" for DATA_KEYS (the kid defaults to a time stamp)."""
    from datetime import UTC, datetime

    kid = kid or datetime.now(UTC).strftime("k%Y%m%d%H%M")
    if not _KID.match(kid):
        raise EnvError("a key id is 1-16 of A-Z a-z 0-9 _ -")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"


def new_index_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def load_keys(data_dir: Path, *, generate: bool) -> tuple[list[str], str]:
    """(DATA_KEYS, DATA_INDEX_KEY) for settings: from the environment; in demo, debug and test
    mode whatever is missing comes from (or is generated into) `<data_dir>/data_keys`, 0600."""
    keys = env_list("DATA_KEYS", [])
    index = env_str("DATA_INDEX_KEY")
    if not (keys and index):
        if not generate:
            missing = " and ".join(
                name for name, v in (("DATA_KEYS", keys), ("DATA_INDEX_KEY", index)) if not v
            )
            raise EnvError(
                f"{missing} must be set: the keys of the personal data at rest "
                "(docs/deployment.md; `python -m pingan.core.crypto` prints new ones)"
            )
        stored = _stored_keys(Path(data_dir) / KEY_FILE)
        keys = keys or [k.strip() for k in stored["DATA_KEYS"].split(",") if k.strip()]
        index = index or stored["DATA_INDEX_KEY"]
    parse_data_keys(keys)
    parse_index_key(index)
    return keys, index


def _stored_keys(path: Path) -> dict[str, str]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = f"DATA_KEYS={new_data_key('demo1')}\nDATA_INDEX_KEY={new_index_key()}\n"
        # Written in full under a temporary name, then linked into place: a process starting at
        # the same moment either sees no file or the whole of one, and the first one wins.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(text)
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    if not values.get("DATA_KEYS") or not values.get("DATA_INDEX_KEY"):
        raise EnvError(f"{path} must hold DATA_KEYS=… and DATA_INDEX_KEY=… lines")
    return values


@lru_cache(maxsize=8)
def _keyring(specs: tuple[str, ...]) -> tuple[tuple[str, bytes], dict[str, bytes]]:
    keys = parse_data_keys(specs)
    return keys[0], dict(keys)


@lru_cache(maxsize=8)
def _index_key(value: str) -> bytes:
    return parse_index_key(value)


def _settings_keys():
    from django.conf import settings

    return _keyring(tuple(settings.DATA_KEYS))


def current_kid() -> str:
    return _settings_keys()[0][0]


# --- values ----------------------------------------------------------------------------------


def encrypt(plaintext: str) -> str:
    """SM4-GCM under the first key of DATA_KEYS; a fresh random nonce every time."""
    (kid, key), _ = _settings_keys()
    header = f"{VERSION}:{kid}:"
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header.encode())
    body = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    return header + base64.b64encode(nonce + body + encryptor.tag).decode("ascii")


def is_ciphertext(value) -> bool:
    return isinstance(value, str) and value.startswith(VERSION + ":")


def key_id(token: str) -> str:
    """The key id a stored value was encrypted with ("" when it is not one of ours)."""
    if not is_ciphertext(token):
        return ""
    return token.split(":", 2)[1]


def decrypt(token: str) -> str:
    """The plaintext of a stored value; DecryptionError for anything not produced by `encrypt`
    under one of DATA_KEYS (unknown format or key id, a wrong key, any altered byte)."""
    parts = token.split(":", 2) if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError("not an encrypted value")
    _, kid, body = parts
    _, keys = _settings_keys()
    key = keys.get(kid)
    if key is None:
        raise DecryptionError(f"no key {kid!r} in DATA_KEYS")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("damaged encrypted value") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("damaged encrypted value")
    nonce, data, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(f"{VERSION}:{kid}:".encode())
    try:
        plaintext = decryptor.update(data) + decryptor.finalize()
    except InvalidTag as exc:
        raise DecryptionError(f"value under key {kid!r} failed authentication") from exc
    return plaintext.decode("utf-8")


# --- blind indexes ---------------------------------------------------------------------------


def _normalise_phone(value: str) -> str:
    # The app's own normaliser (E.164); a value it refuses is indexed as typed, so it still
    # finds itself and nothing else.
    from .errors import ServiceError
    from .validation import normalise_phone

    value = value.strip()
    if _E164.match(value):
        return value
    try:
        return normalise_phone(value)
    except ServiceError:
        return value


def _normalise_id_number(value: str) -> str:
    # As disputes/validation.py stores them: trimmed, the check character X upper-case.
    return value.strip().upper()


NORMALISERS = {"phone": _normalise_phone, "id_number": _normalise_id_number}


def normalise(purpose: str, value) -> str:
    if value is None:
        return ""
    return NORMALISERS.get(purpose, str.strip)(str(value))


def blind_index(purpose: str, value) -> str:
    """HMAC-SM3 (hex, 64 characters) of the normalised value, or "" for an empty one. The
    purpose ("phone", "id_number", …) separates the indexes of different kinds of value."""
    normalised = normalise(purpose, value)
    if not normalised:
        return ""
    from django.conf import settings

    mac = hmac.HMAC(_index_key(settings.DATA_INDEX_KEY), hashes.SM3())
    mac.update(purpose.encode("utf-8") + b"\x00" + normalised.encode("utf-8"))
    return mac.finalize().hex()


if __name__ == "__main__":  # pragma: no cover - prints new keys for a deployment
    print(f"DATA_KEYS={new_data_key()}")
    print(f"DATA_INDEX_KEY={new_index_key()}")
