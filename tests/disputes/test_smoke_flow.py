"""The whole walk of one dispute through the services, end to end."""

from datetime import timedelta

from pingan.core import clock
from pingan.disputes import services
from pingan.disputes.models import Risk, StatCell, Status
from pingan.disputes.stats import rebuild_stats

from .helpers import file


def _cells():
    return sorted(
        StatCell.objects.filter(total__gt=0).values_list(
            "org_id", "month", "dimension", "value", "total", "settled", "relapsed"
        )
    )


def test_filed_resolved_visited_closed(world):
    dispute = file(world, narrative="两家因宅基地边界争吵，王某扬言要砍死对方")
    assert dispute.risk == Risk.RED
    assert dispute.code.startswith("JF")
    assert dispute.owner == world.officer_a
    assert any(r["rule"] == "threat-violence" for r in dispute.risk_reasons)
    services.set_route(
        world.officer_a,
        dispute.code,
        route="judicial",
        body_kind="mediation_committee",
        body_name="东门社区人民调解委员会",
        contact_name="陈调解",
        contact_phone="13700137000",
    )
    now = clock.now()
    session = services.record_session(
        world.officer_a,
        dispute.code,
        held_at=now - timedelta(hours=1),
        place="东门警务室",
        participants="王大山、李小河、陈调解",
        outcome="agreed",
    )
    agreement = services.draft_agreement(
        world.officer_a,
        dispute.code,
        facts="宅基地边界争议",
        terms="以原界桩为准，双方互不侵占",
        mediator_body="东门社区人民调解委员会",
        session_id=session.pk,
    )
    for party in dispute.parties.all():
        services.sign_agreement(world.officer_a, agreement.number, role="party", party_id=party.pk)
    services.resolve(world.officer_a, dispute.code, "双方签订协议")
    dispute.refresh_from_db()
    assert dispute.status == Status.RESOLVED
    assert dispute.visits.count() == 2
    services.record_visit(world.officer_a, dispute.code, holds=True, note="稳定")
    services.record_visit(world.officer_a, dispute.code, holds=True, note="稳定")
    dispute.refresh_from_db()
    assert dispute.status == Status.CLOSED
    incremental = _cells()
    rebuild_stats()
    assert _cells() == incremental
