"""Photo uploads: judged by their bytes, stored without the metadata that locates the reporter."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image, ImageCms

from pingan.core.errors import ServiceError
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER

# A phone's EXIF: where the photo was taken (GPSInfo), by what, and its orientation.
ORIENTATION, GPS_INFO, MAKE = 0x0112, 0x8825, 0x010F
GPS = {1: "N", 2: (30.0, 15.0, 12.5), 3: "E", 4: (120.0, 5.0, 30.0)}


def phone_photo(fmt="JPEG", size=(40, 30), orientation=1, mode="RGB", icc=None) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "ReporterPhone"
    exif[GPS_INFO] = GPS
    image = Image.new(mode, size, 200)
    buffer = io.BytesIO()
    options = {"exif": exif.tobytes()}
    if icc:
        options["icc_profile"] = icc
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        text = PngInfo()
        text.add_text("Comment", "home: 30.2535N 120.0917E")
        options["pnginfo"] = text
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def reopened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_stored_photo_has_no_exif_gps_or_text(fmt):
    original = phone_photo(fmt)
    assert dict(reopened(original).getexif())  # the fixture really carries EXIF
    [(photo, content_type, ext)] = check_photos([PhotoUpload(f"a.{fmt.lower()}", original)])
    clean = reopened(photo.content)
    assert clean.format == fmt
    assert content_type == f"image/{fmt.lower()}"
    assert not dict(clean.getexif())
    assert "exif" not in clean.info and "Comment" not in clean.info
    assert b"ReporterPhone" not in photo.content
    assert b"120.0917" not in photo.content


def test_orientation_is_applied_before_the_tag_goes():
    # Orientation 6: the camera was turned; viewers rotate the 40x30 pixels to 30x40.
    [(photo, _, _)] = check_photos([PhotoUpload("a.jpg", phone_photo(orientation=6))])
    assert reopened(photo.content).size == (30, 40)


def test_colour_profile_is_kept():
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    [(photo, _, _)] = check_photos([PhotoUpload("a.jpg", phone_photo(icc=icc))])
    assert reopened(photo.content).info.get("icc_profile") == icc


def test_cmyk_jpeg_and_palette_png_are_accepted():
    [(jpeg, _, _)] = check_photos([PhotoUpload("a.jpg", phone_photo(mode="CMYK"))])
    assert reopened(jpeg.content).format == "JPEG"
    [(png, _, _)] = check_photos([PhotoUpload("b.png", phone_photo("PNG", mode="P"))])
    assert reopened(png.content).format == "PNG"


def test_truncated_image_is_refused_not_stored():
    whole = phone_photo(size=(400, 300))
    with pytest.raises(ServiceError) as caught:
        check_photos([PhotoUpload("a.jpg", whole[: len(whole) // 2])])
    assert caught.value.code == "bad_photo"


@pytest.mark.django_db
def test_anonymous_report_photo_is_stored_without_gps(world):
    """The whole path: a page upload lands in storage with no trace of where it was taken."""
    client = Client()
    response = client.post(
        "/report/",
        {
            "category": "020100",
            "description": "路口有人打架",
            "lat": GA1_CENTER[1],
            "lng": GA1_CENTER[0],
            "crs": "wgs84",
            "phone": "",
            "photos": [SimpleUploadedFile("a.jpg", phone_photo(), "image/jpeg")],
        },
    )
    # Without an account the page answers with the receipt itself (there is no "my reports").
    assert response.status_code == 200
    assert "已收到报警" in response.content.decode()
    stored = Incident.objects.get().photos.get()
    with stored.image.open("rb") as handle:
        content = handle.read()
    assert not dict(reopened(content).getexif())
    assert b"ReporterPhone" not in content
    assert stored.size == len(content)
