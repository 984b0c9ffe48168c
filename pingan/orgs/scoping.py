"""Jurisdiction as a path prefix: what part of the org tree a staff account sees.

Every org unit stores its materialised path (`/1/4/17/`), and so does every record that belongs
to one (`org_path`). A staff user's scope is the path of their scope root (`scope_org`: their
station, or a commander's own unit); a superuser's is "/"; residents, clerks and the anonymous
have none and see through their own rules (their own reports, their own orders).

Every record that belongs to an org unit is narrowed the same way, through one queryset method:
`Model.objects.in_jurisdiction(user)` (`JurisdictionQuerySet`). Each app's `*_for(user)` adds
its own rules for residents, clerks and the people a record names, and uses that method for the
jurisdiction part, so "what a station sees" is written once.
"""

from django.db import models
from django.db.models import Q

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


def within_scope(queryset, user: User, path_field: str = "org_path", also: Q | None = None):
    """`queryset` narrowed to the user's jurisdiction (nothing for users without one), or to
    the records that match `also` besides (say, an incident the user's unit was sent to across
    the boundary)."""
    prefix = scope_path(user)
    if prefix == "/":
        return queryset
    if prefix is None:
        return queryset.filter(also) if also is not None else queryset.none()
    inside = Q(**{f"{path_field}__startswith": prefix})
    return queryset.filter(inside | also if also is not None else inside)


class JurisdictionQuerySet(models.QuerySet):
    """A queryset of records placed in the org tree. The model names where its path is with
    `org_path_lookup` (default `org_path`; a sign-up, say, lies where its task does:
    `task__org_path`)."""

    def in_jurisdiction(self, user: User, also: Q | None = None):
        """The records within the user's jurisdiction: a superuser's all, a staff user's their
        scope root's subtree, nothing for anyone else; or, besides, those matching `also`."""
        return within_scope(self, user, getattr(self.model, "org_path_lookup", "org_path"), also)
