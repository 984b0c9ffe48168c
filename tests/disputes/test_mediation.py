"""Mediation sessions, agreements (调解协议书) and who signed them when."""

import re
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from pingan.core import clock
from pingan.core.errors import Conflict, NotFound, ServiceError
from pingan.disputes import services
from pingan.disputes.models import Agreement, DisputeEvent, EventKind, Signature
from pingan.disputes.services import PartyInput
from pingan.notify.models import OutboundMessage

from .helpers import assert_stats_match_rebuild, file, two_neighbours

HOUR = timedelta(hours=1)


@pytest.fixture
def dispute(world):
    return file(world)


@pytest.fixture
def other(world):
    return file(world, narrative="另一起债务纠纷", type="debt", parties=[PartyInput(name="赵某")])


def session(user, dispute, **kwargs):
    kwargs.setdefault("held_at", clock.now() - HOUR)
    kwargs.setdefault("place", "东门警务室")
    kwargs.setdefault("participants", "王大山、李小河、陈调解员")
    kwargs.setdefault("outcome", "agreed")
    return services.record_session(user, dispute.code, **kwargs)


def agreement(user, dispute, **kwargs):
    kwargs.setdefault("facts", "双方因宅基地边界发生争执")
    kwargs.setdefault("terms", "以原界桩为准，双方互不侵占")
    kwargs.setdefault("mediator_body", "东门社区人民调解委员会")
    return services.draft_agreement(user, dispute.code, **kwargs)


def test_session_is_recorded_with_date_place_participants_outcome(world, dispute):
    held = clock.now() - 2 * HOUR
    recorded = session(world.aux_a, dispute, held_at=held, notes="双方各让一步")
    assert (recorded.held_at, recorded.place, recorded.outcome) == (held, "东门警务室", "agreed")
    assert recorded.mediator == world.aux_a
    event = DisputeEvent.objects.get(dispute=dispute, kind=EventKind.SESSION)
    assert event.public and event.data == {"session": recorded.pk, "outcome": "agreed"}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"held_at": clock.now() + timedelta(days=1)}, "bad_held_at"),
        ({"held_at": None}, "bad_held_at"),
        ({"held_at": clock.now() - timedelta(days=30)}, "bad_held_at"),
        ({"place": " "}, "place_required"),
        ({"participants": ""}, "participants_required"),
        ({"outcome": "won"}, "bad_outcome"),
    ],
)
def test_bad_session_is_refused(world, dispute, kwargs, code):
    with pytest.raises(ServiceError) as caught:
        session(world.officer_a, dispute, **kwargs)
    assert caught.value.code == code
    assert not dispute.sessions.exists()
    assert not DisputeEvent.objects.filter(dispute=dispute, kind=EventKind.SESSION).exists()


def test_session_on_a_pending_request_must_wait_for_acceptance(world):
    request = services.request_mediation(
        world.citizen,
        type="neighbour",
        narrative="楼上漏水",
        other_parties=[],
        grid_code=world.grid_a.code,
    )
    with pytest.raises(Conflict) as caught:
        session(world.officer_a, request)
    assert caught.value.code == "dispute_pending"


def test_agreement_numbers_are_unique(world, dispute, other):
    numbers = [agreement(world.officer_a, dispute).number for _ in range(3)]
    numbers.append(agreement(world.officer_a, other).number)
    assert len(set(numbers)) == 4
    assert all(re.fullmatch(r"TJ\d{8}-\d{6}", n) for n in numbers)
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.create(
            dispute=dispute,
            number=numbers[0],
            facts="重复",
            terms="重复",
            mediator_body="某",
            created_at=clock.now(),
        )


def test_agreement_with_a_session_of_another_dispute_is_refused(world, dispute, other):
    foreign = session(world.officer_a, other)
    with pytest.raises(ServiceError) as caught:
        agreement(world.officer_a, dispute, session_id=foreign.pk)
    assert caught.value.code == "unknown_session"
    assert not Agreement.objects.exists()


def test_parties_sign_once_each(world, dispute):
    paper = agreement(world.officer_a, dispute, session_id=session(world.officer_a, dispute).pk)
    wang, li = dispute.parties.all()
    signed = services.sign_agreement(world.officer_a, paper.number, role="party", party_id=wang.pk)
    assert (signed.name, signed.party, signed.recorded_by) == ("王大山", wang, world.officer_a)
    with pytest.raises(Conflict) as caught:
        services.sign_agreement(world.aux_a, paper.number, role="party", party_id=wang.pk)
    assert caught.value.code == "already_signed"
    services.sign_agreement(world.officer_a, paper.number, role="party", party_id=li.pk)
    services.sign_agreement(world.officer_a, paper.number, role="mediator", name="陈调解员")
    assert list(paper.signatures.values_list("name", flat=True)) == ["王大山", "李小河", "陈调解员"]
    assert DisputeEvent.objects.filter(dispute=dispute, kind=EventKind.SIGNED).count() == 3
    # The same party may sign a second agreement of the same dispute.
    second = agreement(world.officer_a, dispute, terms="补充协议")
    services.sign_agreement(world.officer_a, second.number, role="party", party_id=wang.pk)
    assert_stats_match_rebuild()


def test_a_party_of_another_dispute_cannot_sign(world, dispute, other):
    paper = agreement(world.officer_a, dispute)
    stranger = other.parties.get()
    for party_id in (stranger.pk, None, 999999):
        with pytest.raises(ServiceError) as caught:
            services.sign_agreement(world.officer_a, paper.number, role="party", party_id=party_id)
        assert caught.value.code == "unknown_party"
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("role", "name", "code"), [("boss", "某", "bad_signer_role"), ("witness", " ", "name_required")]
)
def test_bad_signature_is_refused(world, dispute, role, name, code):
    paper = agreement(world.officer_a, dispute)
    with pytest.raises(ServiceError) as caught:
        services.sign_agreement(world.officer_a, paper.number, role=role, name=name)
    assert caught.value.code == code
    assert not Signature.objects.exists()


def test_outsiders_cannot_see_or_sign_agreements(world, dispute):
    paper = agreement(world.officer_a, dispute)
    wang = dispute.parties.first()
    for outsider in (world.officer_b, world.citizen):
        with pytest.raises(NotFound):
            services.get_agreement_for(outsider, paper.number)
        with pytest.raises(NotFound):
            services.sign_agreement(outsider, paper.number, role="party", party_id=wang.pk)
    assert services.get_agreement_for(world.chief_a, paper.number) == paper
    assert not Signature.objects.exists()


def test_bad_agreement_text_is_refused(world, dispute):
    for kwargs, code in (
        ({"facts": ""}, "facts_required"),
        ({"terms": "  "}, "terms_required"),
        ({"mediator_body": ""}, "mediator_body_required"),
        ({"terms": "条" * 5001}, "terms_too_long"),
    ):
        with pytest.raises(ServiceError) as caught:
            agreement(world.officer_a, dispute, **kwargs)
        assert caught.value.code == code
    assert not Agreement.objects.exists()


def test_mediation_steps_reach_parties_who_opted_in(world):
    dispute = file(world, parties=two_neighbours(notify=True))
    session(world.officer_a, dispute, outcome="adjourned")
    texts = list(
        OutboundMessage.objects.filter(phone="+8613800138001").values_list("text", flat=True)
    )
    assert any("择期再调" in text for text in texts)
    assert not OutboundMessage.objects.filter(phone="+8613900139002").exists()
