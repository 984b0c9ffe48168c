"""Read helpers shared by the API and the pages: list filters and masked party data."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q

from pingan.core import clock
from pingan.core.errors import ServiceError
from pingan.core.masking import mask_id_number, mask_name, mask_phone

from .models import Channel, DisputeType, Party, PartyKind, Risk, Route, Status

BOARD_COLUMNS = (Risk.RED, Risk.YELLOW, Risk.GREEN)


@dataclass
class DisputeFilters:
    risk: str = ""
    status: str = ""
    type: str = ""
    channel: str = ""
    route: str = ""
    grid: str = ""
    min_age_days: int | None = None
    max_age_days: int | None = None
    q: str = ""
    open_only: bool = False


def _check_choice(value: str, choices, field: str, label: str, extra=()) -> None:
    if value and value not in (*choices.values, *extra):
        raise ServiceError("invalid_filter", f"{label}无效：{value}", details={"field": field})


def validate_filters(f: DisputeFilters) -> DisputeFilters:
    _check_choice(f.risk, Risk, "risk", "风险等级")
    _check_choice(f.status, Status, "status", "状态", extra=("open_all",))
    _check_choice(f.type, DisputeType, "type", "纠纷类型")
    _check_choice(f.channel, Channel, "channel", "排查渠道")
    _check_choice(f.route, Route, "route", "化解途径", extra=("none",))
    for name in ("min_age_days", "max_age_days"):
        value = getattr(f, name)
        if value is not None and not (0 <= value <= 3650):
            raise ServiceError(
                "invalid_filter", "天数必须在 0 到 3650 之间", details={"field": name}
            )
    f.q = (f.q or "").strip()[:50]
    return f


def filter_disputes(qs, f: DisputeFilters, now=None):
    """Apply validated filters to an already scoped queryset (see services.disputes_for)."""
    f = validate_filters(f)
    now = now or clock.now()
    if f.risk:
        qs = qs.filter(risk=f.risk)
    if f.status == "open_all" or f.open_only:
        qs = qs.filter(status__in=(Status.PENDING, Status.OPEN))
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.type:
        qs = qs.filter(type=f.type)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.route == "none":
        qs = qs.filter(route="")
    elif f.route:
        qs = qs.filter(route=f.route)
    if f.grid:
        qs = qs.filter(grid__code=f.grid)
    # Age: days since the dispute was registered.
    if f.min_age_days is not None:
        qs = qs.filter(reported_at__lte=now - timedelta(days=f.min_age_days))
    if f.max_age_days is not None:
        qs = qs.filter(reported_at__gte=now - timedelta(days=f.max_age_days))
    if f.q:
        qs = qs.filter(Q(code__icontains=f.q) | Q(title__icontains=f.q))
    return qs


def masked_party(party: Party, *, mask_names: bool = True) -> dict:
    """A party as lists and the default detail view show it: contact data (ID number, phone,
    address) masked on the server. Staff working the case see names; residents and lists
    see a person's surname only."""
    person = party.kind == PartyKind.PERSON and mask_names
    return {
        "id": party.pk,
        "kind": party.kind,
        "kind_label": party.get_kind_display(),
        "role": party.role,
        "role_label": party.get_role_display(),
        "name": mask_name(party.name) if person else party.name,
        "id_number": mask_id_number(party.id_number),
        "phone": mask_phone(party.phone),
        "address": "已登记" if party.address else "",
        "vulnerability": party.vulnerability,
        "vulnerability_label": party.get_vulnerability_display() if party.vulnerability else "",
        "notify": party.notify,
    }


def full_party(party: Party) -> dict:
    """Unmasked: only ever built after services.party_data_for has audited the view."""
    data = masked_party(party, mask_names=False)
    data.update(
        name=party.name, id_number=party.id_number, phone=party.phone, address=party.address
    )
    return data


def age_days(dispute, now=None) -> int:
    now = now or clock.now()
    return max(0, int((now - dispute.reported_at).total_seconds() // 86400))
