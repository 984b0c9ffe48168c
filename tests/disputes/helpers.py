"""Shared steps for the dispute tests."""

from pingan.disputes import services
from pingan.disputes.services import PartyInput


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
