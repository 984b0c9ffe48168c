"""The volunteer's report after checking in: text and photos, replaceable until reviewed."""

import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Conflict, ServiceError
from pingan.core.uploads import PhotoUpload, check_photos

from ..models import ReportPhoto, Signup
from ..validation import clean_text
from .attendance import _lock_own_signup


@transaction.atomic
def submit_report(user: User, code, *, text, photos=(), now=None) -> Signup:
    """Report back after checking in; may be sent again (text replaced, photos added) until
    the officer has reviewed the work."""
    now = now or clock.now()
    signup = _lock_own_signup(user, code)
    if signup.checked_in_at is None:
        raise Conflict("not_checked_in", "签到后才能提交任务反馈")
    if signup.review:
        raise Conflict("already_reviewed", "任务已审核，不能再修改反馈")
    text = clean_text(text, field="text", label="反馈内容", max_len=2000)
    photos = list(photos or ())
    existing = signup.photos.count()
    if existing + len(photos) > settings.PHOTO_MAX_COUNT:
        raise ServiceError("too_many_photos", f"每次任务最多 {settings.PHOTO_MAX_COUNT} 张照片")
    checked = check_photos(photos)
    signup.report_text = text
    signup.reported_at = now
    signup.save(update_fields=["report_text", "reported_at"])
    for photo, content_type, ext in checked:
        _store_photo(signup, photo, content_type, ext, now)
    return signup


def _store_photo(signup: Signup, photo: PhotoUpload, content_type: str, ext: str, now) -> None:
    stored = ReportPhoto(
        signup=signup, content_type=content_type, size=len(photo.content), uploaded_at=now
    )
    digest = hashlib.sha1(photo.content).hexdigest()[:8]
    name = f"{signup.task.code}-{signup.user_id}-{digest}.{ext}"
    stored.image.save(name, ContentFile(photo.content), save=False)
    stored.save()
