"""One action turns an incident into a dispute, keeping the link both ways."""

import pytest

from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.disputes import services
from pingan.disputes.models import Channel, Dispute, DisputeEvent, EventKind, Party, Status
from pingan.incidents.models import EventKind as IncidentEventKind
from pingan.incidents.models import Incident, IncidentEvent
from tests.incidents.helpers import GB1_CENTER, report_at

from .helpers import assert_stats_match_rebuild, two_neighbours


@pytest.fixture
def incident(world):
    return report_at(
        description="两户村民因排水沟堵塞打架，已被劝开", address="东门社区 3 组"
    ).incident


def convert(user, incident, **kwargs):
    kwargs.setdefault("type", "neighbour")
    kwargs.setdefault("parties", two_neighbours())
    return services.convert_incident(user, incident.code, **kwargs)


def test_conversion_links_both_ways(world, incident):
    dispute = convert(world.officer_a, incident)
    assert dispute.incident == incident
    incident.refresh_from_db()
    assert incident.dispute == dispute
    assert dispute.channel == Channel.CASE
    assert dispute.status == Status.OPEN
    assert (dispute.grid, dispute.org, dispute.org_path) == (
        world.grid_a,
        world.office_a,
        world.office_a.path,
    )
    assert dispute.owner == world.officer_a
    assert dispute.filed_by == world.officer_a
    # The narrative and address default to the incident's.
    assert dispute.narrative == incident.description
    assert dispute.address == "东门社区 3 组"
    assert incident.code in dispute.source_note and incident.code in dispute.title
    [converted] = DisputeEvent.objects.filter(dispute=dispute, kind=EventKind.CONVERTED)
    assert converted.data == {"incident": incident.code}
    note = IncidentEvent.objects.get(incident=incident, kind=IncidentEventKind.NOTE)
    assert dispute.code in note.message
    assert note.data == {"dispute": dispute.code}
    assert note.actor == world.officer_a
    assert_stats_match_rebuild()


def test_conversion_may_override_narrative_and_title(world, incident):
    dispute = convert(world.aux_a, incident, narrative="双方因排水沟扬言要拼命", title="排水沟纠纷")
    assert dispute.title == "排水沟纠纷"
    assert dispute.narrative == "双方因排水沟扬言要拼命"
    assert dispute.risk == "red"  # the rules run on converted disputes too


def test_second_conversion_is_a_conflict(world, incident):
    first = convert(world.officer_a, incident)
    with pytest.raises(Conflict) as caught:
        convert(world.chief_a, incident, type="debt")
    assert caught.value.code == "already_converted"
    assert first.code in caught.value.message
    assert Dispute.objects.count() == 1
    assert IncidentEvent.objects.filter(incident=incident, kind="note").count() == 1


def test_incident_outside_the_users_scope_is_not_found(world):
    other = report_at(GB1_CENTER, description="泉江村两户因鱼塘争吵").incident
    for user in (world.officer_a, world.worker_a, world.chief_a):
        with pytest.raises(NotFound):
            convert(user, other)
    assert not Dispute.objects.exists()
    assert not IncidentEvent.objects.filter(incident=other, kind="note").exists()


def test_unknown_incident_is_not_found(world):
    with pytest.raises(NotFound):
        services.convert_incident(
            world.officer_a, "JQ19700101-000001", type="neighbour", parties=two_neighbours()
        )


@pytest.mark.parametrize("who", ["citizen", "volunteer"])
def test_residents_cannot_convert(world, incident, who):
    with pytest.raises(Forbidden):
        convert(getattr(world, who), incident)
    assert not Dispute.objects.exists()


def test_incident_without_a_grid_cannot_be_converted(world, incident):
    Incident.objects.filter(pk=incident.pk).update(grid=None)
    with pytest.raises(ServiceError) as caught:
        convert(world.officer_a, incident)
    assert caught.value.code == "no_grid"
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type": "brawl"}, "bad_type"),
        ({"parties": []}, "parties_required"),
        ({"parties": [services.PartyInput(name="")]}, "name_required"),
        ({"parties": [services.PartyInput(name="张三", phone="12")]}, "bad_phone"),
    ],
)
def test_bad_conversion_input_changes_nothing(world, incident, kwargs, code):
    with pytest.raises(ServiceError) as caught:
        convert(world.officer_a, incident, **kwargs)
    assert caught.value.code == code
    assert not Dispute.objects.exists() and not Party.objects.exists()
    assert not IncidentEvent.objects.filter(incident=incident, kind="note").exists()
    # The incident is still free to be converted properly.
    assert convert(world.officer_a, incident).incident == incident
