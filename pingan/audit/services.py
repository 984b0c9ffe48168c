"""Write audit entries. Called by every service that shows or changes protected data."""

from pingan.core import clock

from .models import AuditEntry


def client_ip(request) -> str | None:
    if request is None:
        return None
    # Behind the deployment's proxy the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None


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
