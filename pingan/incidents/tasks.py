"""Background work for incidents: offer expiry and the periodic sweep."""

from django_tasks import task

from . import services


@task()
def expire_offer(assignment_id: int) -> None:
    services.expire_offer(assignment_id)


@task()
def sweep() -> dict:
    return services.sweep()
