"""The client's address: X-Forwarded-For is believed only from TRUSTED_PROXIES, and then its
rightmost hop that is not one of them, for the audit log and the anonymous report quota alike."""

import pytest
from django.test import Client, RequestFactory

from pingan.audit.models import AuditEntry
from pingan.audit.services import client_ip as audit_client_ip
from pingan.core.clientip import client_ip
from pingan.incidents.models import Incident
from tests.incidents.test_report_api import body, post


def ip(settings_proxies, settings, **meta):
    settings.TRUSTED_PROXIES = settings_proxies
    return client_ip(RequestFactory().get("/", **meta))


SPOOF = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.66, 127.0.0.1"}
VIA_NGINX = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.66, 198.51.100.9"}


@pytest.mark.parametrize(
    ("proxies", "meta", "expected"),
    [
        # Nobody trusted (the default): the header is ignored whoever sends it.
        ([], SPOOF, "198.51.100.9"),
        ([], VIA_NGINX, "127.0.0.1"),
        # A client that is not a proxy cannot choose its address.
        (["127.0.0.1"], SPOOF, "198.51.100.9"),
        # Through the proxy: the hop it appended, not what the client wrote before it.
        (["127.0.0.1"], VIA_NGINX, "198.51.100.9"),
        (["127.0.0.0/8"], VIA_NGINX, "198.51.100.9"),
        # Two proxies: skip both.
        (
            ["127.0.0.1", "10.0.0.0/8"],
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.9, 10.1.1.1"},
            "198.51.100.9",
        ),
        # Garbage in the header: stop at the last address a proxy vouched for.
        (
            ["127.0.0.1"],
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.9, nonsense"},
            "127.0.0.1",
        ),
        (["::1"], {"REMOTE_ADDR": "::1", "HTTP_X_FORWARDED_FOR": "2001:db8::5"}, "2001:db8::5"),
        ([], {"REMOTE_ADDR": ""}, None),
    ],
)
def test_client_ip(settings, proxies, meta, expected):
    assert ip(proxies, settings, **meta) == expected


@pytest.mark.django_db
def test_audit_log_records_no_spoofed_address(world, settings):
    """security.md F5: a reveal sent with a forged header was logged with the forged address."""
    from tests.disputes.test_pages import red

    settings.TRUSTED_PROXIES = []
    assert audit_client_ip(RequestFactory().get("/", **SPOOF)) == "198.51.100.9"
    dispute = red(world)
    client = Client()
    client.force_login(world.officer_a)
    assert client.post(f"/disputes/{dispute.code}/reveal/", **SPOOF).status_code == 200
    entry = AuditEntry.objects.get(action="view_personal_data")
    assert entry.ip == "198.51.100.9"
    # Behind a configured proxy the hop it appended is recorded.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    client.post(f"/disputes/{dispute.code}/reveal/", **VIA_NGINX)
    assert AuditEntry.objects.filter(action="view_personal_data").latest("pk").ip == "198.51.100.9"


@pytest.mark.django_db
def test_quota_follows_the_trusted_proxys_client(world, settings):
    settings.ANON_REPORTS_PER_HOUR = 1
    categories = iter(("020100", "050100", "070100", "030100"))

    def anon(forwarded):
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        return post(client, body(category=next(categories))).status_code

    # Untrusted: distinct headers are one client, and the quota holds.
    settings.TRUSTED_PROXIES = []
    assert [anon("10.0.0.1"), anon("10.0.0.2")] == [201, 429]
    # Behind a trusted proxy every resident has an own quota.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert [anon("10.0.0.3"), anon("10.0.0.4")] == [201, 201]
    assert Incident.objects.count() == 3
