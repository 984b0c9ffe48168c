"""Parties: adding one to an open dispute, and the unmasked data for those allowed to see it
(every look is audited).
"""

from django.db import transaction

from pingan.accounts.models import User
from pingan.accounts.roles import can_reveal, is_staff_viewer
from pingan.audit import services as audit
from pingan.audit.models import Action, Outcome
from pingan.core import clock
from pingan.core.errors import Forbidden, ServiceError

from ..access import get_dispute_for
from ..models import EventKind, Party
from ..stats import tracked
from ..validation import MAX_PARTIES, PartyInput, clean_party
from .guards import _lock, _require_open
from .risk_review import reassess
from .timeline import _event, _progress


def party_data_for(user: User, code: str, *, ip=None) -> list[Party]:
    """Unmasked parties, for those allowed; every call is written to the audit log, and so is
    every refused one."""
    dispute = get_dispute_for(user, code)
    if not is_staff_viewer(user) or not can_reveal(user):
        audit.record(
            user, Action.VIEW_PERSONAL_DATA, "dispute", dispute.code, ip=ip, outcome=Outcome.DENIED
        )
        raise Forbidden("只有民警和指挥员可以查看当事人完整信息")
    parties = list(dispute.parties.all())
    audit.record(
        user,
        Action.VIEW_PERSONAL_DATA,
        "dispute",
        dispute.code,
        detail={"parties": [p.pk for p in parties]},
        ip=ip,
    )
    return parties


@transaction.atomic
def add_party(user: User, code: str, party: PartyInput, now=None) -> Party:
    now = now or clock.now()
    dispute = _lock(user, code)
    _require_open(dispute)
    if dispute.parties.count() >= MAX_PARTIES:
        raise ServiceError("too_many_parties", f"当事人最多 {MAX_PARTIES} 位")
    row = clean_party(party, dispute.parties.count() + 1)
    row.dispute = dispute
    with tracked(dispute):
        row.save()
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.PARTY_ADDED,
            now,
            actor=user,
            message=f"增加当事人（{row.get_role_display()}）",  # the label: pages speak Chinese
        )
        reassess(dispute, now)
        dispute.save()
    return row
