"""Account state changes: authentication with lock-out, API tokens."""

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
from django.db import DatabaseError, transaction
from django.db.models import F

from pingan.core import clock, refcache

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
LOGIN_BOOKKEEPING_FIELDS = frozenset({"last_login", "failed_logins", "locked_until"})

# Module attribute so tests can move time forward.
_monotonic = time.monotonic


class _CachedToken(NamedTuple):
    expires_at: datetime
    user: User  # never handed out: callers get a copy
    loaded_at: float


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
        # Expiry is checked on every call: a cached token never outlives it.
        if entry.expires_at <= now:
            return None
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
    # Touch last_used at most once a minute, and only when the token is read from the database:
    # a write per request would serialise SQLite.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        # Bookkeeping only: a busy database (SQLite's write lock in a rush) must not turn an
        # authenticated request into a 500.
        with contextlib.suppress(DatabaseError):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user = token.user
    tokens.put(key_hash, _CachedToken(token.expires_at, user, _monotonic()))
    return copy.copy(user)


def revoke_token(key: str) -> None:
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
