"""Mediation: the sessions held, the written agreement, and who signed the paper copy."""

from datetime import timedelta

from django.db import transaction

from pingan.accounts.models import User
from pingan.core import clock, sequences
from pingan.core.errors import Conflict, NotFound, ServiceError
from pingan.core.validation import clean_text

from ..access import disputes_for
from ..models import (
    Agreement,
    EventKind,
    MediationSession,
    Party,
    SessionOutcome,
    Signature,
    SignerRole,
)
from ..stats import tracked
from .guards import _lock, _require_accepted
from .risk_review import reassess
from .timeline import _event, _progress, _tell_parties


@transaction.atomic
def record_session(
    user: User,
    code: str,
    *,
    held_at,
    place: str,
    participants: str,
    outcome: str,
    notes: str = "",
    now=None,
) -> MediationSession:
    now = now or clock.now()
    place = clean_text(place, field="place", label="调解地点", max_len=100)
    participants = clean_text(participants, field="participants", label="参加人员", max_len=500)
    notes = clean_text(notes, field="notes", label="调解经过", max_len=5000, required=False)
    if outcome not in SessionOutcome.values:
        raise ServiceError("bad_outcome", "调解结果只能是 agreed、partial、adjourned 或 failed")
    if held_at is None or held_at > now + timedelta(minutes=5):
        raise ServiceError("bad_held_at", "调解时间不能晚于现在（请在调解后记录）")
    dispute = _lock(user, code)
    _require_accepted(dispute)
    if held_at < dispute.reported_at - timedelta(days=1):
        raise ServiceError("bad_held_at", "调解时间不能早于纠纷登记时间")
    session = MediationSession.objects.create(
        dispute=dispute,
        held_at=held_at,
        place=place,
        participants=participants,
        mediator=user,
        outcome=outcome,
        notes=notes,
        recorded_at=now,
    )
    with tracked(dispute):
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.SESSION,
            now,
            actor=user,
            message=f"{place}调解：{SessionOutcome(outcome).label}",
            data={"session": session.pk, "outcome": outcome},
            public=True,
        )
        reassess(dispute, now)
        dispute.save()
    _tell_parties(
        dispute,
        f"您的纠纷（{dispute.code}）已在{place}调解，结果：{SessionOutcome(outcome).label}。",
    )
    return session


@transaction.atomic
def draft_agreement(
    user: User,
    code: str,
    *,
    facts: str,
    terms: str,
    mediator_body: str,
    performance: str = "",
    session_id: int | None = None,
    now=None,
) -> Agreement:
    now = now or clock.now()
    facts = clean_text(facts, field="facts", label="纠纷主要事实", max_len=5000)
    terms = clean_text(terms, field="terms", label="协议内容", max_len=5000)
    mediator_body = clean_text(mediator_body, field="mediator_body", label="调解组织", max_len=100)
    performance = clean_text(
        performance, field="performance", label="履行方式与期限", max_len=500, required=False
    )
    dispute = _lock(user, code)
    _require_accepted(dispute)
    session = None
    if session_id is not None:
        session = MediationSession.objects.filter(pk=session_id, dispute=dispute).first()
        if session is None:
            raise ServiceError("unknown_session", "该调解记录不属于此纠纷")
    agreement = Agreement.objects.create(
        dispute=dispute,
        session=session,
        number=sequences.next_code("TJ", now),
        facts=facts,
        terms=terms,
        performance=performance,
        mediator_body=mediator_body,
        created_at=now,
        created_by=user,
    )
    _progress(dispute, now)
    _event(
        dispute,
        EventKind.AGREEMENT,
        now,
        actor=user,
        message=f"形成调解协议书 {agreement.number}",
        data={"agreement": agreement.number},
        public=True,
    )
    dispute.save()
    return agreement


def get_agreement_for(user: User, number: str) -> Agreement:
    agreement = (
        Agreement.objects.select_related("dispute", "dispute__grid", "dispute__org")
        .filter(number=number, dispute__in=disputes_for(user).values("pk"))
        .first()
    )
    if agreement is None:
        raise NotFound("未找到该协议书，或您无权查看")
    return agreement


@transaction.atomic
def sign_agreement(
    user: User,
    number: str,
    *,
    role: str,
    party_id: int | None = None,
    name: str = "",
    now=None,
) -> Signature:
    """Record that someone signed the paper agreement: who and when (not an e-signature)."""
    now = now or clock.now()
    if role not in SignerRole.values:
        raise ServiceError(
            "bad_signer_role", "签字人身份只能是 party、mediator、recorder 或 witness"
        )
    agreement = get_agreement_for(user, number)
    dispute = _lock(user, agreement.dispute.code)
    party = None
    if role == SignerRole.PARTY:
        party = Party.objects.filter(pk=party_id, dispute=dispute).first() if party_id else None
        if party is None:
            raise ServiceError("unknown_party", "请选择本纠纷的当事人签字")
        if Signature.objects.filter(agreement=agreement, party=party).exists():
            raise Conflict("already_signed", f"{party.name} 已签字")
        name = party.name
    else:
        name = clean_text(name, field="name", label="签字人姓名", max_len=100)
    signature = Signature.objects.create(
        agreement=agreement,
        role=role,
        party=party,
        name=name,
        signed_at=now,
        recorded_by=user,
    )
    _progress(dispute, now)
    _event(
        dispute,
        EventKind.SIGNED,
        now,
        actor=user,
        message=f"{SignerRole(role).label}{name} 在协议书 {agreement.number} 上签字",
        data={"agreement": agreement.number, "role": role},
    )
    dispute.save()
    return signature
