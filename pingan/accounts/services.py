"""Account state changes: sign-in in steps (lock-out, password, second factor, pending
password change), password changes, API tokens and their per-process cache."""

import contextlib
import copy
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import authenticate as django_authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from pingan.core import clock, refcache
from pingan.core.errors import NotFound, ServiceError

from . import lockout, passwords, totp
from .models import ApiToken, LoginLock, User
from .roles import is_security_admin
from .signals import announce


class LoginError(Exception):
    """A refused sign-in. `status` is the HTTP answer: 401 wrong name, password or code; 423
    a locked name; 429 a locked address; 403 a step the account must take first."""

    def __init__(self, code: str, message: str, *, status: int = 401, locked_until=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.locked_until = locked_until

    @property
    def retry_after(self) -> int | None:
        if self.locked_until is None:
            return None
        return max(1, int((self.locked_until - clock.now()).total_seconds()))


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: object
    user: User


BAD_CREDENTIALS = "用户名或密码错误"


def _address(request) -> str | None:
    # ClientAddressMiddleware has already put the client (not a proxy) in REMOTE_ADDR.
    return (request.META.get("REMOTE_ADDR") or None) if request is not None else None


def _lock_error(lock: lockout.Lock) -> LoginError:
    if lock.kind == LoginLock.Kind.ADDRESS:
        return LoginError(
            "address_locked",
            "此地址登录失败次数过多，已暂停登录，请稍后再试",
            status=429,
            locked_until=lock.until,
        )
    return LoginError(
        "account_locked",
        "登录失败次数过多，账号已临时锁定，请稍后再试",
        status=423,
        locked_until=lock.until,
    )


def _refuse(request, username: str, now, code: str, message: str, user=None) -> LoginError:
    """Count a failure for the name and the address; the error to raise. The guess that
    causes a lock is still answered as wrong; the lock answers from the next attempt on."""
    caused = lockout.record_failure(username, _address(request), now)
    if caused is not None:
        announce(
            "account_locked" if caused.kind == LoginLock.Kind.NAME else "address_locked",
            user=user,
            request=request,
            username=username[:150],
            until=caused.until.isoformat(),
        )
    return LoginError(code, message)


def check_password(request, username: str, password: str) -> User:
    """The first step of every sign-in (pages, API, password change): the name and address
    must not be locked, and the password must be right. Failures count against both."""
    now = clock.now()
    lock = lockout.current_lock(username, _address(request), now)
    if lock is not None:
        raise _lock_error(lock)
    # Django's ModelBackend hashes the password for names that do not exist too, so timing
    # tells nothing; it sends user_login_failed (recorded by the audit) on failure.
    user = django_authenticate(request, username=username, password=password)
    if user is None:
        raise _refuse(request, username, now, "bad_credentials", BAD_CREDENTIALS)
    return user


def check_second_factor(request, user: User, code: str | None) -> None:
    """The second step for accounts that need one: a TOTP or recovery code. A wrong code
    counts like a wrong password."""
    if not user.needs_totp:
        return
    if not totp.is_enrolled(user):
        raise LoginError(
            "otp_enrolment_required",
            "该账号须绑定动态口令：请先在网页端登录并按提示绑定",
            status=403,
        )
    if not code:
        raise LoginError("otp_required", "请输入动态口令（手机验证器上的 6 位数字）")
    if not totp.verify(user, code, request):
        announce("login_failed", user=user, request=request, reason="otp_invalid")
        raise _refuse(
            request, user.username, clock.now(), "otp_invalid", "动态口令不正确或已使用", user
        )


def signed_in(request, user: User) -> None:
    """A sign-in went through every step: forget the name's failures."""
    lockout.clear_name(user.username)


def login(request, username: str, password: str, otp: str | None = None) -> User:
    """Every step of a sign-in in one call (the API's token login): password, second factor,
    and no pending password change."""
    user = check_password(request, username, password)
    check_second_factor(request, user, otp)
    reason = passwords.must_change(user)
    if reason is not None:
        raise LoginError(
            "password_change_required",
            "首次登录须修改密码" if reason == "first_login" else "密码已过期，请修改密码",
            status=403,
        )
    signed_in(request, user)
    return user


def change_password(
    request,
    user: User,
    old_password: str,
    new_password: str,
    *,
    otp: str | None = None,
    password_checked: bool = False,
) -> User:
    """The owner chooses a new password, proving the old one (and the second factor when the
    account has one). Every token of the account is revoked; page sessions other than the
    caller's end by themselves (the session hash changes with the password)."""
    checked = user if password_checked else check_password(request, user.username, old_password)
    if checked.pk != user.pk:
        raise LoginError("bad_credentials", BAD_CREDENTIALS)
    if checked.needs_totp and totp.is_enrolled(checked):
        check_second_factor(request, checked, otp)
    try:
        validate_password(new_password, checked)
    except ValidationError as exc:
        raise ServiceError(
            "weak_password", "；".join(exc.messages), details={"reasons": exc.messages}
        ) from exc
    with transaction.atomic():
        checked.set_password(new_password)
        checked.must_change_password = False
        checked.save()  # the history validator records the hash and password_changed_at
        revoked = ApiToken.objects.filter(user=checked).delete()[0]
    signed_in(request, checked)
    announce("password_changed", user=checked, request=request, tokens_revoked=revoked)
    return checked


def set_password_by_admin(user: User, new_password: str, *, actor: User, request=None) -> None:
    """An administrator sets a password (a new account, a forgotten one): the owner must
    change it at the next sign-in, and the account's tokens stop working."""
    validate_password(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.must_change_password = True
        user.save()
        ApiToken.objects.filter(user=user).delete()
    announce("password_reset", user=user, actor=actor, request=request)


def token_ttl(user: User) -> timedelta:
    """Staff tokens last a working day, residents' a week."""
    if user.is_staff_role or user.needs_totp:
        return timedelta(hours=settings.API_STAFF_TOKEN_TTL_HOURS)
    return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_idle_limit(user: User) -> timedelta | None:
    """Staff tokens end after the same idle time as staff page sessions."""
    if user.is_staff_role or user.needs_totp:
        return timedelta(seconds=settings.SESSION_IDLE_SECONDS)
    return None


def issue_token(user: User, device: str = "", request=None) -> IssuedToken:
    key = secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + token_ttl(user)
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        expires_at=expires_at,
        last_used_at=now,
        device=device[:100],
    )
    if request is not None:
        announce("token_issued", user=user, request=request, device=device[:100])
    return IssuedToken(token=key, expires_at=expires_at, user=user)


def tokens_of(user: User):
    return ApiToken.objects.filter(user=user, expires_at__gt=clock.now()).order_by("-created_at")


def revoke_token_by_id(token_id: int, *, actor: User, request=None) -> None:
    """The owner ends one of their devices' sign-ins; a security administrator anyone's."""
    token = ApiToken.objects.select_related("user").filter(pk=token_id).first()
    if token is None or not (token.user_id == actor.pk or is_security_admin(actor)):
        raise NotFound("未找到该登录设备")
    token.delete()
    announce(
        "token_revoked",
        user=token.user,
        actor=actor if actor.pk != token.user_id else None,
        request=request,
        token=token_id,
    )


# --- bearer tokens: a per-process cache --------------------------------------------------------
#
# Every API call from the phone apps authenticates its token, so the token → user answer is kept
# per process (pingan/core/refcache.py): a warm hit runs no query and no write. The cache is
# dropped whenever one of these counters moves:
#   "tokens"   a token deleted (revoked, logged out, its user deleted) or edited;
#   "accounts" a user edited or deleted (is_active, role, org, password…), except the login
#              bookkeeping fields below;
#   "orgs"     the org tree, because the cached user carries its org.
# A change made in this process is seen at once, one made elsewhere within
# REFCACHE_CHECK_SECONDS. Writes through queryset update() send no signal and must bump
# themselves. Unknown tokens are never cached, so a new token works at once.

TOKENS = "tokens"
ACCOUNTS = "accounts"
TOKEN_CACHE_SIZE = 10_000
# A cached token is read again after this long even when nothing changed, so that
# last_used_at (written only when a token is read) stays within minutes of the truth.
TOKEN_RELOAD_SECONDS = 300
# Saves of these fields alone are login bookkeeping: they change nothing a token grants.
LOGIN_BOOKKEEPING_FIELDS = frozenset({"last_login"})

# Module attribute so tests can move time forward.
_monotonic = time.monotonic


class _CachedToken(NamedTuple):
    expires_at: datetime
    user: User  # never handed out: callers get a copy
    loaded_at: float
    idle_limit: timedelta | None
    # When the token was last used, as far as this process knows: [datetime], updated per hit.
    last_used: list


class _TokenLru:
    """Token hash → _CachedToken, least recently used dropped beyond `maxsize`."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, _CachedToken] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key_hash: str) -> _CachedToken | None:
        with self._lock:
            entry = self._data.get(key_hash)
            if entry is not None:
                self._data.move_to_end(key_hash)
            return entry

    def put(self, key_hash: str, entry: _CachedToken) -> None:
        with self._lock:
            self._data[key_hash] = entry
            self._data.move_to_end(key_hash)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def discard(self, key_hash: str) -> None:
        with self._lock:
            self._data.pop(key_hash, None)


# A new, empty LRU whenever a counter moves: dropping everything is simpler and safer than
# working out which entries a change touched, and these changes are rare.
token_cache = refcache.VersionedCache(
    (TOKENS, ACCOUNTS, "orgs"), lambda: _TokenLru(TOKEN_CACHE_SIZE)
)


def user_for_token(key: str) -> User | None:
    now = clock.now()
    key_hash = ApiToken.hash_key(key)
    # Taken before the query below: a change racing with it empties the cache at the next check.
    tokens = token_cache.get()
    entry = tokens.get(key_hash)
    if entry is not None and _monotonic() - entry.loaded_at < TOKEN_RELOAD_SECONDS:
        # Expiry and idleness are checked on every call: a cached token never outlives them.
        if entry.expires_at <= now or _idle(entry.idle_limit, entry.last_used[0], now):
            return None
        entry.last_used[0] = now
        # A copy per request: the request may set attributes or cache relations on its user,
        # which must not reach other requests and threads sharing the cached one.
        return copy.copy(entry.user)
    token = (
        ApiToken.objects.select_related("user", "user__org")
        .filter(key_hash=key_hash, expires_at__gt=now, user__is_active=True)
        .first()
    )
    if token is None:
        tokens.discard(key_hash)
        return None
    user = token.user
    idle_limit = token_idle_limit(user)
    last_used = token.last_used_at or token.created_at
    if entry is not None and entry.last_used[0] > last_used:
        last_used = entry.last_used[0]  # used here since this process last wrote it down
    if _idle(idle_limit, last_used, now):
        tokens.discard(key_hash)
        return None
    # Touch last_used at most once a minute, and only when the token is read from the database:
    # a write per request would serialise SQLite. Idle limits are therefore exact to within
    # TOKEN_RELOAD_SECONDS across processes.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Bookkeeping only: a busy database (SQLite's write lock in a rush) must not turn an
        # authenticated request into a 500.
        with contextlib.suppress(DatabaseError):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    tokens.put(key_hash, _CachedToken(token.expires_at, user, _monotonic(), idle_limit, [now]))
    return copy.copy(user)


def _idle(limit: timedelta | None, last_used: datetime, now: datetime) -> bool:
    return limit is not None and now - last_used > limit


def sign_out_token(request, key: str) -> None:
    """A phone app signs out: its own token goes, and the audit hears of it."""
    revoke_token(key)
    announce("logout", user=request.auth, request=request, via="token")


def revoke_token(key: str) -> None:
    """Sign-out from a device: its own token."""
    # The delete sends post_delete, which bumps "tokens" (see register_cache_signals): this
    # process refuses the token at once, the others within REFCACHE_CHECK_SECONDS.
    ApiToken.objects.filter(key_hash=ApiToken.hash_key(key)).delete()


def _on_user_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created:
        return  # a new user has no token in any cache yet
    if update_fields is not None and frozenset(update_fields) <= LOGIN_BOOKKEEPING_FIELDS:
        return
    refcache.bump(ACCOUNTS)


def _on_user_deleted(sender, **kwargs) -> None:
    refcache.bump(ACCOUNTS)


def _on_token_saved(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created:
        return  # unknown tokens are never cached
    if update_fields is not None and frozenset(update_fields) <= {"last_used_at"}:
        return
    refcache.bump(TOKENS)


def _on_token_deleted(sender, **kwargs) -> None:
    refcache.bump(TOKENS)


def register_cache_signals() -> None:
    """Connect the token cache's invalidation (called from AccountsConfig.ready). These are
    cache invalidations, not business side effects, so signals are the right tool: they catch
    every writer, the admin and cascades included."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_on_user_saved, sender=User, dispatch_uid="token-cache-user-save")
    post_delete.connect(_on_user_deleted, sender=User, dispatch_uid="token-cache-user-delete")
    post_save.connect(_on_token_saved, sender=ApiToken, dispatch_uid="token-cache-token-save")
    post_delete.connect(_on_token_deleted, sender=ApiToken, dispatch_uid="token-cache-token-del")
