"""Photos are limited in pixels as well as bytes (issue 11 point 6, security review F10): a
small file that decodes to a huge image is refused as bad_photo (400), never a 500, on the API
and the anonymous report page; photo URLs the API returns are the access-checked pages."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from pingan.core.errors import ServiceError
from pingan.core.uploads import PhotoUpload, check_photos
from pingan.incidents.models import Incident, IncidentPhoto
from tests.conftest import GA1_CENTER


def png_claiming(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header claims width × height 1-bit pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def real_png(size) -> bytes:
    out = io.BytesIO()
    Image.new("1", size).save(out, "PNG")
    return out.getvalue()


def refusal(content: bytes) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        check_photos([PhotoUpload("x.png", content)])
    return caught.value


@pytest.mark.parametrize(
    "width, height",
    [
        (20000, 20000),  # 400 Mpx: Pillow's DecompressionBombError
        (10000, 10000),  # 100 Mpx: Pillow only warns; the warning is an error here
        (7000, 7000),  # 49 Mpx: below Pillow's threshold, above ours (40 Mpx)
    ],
)
def test_a_pixel_bomb_is_a_bad_photo(width, height):
    error = refusal(png_claiming(width, height))
    assert error.code == "bad_photo" and error.status == 400
    assert "像素过多" in error.message


def test_the_ceiling_is_a_setting(settings):
    settings.PHOTO_MAX_PIXELS = 100 * 100
    assert check_photos([PhotoUpload("ok.png", real_png((100, 100)))])
    assert "像素过多" in refusal(real_png((101, 100))).message


@pytest.mark.django_db
def test_the_api_answers_400_not_500(world):
    client = Client(headers={})
    client.force_login(world.citizen)
    code = client.post(
        "/api/incidents",
        {
            "category": "020100",
            "description": "x",
            "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
        },
        content_type="application/json",
    ).json()["code"]
    for width in (20000, 10000):
        response = client.post(
            f"/api/incidents/{code}/photos",
            {"photos": [SimpleUploadedFile("bomb.png", png_claiming(width, width), "image/png")]},
        )
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "bad_photo"
    assert not IncidentPhoto.objects.exists()


@pytest.mark.django_db
def test_the_anonymous_report_page_answers_400_not_500(world):
    response = Client().post(
        "/report/",
        {
            "category": "020100",
            "description": "有人打架",
            "lat": GA1_CENTER[1],
            "lng": GA1_CENTER[0],
            "crs": "wgs84",
            "photos": [SimpleUploadedFile("bomb.png", png_claiming(20000, 20000), "image/png")],
        },
    )
    assert response.status_code == 400
    assert "像素过多" in response.content.decode()
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_photo_urls_are_the_access_checked_pages(world):
    client = Client()
    client.force_login(world.citizen)
    code = client.post(
        "/api/incidents",
        {
            "category": "020100",
            "description": "x",
            "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
        },
        content_type="application/json",
    ).json()["code"]
    added = client.post(
        f"/api/incidents/{code}/photos",
        {"photos": [SimpleUploadedFile("a.png", real_png((40, 30)), "image/png")]},
    )
    assert added.status_code == 201, added.content
    photo = IncidentPhoto.objects.get()
    assert added.json()["photos"] == [f"/photos/{photo.pk}/"]
    assert client.get(f"/api/incidents/{code}").json()["photos"] == [f"/photos/{photo.pk}/"]
    assert client.get(f"/photos/{photo.pk}/").status_code == 200
