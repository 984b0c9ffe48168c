"""`Idempotency-Key` for the API's writes: the same key twice, one effect and the same answer.

A phone on a weak signal cannot tell a lost request from a lost answer, and its offline queue
replays what it could not confirm. Each write it sends carries a key of its choosing (a UUID);
this middleware runs the write and stores its answer under (sender, key) in the same
transaction, so that:

- the first request runs as usual, its answer stored with it (2xx, and 4xx refusals except
  401, 423 and 429, which may pass on their own: those, and 5xx, are not stored, and a 5xx
  rolls the write back, so trying again is safe);
- a repeat with the same key and the same request gets the stored answer (status and body)
  with `Idempotent-Replayed: true`, and nothing runs;
- the same key with a different request is refused (422 `idempotency_key_reused`);
- two copies racing: one commits, the other's transaction rolls back on the unique key and it
  answers what the first stored.

The sender is the account (whichever token or session it uses, so a queue replayed after
signing in again is still recognised) or, without credentials, the client address. Keys are
kept IDEMPOTENCY_KEEP_HOURS (`manage.py prune`). Requests without the header are untouched.
"""

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse

from pingan.core import clock

from .dbfaults import api_response
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,100}")  # printable ASCII, no spaces: a UUID fits
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_STORED = frozenset({401, 423, 429})


def owner_of(request) -> str | None:
    """The account behind the request's token or session, else its address; None for a token
    that is not valid (the API answers 401 itself)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        from pingan.core.api_auth import user_for_token

        user = user_for_token(header.split(" ", 1)[1].strip())
        return f"u:{user.pk}" if user is not None else None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    return f"a:{request.META.get('REMOTE_ADDR', '')}"[:64]


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method, request.path_info, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def replay(stored: IdempotentRequest) -> HttpResponse:
    response = HttpResponse(
        bytes(stored.body), status=stored.status, content_type=stored.content_type or None
    )
    response["Idempotent-Replayed"] = "true"
    return response


class _Unstored(Exception):
    """Roll the request's transaction back and answer `response` (a 5xx)."""

    def __init__(self, response):
        self.response = response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITES or not request.path_info.startswith("/api/"):
            return self.get_response(request)
        if not KEY.fullmatch(key):
            return api_response(
                400, "bad_idempotency_key", "Idempotency-Key 须为 1–100 个可见 ASCII 字符"
            )
        owner = owner_of(request)
        if owner is None:
            return self.get_response(request)
        seen = fingerprint(request)
        stored = IdempotentRequest.objects.filter(owner=owner, key=key).first()
        if stored is not None:
            return self._answer(stored, seen)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 500:
                    raise _Unstored(response)
                if response.streaming or response.status_code in NOT_STORED:
                    return response
                IdempotentRequest.objects.create(
                    owner=owner,
                    key=key,
                    fingerprint=seen,
                    status=response.status_code,
                    content_type=response.get("Content-Type", ""),
                    body=response.content,
                    created_at=clock.now(),
                )
                return response
        except _Unstored as failed:
            return failed.response
        except IntegrityError:
            # A copy of this request committed first: ours was rolled back; answer as it did.
            stored = IdempotentRequest.objects.filter(owner=owner, key=key).first()
            if stored is None:
                raise
            return self._answer(stored, seen)

    @staticmethod
    def _answer(stored: IdempotentRequest, seen: str) -> HttpResponse:
        if stored.fingerprint != seen:
            return api_response(
                422,
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一个请求；每个新请求请用新的键",
            )
        return replay(stored)


def keep_until(now):
    return now - timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
