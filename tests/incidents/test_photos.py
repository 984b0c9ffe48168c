"""Photos: JPEG, PNG or WebP judged by their bytes, size-limited, visible only in scope."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from pingan.incidents.models import Incident, IncidentPhoto
from tests.conftest import GA1_CENTER

pytestmark = pytest.mark.django_db


def image_bytes(fmt="JPEG", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def form(**extra):
    data = {
        "category": "020100",
        "description": "有人打架",
        "lat": GA1_CENTER[1],
        "lng": GA1_CENTER[0],
        "crs": "wgs84",
    }
    data.update(extra)
    return data


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_report_page_takes_photos(world):
    client = logged_in(world.citizen)
    photos = [
        SimpleUploadedFile("a.jpg", image_bytes("JPEG"), "image/jpeg"),
        SimpleUploadedFile("b.png", image_bytes("PNG"), "image/png"),
    ]
    response = client.post("/report/", {**form(), "photos": photos})
    assert response.status_code == 302
    incident = Incident.objects.get()
    stored = list(incident.photos.order_by("pk"))
    assert [p.content_type for p in stored] == ["image/jpeg", "image/png"]
    # The reporter sees the photo; an officer of another station does not.
    assert client.get(f"/photos/{stored[0].pk}/").status_code == 200
    assert logged_in(world.officer_b).get(f"/photos/{stored[0].pk}/").status_code == 404
    assert logged_in(world.officer_a).get(f"/photos/{stored[0].pk}/").status_code == 200


@pytest.mark.parametrize(
    "name,content,ctype,message",
    [
        ("evil.jpg", b"#!/bin/sh\nrm -rf /", "image/jpeg", "不是有效的图片"),
        ("anim.gif", None, "image/gif", "格式不支持"),
    ],
)
def test_report_page_rejects_bad_photos_and_keeps_nothing(world, name, content, ctype, message):
    if content is None:
        content = image_bytes("GIF")
    client = logged_in(world.citizen)
    response = client.post(
        "/report/", {**form(), "photos": [SimpleUploadedFile(name, content, ctype)]}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Incident.objects.exists() and not IncidentPhoto.objects.exists()


def test_oversized_photo_is_refused(world, settings):
    settings.PHOTO_MAX_BYTES = 1000
    big = image_bytes("PNG", size=(400, 400))
    assert len(big) > 1000
    response = logged_in(world.citizen).post(
        "/report/", {**form(), "photos": [SimpleUploadedFile("big.png", big, "image/png")]}
    )
    assert response.status_code == 400
    assert "超过" in response.content.decode()
    assert not Incident.objects.exists()


def test_api_photo_upload_by_the_reporter(world, api, settings):
    client = api(world.citizen)
    code = client.post(
        "/api/incidents",
        json.dumps(
            {
                "category": "020100",
                "description": "x",
                "location": {"lat": GA1_CENTER[1], "lng": GA1_CENTER[0]},
            }
        ),
        content_type="application/json",
    ).json()["code"]
    response = client.post(
        f"/api/incidents/{code}/photos",
        {"photos": [SimpleUploadedFile("a.webp", image_bytes("WEBP"), "image/webp")]},
    )
    assert response.status_code == 201, response.content
    assert len(response.json()["photos"]) == 1
    wrong = client.post(
        f"/api/incidents/{code}/photos",
        {"photos": [SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg")]},
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "bad_photo"
    settings.PHOTO_MAX_COUNT = 1
    too_many = client.post(
        f"/api/incidents/{code}/photos",
        {"photos": [SimpleUploadedFile("b.png", image_bytes("PNG"), "image/png")]},
    )
    assert too_many.json()["error"]["code"] == "too_many_photos"
    other = api(world.citizen2).post(
        f"/api/incidents/{code}/photos",
        {"photos": [SimpleUploadedFile("c.png", image_bytes("PNG"), "image/png")]},
    )
    assert other.status_code == 404
    assert IncidentPhoto.objects.count() == 1


def test_report_page_without_location_explains_in_chinese(world):
    response = Client().post("/report/", {"category": "020100", "description": "x"})
    assert response.status_code == 400
    assert "请在地图上选择位置" in response.content.decode()
    response = Client().post("/report/", form(lat="95"))
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_only_units_sent_and_not_turned_back_add_photos(world):
    """A unit that declined the offer, or one of the station that was never sent, cannot put
    photos in the record as if taken at the scene; the unit now offered can."""
    from pingan.core.errors import Forbidden
    from pingan.core.uploads import PhotoUpload
    from pingan.incidents import services
    from tests.incidents.helpers import report_at

    incident = report_at().incident
    photo = [PhotoUpload("a.jpg", image_bytes())]
    services.decline(incident.code, world.officer_a, "正在处理另一起纠纷")
    with pytest.raises(Forbidden):
        services.add_photos(incident, world.officer_a, photo)
    with pytest.raises(Forbidden):
        services.add_photos(incident, world.officer_b, photo)
    assert services.add_photos(incident, world.aux_a, photo) == 1
    assert IncidentPhoto.objects.filter(incident=incident).count() == 1
