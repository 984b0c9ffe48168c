"""Shared steps for the dispute tests."""

from pingan.disputes import services
from pingan.disputes.models import StatCell
from pingan.disputes.services import PartyInput
from pingan.disputes.stats import rebuild_stats


def two_neighbours(**extra):
    return [
        PartyInput(name="王大山", role="applicant", phone="13800138001", **extra),
        PartyInput(name="李小河", role="respondent", phone="13900139002"),
    ]


def file(world, *, user=None, narrative="两家因宅基地边界争吵", parties=None, **kwargs):
    kwargs.setdefault("type", "neighbour")
    kwargs.setdefault("channel", "cadre_grid")
    kwargs.setdefault("grid_code", world.grid_a.code)
    return services.file_dispute(
        user or world.worker_a,
        narrative=narrative,
        parties=parties if parties is not None else two_neighbours(),
        **kwargs,
    )


def stat_cells() -> list[tuple]:
    return sorted(
        StatCell.objects.exclude(total=0, settled=0, relapsed=0).values_list(
            "org_id", "month", "dimension", "value", "total", "settled", "relapsed"
        )
    )


def assert_stats_match_rebuild() -> None:
    """The cells kept step by step by the services must equal a rebuild from the disputes."""
    incremental = stat_cells()
    assert not StatCell.objects.filter(total__lt=0).exists()
    rebuild_stats()
    assert stat_cells() == incremental
