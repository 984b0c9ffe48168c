"""How a volunteer is told by text message (besides the live push): recorded in the notify
outbox with the change and sent once it commits, to the phone on their volunteer profile (else
their account's).

The underscored helpers here and in guards.py are private to the package, shared by its
modules; callers outside go through the names the package exports.
"""

from pingan.accounts.models import User
from pingan.notify.services import queue_message

from ..models import VolunteerProfile


def _text_to(phone: str, text: str, topic: str) -> None:
    if phone:
        queue_message(phone, f"【平安】{text}", topic=topic)


def _phone_of(user: User) -> str:
    profile = VolunteerProfile.objects.filter(user=user).values_list("phone", flat=True).first()
    return profile or user.phone or ""
