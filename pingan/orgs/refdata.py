"""Jurisdiction reference data in memory: the org tree, 1-3-5 targets, grid metadata and staff.

The report path reads these on every request and they change a few times a day, so each process
keeps them (pingan/core/refcache.py) and reloads one when its version counter moves. The values
are plain tuples and frozen dataclasses loaded with ``values_list``: shared between threads, so
nothing here hands out a model instance that a caller could modify.

Counters: "orgs" (OrgUnit), "sla" (SlaPolicy), "grids" (Grid rows and their auxiliaries).
Invalidation uses save/delete signals (:func:`register`). These are cache invalidations, not
business side effects, so a signal is the right tool: it catches every writer, the admin
included. Writers that bypass signals (``bulk_create``, ``update()``) call
``refcache.bump(...)`` themselves.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass
from typing import NamedTuple

from pingan.accounts.models import User
from pingan.core import refcache

from .models import Grid, GridKind, OrgKind, OrgUnit, SlaPolicy

ORGS = "orgs"
SLA = "sla"
GRIDS = "grids"

RURAL_KINDS = frozenset({GridKind.RURAL_VILLAGE, GridKind.SCENIC_AREA})


# --- org tree -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrgRef:
    id: int
    code: str
    name: str
    kind: str
    path: str
    parent_id: int | None
    division_code: str

    def ancestor_ids(self) -> tuple[int, ...]:
        """Ids from the root down to and including this unit."""
        return _ancestor_ids(self.path)


def _ancestor_ids(path: str) -> tuple[int, ...]:
    return tuple(int(part) for part in path.strip("/").split("/") if part)


@dataclass(frozen=True, slots=True)
class _OrgTree:
    by_id: dict[int, OrgRef]
    county_path: dict[int, str]


def _load_orgs() -> _OrgTree:
    by_id = {
        pk: OrgRef(pk, code, name, kind, path, parent_id, division_code)
        for pk, code, name, kind, path, parent_id, division_code in OrgUnit.objects.values_list(
            "pk", "code", "name", "kind", "path", "parent_id", "division_code"
        )
    }
    return _OrgTree(by_id, {pk: _county_path(by_id, org) for pk, org in by_id.items()})


def _county_path(by_id: dict[int, OrgRef], org: OrgRef) -> str:
    # As county_of(): the first county bureau from the root down, else the unit itself.
    for ancestor_id in org.ancestor_ids():
        ancestor = by_id.get(ancestor_id)
        if ancestor is not None and ancestor.kind == OrgKind.COUNTY_BUREAU:
            return ancestor.path
    return org.path


_orgs = refcache.VersionedCache(ORGS, _load_orgs)


def _tree_with(org_id: int) -> _OrgTree:
    tree = _orgs.get()
    if org_id not in tree.by_id:
        # Created in another process since this one last checked: look at the counters now.
        tree = _orgs.refresh()
    return tree


def org(org_id: int) -> OrgRef | None:
    return _tree_with(org_id).by_id.get(org_id)


def ancestor_ids(org_id: int) -> tuple[int, ...]:
    """Ids from the root down to and including the unit; empty for an unknown id."""
    found = org(org_id)
    return found.ancestor_ids() if found else ()


def county_path(org_id: int) -> str | None:
    """The path of the unit's county bureau (the unit's own above or outside a county), as
    ``orgs.services.county_of(org).path``; None for an unknown id."""
    return _tree_with(org_id).county_path.get(org_id)


def county_id_for_path(path: str) -> int | None:
    """The county bureau among a path's units (the first from the root), if any and known."""
    tree = _orgs.get()
    ids = _ancestor_ids(path)
    if any(pk not in tree.by_id for pk in ids):
        tree = _orgs.refresh()
    for pk in ids:
        ancestor = tree.by_id.get(pk)
        if ancestor is not None and ancestor.kind == OrgKind.COUNTY_BUREAU:
            return pk
    return None


# --- 1-3-5 targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    accept_seconds: int = 60
    arrive_seconds: int = 180
    reinforce_seconds: int = 300


class _Policy(NamedTuple):
    accept: int
    arrive: int
    reinforce: int
    rural_arrive: int | None
    rural_reinforce: int | None


def _load_policies() -> dict[int, _Policy]:
    return {
        org_id: _Policy(*values)
        for org_id, *values in SlaPolicy.objects.values_list(
            "org_id",
            "accept_seconds",
            "arrive_seconds",
            "reinforce_seconds",
            "rural_arrive_seconds",
            "rural_reinforce_seconds",
        )
    }


_policies = refcache.VersionedCache(SLA, _load_policies)


