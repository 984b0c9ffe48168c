"""Every incident state change: report, dispatch, accept, arrive, reinforce, resolve, rate,
offer expiry, re-dispatch, merge and split. Each runs in one transaction; pushes and tasks are
sent only after commit.

Callers import from here (`from pingan.incidents import services`); the modules are split by
responsibility:

- reporting     a new report, the duplicate check and its first dispatch
- dispatching   the unit search, offers and the stale-position fallback
- unit_actions  a unit accepts, declines, arrives, asks for reinforcement
- resolution    resolve (duplicates with it) and the reporter's rating
- control       offer expiry, the periodic sweep, a commander's redispatch, merge and split
- units         units: creation, duty, positions
- timeline      timeline rows, notes, photos, the offer expiry task
- guards        row locks and preconditions shared by the above

The scoped reads (`incidents_for` and friends) live in pingan/incidents/access.py and are
re-exported here for older callers.
"""

from ..access import assignments_for, get_incident_for, incidents_for, unit_for_user
from .control import alert_unaccepted_offer, expire_offer, merge, redispatch, split, sweep
from .dispatching import CANDIDATE_PASSES
from .reporting import ReportResult, find_duplicate, report
from .resolution import rate, resolve
from .timeline import add_note, add_photos
from .unit_actions import accept, arrive, decline, request_reinforcement
from .units import create_unit, set_duty, update_position

__all__ = [
    "CANDIDATE_PASSES",
    "ReportResult",
    "accept",
    "add_note",
    "add_photos",
    "arrive",
    "assignments_for",
    "create_unit",
    "decline",
    "alert_unaccepted_offer",
    "expire_offer",
    "find_duplicate",
    "get_incident_for",
    "incidents_for",
    "merge",
    "rate",
    "redispatch",
    "report",
    "request_reinforcement",
    "resolve",
    "set_duty",
    "split",
    "sweep",
    "unit_for_user",
    "update_position",
]
