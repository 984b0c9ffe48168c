"""Every volunteer state change, each in one transaction; pushes and texts after commit.

Callers keep one import path (`from pingan.volunteers import services`); the work is split by
responsibility:

    profiles     the volunteer profile a resident fills in first
    teams        creating and editing teams, their invite link and QR code
    memberships  joining by invite, approval, removal, leaving
    tasks        posting and cancelling tasks, the task's check-in QR code
    signups      the sign-up rush with its waiting list, giving up a place
    attendance   check-in and check-out on site (GPS or QR code)
    reports      the volunteer's report and photos
    review       the officer's confirmation that credits points through the ledger, or rejection
    history      a volunteer's record

and two the others share: guards (role, scope and input checks) and texts (text messages).

Lock order, kept everywhere so two transactions never wait on each other in a circle:
task row → sign-up row → point account. Membership changes lock only the membership row.

Callers use the names below through the package (`services.sign_up(...)`), so a test that
patches `pingan.volunteers.services.<name>` reaches them; code inside the package imports from
the submodule that defines the name, and such a patch does not reach it.
"""

# Scope helpers callers have always taken from here.
from ..access import (
    can_manage_task,
    can_manage_team,
    get_task_for,
    get_team_for,
    open_tasks_for,
    signups_for,
    tasks_for,
    teams_for,
)
from .attendance import check_in, check_out
from .history import history_for
from .memberships import (
    decide_membership,
    join_team,
    leave_team,
    memberships_to_decide,
    remove_member,
    team_for_invite,
)
from .profiles import profile_of, save_profile
from .reports import submit_report
from .review import confirm_work, reject_work, service_hours
from .signups import cancel_signup, sign_up, signup_of, waiting_position
from .tasks import cancel_task, post_task, task_qr_svg, task_scan_url
from .teams import (
    UPDATABLE_TEAM_FIELDS,
    create_team,
    invite_url,
    reset_invite,
    team_qr_svg,
    update_team,
)

__all__ = [
    # profile
    "save_profile",
    "profile_of",
    # teams
    "UPDATABLE_TEAM_FIELDS",
    "create_team",
    "update_team",
    "reset_invite",
    "invite_url",
    "team_qr_svg",
    "team_for_invite",
    "join_team",
    "decide_membership",
    "remove_member",
    "leave_team",
    "teams_for",
    "get_team_for",
    "can_manage_team",
    "memberships_to_decide",
    # tasks
    "post_task",
    "cancel_task",
    "tasks_for",
    "get_task_for",
    "open_tasks_for",
    "can_manage_task",
    "task_qr_svg",
    "task_scan_url",
    # sign-ups
    "sign_up",
    "waiting_position",
    "cancel_signup",
    "signup_of",
    "signups_for",
    "check_in",
    "check_out",
    "submit_report",
    "service_hours",
    "confirm_work",
    "reject_work",
    "history_for",
]
