"""Incident categories in memory: the report path looks one up on every request.

Kept per process (pingan/core/refcache.py) and reloaded when the "categories" counter moves.
Save/delete signals bump it (:func:`register`): a cache invalidation, not a business side
effect, so a signal catches every writer, the admin included. Writers that bypass signals
(``bulk_create``, ``update()``) call ``refcache.bump(CATEGORIES)`` themselves.
"""

from __future__ import annotations

from typing import NamedTuple

from pingan.core import refcache

from .models import Category

CATEGORIES = "categories"


class CategoryRef(NamedTuple):
    id: int
    code: str
    name: str
    default_priority: int


def _load_categories() -> dict[str, CategoryRef]:
    rows = Category.objects.filter(active=True).values_list(
        "pk", "code", "name", "default_priority"
    )
    return {code: CategoryRef(pk, code, name, priority) for pk, code, name, priority in rows}


_categories = refcache.VersionedCache(CATEGORIES, _load_categories)


def category(code: str) -> CategoryRef | None:
    """The active category with this code, or None (unknown or inactive).

    An unknown code does not force a version check: codes come from user input, and a new
    category reaches other processes within REFCACHE_CHECK_SECONDS anyway.
    """
    return _categories.get().get(code)


def _on_category(sender, **kwargs) -> None:
    refcache.bump(CATEGORIES)


def register() -> None:
    """Connect the invalidation receivers (called from IncidentsConfig.ready)."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_on_category, sender=Category, dispatch_uid="refdata-category-save")
    post_delete.connect(_on_category, sender=Category, dispatch_uid="refdata-category-delete")
