"""The request being served, for entries recorded where no request is at hand (a model signal,
a service called without one): their client address, and which entries this request already
has, so one change announced twice (by the accounts app and by the admin's LogEntry) is written
once. Set by `pingan.audit.middleware.AuditMiddleware`; empty outside a request."""

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestAudit:
    request: object
    # (action, object_type, object_ref) of the entries written during this request.
    recorded: set = field(default_factory=set)
    # A superuser who signed in during this request (the API's token login sets no
    # request.user), or None.
    superuser: object = None
    # Admin LogEntry ids already turned into audit entries.
    log_entries: set = field(default_factory=set)


_current: ContextVar[RequestAudit | None] = ContextVar("pingan_audit_request", default=None)


def current() -> RequestAudit | None:
    return _current.get()


def begin(request) -> object:
    return _current.set(RequestAudit(request))


def end(token) -> None:
    _current.reset(token)
