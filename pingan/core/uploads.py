"""Photo uploads, shared by every domain that takes them (incident reports, task reports).

A photo is judged by decoding its bytes, never by its name or declared type, and it is stored
re-encoded without its metadata: a phone photo's EXIF carries the GPS position and the device
of whoever took it, and an anonymous report must not hand the reporter's home position to
everyone who can open the incident. The orientation EXIF recorded is applied to the pixels
first, so a stripped photo still shows the right way up; the colour profile is kept.
"""

import io
import warnings
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
# corrupt bodies (SyntaxError and ValueError from its parsers), decompression bombs (an error
# above twice Image.MAX_IMAGE_PIXELS, a warning above it: raised here as an error, see
# `_opened`).
_UNDECODABLE = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    OSError,
    SyntaxError,
    ValueError,
)


def _not_an_image(index: int) -> ServiceError:
    return ServiceError("bad_photo", f"第 {index} 个文件不是有效的图片")


def _too_many_pixels(index: int) -> ServiceError:
    limit = settings.PHOTO_MAX_PIXELS / 1_000_000
    return ServiceError("bad_photo", f"第 {index} 张照片像素过多（上限 {limit:g} 百万像素）")


def _opened(content: bytes) -> Image.Image:
    """Image.open with Pillow's decompression-bomb warning raised as an error: a 12 KB PNG of
    100 megapixels must be refused, not decoded (about 400 MB) here and in staff browsers.

    catch_warnings changes the process's filters for the moment of the call; two threads
    interleaving can at worst leave this one filter in place, which is what we want anyway.
    The pixel ceiling itself (`check_pixels`, below Pillow's threshold) does not depend on it."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(content))


def check_pixels(image: Image.Image, index: int) -> None:
    """Refuse an image above PHOTO_MAX_PIXELS, judged from its header before any decoding."""
    width, height = image.size
    if width * height > settings.PHOTO_MAX_PIXELS:
        raise _too_many_pixels(index)


def without_metadata(content: bytes, kind: str) -> bytes:
    """The image re-encoded in its own format with no EXIF, XMP or text chunks."""
    with _opened(content) as image:
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
    """Accept JPEG, PNG or WebP only, within the count, size and pixel limits; returns each
    photo re-encoded without metadata, with its content type and file extension."""
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
            with _opened(photo.content) as image:
                check_pixels(image, index)
                image.verify()
                kind = image.format
        except _UNDECODABLE as exc:
            if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
                raise _too_many_pixels(index) from exc
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