def targets_for_chain(org_ids: tuple[int, ...] | list[int], grid_kind: str | None) -> Targets:
    """The nearest SLA policy up a chain of org ids (root first); rural grids use the rural
    overrides when set."""
    policies = _policies.get()
    for org_id in reversed(org_ids):
        policy = policies.get(org_id)
        if policy is None:
            continue
        rural = grid_kind in RURAL_KINDS
        return Targets(
            accept_seconds=policy.accept,
            arrive_seconds=(
                policy.rural_arrive if rural and policy.rural_arrive else policy.arrive
            ),
            reinforce_seconds=(
                policy.rural_reinforce if rural and policy.rural_reinforce else policy.reinforce
            ),
        )
    return Targets()


def targets(org_id: int | None, grid_kind: str | None = None) -> Targets:
    """As ``orgs.services.targets_for(org, grid_kind)`` for the unit with this id."""
    if org_id is None:
        return Targets()
    return targets_for_chain(ancestor_ids(org_id), grid_kind)


# --- grids --------------------------------------------------------------------------------------


class GridRef(NamedTuple):
    id: int
    code: str
    name: str
    kind: str
    org_id: int
    officer_id: int | None
    auxiliary_ids: tuple[int, ...]


class _GridTable:
    """Grid metadata in columns sorted by id: at province scale (50,000 grids) a few MB, against
    several times that for one object per grid."""

    __slots__ = (
        "ids",
        "codes",
        "names",
        "kinds",
        "org_ids",
        "officer_ids",
        "aux_offsets",
        "aux_users",
    )

    def __init__(self) -> None:
        self.ids = array("q")
        self.codes: list[str] = []
        self.names: list[str] = []
        self.kinds: list[str] = []  # a handful of distinct strings, each stored once
        self.org_ids = array("q")
        self.officer_ids = array("q")  # 0 = no officer
        # Row i's auxiliaries are aux_users[aux_offsets[i]:aux_offsets[i + 1]]: two flat arrays
        # instead of a tuple per grid.
        self.aux_offsets = array("q", [0])
        self.aux_users = array("q")

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, grid_id: int) -> GridRef | None:
        i = bisect_left(self.ids, grid_id)
        if i == len(self.ids) or self.ids[i] != grid_id:
            return None
        return GridRef(
            grid_id,
            self.codes[i],
            self.names[i],
            self.kinds[i],
            self.org_ids[i],
            self.officer_ids[i] or None,
            tuple(self.aux_users[self.aux_offsets[i] : self.aux_offsets[i + 1]]),
        )


def _load_grids() -> _GridTable:
    table = _GridTable()
    kinds: dict[str, str] = {}
    rows = Grid.objects.order_by("pk").values_list(
        "pk", "code", "name", "kind", "org_id", "officer_id"
    )
    for pk, code, name, kind, org_id, officer_id in rows.iterator(chunk_size=5000):
        table.ids.append(pk)
        table.codes.append(code)
        table.names.append(name)
        table.kinds.append(kinds.setdefault(kind, kind))
        table.org_ids.append(org_id)
        table.officer_ids.append(officer_id or 0)
    links: dict[int, list[int]] = {}
    through = Grid.auxiliaries.through.objects.order_by("grid_id", "user_id")
    for grid_id, user_id in through.values_list("grid_id", "user_id").iterator(chunk_size=5000):
        links.setdefault(grid_id, []).append(user_id)
    for grid_id in table.ids:
        table.aux_users.extend(links.get(grid_id, ()))
        table.aux_offsets.append(len(table.aux_users))
    return table


_grids = refcache.VersionedCache(GRIDS, _load_grids)


def grid(grid_id: int) -> GridRef | None:
    """Metadata and staff of one grid (no boundary), or None if it does not exist."""
    row = _grids.get().row(grid_id)
    if row is None:
        # The grid index may name a grid created since this process last checked.
        row = _grids.refresh().row(grid_id)
    return row


# --- invalidation -------------------------------------------------------------------------------


def _on_org(sender, **kwargs) -> None:
    refcache.bump(ORGS)


def _on_policy(sender, **kwargs) -> None:
    refcache.bump(SLA)


def _on_grid(sender, **kwargs) -> None:
    refcache.bump(GRIDS)


def _on_auxiliaries(sender, action, **kwargs) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        refcache.bump(GRIDS)


def _on_user_deleted(sender, **kwargs) -> None:
    # Deleting a user sets grid.officer to NULL and drops their auxiliary links with plain
    # UPDATE/DELETE statements that send no Grid signal.
    refcache.bump(GRIDS)


def register() -> None:
    """Connect the invalidation receivers (called from OrgsConfig.ready)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    for model, receiver in ((OrgUnit, _on_org), (SlaPolicy, _on_policy), (Grid, _on_grid)):
        uid = f"refdata-{model._meta.label_lower}"
        post_save.connect(receiver, sender=model, dispatch_uid=f"{uid}-save")
        post_delete.connect(receiver, sender=model, dispatch_uid=f"{uid}-delete")
    m2m_changed.connect(
        _on_auxiliaries, sender=Grid.auxiliaries.through, dispatch_uid="refdata-grid-auxiliaries"
    )
    post_delete.connect(_on_user_deleted, sender=User, dispatch_uid="refdata-grid-staff-user")
