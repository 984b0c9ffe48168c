"""Sign-in for the phone apps and integrators: bearer tokens, the second factor, password
changes, and the list of one's signed-in devices."""

from datetime import datetime

from django.contrib.auth.signals import user_logged_in
from ninja import Router, Schema

from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden, ServiceError
from pingan.core.pagination import Listing, PageOut, paginated
from pingan.core.schemas import InputSchema, RecordId, Text

from . import services
from .models import User
from .roles import is_security_admin

router = Router(tags=["auth"])


class LoginIn(InputSchema):
    username: Text(150, min_length=1)
    password: Text(256, min_length=1)
    # The authenticator's 6 digits (or a recovery code): required for commanders and
    # administrators, who answer 401 otp_required without it.
    otp: Text(16) | None = None
    # Shown in the owner's list of signed-in devices, e.g. "华为 Mate 60 · 平安".
    device: Text(100) = ""


class PasswordChangeIn(LoginIn):
    new_password: Text(256, min_length=1)


class TokenOut(Schema):
    token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    role: str
    display_name: str


class MeOut(Schema):
    username: str
    role: str
    role_label: str
    display_name: str
    org: str | None


class DeviceOut(Schema):
    id: int
    username: str
    device: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool


class DeviceListOut(PageOut):
    items: list[DeviceOut]


def _refused(exc: services.LoginError) -> ServiceError:
    return ServiceError(exc.code, exc.message, status=exc.status, retry_after=exc.retry_after)


def _token_out(request, user: User, device: str) -> TokenOut:
    issued = services.issue_token(user, device, request)
    # As a page sign-in does: last_login, and the audit's record of the sign-in.
    user_logged_in.send(sender=User, request=request, user=user)
    return TokenOut(
        token=issued.token,
        expires_at=issued.expires_at,
        username=user.username,
        role=user.role,
        display_name=user.label,
    )


@router.post(
    "/login",
    response=TokenOut,
    auth=None,
    summary="登录 · A bearer token for the phone apps",
    description=(
        "Wrong name or password: 401 bad_credentials (the same for names that do not exist). "
        "Commanders and administrators also send `otp`: without it 401 otp_required, wrong "
        "401 otp_invalid, not yet enrolled 403 otp_enrolment_required (enrol on the web). "
        "A password that must change first: 403 password_change_required (use "
        "POST /api/auth/password). Five failures lock the name (423 account_locked) and five "
        "from one address lock the address (429 address_locked), both with Retry-After."
    ),
)
def login(request, payload: LoginIn):
    try:
        user = services.login(request, payload.username, payload.password, payload.otp)
    except services.LoginError as exc:
        raise _refused(exc) from exc
    return _token_out(request, user, payload.device)


@router.post(
    "/password",
    response=TokenOut,
    auth=None,
    summary="修改密码 · Change the password (and get a new token)",
    description=(
        "Proves the current password (and `otp` for accounts with a second factor), sets "
        "`new_password` if it meets the rules (400 weak_password with the reasons), revokes "
        "every token of the account and answers a new one. Failures count towards the lock."
    ),
)
def change_password(request, payload: PasswordChangeIn):
    try:
        user = services.check_password(request, payload.username, payload.password)
        user = services.change_password(
            request,
            user,
            payload.password,
            payload.new_password,
            otp=payload.otp,
            password_checked=True,
        )
    except services.LoginError as exc:
        raise _refused(exc) from exc
    return _token_out(request, user, payload.device)


@router.post("/logout", response={204: None}, auth=REQUIRED, summary="退出 · Revoke this token")
def logout(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        services.sign_out_token(request, header.split(" ", 1)[1])
    return 204, None


@router.get("/me", response=MeOut, auth=REQUIRED, summary="当前账号 · Who am I")
def me(request):
    user = request.auth
    return MeOut(
        username=user.username,
        role=user.role,
        role_label=user.get_role_display(),
        display_name=user.label,
        org=user.org.name if user.org_id else None,
    )


def _current_hash(request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        from .models import ApiToken

        return ApiToken.hash_key(header.split(" ", 1)[1])
    return None


@router.get(
    "/tokens",
    response=DeviceListOut,
    auth=REQUIRED,
    summary="已登录设备 · My signed-in devices (a security administrator: anyone's)",
)
@paginated()
def tokens(request, user: Text(150) = ""):
    viewer = request.auth
    owner = viewer
    if user and user != viewer.username:
        if not is_security_admin(viewer):
            raise Forbidden("只有安全管理员可以查看他人的登录设备")
        owner = User.objects.filter(username=user).first()
        if owner is None:
            return Listing([])
    current = _current_hash(request)

    def render(rows):
        return [
            DeviceOut(
                id=t.pk,
                username=owner.username,
                device=t.device,
                created_at=t.created_at,
                last_used_at=t.last_used_at,
                expires_at=t.expires_at,
                current=t.key_hash == current,
            )
            for t in rows
        ]

    return Listing(services.tokens_of(owner).order_by("-created_at", "-pk"), render=render)


@router.delete(
    "/tokens/{token_id}",
    response={204: None},
    auth=REQUIRED,
    summary="退出设备 · Revoke one signed-in device (own; a security administrator: any)",
)
def revoke(request, token_id: RecordId):
    services.revoke_token_by_id(token_id, actor=request.auth, request=request)
    return 204, None
