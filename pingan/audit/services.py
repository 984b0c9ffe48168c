"""Write audit entries. Called by every service that shows or changes protected data."""

from pingan.core import clock
from pingan.core.clientip import client_ip as core_client_ip

from .models import AuditEntry


def client_ip(request) -> str | None:
    # X-Forwarded-For only from TRUSTED_PROXIES, and its rightmost untrusted hop.
    return core_client_ip(request)


def record(actor, action: str, object_type: str, object_ref: str, *, detail=None, ip=None):
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=(actor.label if actor is not None and actor.pk else "")[:150],
        action=action,
        object_type=object_type,
        object_ref=str(object_ref)[:64],
        detail=detail or {},
        ip=ip,
    )
