"""SM4 encryption and blind indexes (pingan/core/crypto.py), without the database: the cipher is
SM4 (the standards' own test vectors), values round-trip, a wrong key or an altered byte is
refused, older keys still decrypt, the blind index matches equal values however they are typed,
and the keys come from the environment (generated and kept 0600 only in demo/test mode)."""

import base64
import hashlib
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.test import override_settings

from pingan.core import crypto
from pingan.core.crypto import DecryptionError
from pingan.core.env import EnvError

ROOT = Path(__file__).resolve().parents[2]


def keyspec(kid: str, variant: str = "") -> str:
    # Fixed per key id (and variant): parametrized ids built from these must be the same in
    # every xdist worker's collection.
    raw = hashlib.sha256(f"{kid}/{variant}".encode()).digest()[:16]
    return f"{kid}:{base64.b64encode(raw).decode()}"


def index_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


K1, K2 = keyspec("k1"), keyspec("k2")


def test_the_library_cipher_is_sm4_with_gcm():
    # GB/T 32907-2016 appendix A (one block) and RFC 8998 appendix A.1 (SM4-GCM): the mode and
    # the cipher crypto.py uses are the standard ones, not a look-alike.
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    block = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    assert (block.update(key) + block.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"
    gcm = Cipher(
        algorithms.SM4(key), modes.GCM(bytes.fromhex("00001234567800000000ABCD"))
    ).encryptor()
    gcm.authenticate_additional_data(bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"))
    plain = bytes.fromhex("".join(c * 16 for c in "ABCDEFEA"))
    sealed = gcm.update(plain) + gcm.finalize()
    assert sealed.hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
    )
    assert gcm.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"


@override_settings(DATA_KEYS=[K1])
def test_round_trip_and_format():
    token = crypto.encrypt("+8613812345678")
    assert token.startswith("sm4g1:k1:")
    assert "13812345678" not in token
    assert crypto.decrypt(token) == "+8613812345678"
    assert crypto.key_id(token) == "k1"
    # A fresh nonce each time: equal values do not give equal ciphertexts.
    assert crypto.encrypt("+8613812345678") != token
    assert (
        crypto.decrypt(crypto.encrypt("王大山 11010519491231002X")) == "王大山 11010519491231002X"
    )


def test_the_ciphertext_is_sm4_gcm_under_the_configured_key():
    raw_key = secrets.token_bytes(16)
    with override_settings(DATA_KEYS=[f"kx:{base64.b64encode(raw_key).decode()}"]):
        token = crypto.encrypt("11010519491231002X")
    body = base64.b64decode(token.split(":", 2)[2])
    nonce, data, tag = body[:12], body[12:-16], body[-16:]
    opener = Cipher(algorithms.SM4(raw_key), modes.GCM(nonce, tag)).decryptor()
    opener.authenticate_additional_data(b"sm4g1:kx:")
    assert opener.update(data) + opener.finalize() == b"11010519491231002X"


def test_a_wrong_key_is_refused():
    with override_settings(DATA_KEYS=[K1]):
        token = crypto.encrypt("+8613812345678")
    # Same key id, another key: authentication fails, nothing is decrypted.
    with override_settings(DATA_KEYS=[keyspec("k1", "other")]), pytest.raises(DecryptionError):
        crypto.decrypt(token)
    # A key id no longer listed.
    with override_settings(DATA_KEYS=[K2]), pytest.raises(DecryptionError, match="no key 'k1'"):
        crypto.decrypt(token)


@override_settings(DATA_KEYS=[K1, K2])
def test_a_tampered_value_is_refused():
    token = crypto.encrypt("+8613812345678")
    head, body = token.rsplit(":", 1)
    raw = bytearray(base64.b64decode(body))
    for position in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        altered = bytearray(raw)
        altered[position] ^= 0x01
        with pytest.raises(DecryptionError):
            crypto.decrypt(f"{head}:{base64.b64encode(bytes(altered)).decode()}")
    # The header is authenticated too: the same body claimed for the other listed key.
    with pytest.raises(DecryptionError):
        crypto.decrypt(token.replace("sm4g1:k1:", "sm4g1:k2:"))
    for broken in (body, "sm4g1:k1:", "sm4g1:k1:!!!", f"sm4g9:k1:{body}", token[:-8], "", None):
        with pytest.raises(DecryptionError):
            crypto.decrypt(broken)


def test_older_keys_still_decrypt_and_the_first_one_encrypts():
    with override_settings(DATA_KEYS=[K1]):
        old = crypto.encrypt("+8613812345678")
    with override_settings(DATA_KEYS=[K2, K1]):
        assert crypto.decrypt(old) == "+8613812345678"
        assert crypto.key_id(crypto.encrypt("x")) == "k2"


@override_settings(DATA_INDEX_KEY=index_key())
def test_blind_index_matches_equal_values_however_typed():
    phone = crypto.blind_index("phone", "+8613800138000")
    assert len(phone) == 64
    assert crypto.blind_index("phone", " 138 0013 8000 ") == phone
    assert crypto.blind_index("phone", "13800138000") == phone
    assert crypto.blind_index("phone", "+8613800138001") != phone
    # Not an unkeyed hash: an HMAC-SM3 with the index key.
    ident = crypto.blind_index("id_number", "11010519491231002x")
    assert ident == crypto.blind_index("id_number", "11010519491231002X")
    assert ident != crypto.blind_index("id_number", "110105194912310029")
    # Purposes are kept apart, and nothing is an index of nothing.
    assert crypto.blind_index("phone", "123456") != crypto.blind_index("id_number", "123456")
    assert crypto.blind_index("phone", "") == crypto.blind_index("phone", "  ") == ""
    assert crypto.blind_index("phone", None) == ""


def test_blind_index_is_hmac_sm3_under_the_index_key():
    key = secrets.token_bytes(32)
    with override_settings(DATA_INDEX_KEY=base64.b64encode(key).decode()):
        digest = crypto.blind_index("phone", "+8613800138000")
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(b"phone\x00+8613800138000")
    assert digest == mac.finalize().hex()
    with override_settings(DATA_INDEX_KEY=index_key()):
        assert crypto.blind_index("phone", "+8613800138000") != digest


def test_keys_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_KEYS", f"{K2}, {K1}")
    monkeypatch.setenv("DATA_INDEX_KEY", "ix")
    with pytest.raises(EnvError, match="DATA_INDEX_KEY"):
        crypto.load_keys(tmp_path, generate=True)
    monkeypatch.setenv("DATA_INDEX_KEY", index_key())
    keys, _ = crypto.load_keys(tmp_path, generate=False)
    assert keys == [K2, K1]
    assert not (tmp_path / "data_keys").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("k1", "comma-separated"),
        ("k 1:" + base64.b64encode(b"x" * 16).decode(), "comma-separated"),
        ("k1:" + base64.b64encode(b"x" * 15).decode(), "16 bytes"),
        ("k1:@@@@", "base64"),
        (f"{K1},{K1}", "twice"),
    ],
)
def test_malformed_keys_stop_start_up(monkeypatch, tmp_path, value, message):
    monkeypatch.setenv("DATA_KEYS", value)
    monkeypatch.setenv("DATA_INDEX_KEY", index_key())
    with pytest.raises(EnvError, match=message):
        crypto.load_keys(tmp_path, generate=True)


