"""Units: created by the setup and the demo, put on and off duty and located by their
officers' phones."""

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock
from pingan.core.errors import Forbidden
from pingan.geo.location import normalise_location
from pingan.orgs.models import OrgUnit

from ..access import unit_for_user
from ..models import Unit


def _require_unit(user: User) -> Unit:
    unit = unit_for_user(user)
    if unit is None:
        raise Forbidden("您的账号未配置为警力单元")
    return unit


def set_duty(user: User, on_duty: bool) -> Unit:
    unit = _require_unit(user)
    with transaction.atomic():
        Unit.objects.filter(pk=unit.pk).update(on_duty=bool(on_duty))
    unit.on_duty = bool(on_duty)
    return unit


def update_position(user: User, lng, lat, crs: str = "wgs84", now=None) -> Unit:
    now = now or clock.now()
    unit = _require_unit(user)
    lng, lat = normalise_location(lng, lat, crs)
    Unit.objects.filter(pk=unit.pk).update(lng=lng, lat=lat, position_at=now)
    unit.lng, unit.lat, unit.position_at = lng, lat, now
    return unit


def create_unit(
    *, name: str, kind: str, org: OrgUnit, user: User | None = None, members=()
) -> Unit:
    with transaction.atomic():
        unit = Unit.objects.create(name=name, kind=kind, org=org, org_path=org.path, user=user)
        if members:
            unit.members.add(*members)
    return unit
