"""The incident's timeline: every step is a row, pushed after commit by the fan-out
(push.py, live/outbox.py); notes and photos from the reporter or other domains; the offer
expiry task, enqueued once the offer is committed."""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock, fastsql
from pingan.core.errors import Forbidden, ServiceError
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.live import outbox

from .. import push
from ..access import was_sent_to
from ..models import Assignment, EventKind, Incident, IncidentEvent, IncidentPhoto
from .guards import _lock_incident


def _event(
    incident: Incident, kind: str, now, *, actor=None, unit=None, message="", data=None
) -> IncidentEvent:
    spec = _spec(kind, now, actor=actor, unit=unit, message=message, data=data)
    [event_id] = _events(incident, [spec])
    return IncidentEvent(pk=event_id, incident=incident, **spec)


def _spec(kind: str, now, *, actor=None, unit=None, message="", data=None) -> dict:
    """One timeline row, before it is written (see `_events`)."""
    return {
        "kind": kind,
        "at": now,
        "actor": actor if actor is not None and actor.pk else None,
        "unit": unit,
        "message": message[:500],
        "data": data or {},
    }


def _events(incident: Incident, specs: list[dict]) -> list[int]:
    """Write timeline rows of one incident in one statement (their ids back); each is pushed
    after commit by the fan-out, which computes the audience (push.py)."""
    ids = fastsql.insert_many(
        IncidentEvent,
        [
            {
                "incident_id": incident.pk,
                "kind": spec["kind"],
                "at": spec["at"],
                "actor_id": spec["actor"].pk if spec["actor"] is not None else None,
                "unit_id": spec["unit"].pk if spec["unit"] is not None else None,
                "message": spec["message"],
                "data": spec["data"],
            }
            for spec in specs
        ],
    )
    for event_id in ids:
        outbox.announce(push.SOURCE, event_id)
    return ids


def _schedule_expiry(assignment: Assignment) -> None:
    if assignment.expires_at is None:
        return
    assignment_id, run_after = assignment.pk, assignment.expires_at

    def enqueue():
        from ..tasks import expire_offer

        expire_offer.using(run_after=run_after).enqueue(assignment_id)

    # robust: the report is committed by now; a queue that cannot be reached (the database
    # went down a moment later) is logged, and the periodic sweep expires the offer instead.
    # Never a 500 for a saved report, which the client would send again as a duplicate.
    transaction.on_commit(enqueue, robust=True)


def add_note(incident: Incident, user: User | None, message: str, *, now=None, data=None):
    """A note on an incident's timeline written by another domain (e.g. "turned into dispute
    JF…"): pushed like every other step."""
    return _event(
        incident, EventKind.NOTE, now or clock.now(), actor=user, message=message, data=data
    )


# --- photos -------------------------------------------------------------------------------------


def _store_photos(incident: Incident, checked) -> None:
    for photo, content_type, ext in checked:
        stored = IncidentPhoto(
            incident=incident, content_type=content_type, size=len(photo.content)
        )
        digest = hashlib.sha1(photo.content).hexdigest()[:8]
        stored.image.save(f"{incident.code}-{digest}.{ext}", ContentFile(photo.content), save=False)
        stored.save()


@transaction.atomic
def add_photos(incident: Incident, user: User, photos: list[PhotoUpload], now=None) -> int:
    """The reporter, or a unit sent to the incident, adds photos later; another unit
    of the station that merely sees the incident does not (its photos would sit in the
    record as if taken at the scene)."""
    now = now or clock.now()
    incident = _lock_incident(incident)
    if incident.reporter_id != user.pk and not was_sent_to(user, incident):
        raise Forbidden("只有报警人或处警民警可以上传照片")
    existing = incident.photos.count()
    if existing + len(photos) > settings.PHOTO_MAX_COUNT:
        raise ServiceError("too_many_photos", f"每个警情最多 {settings.PHOTO_MAX_COUNT} 张照片")
    if not photos:
        raise ServiceError("no_photos", "请选择要上传的照片")
    _store_photos(incident, check_photos(photos))
    _event(incident, EventKind.NOTE, now, actor=user, message=f"上传照片 {len(photos)} 张")
    return len(photos)
