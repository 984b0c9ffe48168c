"""The one vocabulary of who someone is, for every domain's access rules and page guards.

Roles (`Role`) are stored on the account; these predicates say what a role amounts to, so a
domain asks "is this a resident?" or "may this account see full personal data?" instead of
keeping its own tuple of roles. Jurisdiction (which part of the org tree) is apart:
`pingan.orgs.scoping`. Every predicate is safe for `AnonymousUser` (no role: False).
"""

from .models import ADMIN_ROLES, STAFF_ROLES, UNIT_ROLES, Role, User

__all__ = [
    "ADMIN_ROLES",
    "MANAGER_ROLES",
    "RESIDENT_ROLES",
    "REVEAL_ROLES",
    "STAFF_ROLES",
    "UNIT_ROLES",
    "can_reveal",
    "is_audit_admin",
    "is_clerk",
    "is_manager",
    "is_resident",
    "is_security_admin",
    "is_staff_viewer",
    "is_system_admin",
]

# Residents: report, join volunteer teams, take tasks, earn and spend points.
RESIDENT_ROLES = frozenset({Role.CITIZEN, Role.VOLUNTEER})
# Staff who post tasks, manage teams and shops, and act for residents; auxiliaries and grid
# workers see their jurisdiction but do not manage it.
MANAGER_ROLES = frozenset({Role.COMMANDER, Role.OFFICER})
# Who may see personal data in full (ID numbers, phones, addresses): police officers only.
REVEAL_ROLES = frozenset({Role.OFFICER, Role.COMMANDER})


def is_resident(user: User) -> bool:
    """A citizen or volunteer account (not a superuser acting as one)."""
    return user.is_authenticated and not user.is_superuser and user.role in RESIDENT_ROLES


def is_staff_viewer(user: User) -> bool:
    """Police and grid staff (or a superuser): they see records of their jurisdiction."""
    return user.is_authenticated and (user.is_superuser or user.role in STAFF_ROLES)


def is_manager(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in MANAGER_ROLES)


def can_reveal(user: User) -> bool:
    """Full personal data is for officers and commanders (and superusers)."""
    return user.is_authenticated and (user.is_superuser or user.role in REVEAL_ROLES)


def is_clerk(user: User) -> bool:
    """A shop clerk: verifies redemption orders at their shop, sees nothing else."""
    return user.is_authenticated and user.role == Role.CLERK


# --- 三员分立: the three administrators ----------------------------------------------------------
# Separate roles, not flags on a police account: whoever grants permissions cannot read the
# audit, and whoever reads the audit can change nothing. A superuser is none of them (its use is
# audited; see pingan.audit).


def is_system_admin(user: User) -> bool:
    """Runs the platform: org tree, grids, categories, ordinary account fields."""
    return user.is_authenticated and user.role == Role.SYSTEM_ADMIN


def is_security_admin(user: User) -> bool:
    """Grants roles and permissions, unlocks accounts, resets second factors."""
    return user.is_authenticated and user.role == Role.SECURITY_ADMIN


def is_audit_admin(user: User) -> bool:
    """Searches and exports the audit log; changes nothing."""
    return user.is_authenticated and user.role == Role.AUDIT_ADMIN
