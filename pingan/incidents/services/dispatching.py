"""Automatic dispatch: search the county for the best free unit, offer the incident to it
(the unit's conditional UPDATE is the lock), fall back to the grid's own staff or the
station's team when no unit has a fresh position, and free a unit again."""

from datetime import timedelta

from django.conf import settings

from pingan.core import fastsql
from pingan.orgs import refdata as org_refdata
from pingan.orgs.models import OrgKind

from .. import dispatch
from ..models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    EventKind,
    Incident,
    Status,
    Unit,
)
from .timeline import _events, _schedule_expiry, _spec


def _search_scope(incident: Incident) -> str:
    """Automatic dispatch looks for units within the incident's county."""
    if incident.org_id is None:
        return ""
    return org_refdata.county_path(incident.org_id) or incident.org_path


def _own_unit_users(incident: Incident) -> set[int]:
    """The grid's officer and auxiliaries, from the reference cache."""
    grid = org_refdata.grid(incident.grid_id) if incident.grid_id else None
    if grid is None:
        return set()
    users = set(grid.auxiliary_ids)
    if grid.officer_id:
        users.add(grid.officer_id)
    return users


def _offer(
    incident: Incident, candidate: dispatch.Candidate, now, *, role, by=None, reason=""
) -> Assignment | None:
    """Offer the incident to one unit; None when another transaction took the unit first."""
    timeout = settings.DISPATCH_OFFER_TIMEOUT_SECONDS
    assignment = Assignment(
        incident=incident,
        unit=candidate.unit,
        role=role,
        status=AssignmentStatus.OFFERED,
        offered_at=now,
        expires_at=now + timedelta(seconds=timeout) if timeout > 0 else None,
        distance_m=candidate.distance_m,
        eta_seconds=candidate.eta_seconds,
        dispatched_by=by,
        reason=reason[:200],
    )
    assignment.pk = fastsql.insert(
        Assignment,
        **{f.attname: getattr(assignment, f.attname) for f in _ASSIGNMENT_FIELDS},
    )
    # The conditional UPDATE is the lock: of two transactions racing for the last free unit,
    # the second re-checks `current_assignment IS NULL` after the first commits. The loser
    # takes its offer back with a DELETE, cheaper than a savepoint around every offer.
    taken = fastsql.execute(_TAKE_UNIT_SQL, [assignment.pk, candidate.unit.pk, True])
    if not taken:
        fastsql.execute(_DELETE_ASSIGNMENT_SQL, [assignment.pk])
        return None
    return assignment


_ASSIGNMENT_FIELDS = [f for f in Assignment._meta.concrete_fields if not f.primary_key]
_TAKE_UNIT_SQL = (
    f"UPDATE {Unit._meta.db_table} SET current_assignment_id = %s"
    " WHERE id = %s AND current_assignment_id IS NULL AND on_duty = %s"
)
_DELETE_ASSIGNMENT_SQL = f"DELETE FROM {Assignment._meta.db_table} WHERE id = %s"
_SET_STATUS_SQL = f"UPDATE {Incident._meta.db_table} SET status = %s WHERE id = %s"


def _offered_unit_ids(incident: Incident) -> set[int]:
    return set(incident.assignments.values_list("unit_id", flat=True))


# Racing reports can take every unit of the near search box between the read and the offer;
# the search is then repeated without them, which widens the box when it has emptied.
CANDIDATE_PASSES = 3


def _search(incident: Incident, now, exclude: set[int]) -> list[dispatch.Candidate]:
    return dispatch.candidates(
        incident,
        now=now,
        exclude_unit_ids=exclude,
        scope_path=_search_scope(incident),
        own_user_ids=_own_unit_users(incident),
    )


def _free_candidates(incident: Incident, now, exclude: set[int], first_search=None):
    """Candidates in preference order; units found taken when offered are skipped and the
    search runs again (up to CANDIDATE_PASSES) so a farther free unit is still found.
    `first_search`: the first pass's result when the caller searched already (the report
    searches before its transaction, so the write lock is not held through the search)."""
    taken: set[int] = set()
    for attempt in range(CANDIDATE_PASSES):
        if attempt == 0 and first_search is not None:
            found = first_search
        else:
            found = _search(incident, now, exclude | taken)
        if not found:
            return
        for candidate in found:
            yield candidate
            taken.add(candidate.unit.pk)


