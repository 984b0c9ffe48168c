from datetime import datetime

from ninja import Router, Schema

from pingan.core.api_auth import REQUIRED
from pingan.core.errors import ServiceError
from pingan.core.schemas import InputSchema, Text

from . import services

router = Router(tags=["auth"])


class LoginIn(InputSchema):
    username: Text(150, min_length=1)
    password: Text(256, min_length=1)


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


@router.post("/login", response=TokenOut, auth=None)
def login(request, payload: LoginIn):
    try:
        user = services.login(request, payload.username, payload.password)
    except services.LoginError as exc:
        raise ServiceError(exc.code, exc.message, status=423 if exc.locked_until else 401) from exc
    issued = services.issue_token(user)
    return TokenOut(
        token=issued.token,
        expires_at=issued.expires_at,
        username=user.username,
        role=user.role,
        display_name=user.label,
    )


@router.post("/logout", response={204: None}, auth=REQUIRED)
def logout(request):
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        services.revoke_token(header.split(" ", 1)[1])
    return 204, None


@router.get("/me", response=MeOut, auth=REQUIRED)
def me(request):
    user = request.auth
    return MeOut(
        username=user.username,
        role=user.role,
        role_label=user.get_role_display(),
        display_name=user.label,
        org=user.org.name if user.org_id else None,
    )
