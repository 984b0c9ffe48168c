from datetime import timedelta

from django.utils import timezone

from pingan.incidents import services
from pingan.incidents.models import Unit
from tests.conftest import GA1_CENTER, GB1_CENTER


def report_at(
    center=GA1_CENTER, *, dlng=0.0, dlat=0.0, category="020100", reporter=None, now=None, **kwargs
):
    return services.report(
        category_code=category,
        description=kwargs.pop("description", "有人打架"),
        lng=center[0] + dlng,
        lat=center[1] + dlat,
        reporter=reporter,
        now=now,
        client_key=kwargs.pop("client_key", "test"),
        **kwargs,
    )


def busy(unit: Unit):
    """Make a unit look busy without an incident of its own: take it off duty."""
    Unit.objects.filter(pk=unit.pk).update(on_duty=False)


def stale(unit: Unit, minutes=60):
    Unit.objects.filter(pk=unit.pk).update(position_at=timezone.now() - timedelta(minutes=minutes))


__all__ = ["report_at", "busy", "stale", "GA1_CENTER", "GB1_CENTER"]
