"""The second factor: TOTP (RFC 6238) from an authenticator app, with one-time recovery codes.

Required for commanders and administrators (User.needs_totp). A code is accepted within one
30-second step either side (phone clocks drift) and only once: the device remembers the last
step it accepted, so a code seen over a shoulder or replayed from a log is refused.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import segno
from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from django.db import transaction

from pingan.core import clock
from pingan.core.errors import Conflict, ServiceError

from .models import RecoveryCode, TotpDevice, User
from .signals import announce

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "平安"


def _totp(secret_b32: str) -> TOTP:
    key = base64.b32decode(secret_b32)
    # SHA-1 is what every authenticator app implements for TOTP (RFC 6238's default).
    return TOTP(key, DIGITS, SHA1(), STEP_SECONDS, enforce_key_length=False)  # noqa: S303


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret_b32: str, when: float) -> str:
    return _totp(secret_b32).generate(when).decode()


def is_enrolled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg: str


def start_enrolment(user: User) -> Enrolment:
    """A new, unconfirmed secret for the user's authenticator (replacing an unconfirmed one).
    A confirmed device is replaced only through `reset` by a security administrator."""
    if is_enrolled(user):
        raise Conflict("totp_enrolled", "已绑定动态口令；如需更换，请联系安全管理员重置")
    secret = new_secret()
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": secret, "created_at": clock.now(), "last_step": 0}
    )
    return _enrolment(user, secret)


def pending_enrolment(user: User) -> Enrolment | None:
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return _enrolment(user, device.secret) if device else None


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = _totp(secret).get_provisioning_uri(user.username, ISSUER)
    svg = segno.make(uri, error="m", micro=False).svg_inline(scale=4, border=2)
    return Enrolment(secret=secret, uri=uri, qr_svg=svg)


@transaction.atomic
def confirm_enrolment(user: User, code: str, request=None) -> list[str]:
    """The first code from the app proves it holds the secret; answers the recovery codes,
    shown once."""
    device = TotpDevice.objects.select_for_update().filter(user=user).first()
    if device is None or device.confirmed_at is not None:
        raise ServiceError("no_enrolment", "请先开始绑定动态口令")
    step = _matching_step(device, code)
    if step is None:
        raise ServiceError("otp_invalid", "动态口令不正确，请核对手机时间后重试")
    device.confirmed_at = clock.now()
    device.last_step = step
    device.save(update_fields=["confirmed_at", "last_step"])
    codes = _new_recovery_codes(user)
    announce("totp_enrolled", user=user, request=request)
    return codes


def _matching_step(device: TotpDevice, code: str) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = _totp(device.secret)
    now_step = int(clock.now().timestamp()) // STEP_SECONDS
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        expected = totp.generate(step * STEP_SECONDS).decode()
        if hmac.compare_digest(expected, code) and step > device.last_step:
            return step
    return None


@transaction.atomic
def verify(user: User, code: str, request=None) -> bool:
    """A sign-in's second factor: a current TOTP code, or an unused recovery code."""
    device = (
        TotpDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=False).first()
    )
    if device is None:
        return False
    step = _matching_step(device, code)
    if step is not None:
        # Conditional, so two requests racing with the same code cannot both pass.
        return bool(
            TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
        )
    return _use_recovery_code(user, code, request)


def _recovery_hash(code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 10 hex digits, shown as xxxxx-xxxxx
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_recovery_hash(c)) for c in codes
    )
    return codes


def _use_recovery_code(user: User, code: str, request) -> bool:
    if len(code.strip()) < 10:
        return False
    used = RecoveryCode.objects.filter(
        user=user, code_hash=_recovery_hash(code), used_at__isnull=True
    ).update(used_at=clock.now())
    if used:
        left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        announce("recovery_code_used", user=user, request=request, left=left)
    return bool(used)


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


@transaction.atomic
def regenerate_recovery_codes(user: User, request=None) -> list[str]:
    if not is_enrolled(user):
        raise ServiceError("no_enrolment", "请先绑定动态口令")
    codes = _new_recovery_codes(user)
    announce("recovery_codes_regenerated", user=user, request=request)
    return codes


@transaction.atomic
def reset(user: User, *, actor: User, request=None) -> None:
    """A security administrator unbinds a lost authenticator: the user enrols again at the next
    sign-in, with their password."""
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    announce("totp_reset", user=user, actor=actor, request=request)
