"""The periodic points work: the sweep, its command, and its place in the background sweeper."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from pingan.core import background, clock
from pingan.incidents import services as incidents
from pingan.points import ledger, services
from pingan.points.models import OrderStatus
from tests.incidents.helpers import report_at

from .helpers import give_points

pytestmark = pytest.mark.django_db


def test_sweep_does_all_the_periodic_work(world, shops):
    give_points(world.volunteer, 50)
    order = services.redeem(world.volunteer, shops.item.pk, now=clock.now() - timedelta(days=31))
    incident = report_at(reporter=world.citizen).incident
    incidents.resolve(incident.code, world.commander, outcome="arrest")
    assert services.sweep() == {"orders_expired": 1, "tip_entries": 2, "points_expired": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.EXPIRED
    assert ledger.balance(world.volunteer) == 50
    assert ledger.balance(world.citizen) == 120
    assert services.sweep() == {"orders_expired": 0, "tip_entries": 0, "points_expired": 0}


def test_one_failing_part_does_not_stop_the_others(world, monkeypatch, caplog):
    def boom(now):
        raise RuntimeError("down")

    monkeypatch.setattr(services, "expire_orders", boom)
    result = services.sweep()
    assert result["orders_expired"] is None and result["tip_entries"] == 0
    assert "points sweep" in caplog.text


def test_command(world, shops):
    give_points(world.volunteer, 50)
    services.redeem(world.volunteer, shops.item.pk, now=clock.now() - timedelta(days=40))
    out = StringIO()
    call_command("points_sweep", "--only", "tips", stdout=out)
    assert "线索积分流水：0" in out.getvalue()
    out = StringIO()
    call_command("points_sweep", stdout=out)
    assert "逾期未核销订单：1" in out.getvalue()
    assert ledger.balance(world.volunteer) == 50


def test_the_background_sweeper_runs_the_points_sweep(world, monkeypatch):
    stop = threading.Event()
    ran = []

    def points_sweep():
        ran.append("points")
        stop.set()

    # The sweeper runs the management commands (pingan/core/periodic.py), which call these.
    monkeypatch.setattr("pingan.core.periodic.close_old_connections", lambda: None)
    monkeypatch.setattr("pingan.incidents.services.sweep", lambda: None)
    monkeypatch.setattr("pingan.disputes.services.sweep", lambda: ran.append("disputes"))
    monkeypatch.setattr(
        "pingan.notify.services.retry_queued", lambda **kwargs: ran.append("messages")
    )
    monkeypatch.setattr("pingan.points.services.sweep", points_sweep)
    background._sweeper(stop, 0.001)
    assert ran == ["disputes", "points", "messages"]
