"""Likely duplicates: close in place and time, same category → linked, not dispatched twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.incidents import services
from pingan.incidents.models import Assignment, EventKind, Incident, Status
from tests.incidents.helpers import report_at

pytestmark = pytest.mark.django_db

M = 1 / 111_320  # one metre of latitude in degrees


def test_second_report_nearby_is_linked_and_not_dispatched(world):
    first = report_at().incident
    second = report_at(dlat=50 * M).incident
    assert second.duplicate_of == first
    assert Assignment.objects.count() == 1
    assert second.events.filter(kind=EventKind.LINKED_DUPLICATE).exists()
    assert first.events.filter(kind=EventKind.DUPLICATE_REPORTED).exists()


@pytest.mark.parametrize("change", ["far", "late", "other_category", "first_closed"])
def test_not_a_duplicate(world, change):
    now = timezone.now()
    first = report_at(now=now).incident
    kwargs = {"now": now + timedelta(minutes=5)}
    if change == "far":
        kwargs["dlat"] = 150 * M
    elif change == "late":
        kwargs["now"] = now + timedelta(minutes=31)
    elif change == "other_category":
        kwargs["category"] = "050100"
    else:
        services.resolve(first.code, world.commander, outcome="handled_on_site")
    second = report_at(**kwargs).incident
    assert second.duplicate_of is None


def test_merge_closes_the_duplicate_into_the_original(world):
    first = report_at().incident
    other = report_at(dlat=500 * M, category="020100").incident  # too far: separate incident
    services.merge(other.code, first.code, world.commander)
    other.refresh_from_db()
    assert other.status == Status.MERGED and other.duplicate_of == first
    assert other.valid is False
    # Its unit was released.
    assert not other.assignments.filter(status__in=("offered", "accepted")).exists()
    with pytest.raises(Conflict):
        services.merge(other.code, first.code, world.commander)
    with pytest.raises(ServiceError):
        services.merge(first.code, first.code, world.commander)
    with pytest.raises(Forbidden):
        services.merge(first.code, other.code, world.officer_a)


def test_split_makes_it_an_incident_of_its_own_and_dispatches(world):
    first = report_at().incident
    dup = report_at(dlat=20 * M).incident
    assignment = services.split(dup.code, world.commander)
    dup.refresh_from_db()
    assert dup.duplicate_of is None
    assert assignment is not None and assignment.unit != first.assignments.get().unit
    assert dup.status == Status.DISPATCHED
    with pytest.raises(Conflict):
        services.split(dup.code, world.commander)


def test_resolving_the_original_closes_its_duplicates(world):
    first = report_at().incident
    dup = report_at(dlat=20 * M).incident
    services.resolve(first.code, world.commander, outcome="handled_on_site")
    assert Incident.objects.get(pk=dup.pk).status == Status.MERGED


def test_console_shows_duplicates_and_merges_through_the_page(world):
    from django.test import Client

    first = report_at().incident
    other = report_at(dlat=500 * M).incident
    client = Client()
    client.force_login(world.commander)
    page = client.get(f"/console/incidents/{first.code}/")
    assert page.status_code == 200
    response = client.post(f"/console/incidents/{other.code}/merge/", {"into": first.code})
    assert response.status_code == 302
    assert Incident.objects.get(pk=other.pk).status == Status.MERGED
    bad = client.post(f"/console/incidents/{first.code}/merge/", {"into": "JQ-NOPE"}, follow=True)
    assert "未找到" in bad.content.decode()
