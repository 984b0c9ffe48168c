"""Fixtures for the volunteer tests: a team of station A with two volunteers, a channel layer
to listen on, and the texts the services queued."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from .helpers import make_resident, make_team


@pytest.fixture
def crew(world):
    """A team of office A (no approval needed) with two active volunteers, and a citizen with
    a profile who is in no team."""
    v1 = make_resident("v1", real_name="张伟", phone="13800138001")
    v2 = make_resident("v2", real_name="李娜", phone="13800138002")
    outsider = make_resident("loner", real_name="王芳", phone="13800138009")
    team = make_team(world, members=[v1, v2])
    return type("Crew", (), {"team": team, "v1": v1, "v2": v2, "loner": outsider})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def layer():
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield layer
    async_to_sync(layer.flush)()
