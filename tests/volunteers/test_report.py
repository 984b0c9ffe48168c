"""Reporting back after the task: text and photos, judged by their bytes."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from pingan.core.errors import Conflict, ServiceError
from pingan.core.uploads import PhotoUpload
from pingan.volunteers import services
from pingan.volunteers.models import ReportPhoto, Signup
from tests.conftest import api_client

from .helpers import HOUR, checked_in, make_task, team_with_volunteers

pytestmark = pytest.mark.django_db


def image_bytes(fmt="JPEG", size=(40, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def on_site(world, media):
    team, users = team_with_volunteers(world, 2)
    task = make_task(world, teams=[team], slots=1)
    checked_in(world, task, users[0])
    services.sign_up(users[1], task.code, now=task.published_at)
    return task, users[0], users[1]


def test_report_with_photos(on_site):
    task, user, _ = on_site
    photos = [PhotoUpload("a.jpg", image_bytes("JPEG")), PhotoUpload("b.png", image_bytes("PNG"))]
    signup = services.submit_report(
        user, task.code, text="巡逻正常，劝离 3 名夜钓人员", photos=photos, now=task.ends_at
    )
    assert signup.report_text.startswith("巡逻正常") and signup.reported_at == task.ends_at
    stored = list(signup.photos.order_by("pk"))
    assert [p.content_type for p in stored] == ["image/jpeg", "image/png"]
    assert all(p.image.name.endswith((".jpg", ".png")) for p in stored)
    # A second report replaces the text and adds photos.
    services.submit_report(user, task.code, text="补充：路灯损坏一处", photos=photos[:1])
    signup.refresh_from_db()
    assert signup.report_text == "补充：路灯损坏一处"
    assert signup.photos.count() == 3


@pytest.mark.parametrize(
    "photo, code",
    [
        (PhotoUpload("a.jpg", b"not an image at all"), "bad_photo"),
        (PhotoUpload("a.gif", b""), "bad_photo"),
    ],
)
def test_invalid_images_are_refused_and_nothing_is_kept(on_site, photo, code):
    task, user, _ = on_site
    with pytest.raises(ServiceError) as err:
        services.submit_report(user, task.code, text="完成", photos=[photo])
    assert err.value.code == code
    assert not ReportPhoto.objects.exists()
    assert Signup.objects.get(task=task, user=user).report_text == ""


def test_gif_is_not_accepted(on_site):
    task, user, _ = on_site
    with pytest.raises(ServiceError) as err:
        services.submit_report(
            user, task.code, text="完成", photos=[PhotoUpload("a.gif", image_bytes("GIF"))]
        )
    assert err.value.code == "bad_photo_type"


def test_too_many_photos(on_site, settings):
    task, user, _ = on_site
    photos = [PhotoUpload(f"{i}.jpg", image_bytes()) for i in range(settings.PHOTO_MAX_COUNT + 1)]
    with pytest.raises(ServiceError) as err:
        services.submit_report(user, task.code, text="完成", photos=photos)
    assert err.value.code == "too_many_photos"


def test_a_report_needs_text_a_check_in_and_no_review_yet(world, on_site):
    task, user, waiting = on_site
    with pytest.raises(ServiceError) as err:
        services.submit_report(user, task.code, text="  ")
    assert err.value.code == "text_required"
    with pytest.raises(Conflict) as err:
        services.submit_report(waiting, task.code, text="我也去了")
    assert err.value.code == "not_accepted"
    services.check_out(user, task.code, qr_token=task.qr_token, now=task.ends_at)
    signup = Signup.objects.get(task=task, user=user)
    services.confirm_work(world.officer_a, signup.pk, now=task.ends_at + HOUR)
    with pytest.raises(Conflict) as err:
        services.submit_report(user, task.code, text="改一下")
    assert err.value.code == "already_reviewed"


def test_api_report_is_multipart(world, on_site):
    task, user, _ = on_site
    client = api_client(user)
    url = f"/api/volunteers/tasks/{task.code}/report"
    response = client.post(
        url,
        {
            "text": "发现可疑车辆一辆，已报告",
            "photos": [SimpleUploadedFile("a.jpg", image_bytes(), "image/jpeg")],
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report_text"] == "发现可疑车辆一辆，已报告"
    assert len(body["photos"]) == 1 and body["photos"][0].startswith("/volunteer/photos/")
    response = client.post(
        url, {"text": "再来", "photos": [SimpleUploadedFile("x.jpg", b"junk", "image/jpeg")]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_photo"
    response = client.post(url, {"text": "只有文字"})
    assert response.status_code == 200
    assert response.json()["report_text"] == "只有文字"
    assert client.post(url, {}).status_code == 422
