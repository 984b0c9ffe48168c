"""Error pages: one ServiceError mapping, Chinese pages in the site's layout, a CSRF failure that
keeps what the user typed, one log line per refused request, offline API docs, static files."""

import logging
import re

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

from pingan.core.staticfiles import StaticStorage
from pingan.incidents.models import Incident
from tests.conftest import GA1_CENTER

pytestmark = pytest.mark.django_db

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@pytest.fixture
def boom_urls(settings):
    settings.ROOT_URLCONF = "tests.core.error_urls"


def page(response) -> str:
    return response.content.decode()


def assert_site_page(html: str) -> None:
    assert VIEWPORT in html
    assert 'class="topbar"' in html
    assert 'href="tel:110"' in html


# --- 404 / 403 / 500 ------------------------------------------------------------------------


def test_an_unknown_address_is_a_chinese_404_in_the_site_layout():
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    html = page(response)
    assert_site_page(html)
    assert "页面不存在" in html and "Not Found" not in html


def test_a_refused_page_shows_the_views_own_reason(world):
    client = Client()
    client.force_login(world.citizen)
    response = client.get("/console/")
    assert response.status_code == 403
    html = page(response)
    assert_site_page(html)
    assert "只有指挥员可以访问指挥台" in html
    assert "Forbidden" not in html


def test_django_english_reasons_are_replaced_by_a_chinese_default(boom_urls):
    response = Client().get("/boom/english-404/")
    assert response.status_code == 404
    html = page(response)
    assert "未找到该页面或记录" in html and "matches the given query" not in html


@pytest.mark.parametrize(
    ("url", "status", "text"),
    [
        ("/boom/not-found/", 404, "未找到该纠纷"),
        ("/boom/forbidden/", 403, "只有所长可以审核"),
        ("/boom/conflict/", 409, "该记录已被他人修改，请刷新后重试"),
        ("/boom/bad/", 400, "请填写事由"),
    ],
)
def test_a_service_error_escaping_a_page_becomes_its_error_page(boom_urls, url, status, text):
    response = Client().get(url)
    assert response.status_code == status
    html = page(response)
    assert_site_page(html)
    assert text in html


def test_a_crash_is_a_chinese_500_page_without_details(boom_urls):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/crash/")
    assert response.status_code == 500
    html = page(response)
    assert_site_page(html)
    assert "服务器出错了" in html and "a bug" not in html


def test_the_api_keeps_its_json_errors(world):
    client = Client()
    client.force_login(world.citizen)
    response = client.get("/api/incidents/JQ20990101-000001")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- logging --------------------------------------------------------------------------------


def refusals(caplog):
    return [r for r in caplog.records if r.name.startswith(("django.request", "django.security"))]


def test_a_refusal_is_logged_in_one_line_without_a_traceback(world, caplog):
    client = Client()
    client.force_login(world.citizen)
    with caplog.at_level(logging.WARNING):
        client.get("/console/")
    [record] = refusals(caplog)
    assert record.exc_info is None
    line = record.getMessage()
    user = world.citizen.pk
    assert line == f"refused 403 GET /console/ user={user} code=forbidden 只有指挥员可以访问指挥台"
    assert "\n" not in caplog.text.strip()


def test_a_service_error_page_logs_its_code(boom_urls, caplog):
    with caplog.at_level(logging.WARNING):
        Client().get("/boom/conflict/")
    [record] = refusals(caplog)
    assert (
        record.getMessage()
        == "refused 409 GET /boom/conflict/ user=- code=stale 该记录已被他人修改，请刷新后重试"
    )


def test_a_crash_keeps_its_traceback(boom_urls, caplog):
    with caplog.at_level(logging.WARNING):
        Client(raise_request_exception=False).get("/boom/crash/")
    [record] = refusals(caplog)
    assert record.exc_info is not None


# --- CSRF failure ---------------------------------------------------------------------------


def report_form(**extra):
    return {
        "category": "020100",
        "description": "村口有人打架，两个人受伤",
        "lat": GA1_CENTER[1],
        "lng": GA1_CENTER[0],
        "crs": "wgs84",
        "address": "东门村村口",
        **extra,
    }


