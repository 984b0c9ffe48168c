"""Every dispute state change, each in one transaction; pushes and messages after commit.

Callers keep one import path (`from pingan.disputes import services`); the work is split by
step of a dispute's life:

    intake       four staff channels, incident conversion, a resident's request, accept/decline
    parties      adding a party; the unmasked party data for those allowed (audited)
    casework     changing the owner, work notes
    handoffs     the resolution route (the "3") and the body it is handed to
    risk_review  the rules' colour, a person's override, the daily review of yellow disputes
    orders       tracked orders (the "1") and their escalation up the org tree
    mediation    sessions, agreements and signatures
    follow_up    resolution, return visits and relapse
    periodic     the sweep: escalation and time-based reassessment

and two the others share: guards (lock the dispute, check its state and a proposed owner) and
timeline (events, step messages to the parties, red alerts).

Callers use the names below through the package (`services.sweep()`), so a test that patches
`pingan.disputes.services.<name>` reaches them; code inside the package imports from the
submodule that defines the name, and such a patch does not reach it.
"""

# Scope helpers and input types callers have always taken from here.
from ..access import disputes_for, get_dispute_for
from ..validation import MAX_PARTIES, PartyInput
from .casework import add_note, assign_owner
from .follow_up import record_visit, resolve, visits_due
from .handoffs import set_route
from .intake import (
    STAFF_CHANNELS,
    accept_request,
    convert_incident,
    decline_request,
    file_dispute,
    request_mediation,
)
from .mediation import draft_agreement, get_agreement_for, record_session, sign_agreement
from .orders import escalate_overdue, open_order
from .parties import add_party, party_data_for
from .periodic import reassess_due, sweep
from .risk_review import daily_review_list, override_risk, reassess, review, risk_rank
from .timeline import red_alert, station_chiefs

__all__ = [
    "MAX_PARTIES",
    "STAFF_CHANNELS",
    "PartyInput",
    "accept_request",
    "add_note",
    "add_party",
    "assign_owner",
    "convert_incident",
    "daily_review_list",
    "decline_request",
    "disputes_for",
    "draft_agreement",
    "escalate_overdue",
    "file_dispute",
    "get_agreement_for",
    "get_dispute_for",
    "open_order",
    "override_risk",
    "party_data_for",
    "reassess",
    "reassess_due",
    "record_session",
    "record_visit",
    "red_alert",
    "request_mediation",
    "resolve",
    "review",
    "risk_rank",
    "set_route",
    "sign_agreement",
    "station_chiefs",
    "sweep",
    "visits_due",
]
