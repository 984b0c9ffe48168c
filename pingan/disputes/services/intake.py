"""Intake: staff file through one of the four screening channels, a handled incident is
converted, or a resident asks for mediation and the grid's officer accepts or declines.
"""

from django.conf import settings
from django.db import transaction

from pingan.accounts.models import User
from pingan.accounts.roles import is_staff_viewer
from pingan.core import clock, sequences
from pingan.core.errors import Conflict, Forbidden, ServiceError
from pingan.core.validation import clean_text
from pingan.geo.location import normalise_location
from pingan.incidents import services as incidents
from pingan.incidents.models import Incident
from pingan.orgs import services as orgs
from pingan.orgs.models import Grid

from ..access import staff_grids
from ..models import Channel, Dispute, EventKind, Party, PartyKind, PartyRole, Status
from ..stats import tracked
from ..validation import MAX_PARTIES, PartyInput, clean_common, clean_party
from .guards import _check_owner, _lock
from .risk_review import reassess
from .timeline import _event, _progress, _tell_parties

STAFF_CHANNELS = (Channel.CADRE_GRID, Channel.COMMUNITY_WORK, Channel.ONLINE, Channel.CASE)


def _resolve_grid(user: User, grid_code, lng, lat, crs) -> Grid:
    if grid_code:
        grid = Grid.objects.select_related("org").filter(code=grid_code).first()
        if grid is None:
            raise ServiceError(
                "unknown_grid", f"网格 {grid_code} 不存在", details={"field": "grid"}
            )
        return grid
    if lng is None or lat is None:
        raise ServiceError("grid_required", "请选择网格或在地图上标出地点")
    lng, lat = normalise_location(lng, lat, crs or "wgs84")
    grid, location = orgs.locate_grid(lng, lat)
    # The index always answers with the nearest grid; a dispute outside every grid is not
    # silently handed to whichever grid happens to be nearest (maybe another county's).
    if grid is None or not location.inside:
        raise ServiceError("no_grid", "该地点不在任何网格内，请选择网格")
    return grid


def _staff_may_file_in(user: User, grid: Grid) -> None:
    if user.is_superuser:
        return
    root = orgs.scope_org(user)
    in_scope = root is not None and grid.org.path.startswith(root.path)
    works_here = Grid.objects.filter(pk=grid.pk).filter(pk__in=staff_grids(user)).exists()
    if not (in_scope or works_here):
        raise Forbidden("只能在本辖区的网格登记纠纷")


def _create(
    *,
    user,
    channel,
    grid,
    type_,
    title,
    narrative,
    amount,
    parties: list[PartyInput],
    address,
    source_note,
    status,
    owner,
    now,
    requester=None,
    incident=None,
) -> Dispute:
    if not parties:
        raise ServiceError("parties_required", "至少填写一位当事人")
    if len(parties) > MAX_PARTIES:
        raise ServiceError("too_many_parties", f"当事人最多 {MAX_PARTIES} 位")
    cleaned = [clean_party(p, i) for i, p in enumerate(parties, start=1)]
    owner = owner or grid.officer
    _check_owner(owner, grid.org)
    dispute = Dispute(
        code=sequences.next_code("JF", now),
        type=type_,
        channel=channel,
        source_note=source_note,
        incident=incident,
        title=title,
        narrative=narrative,
        amount_yuan=amount,
        grid=grid,
        org=grid.org,
        org_path=grid.org.path,
        address=address,
        status=status,
        owner=owner,
        filed_by=user if user.is_staff_role or user.is_superuser else None,
        requester=requester,
        reported_at=now,
        accepted_at=now if status == Status.OPEN else None,
        last_progress_at=now,
    )
    with tracked(dispute):
        dispute.save()
        for party in cleaned:
            party.dispute = dispute
        Party.objects.bulk_create(cleaned)
        if requester is not None:
            _event(
                dispute,
                EventKind.REQUESTED,
                now,
                actor=user,
                message=f"群众申请调解：{title}",
                public=True,
            )
        elif incident is not None:
            _event(
                dispute,
                EventKind.CONVERTED,
                now,
                actor=user,
                message=f"由警情 {incident.code} 转为矛盾纠纷",
                data={"incident": incident.code},
                public=True,
            )
        else:
            _event(
                dispute,
                EventKind.FILED,
                now,
                actor=user,
                message=f"{Channel(channel).label}：{title}",
                public=True,
            )
        reassess(dispute, now, actor=None)
        dispute.save()
    if status == Status.OPEN:
        _tell_parties(dispute, f"您的纠纷（编号 {dispute.code}）已登记受理，我们将尽快联系您。")
    return dispute


@transaction.atomic
def file_dispute(
    user: User,
    *,
    type: str,
    channel: str,
    narrative: str,
    parties: list[PartyInput],
    title: str = "",
    grid_code: str | None = None,
    lng=None,
    lat=None,
    crs: str = "wgs84",
    amount_yuan=None,
    address: str = "",
    source_note: str = "",
    owner: User | None = None,
    now=None,
) -> Dispute:
    """Staff register a dispute found through one of the four screening channels."""
    now = now or clock.now()
    if not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以登记纠纷")
    if channel not in STAFF_CHANNELS:
        raise ServiceError(
            "bad_channel",
            "排查渠道无效，可选：" + "、".join(f"{c.value}（{c.label}）" for c in STAFF_CHANNELS),
            details={"field": "channel"},
        )
    title, narrative, amount = clean_common(type, title, narrative, amount_yuan)
    address = clean_text(address, field="address", label="地点", max_len=200, required=False)
    source_note = clean_text(
        source_note, field="source_note", label="来源说明", max_len=300, required=False
    )
    grid = _resolve_grid(user, grid_code, lng, lat, crs)
    _staff_may_file_in(user, grid)
    return _create(
        user=user,
        channel=channel,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=amount,
        parties=parties,
        address=address,
        source_note=source_note,
        status=Status.OPEN,
        owner=owner,
        now=now,
    )


