"""How a change is recorded and told: timeline events (pushed live after commit), step messages
to the parties, and red alerts to the owner and the station chief.
"""

from pingan.accounts.models import Role, User
from pingan.core import qr
from pingan.notify.services import queue_message
from pingan.orgs import services as orgs
from pingan.orgs.models import OrgUnit

from .. import push
from ..models import Dispute, DisputeEvent


def _event(dispute, kind, now, *, actor=None, message="", data=None, public=False):
    event = DisputeEvent.objects.create(
        dispute=dispute,
        kind=kind,
        at=now,
        actor=actor if actor is not None and actor.pk else None,
        message=message[:500],
        data=data or {},
        public=public,
    )
    push.announce(event)  # delivered after commit by the fan-out (push.py)
    return event


def _progress(dispute: Dispute, now) -> None:
    dispute.last_progress_at = now


def _tell_parties(dispute: Dispute, text: str) -> int:
    """Step messages to the parties who opted in (and to the resident who asked)."""
    phones = set(
        dispute.parties.filter(notify=True).exclude(phone="").values_list("phone", flat=True)
    )
    if dispute.requester_id and dispute.requester.phone:
        phones.add(dispute.requester.phone)
    for phone in sorted(phones):
        queue_message(phone, f"【平安】{text}", topic=f"dispute:{dispute.code}")
    return len(phones)


def station_chiefs(org: OrgUnit) -> list[User]:
    """Commanders of the dispute's station (or of the unit itself above station level)."""
    station = orgs.station_of(org)
    return list(User.objects.filter(role=Role.COMMANDER, org=station, is_active=True))


def red_alert(dispute: Dispute, now, reasons: list[dict]) -> None:
    """Turning red reaches the owner and the station chief at once: live on their pages through
    the timeline push, and as a message to their phones for when no page is open."""
    why = "；".join(r["detail"] for r in reasons[:3]) or "人工调整为红色"
    # A link that opens the file on the phone (SITE_URL; a path where none is configured).
    link = qr.absolute_url(f"/disputes/{dispute.code}/")
    people = {u.pk: u for u in station_chiefs(dispute.org)}
    if dispute.owner_id:
        people[dispute.owner_id] = dispute.owner
    for person in people.values():
        if person.phone:
            queue_message(
                person.phone,
                f"【平安】红色预警：纠纷 {dispute.code}（{dispute.title}，{dispute.grid.name}）"
                f"{why}。请立即处置：{link}",
                topic=f"dispute:{dispute.code}",
            )