def _dispatch(
    incident: Incident,
    now,
    *,
    role=AssignmentRole.PRIMARY,
    by=None,
    retry=False,
    timeline: list[dict] | None = None,
    first=False,
    first_search=None,
) -> Assignment | None:
    """Offer the incident to the best free unit that has not had it yet.

    A retry (the sweep, for an incident still waiting) may go back to units that let an
    earlier offer expire, better than nobody, and records nothing when there is still no one.
    `timeline`: rows the caller has not written yet, written together with this step's
    (`first`: a new incident, which no unit has been offered yet).
    """
    timeline = list(timeline or [])
    exclude = set() if retry or first else _offered_unit_ids(incident)
    chosen = None
    for candidate in _free_candidates(incident, now, exclude, first_search):
        assignment = _offer(incident, candidate, now, role=role, by=by)
        if assignment is None:
            continue
        chosen, offered = _offered(
            incident, candidate, assignment, now, role=role, by=by, retry=retry
        )
        timeline.append(offered)
        break
    if chosen is None:
        # Nobody with a fresh position (e.g. no phone reported one since a restart): never let
        # the report wait without an offer while the grid's own staff or the station's team is
        # on duty. Costs queries only here, never when the normal search found someone.
        chosen = _dispatch_fallback(
            incident, now, role=role, by=by, exclude=exclude, timeline=timeline
        )
    if chosen is None and not retry:
        waiting = (
            "暂无可派警力，等待空闲警力" if role == AssignmentRole.PRIMARY else ("暂无可派增援警力")
        )
        timeline.append(_spec(EventKind.NO_UNIT, now, message=waiting, data={"role": role}))
    if timeline:
        _events(incident, timeline)
    return chosen


def _offered(incident, candidate, assignment, now, *, role, by, retry, why=None):
    """After a successful offer: the incident's status, the expiry and the OFFERED row."""
    if role == AssignmentRole.PRIMARY and incident.status == Status.PENDING:
        fastsql.execute(_SET_STATUS_SQL, [Status.DISPATCHED, incident.pk])
        incident.status = Status.DISPATCHED
    if why is None:
        why = "重新派警" if retry else "本网格警力" if candidate.own_grid else "就近警力"
    if candidate.distance_m is not None:
        where = f"约 {candidate.distance_m / 1000:.1f} 公里，预计 {candidate.eta_seconds} 秒"
    else:
        where = "位置未知"
    spec = _spec(
        EventKind.OFFERED,
        now,
        actor=by,
        unit=candidate.unit,
        message=f"派{AssignmentRole(role).label}：{candidate.unit.name}（{why}，{where}）",
        data={"assignment": assignment.pk, "role": role},
    )
    _schedule_expiry(assignment)
    return assignment, spec


def _station_path(incident: Incident) -> str:
    """The path of the police station above (or at) the incident's org, from the cache."""
    if incident.org_id is None:
        return ""
    for org_id in reversed(org_refdata.ancestor_ids(incident.org_id)):
        found = org_refdata.org(org_id)
        if found is not None and found.kind == OrgKind.STATION:
            return found.path
    return ""


def _dispatch_fallback(
    incident: Incident, now, *, role, by, exclude: set[int], timeline: list[dict]
) -> Assignment | None:
    found = dispatch.fallback_candidates(
        incident,
        own_user_ids=_own_unit_users(incident),
        station_path=_station_path(incident),
        exclude_unit_ids=exclude,
    )
    for candidate in found:
        assignment = _offer(incident, candidate, now, role=role, by=by)
        if assignment is None:
            continue
        own = candidate.fallback == dispatch.FALLBACK_OWN_GRID
        who = "本网格在岗警力" if own else "派出所快反队"
        minutes = settings.POSITION_STALE_MINUTES
        timeline.append(
            _spec(
                EventKind.POSITION_FALLBACK,
                now,
                unit=candidate.unit,
                message=f"附近没有 {minutes} 分钟内上报过位置的空闲警力，已按值班安排派"
                f"{who} {candidate.unit.name}，请指挥员核实警力位置并跟进到场",
                data={"role": role, "fallback": candidate.fallback, "unit": candidate.unit.pk},
            )
        )
        chosen, spec = _offered(
            incident,
            candidate,
            assignment,
            now,
            role=role,
            by=by,
            retry=False,
            why=f"{who}，位置未更新",
        )
        timeline.append(spec)
        return chosen
    return None


def _free_unit(assignment: Assignment) -> None:
    Unit.objects.filter(pk=assignment.unit_id, current_assignment=assignment).update(
        current_assignment=None
    )
