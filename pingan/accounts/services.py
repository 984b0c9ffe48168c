"""Account state changes: authentication with lock-out, API tokens."""

import contextlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate as django_authenticate
from django.db import DatabaseError, transaction
from django.db.models import F

from pingan.core import clock

from .models import ApiToken, User


class LoginError(Exception):
    def __init__(self, code: str, message: str, locked_until=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.locked_until = locked_until


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: object
    user: User


def login(request, username: str, password: str) -> User:
    """Check a password, counting failures; N failures lock the account for a while.

    The lock is checked before the password so a locked account cannot be probed, and the
    failure counter is incremented with an UPDATE so parallel guesses all count.
    """
    now = clock.now()
    user = User.objects.filter(username=username).first()
    if user is not None and user.locked_until and user.locked_until > now:
        raise LoginError(
            "account_locked", "登录失败次数过多，账号已临时锁定，请稍后再试", user.locked_until
        )
    authenticated = django_authenticate(request, username=username, password=password)
    if authenticated is None:
        if user is not None:
            _record_failure(user, now)
        raise LoginError("bad_credentials", "用户名或密码错误")
    if authenticated.failed_logins or authenticated.locked_until:
        User.objects.filter(pk=authenticated.pk).update(failed_logins=0, locked_until=None)
        authenticated.failed_logins = 0
        authenticated.locked_until = None
    return authenticated


def _record_failure(user: User, now) -> None:
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
        failures = User.objects.values_list("failed_logins", flat=True).get(pk=user.pk)
        if failures >= settings.LOGIN_MAX_FAILURES:
            User.objects.filter(pk=user.pk).update(
                failed_logins=0,
                locked_until=now + timedelta(minutes=settings.LOGIN_LOCK_MINUTES),
            )


def issue_token(user: User) -> IssuedToken:
    key = secrets.token_urlsafe(32)
    expires_at = clock.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS)
    ApiToken.objects.create(user=user, key_hash=ApiToken.hash_key(key), expires_at=expires_at)
    return IssuedToken(token=key, expires_at=expires_at, user=user)


def user_for_token(key: str) -> User | None:
    now = clock.now()
    token = (
        ApiToken.objects.select_related("user", "user__org")
        .filter(key_hash=ApiToken.hash_key(key), expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Touch last_used at most once a minute: a write per request would serialise SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Bookkeeping only: a busy database (SQLite's write lock in a rush) must not turn an
        # authenticated request into a 500.
        with contextlib.suppress(DatabaseError):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def revoke_token(key: str) -> None:
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).delete()