def test_outside_demo_mode_missing_keys_are_refused(monkeypatch, tmp_path):
    monkeypatch.delenv("DATA_KEYS", raising=False)
    monkeypatch.delenv("DATA_INDEX_KEY", raising=False)
    with pytest.raises(EnvError, match="DATA_KEYS and DATA_INDEX_KEY must be set"):
        crypto.load_keys(tmp_path, generate=False)
    assert not (tmp_path / "data_keys").exists()


def test_demo_mode_generates_keys_once_and_keeps_them_private(monkeypatch, tmp_path):
    monkeypatch.delenv("DATA_KEYS", raising=False)
    monkeypatch.delenv("DATA_INDEX_KEY", raising=False)
    first = crypto.load_keys(tmp_path, generate=True)
    path = tmp_path / "data_keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.load_keys(tmp_path, generate=True) == first
    crypto.parse_data_keys(first[0])
    # A file left readable by others is closed again.
    path.chmod(0o644)
    crypto.load_keys(tmp_path, generate=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_server_refuses_to_start_without_keys(tmp_path):
    # Settings are read once per process: a fresh interpreter, production environment.
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PINGAN_TESTING", "PINGAN_DEBUG", "PINGAN_DEMO", "DATA_KEYS", "DATA_INDEX_KEY"}
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="pingan.settings",
        PINGAN_DATA_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(50),
        AUDIT_HMAC_KEY=secrets.token_urlsafe(32),
    )
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DATA_KEYS and DATA_INDEX_KEY must be set" in done.stderr, done.stderr
    assert not (tmp_path / "data_keys").exists()


def test_new_keys_are_valid():
    assert crypto.parse_data_keys([crypto.new_data_key("k9")])[0][0] == "k9"
    assert len(crypto.parse_index_key(crypto.new_index_key())) == 32
    with pytest.raises(EnvError):
        crypto.new_data_key("bad kid")