def test_a_report_whose_csrf_cookie_was_lost_is_kept_and_can_be_sent_again(world, caplog):
    client = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING):
        response = client.post(
            "/report/",
            report_form(csrfmiddlewaretoken="stale"),
            HTTP_ORIGIN="http://testserver",
            HTTP_REFERER="http://testserver/report/",
        )
    assert response.status_code == 403
    html = page(response)
    assert_site_page(html)
    assert "内容已保留" in html and "重新提交" in html
    assert "村口有人打架，两个人受伤" in html  # shown to the user
    assert '<input type="hidden" name="description" value="村口有人打架，两个人受伤">' in html
    assert 'value="stale"' not in html
    [record] = refusals(caplog)
    assert record.getMessage().startswith("refused 403 POST /report/ user=- code=csrf ")
    assert Incident.objects.count() == 0

    # The page set a fresh cookie and token: "重新提交" sends exactly the kept fields.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    fields["csrfmiddlewaretoken"] = token
    assert set(fields) >= set(report_form())
    response = client.post("/report/", fields, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 200  # anonymous: the "reported" page
    assert Incident.objects.get().description == "村口有人打架，两个人受伤"


def test_a_cross_site_post_is_never_offered_for_resubmission(world):
    response = Client(enforce_csrf_checks=True).post(
        "/report/", report_form(), HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403
    html = page(response)
    assert "村口有人打架" not in html
    assert "重新提交" not in html and "页面已过期" in html


def test_a_login_without_csrf_never_echoes_the_password(world):
    response = Client(enforce_csrf_checks=True).post(
        "/login/",
        {"username": "citizen", "password": "secret-pass-123"},
        HTTP_ORIGIN="http://testserver",
    )
    assert response.status_code == 403
    html = page(response)
    assert "secret-pass-123" not in html
    assert "密码不会保留" in html


# --- demo logins, API docs, static files, ECharts -------------------------------------------


def test_the_login_page_lists_every_demo_login_in_demo_mode(settings, db):
    from pingan.demo.logins import DEMO_LOGINS, DEMO_PASSWORD

    settings.DEMO_MODE = True
    html = page(Client().get("/login/"))
    for username, role, _path in DEMO_LOGINS:
        assert f"<code>{username}</code>" in html and role in html
    assert {u for u, *_ in DEMO_LOGINS} >= {"admin", "chief1", "grid1", "leader1", "clerk1"}
    assert DEMO_PASSWORD in html


def test_the_login_page_lists_no_logins_outside_demo_mode(settings, db):
    settings.DEMO_MODE = False
    html = page(Client().get("/login/"))
    assert "commander" not in html and "pingan-demo" not in html


def test_api_docs_load_only_local_files(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = page(response)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui-bundle" in u for u in urls)
    assert all(u.startswith("/static/") for u in urls), urls
    assert "cdn" not in html and "http://" not in html and "https://" not in html


def test_collected_static_files_are_hashed_and_compressed(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "pingan.core.staticfiles.StaticStorage"},
    }
    assert static("pingan/app.css") == "/static/pingan/app.css"  # not collected yet
    call_command("collectstatic", interactive=False, verbosity=0)
    url = static("pingan/app.css")
    assert re.fullmatch(r"/static/pingan/app\.[0-9a-f]{12}\.css", url)
    assert (tmp_path / url.removeprefix("/static/")).with_suffix(".css.gz").exists()
    # A file added after collectstatic still gets a working (plain) URL.
    assert StaticStorage(location=tmp_path).stored_name("pingan/new.js") == "pingan/new.js"


def test_echarts_loads_only_on_the_pages_that_draw_charts(world):
    from pathlib import Path

    import pingan

    base = (Path(pingan.__file__).parent / "templates" / "base.html").read_text()
    assert "echarts" not in base
    client = Client()
    client.force_login(world.commander)
    for url in ("/console/", "/report/", "/console/disputes/"):
        assert "echarts" not in page(client.get(url)), url


def test_the_site_has_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")
    assert client.get(response["Location"]).status_code == 200
    assert 'rel="icon"' in client.get("/login/").content.decode()
