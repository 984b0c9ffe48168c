"""Photo uploads, shared by every domain that takes them (incident reports, task reports).

A photo is judged by decoding its bytes, never by its name or declared type, and it is stored
re-encoded without its metadata: a phone photo's EXIF carries the GPS position and the device
of whoever took it, and an anonymous report must not hand the reporter's home position to
everyone who can open the incident. The orientation EXIF recorded is applied to the pixels
first, so a stripped photo still shows the right way up; the colour profile is kept.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ServiceError

# Decoded format → (content type, file extension).
PHOTO_TYPES = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# Re-encoding settings per format: visually lossless for photos, smaller than most phones'.
_SAVE_OPTIONS = {
    "JPEG": {"quality": 90},
    "PNG": {"optimize": False},
    "WEBP": {"quality": 90},
}
# Modes each format can store; anything else is converted (a CMYK JPEG, a palette PNG).
_MODES = {
    "JPEG": {"RGB", "L"},
    "PNG": {"RGB", "RGBA", "L", "LA", "P", "I", "I;16", "1"},
    "WEBP": {"RGB", "RGBA"},
}


@dataclass
class PhotoUpload:
    name: str
    content: bytes


def max_photo_read() -> int:
    """Read one byte past the limit so an oversized upload is recognised, not truncated."""
    return settings.PHOTO_MAX_BYTES + 1


# What Pillow raises on bytes that are not a whole image: unknown formats, truncated or
# corrupt bodies (SyntaxError and ValueError from its parsers), decompression bombs.
_UNDECODABLE = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    OSError,
    SyntaxError,
    ValueError,
)


def _not_an_image(index: int) -> ServiceError:
    return ServiceError("bad_photo", f"第 {index} 个文件不是有效的图片")


def without_metadata(content: bytes, kind: str) -> bytes:
    """The image re-encoded in its own format with no EXIF, XMP or text chunks."""
    with Image.open(io.BytesIO(content)) as image:
        icc_profile = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        if upright.mode not in _MODES[kind]:
            upright = upright.convert("RGBA" if "A" in upright.mode else "RGB")
        upright.info = {}  # nothing of the original's metadata rides along
        out = io.BytesIO()
        options = dict(_SAVE_OPTIONS[kind])
        if icc_profile:
            options["icc_profile"] = icc_profile
        upright.save(out, format=kind, **options)
    return out.getvalue()


def check_photos(photos: list[PhotoUpload]) -> list[tuple[PhotoUpload, str, str]]:
    """Accept JPEG, PNG or WebP only, within the count and size limits; returns each photo
    re-encoded without metadata, with its content type and file extension."""
    if len(photos) > settings.PHOTO_MAX_COUNT:
        raise ServiceError("too_many_photos", f"最多上传 {settings.PHOTO_MAX_COUNT} 张照片")
    checked = []
    for index, photo in enumerate(photos, start=1):
        if len(photo.content) > settings.PHOTO_MAX_BYTES:
            limit_mb = settings.PHOTO_MAX_BYTES / 1024 / 1024
            raise ServiceError(
                "photo_too_large", f"第 {index} 张照片超过 {limit_mb:g} MB", status=413
            )
        try:
            with Image.open(io.BytesIO(photo.content)) as image:
                image.verify()
                kind = image.format
        except _UNDECODABLE as exc:
            raise _not_an_image(index) from exc
        if kind not in PHOTO_TYPES:
            raise ServiceError(
                "bad_photo_type", f"第 {index} 张照片格式不支持，只接受 JPG、PNG、WebP"
            )
        try:
            clean = without_metadata(photo.content, kind)
        except _UNDECODABLE as exc:
            # verify() checks the structure only; a truncated body fails when decoded.
            raise _not_an_image(index) from exc
        content_type, ext = PHOTO_TYPES[kind]
        checked.append((PhotoUpload(photo.name, clean), content_type, ext))
    return checked
