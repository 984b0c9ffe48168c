"""Jurisdiction as a path prefix: what part of the org tree a staff account sees.

Every org unit stores its materialised path (`/1/4/17/`), and so does every record that belongs
to one (`org_path`). A staff user's scope is the path of their scope root (`scope_org`: their
station, or a commander's own unit); a superuser's is "/"; residents, clerks and the anonymous
have none and see through their own rules (their own reports, their own orders).
"""

from pingan.accounts.models import User

from .services import scope_org


def scope_path(user: User) -> str | None:
    """The org path prefix a staff user sees ("/" for a superuser); None for everyone else."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return "/"
    root = scope_org(user)
    return root.path if root is not None else None


def in_scope(user: User, path: str) -> bool:
    """Whether a record at org `path` lies within the user's jurisdiction."""
    prefix = scope_path(user)
    return prefix is not None and path.startswith(prefix)


def within_scope(queryset, user: User, path_field: str = "org_path"):
    """`queryset` narrowed to the user's jurisdiction (nothing for users without one)."""
    prefix = scope_path(user)
    if prefix is None:
        return queryset.none()
    if prefix == "/":
        return queryset
    return queryset.filter(**{f"{path_field}__startswith": prefix})
