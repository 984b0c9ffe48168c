"""What the administrators may do in the Django admin (三员分立), by role rather than by grant.

No Django permission is stored for them: this backend answers `has_perm` from the role, so a
grant in the database cannot widen it. The system administrator keeps the platform's reference
data (org tree, grids, response targets, categories, units, risk rules, point rules, shops) and
creates accounts (business roles only); the security administrator owns accounts, roles, groups,
tokens and locks; the audit administrator has nothing in the admin (the audit pages are theirs).
Records holding personal data (disputes, incidents, messages, ledgers, volunteers) are not in
anyone's admin but a superuser's; their own pages mask and audit.
"""

from django.contrib.auth.backends import BaseBackend

from .models import Role

SYSTEM_ADMIN_MODELS = frozenset(
    {
        "orgs.orgunit",
        "orgs.grid",
        "orgs.slapolicy",
        "incidents.category",
        "incidents.unit",
        "disputes.riskrule",
        "points.pointrule",
        "points.shop",
        "points.rewarditem",
    }
)
# Accounts: the system administrator creates them and keeps their ordinary fields; which
# fields is up to the user admin (accounts/admin.py).
SYSTEM_ADMIN_ACCOUNT_PERMS = frozenset(
    {"accounts.view_user", "accounts.add_user", "accounts.change_user"}
)
SECURITY_ADMIN_APPS = frozenset({"accounts", "auth"})
ADMIN_SITE_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})


def may_use_admin(user) -> bool:
    return user.is_active and (user.is_superuser or user.role in ADMIN_SITE_ROLES)


def _model_of(perm: str) -> str:
    app, _, codename = perm.partition(".")
    model = codename.split("_", 1)[1] if "_" in codename else ""
    return f"{app}.{model}"


class RolePermissionBackend(BaseBackend):
    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or user_obj.is_superuser:
            return False  # superusers are answered by ModelBackend
        if user_obj.role == Role.SECURITY_ADMIN:
            return perm.partition(".")[0] in SECURITY_ADMIN_APPS
        if user_obj.role == Role.SYSTEM_ADMIN:
            return perm in SYSTEM_ADMIN_ACCOUNT_PERMS or _model_of(perm) in SYSTEM_ADMIN_MODELS
        return False

    def has_module_perms(self, user_obj, app_label):
        if not user_obj.is_active or user_obj.is_superuser:
            return False
        if user_obj.role == Role.SECURITY_ADMIN:
            return app_label in SECURITY_ADMIN_APPS
        if user_obj.role == Role.SYSTEM_ADMIN:
            return app_label == "accounts" or any(
                m.startswith(app_label + ".") for m in SYSTEM_ADMIN_MODELS
            )
        return False
