from django_tasks import task

from . import services


@task()
def deliver_message(message_id: int) -> None:
    services.deliver(message_id)
