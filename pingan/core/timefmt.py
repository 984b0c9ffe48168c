"""The one text form of a moment in API bodies and pushes: ISO 8601 in the site's time zone
(Asia/Shanghai by default), with its offset, so a phone shows local time without converting."""

from django.utils import timezone


def iso(value):
    return timezone.localtime(value).isoformat() if value else None