@transaction.atomic
def request_mediation(
    user: User,
    *,
    type: str,
    narrative: str,
    other_parties: list[PartyInput],
    title: str = "",
    grid_code: str | None = None,
    lng=None,
    lat=None,
    crs: str = "wgs84",
    address: str = "",
    notify: bool = True,
    now=None,
) -> Dispute:
    """A resident asks for mediation; the grid's officer is told and accepts or declines it."""
    now = now or clock.now()
    if not user.is_authenticated:
        raise Forbidden("请先登录再申请调解")
    if user.is_staff_role:
        raise Forbidden("工作人员请在民警端登记纠纷")
    title, narrative, _ = clean_common(type, title, narrative, None)
    address = clean_text(address, field="address", label="地点", max_len=200, required=False)
    grid = _resolve_grid(user, grid_code, lng, lat, crs)
    open_requests = Dispute.objects.filter(requester=user, status=Status.PENDING).count()
    if open_requests >= settings.DISPUTE_MAX_PENDING_REQUESTS:
        raise ServiceError(
            "too_many_requests", "您已有多件调解申请在等待受理，请等待工作人员联系", status=429
        )
    me = PartyInput(
        name=user.display_name or user.username,
        kind=PartyKind.PERSON,
        role=PartyRole.APPLICANT,
        phone=user.phone,
        notify=bool(notify and user.phone),
    )
    return _create(
        user=user,
        channel=Channel.CITIZEN_REQUEST,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=None,
        parties=[me, *other_parties],
        address=address,
        source_note="",
        status=Status.PENDING,
        owner=None,
        now=now,
        requester=user,
    )


@transaction.atomic
def convert_incident(
    user: User,
    incident_code: str,
    *,
    type: str,
    parties: list[PartyInput],
    narrative: str = "",
    title: str = "",
    owner: User | None = None,
    now=None,
) -> Dispute:
    """One action turns a handled incident into a dispute (the "law-enforcement case" channel),
    keeping the link both ways: the dispute names the incident and the incident's timeline
    names the dispute."""
    now = now or clock.now()
    if not is_staff_viewer(user):
        raise Forbidden("只有民警、辅警、网格员和指挥员可以转为纠纷")
    visible = incidents.get_incident_for(user, incident_code)
    # Locked so two officers converting the same incident at once make one dispute.
    incident = Incident.objects.select_for_update().get(pk=visible.pk)
    if Dispute.objects.filter(incident=incident).exists():
        existing = Dispute.objects.get(incident=incident)
        raise Conflict("already_converted", f"该警情已转为纠纷 {existing.code}")
    if incident.grid_id is None:
        raise ServiceError("no_grid", "该警情不在任何网格内，无法转为纠纷")
    title, narrative, _ = clean_common(
        type, title or f"警情 {incident.code} 引发纠纷", narrative or incident.description, None
    )
    grid = Grid.objects.select_related("org").get(pk=incident.grid_id)
    dispute = _create(
        user=user,
        channel=Channel.CASE,
        grid=grid,
        type_=type,
        title=title,
        narrative=narrative,
        amount=None,
        parties=parties,
        address=incident.address,
        source_note=f"警情 {incident.code}",
        status=Status.OPEN,
        owner=owner,
        now=now,
        incident=incident,
    )
    incidents.add_note(
        incident,
        user,
        f"已转为矛盾纠纷 {dispute.code}",
        now=now,
        data={"dispute": dispute.code},
    )
    return dispute


@transaction.atomic
def accept_request(user: User, code: str, owner: User | None = None, now=None) -> Dispute:
    now = now or clock.now()
    dispute = _lock(user, code)
    if dispute.status != Status.PENDING:
        raise Conflict("not_pending", "该申请不在待受理状态")
    owner = owner or dispute.owner or dispute.grid.officer or user
    _check_owner(owner, dispute.org)
    with tracked(dispute):
        dispute.status = Status.OPEN
        dispute.accepted_at = now
        dispute.owner = owner
        _progress(dispute, now)
        _event(
            dispute,
            EventKind.ACCEPTED,
            now,
            actor=user,
            message=f"已受理，责任人：{owner.label}",
            data={"owner": owner.username},
            public=True,
        )
        reassess(dispute, now)
        dispute.save()
    _tell_parties(dispute, f"您的调解申请（{dispute.code}）已受理，责任人：{owner.label}。")
    return dispute


@transaction.atomic
def decline_request(user: User, code: str, reason: str, now=None) -> Dispute:
    now = now or clock.now()
    reason = clean_text(reason, field="reason", label="不予受理的理由", max_len=500)
    dispute = _lock(user, code)
    if dispute.status != Status.PENDING:
        raise Conflict("not_pending", "该申请不在待受理状态")
    with tracked(dispute):
        dispute.status = Status.DECLINED
        dispute.closed_at = now
        dispute.resolution_note = reason
        _progress(dispute, now)
        _event(dispute, EventKind.DECLINED, now, actor=user, message=reason, public=True)
        dispute.save()
    _tell_parties(dispute, f"您的调解申请（{dispute.code}）未予受理：{reason}")
    return dispute
