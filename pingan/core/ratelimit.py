"""The API's general rate limit: per account (token or session) and per client address.

Generous on purpose (API_RATE_LIMIT_PER_ACCOUNT, default 600 a minute; API_RATE_LIMIT_PER_ADDRESS,
default 300 a minute; 0 switches either off): it stops a runaway script or a flood, not a person.
The narrower limits live with what they protect: anonymous and residents' reports
(incidents/throttle.py), login failures (accounts/lockout.py).

- A request with credentials counts against them: the bearer token (by its hash) or the
  logged-in session's user. Whoever holds them has their own budget, however many share an
  address (a station behind one NAT).
- A request without credentials counts against its client address (REMOTE_ADDR, as
  ClientAddressMiddleware set it from TRUSTED_PROXIES), and so does a request whose credentials
  were refused (401): random tokens do not buy a fresh budget each. While an address is over its
  budget, everything from it is refused until the window ends, credentials or not.

Over the limit: 429 with Retry-After and the API's JSON error. Counting must stay cheap (the
report path is benchmarked): fixed one-minute windows, counted in this process's memory — each
HTTP worker process then has its own budget, so the limit a client meets is at most the workers
times the setting — or, with REDIS_URL, in Redis (one round trip, shared by every process). No
database write. If Redis fails, requests pass: a rate limit must not take the API down with it.
"""

import hashlib
import logging
import threading
import time

from django.conf import settings
from django.http import HttpResponse

from .dbfaults import api_response

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
WINDOW_SECONDS = 60
# Module attribute rather than a direct call so tests can move time forward.
_now = time.time


class LocalCounter:
    """Counts per key in the current window, in this process (a new window forgets the old)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window: int | None = None
        self._counts: dict[str, int] = {}

    def _roll(self, window: int) -> None:
        if window != self._window:
            self._window = window
            self._counts = {}

    def hit(self, key: str, window: int, peek: str | None = None) -> tuple[int, int]:
        """Count one for `key`; answer its count and (without counting) `peek`'s."""
        with self._lock:
            self._roll(window)
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
            return count, (self._counts.get(peek, 0) if peek else 0)

    def reset(self) -> None:
        with self._lock:
            self._window, self._counts = None, {}


class RedisCounter:
    """The same counts in Redis, shared by every process: INCR + EXPIRE (+ GET) in one trip."""

    def __init__(self, url: str):
        self.url = url
        self._client = None
        self._lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:  # made in the process that uses it (after gunicorn's fork)
            with self._lock:
                if self._client is None:
                    import redis

                    self._client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        return self._client

    @staticmethod
    def _key(key: str, window: int) -> str:
        return f"pingan:rate:{window}:{key}"

    def hit(self, key: str, window: int, peek: str | None = None) -> tuple[int, int]:
        pipe = self.client.pipeline(transaction=False)
        pipe.incr(self._key(key, window))
        pipe.expire(self._key(key, window), WINDOW_SECONDS + 5)
        if peek:
            pipe.get(self._key(peek, window))
        replies = pipe.execute()
        return int(replies[0]), (int(replies[2] or 0) if peek else 0)

    def reset(self) -> None:  # pragma: no cover - tests run without Redis
        pass


_local = LocalCounter()
_counters: dict[str, RedisCounter] = {}


def counter():
    url = getattr(settings, "REDIS_URL", None)
    if not url:
        return _local
    if url not in _counters:
        _counters[url] = RedisCounter(url)
    return _counters[url]


def credential_key(request) -> str | None:
    """Whose budget a request spends: its bearer token, or its logged-in session's user."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        return "t:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:32]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return None


def address_key(request) -> str:
    return "a:" + (request.META.get("REMOTE_ADDR") or "unknown")


def too_many(retry_after: int) -> HttpResponse:
    return api_response(429, "rate_limited", "请求过于频繁，请稍后再试", retry_after)


class ApiRateLimitMiddleware:
    """Applies the limits to /api/ requests; pages pass untouched. Place it after the
    authentication middleware (a session's user is read lazily, only when there is a cookie)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        per_account = settings.API_RATE_LIMIT_PER_ACCOUNT
        per_address = settings.API_RATE_LIMIT_PER_ADDRESS
        if not request.path_info.startswith(API_PREFIX) or not (per_account or per_address):
            return self.get_response(request)
        now = _now()
        window = int(now // WINDOW_SECONDS)
        retry_after = max(1, int(WINDOW_SECONDS - now % WINDOW_SECONDS + 0.999))
        address = address_key(request)
        credential = credential_key(request)
        try:
            if credential is None:
                count, _ = counter().hit(address, window)
                over = bool(per_address) and count > per_address
            else:
                count, address_count = counter().hit(credential, window, peek=address)
                # The address's count is what it already spent: this request would be one more.
                over = (bool(per_account) and count > per_account) or (
                    bool(per_address) and address_count >= per_address
                )
        except Exception:  # Redis down or misconfigured: serve rather than refuse
            log.warning("API rate limit not counted", exc_info=True)
            return self.get_response(request)
        if over:
            return too_many(retry_after)
        response = self.get_response(request)
        if credential is not None and response.status_code == 401:
            try:
                counter().hit(address, window)
            except Exception:
                log.warning("API rate limit not counted", exc_info=True)
        return response
