"""Background work for incidents: offer expiry (the periodic sweep runs in core.background)."""

from django_tasks import task

from . import services


@task()
def expire_offer(assignment_id: int) -> None:
    services.expire_offer(assignment_id)
