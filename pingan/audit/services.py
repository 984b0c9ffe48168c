"""Write audit entries, and find them. Called by every service that shows or changes protected
data; the chain's verification and the archive are in integrity.py."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Q

from pingan.core import clock
from pingan.core.clientip import client_ip as core_client_ip

from . import chain, context
from .models import Action, AuditEntry, ChainHead, Checkpoint, Outcome

_clean = chain.storable_text


def client_ip(request) -> str | None:
    # X-Forwarded-For only from TRUSTED_PROXIES, and its rightmost untrusted hop.
    return core_client_ip(request)


def _person(actor):
    """The account behind `actor`, or None (nobody, an anonymous visitor)."""
    if actor is None or not getattr(actor, "pk", None):
        return None
    return actor


def _locked_head() -> ChainHead:
    """The chain's head row, locked until the transaction ends: writers queue here. Made on the
    first entry (or after a flush) from the last entry or archive checkpoint there is."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    seq, mac = 0, chain.GENESIS
    last = AuditEntry.objects.order_by("-seq").values("seq", "mac").first()
    checkpoint = (
        Checkpoint.objects.order_by("-through_seq").values("through_seq", "through_mac").first()
    )
    if checkpoint is not None:
        seq, mac = checkpoint["through_seq"], checkpoint["through_mac"]
    if last is not None and last["seq"] > seq:
        seq, mac = last["seq"], last["mac"]
    ChainHead.objects.bulk_create([ChainHead(pk=1, seq=seq, mac=mac)], ignore_conflicts=True)
    return ChainHead.objects.select_for_update().get(pk=1)


def record(
    actor,
    action: str,
    object_type: str,
    object_ref,
    *,
    detail=None,
    ip=None,
    request=None,
    outcome: str = Outcome.SUCCESS,
) -> AuditEntry:
    """Append one entry to the chain.

    actor    the account that acted (None: the system, or nobody signed in); with `request`
             and no actor, the request's user
    action   an `Action` (other short names are kept as given)
    detail   a small JSON-able dict: what was looked at, the filters of an export …
             never a password, a code or the personal data itself
    ip       the client's address; by default the request's (`request`, or the request being
             served, see context.py), through TRUSTED_PROXIES only
    outcome  Outcome.SUCCESS, DENIED (refused by a permission) or FAILED
    """
    state = context.current()
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    person = _person(actor)
    source = request if request is not None else (state.request if state else None)
    if ip is None and source is not None:
        ip = client_ip(source)
    values = {
        "actor_id": person.pk if person else None,
        "actor_label": _clean(str(getattr(person, "label", person)))[:150] if person else "",
        "action": _clean(str(action))[:48],
        "object_type": _clean(str(object_type))[:48],
        "object_ref": _clean(str(object_ref))[:64],
        "detail": chain.normal_detail(detail),
        "ip": chain.normal_ip(ip),
        "outcome": str(outcome),
    }
    key_id, key = chain.current_key()
    with transaction.atomic():
        head = _locked_head()
        values.update(seq=head.seq + 1, at=clock.now(), key_id=key_id, prev_mac=head.mac)
        mac = chain.compute_mac(values, key)
        entry = AuditEntry(mac=mac, **values)
        entry.save()
        ChainHead.objects.filter(pk=1).update(seq=values["seq"], mac=mac)
    if state is not None:
        state.recorded.add((values["action"], values["object_type"], values["object_ref"]))
    return entry


def recorded_in_this_request(action: str, object_type: str, object_ref) -> bool:
    state = context.current()
    key = (action, object_type, _clean(str(object_ref))[:64])
    return state is not None and key in state.recorded


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """The audit administrator's search; every field optional."""

    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""  # user name or name shown, or part of it
    action: str = ""
    object: str = ""  # object reference, or object type
    ip: str = ""
    outcome: str = ""

    def as_detail(self) -> dict:
        """The filters as they go into the audit entry of the search itself."""
        out = {}
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        for name in ("actor", "action", "object", "ip", "outcome"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


def search(filters: Search):
    """Entries matching the filters, newest first."""
    qs = AuditEntry.objects.all()
    if filters.since is not None:
        qs = qs.filter(at__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(at__lte=filters.until)
    if filters.actor:
        qs = qs.filter(
            Q(actor__username=filters.actor)
            | Q(actor_label__icontains=filters.actor)
            | Q(object_type="account", object_ref=filters.actor, actor__isnull=True)
        )
    if filters.action:
        qs = qs.filter(action=filters.action)
    if filters.object:
        qs = qs.filter(Q(object_ref__icontains=filters.object) | Q(object_type=filters.object))
    if filters.ip:
        qs = qs.filter(ip=filters.ip)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    return qs.order_by("-seq")


def entry_by_seq(seq: int) -> AuditEntry | None:
    return AuditEntry.objects.select_related("actor").filter(seq=seq).first()


def action_label(action: str) -> str:
    try:
        return Action(action).label
    except ValueError:
        return action
