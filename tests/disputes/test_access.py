"""Who may see a dispute and its parties' personal data, and what a denied request leaves behind."""

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.accounts.models import Role, User
from pingan.accounts.roles import can_reveal
from pingan.audit.models import AuditEntry
from pingan.core.errors import Forbidden, NotFound
from pingan.disputes import services
from pingan.disputes.models import DisputeEvent
from pingan.orgs import services as orgs
from tests.conftest import GA1_CENTER, make_user, square

from .helpers import file, two_neighbours


@pytest.fixture
def people(world):
    """Everyone of the world plus the outsiders this module needs."""
    officer_a2 = make_user("officer_a2", Role.OFFICER, world.office_a)
    # A second grid of the same station, with its own officer.
    orgs.save_grid(
        code="GA2",
        name="西门社区",
        kind="urban_community",
        org=world.office_a,
        geometry=square(GA1_CENTER[0] + 0.05, GA1_CENTER[1]),
        officer=officer_a2,
    )
    admin = User.objects.create_superuser("root", password="x" * 12)
    return {
        "officer_a": world.officer_a,
        "aux_a": world.aux_a,
        "worker_a": world.worker_a,
        "chief_a": world.chief_a,
        "commander": world.commander,
        "admin": admin,
        "officer_a2": officer_a2,
        "officer_b": world.officer_b,
        "chief_b": make_user("chief_b", Role.COMMANDER, world.station_b),
        "citizen": world.citizen,
        "citizen2": world.citizen2,
        "volunteer": world.volunteer,
        "anonymous": AnonymousUser(),
    }


SEE_STAFF_DISPUTE = {"officer_a", "aux_a", "worker_a", "chief_a", "commander", "admin"}


@pytest.fixture
def dispute(world):
    # Filed by the commander so the grid's staff see it for being the grid's, not the filer.
    return file(world, user=world.commander)


def test_disputes_for_every_persona(world, people, dispute):
    assert dispute.owner == world.officer_a and dispute.filed_by == world.commander
    for name, user in people.items():
        visible = services.disputes_for(user).filter(pk=dispute.pk).exists()
        assert visible == (name in SEE_STAFF_DISPUTE), name
        if name not in SEE_STAFF_DISPUTE:
            with pytest.raises(NotFound):
                services.get_dispute_for(user, dispute.code)


def test_citizen_sees_only_their_own_request(world, people, dispute):
    mine = services.request_mediation(
        world.citizen,
        type="neighbour",
        narrative="邻居装修噪音",
        other_parties=[two_neighbours()[1]],
        grid_code=world.grid_a.code,
    )
    assert [d.code for d in services.disputes_for(world.citizen)] == [mine.code]
    assert list(services.disputes_for(world.citizen2)) == []
    assert list(services.disputes_for(world.volunteer)) == []
    # The grid's staff and the chain of command see the request too; other stations do not.
    for name in SEE_STAFF_DISPUTE:
        assert services.disputes_for(people[name]).filter(pk=mine.pk).exists(), name
    for name in ("officer_a2", "officer_b", "chief_b"):
        assert not services.disputes_for(people[name]).filter(pk=mine.pk).exists(), name


def test_filer_keeps_seeing_what_they_filed_in_another_grid_of_the_station(world, people):
    filed = file(world, user=people["officer_a2"])  # GA1, not their own grid
    assert filed.owner == world.officer_a
    assert services.get_dispute_for(people["officer_a2"], filed.code) == filed


def test_denied_actions_change_nothing(world, people, dispute):
    before = DisputeEvent.objects.count()
    for name in ("officer_a2", "officer_b", "chief_b", "citizen", "volunteer"):
        user = people[name]
        with pytest.raises((NotFound, Forbidden)):
            services.add_note(user, dispute.code, "越权记录")
        with pytest.raises((NotFound, Forbidden)):
            services.resolve(user, dispute.code, "越权化解")
        with pytest.raises((NotFound, Forbidden)):
            services.override_risk(user, dispute.code, "red", "越权调整")
    # A resident cannot work on their own request either: it is staff work.
    with pytest.raises(Forbidden):
        services.add_note(world.citizen, dispute.code, "我来记录")
    assert DisputeEvent.objects.count() == before
    dispute.refresh_from_db()
    assert dispute.status == "open" and dispute.risk == "green"


# --- the audited full view of parties -----------------------------------------------------------


@pytest.mark.parametrize("who", ["aux_a", "worker_a"])
def test_party_data_is_forbidden_to_auxiliaries_and_grid_workers(world, people, dispute, who):
    with pytest.raises(Forbidden):
        services.party_data_for(people[who], dispute.code, ip="10.1.2.3")
    # The refused look is on the record too.
    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.outcome, entry.actor) == (
        "view_personal_data",
        "denied",
        people[who],
    )
    assert entry.object_ref == dispute.code and entry.ip == "10.1.2.3"


@pytest.mark.parametrize("who", ["officer_a2", "officer_b", "chief_b", "citizen", "anonymous"])
def test_party_data_of_an_unseen_dispute_is_not_found(world, people, dispute, who):
    with pytest.raises(NotFound):
        services.party_data_for(people[who], dispute.code, ip="10.1.2.3")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("who", ["officer_a", "chief_a", "commander", "admin"])
def test_party_data_view_writes_exactly_one_audit_entry(world, people, dispute, who):
    user = people[who]
    parties = services.party_data_for(user, dispute.code, ip="10.1.2.3")
    assert [p.phone for p in parties] == ["+8613800138001", "+8613900139002"]
    [entry] = AuditEntry.objects.all()
    assert entry.actor == user and entry.actor_label == user.label
    assert entry.ip == "10.1.2.3"
    assert (entry.action, entry.object_type, entry.object_ref) == (
        "view_personal_data",
        "dispute",
        dispute.code,
    )
    assert entry.detail == {"parties": [p.pk for p in parties]}
    services.party_data_for(user, dispute.code)
    assert AuditEntry.objects.count() == 2  # every view, not the first only


def test_reveal_is_for_officers_and_commanders(world, people):
    allowed = {name for name, user in people.items() if can_reveal(user)}
    assert allowed == {
        "officer_a",
        "chief_a",
        "commander",
        "admin",
        "officer_a2",
        "officer_b",
        "chief_b",
    }


def test_audit_entries_refuse_update_and_delete(world, people, dispute):
    services.party_data_for(world.officer_a, dispute.code, ip="10.1.2.3")
    entry = AuditEntry.objects.get()
    entry.ip = "8.8.8.8"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()
    with pytest.raises(ValueError):
        AuditEntry.objects.filter(pk=entry.pk).update(ip="8.8.8.8")
    with pytest.raises(ValueError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.ip == "10.1.2.3"
    assert AuditEntry.objects.count() == 1
