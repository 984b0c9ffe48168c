"""Points for helping in a mediation: recorded by staff who can see the dispute, once per
person and session."""

from datetime import timedelta

import pytest

from pingan.core import clock
from pingan.core.errors import Conflict, Forbidden, NotFound, ServiceError
from pingan.disputes import services as disputes
from pingan.points import ledger, services
from pingan.points.models import PointEntry, PointRule, RuleCode
from tests.disputes.helpers import file

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(world):
    dispute = file(world)
    now = clock.now()
    return disputes.record_session(
        world.officer_a,
        dispute.code,
        held_at=now - timedelta(minutes=30),
        place="村委会",
        participants="双方当事人、网格员",
        outcome="agreed",
        now=now,
    )


def award(actor, session, helper):
    return services.award_mediation_help(
        actor, session.dispute.code, session_id=session.pk, helper=helper
    )


def test_staff_who_see_the_dispute_credit_a_helper(world, session):
    entry = award(world.worker_a, session, world.citizen)
    assert (entry.rule, entry.amount, entry.user) == (RuleCode.MEDIATION_HELP, 15, world.citizen)
    assert entry.source_ref == f"{session.dispute.code}#{session.pk}"
    assert entry.dedupe_key == f"mediation:{session.pk}:{world.citizen.pk}"
    assert (entry.org, entry.created_by) == (session.dispute.org, world.worker_a)
    assert ledger.balance(world.citizen) == 15


def test_recording_twice_credits_once(world, session):
    first = award(world.officer_a, session, world.volunteer)
    again = award(world.chief_a, session, world.volunteer)
    assert again.pk == first.pk
    assert ledger.balance(world.volunteer) == 15
    # Another helper in the same session is a separate act.
    award(world.officer_a, session, world.citizen)
    assert PointEntry.objects.count() == 2


@pytest.mark.parametrize("who", ["officer_b", "citizen2", "volunteer"])
def test_those_who_cannot_see_the_dispute_are_refused(world, session, who):
    with pytest.raises((NotFound, Forbidden)):
        award(getattr(world, who), session, world.citizen)
    assert not PointEntry.objects.exists()


def test_a_clerk_is_refused(world, session):
    from .helpers import make_clerk

    with pytest.raises(Forbidden):
        award(make_clerk(), session, world.citizen)


def test_session_must_belong_to_the_dispute(world, session):
    other = file(world, narrative="两户因排水沟争吵")
    for session_id in (999_999, 0, "1", None):
        with pytest.raises(NotFound):
            services.award_mediation_help(
                world.officer_a, session.dispute.code, session_id=session_id, helper=world.citizen
            )
    with pytest.raises(NotFound):
        services.award_mediation_help(
            world.officer_a, other.code, session_id=session.pk, helper=world.citizen
        )
    assert not PointEntry.objects.exists()


def test_helper_must_be_a_resident(world, session):
    for helper in (world.officer_a, world.aux_a, None):
        with pytest.raises(ServiceError) as exc:
            award(world.officer_a, session, helper)
        assert exc.value.code == "bad_helper"


def test_inactive_rule_is_a_clear_refusal(world, session):
    PointRule.objects.filter(code=RuleCode.MEDIATION_HELP).update(active=False)
    with pytest.raises(Conflict) as exc:
        award(world.officer_a, session, world.citizen)
    assert exc.value.code == "rule_inactive"


def test_find_resident_by_phone(world):
    from pingan.volunteers.models import VolunteerProfile

    world.citizen.phone = "+8613800138001"
    world.citizen.save()
    assert services.find_resident_by_phone("138 0013 8001") == world.citizen
    VolunteerProfile.objects.create(
        user=world.volunteer,
        real_name="赵志愿",
        phone="+8613900139009",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    assert services.find_resident_by_phone("+86 139 0013 9009") == world.volunteer
    world.officer_a.phone = "+8613700137007"
    world.officer_a.save()
    for phone, code in (
        ("13700137007", "unknown_helper"),
        ("12", "bad_phone"),
        ("", "phone_required"),
    ):
        with pytest.raises(ServiceError) as exc:
            services.find_resident_by_phone(phone)
        assert exc.value.code == code
    world.citizen2.phone = "+8613800138001"
    world.citizen2.save()
    with pytest.raises(ServiceError) as exc:
        services.find_resident_by_phone("13800138001")
    assert exc.value.code == "ambiguous_helper"
