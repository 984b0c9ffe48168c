"""Jurisdiction state changes and look-ups: org tree, grid import, the grid index, 1-3-5 targets."""

import math
import secrets
from dataclasses import dataclass

import shapely
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F

from pingan.accounts.models import Role, User
from pingan.geo.geojson import GridFeature, features_to_feature_collection, parse_grid_features
from pingan.geo.index import CachedGridIndex, GridIndex, Location

from . import refdata
from .models import ALLOWED_PARENTS, Grid, GridVersion, OrgKind, OrgUnit
from .refdata import Targets


class OrgError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- org tree -----------------------------------------------------------------------------------


@transaction.atomic
def create_org(
    *, code: str, name: str, kind: str, parent: OrgUnit | None = None, division_code: str = ""
) -> OrgUnit:
    parent_kind = parent.kind if parent else None
    if parent_kind not in ALLOWED_PARENTS[OrgKind(kind)]:
        raise OrgError("bad_parent", f"{OrgKind(kind).label}不能隶属于{parent or '（无上级）'}")
    org = OrgUnit.objects.create(
        code=code, name=name, kind=kind, parent=parent, path="", division_code=division_code
    )
    org.path = f"{parent.path if parent else '/'}{org.pk}/"
    org.save(update_fields=["path"])
    return org


def station_of(org: OrgUnit) -> OrgUnit:
    """The police station an office belongs to (or the unit itself above station level).
    The parent comes from the cached org tree: every scoped request asks this."""
    if org.kind in {OrgKind.POLICE_OFFICE, OrgKind.JOINT_STATION} and org.parent_id:
        parent = cached_org(org.parent_id)
        if parent is not None and parent.kind == OrgKind.STATION:
            return parent
    return org


def scope_org(user: User) -> OrgUnit | None:
    """The org subtree a staff user may see.

    Officers and auxiliaries at a police office see their whole station: colleagues cover each
    other's grids when dispatch sends the nearest free unit. Commanders see their own unit's tree.
    """
    if user.org_id is None or not user.is_staff_role:
        return None
    if user.is_commander:
        return user.org
    return station_of(user.org)


def visible_orgs(user: User):
    if user.is_superuser:
        return OrgUnit.objects.all()
    root = scope_org(user)
    if root is None:
        return OrgUnit.objects.none()
    return root.subtree()


def county_of(org: OrgUnit) -> OrgUnit:
    # The org tree is cached per process (orgs/refdata.py): no query when warm.
    county_id = refdata.county_id_for_path(org.path)
    if county_id is None or county_id == org.pk:
        return org
    county = cached_org(county_id)
    # Deleted meanwhile: as the query would, answer the unit itself.
    return county if county is not None else org


def cached_org(org_id: int) -> OrgUnit | None:
    """An OrgUnit built from the cached org tree (orgs/refdata.py): no query when warm. A
    fresh instance per call, as a query would give: the cached data stays immutable."""
    ref = refdata.org(org_id)
    if ref is None:
        return None
    values = {
        "id": ref.id,
        "code": ref.code,
        "name": ref.name,
        "kind": ref.kind,
        "parent_id": ref.parent_id,
        "path": ref.path,
        "division_code": ref.division_code,
    }
    fields = OrgUnit._meta.concrete_fields
    return OrgUnit.from_db(
        DEFAULT_DB_ALIAS, [f.attname for f in fields], [values[f.attname] for f in fields]
    )


# --- grids --------------------------------------------------------------------------------------


def bump_grid_version() -> None:
    updated = GridVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        # A fresh counter starts at a random value: after a restore or a flush, a process
        # still holding an index labelled "1" must not mistake new grids for its old ones.
        GridVersion.objects.get_or_create(pk=1, defaults={"version": secrets.randbelow(2**40) + 1})
    # Check at once in this process (its next lookup may be in this very transaction), and
    # again after commit, when other readers can see the change.
    grid_index.invalidate()
    transaction.on_commit(grid_index.invalidate)


def _current_grid_version():
    row = GridVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return row or 0


def _load_grids():
    for pk, wkb in Grid.objects.values_list("pk", "boundary").iterator(chunk_size=2000):
        yield pk, shapely.from_wkb(bytes(wkb))


grid_index = CachedGridIndex(_current_grid_version, _load_grids)


def locate(lng: float, lat: float) -> Location | None:
    """WGS-84 point → grid: inside one, or the nearest one flagged as outside."""
    return grid_index.get().locate(lng, lat)


def locate_grid(lng: float, lat: float) -> tuple[Grid | None, Location | None]:
    """Point → Grid row. If the index names a grid that no longer exists (deleted since this
    process built its index), rebuild synchronously and look again."""
    for attempt in range(2):
        location = (grid_index.refresh() if attempt else grid_index.get()).locate(lng, lat)
        if location is None:
            return None, None
        grid = Grid.objects.select_related("org").filter(pk=location.grid_id).first()
        if grid is not None:
            return grid, location
    return None, None


def locate_grid_ref(lng: float, lat: float) -> tuple[refdata.GridRef | None, Location | None]:
    """Point → the grid's cached row (metadata and staff, no query when warm): the report
    path's `locate_grid`. A grid the index names but the cache does not know (deleted since
    this process built its index) makes the index rebuild, as in `locate_grid`."""
    for attempt in range(2):
        location = (grid_index.refresh() if attempt else grid_index.get()).locate(lng, lat)
        if location is None:
            return None, None
        grid = refdata.grid(location.grid_id)
        if grid is not None:
            return grid, location
    return None, None


def grid_from_ref(ref: refdata.GridRef) -> Grid:
    """An unsaved-looking Grid carrying the cached row's fields (no boundary): what a page or
    a snapshot needs of the grid of a new report, without a query."""
    return Grid(
        id=ref.id,
        code=ref.code,
        name=ref.name,
        kind=ref.kind,
        org_id=ref.org_id,
        officer_id=ref.officer_id,
    )


def current_index() -> GridIndex:
    return grid_index.get()


def _geometry_fields(geometry) -> dict:
    centroid = geometry.representative_point()
    # Area in km² from degrees with a local scale: good to a percent at county size.
    lat_scale = 111.32
    lng_scale = 111.32 * math.cos(math.radians(centroid.y))
    return {
        "boundary": shapely.to_wkb(geometry),
        "centroid_lng": centroid.x,
        "centroid_lat": centroid.y,
        "area_km2": round(geometry.area * lat_scale * lng_scale, 4),
    }


@transaction.atomic
def save_grid(
    *,
    code: str,
    name: str,
    kind: str,
    org: OrgUnit,
    geometry,
    division_code: str = "",
    officer: User | None = None,
) -> Grid:
    grid, _ = Grid.objects.update_or_create(
        code=code,
        defaults={
            "name": name,
            "kind": kind,
            "org": org,
            "division_code": division_code,
            "officer": officer,
            **_geometry_fields(geometry),
        },
    )
    bump_grid_version()
    return grid


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


@transaction.atomic
def import_grids(source, *, org: OrgUnit, crs: str = "wgs84") -> ImportResult:
    """Import a GeoJSON FeatureCollection of grids: all features or none.

    A feature may name its org by `org_code` (must lie in `org`'s subtree); otherwise grids go to
    `org`. Existing grids (same code) have their boundary, name and kind replaced.
    """
    features: list[GridFeature] = parse_grid_features(source, crs=crs)
    orgs_by_code = {o.code: o for o in org.subtree()}
    created = updated = 0
    for index, feature in enumerate(features, start=1):
        target = org
        org_code = feature.properties.get("org_code")
        if org_code:
            target = orgs_by_code.get(str(org_code))
            if target is None:
                raise OrgError(
                    "unknown_org",
                    f"第 {index} 个要素（code={feature.code}）的 org_code={org_code} "
                    "不在本单位辖区内",
                )
        _, was_created = Grid.objects.update_or_create(
            code=feature.code,
            defaults={
                "name": feature.name,
                "kind": feature.kind,
                "org": target,
                "division_code": str(feature.properties.get("division_code") or "")[:12],
                **_geometry_fields(feature.geometry),
            },
        )
        created += was_created
        updated += not was_created
    bump_grid_version()
    return ImportResult(created=created, updated=updated)


def grids_geojson(grids) -> dict:
    return features_to_feature_collection(
        {
            "geometry": grid.geometry,
            "properties": {
                "code": grid.code,
                "name": grid.name,
                "kind": grid.kind,
                "org_code": grid.org.code,
                "org": grid.org.name,
                "officer": grid.officer.label if grid.officer else None,
            },
        }
        for grid in grids
    )


def assign_grid_staff(
    grid: Grid,
    *,
    officer: User | None = None,
    auxiliaries: list[User] = (),
    grid_workers: list[User] = (),
) -> None:
    with transaction.atomic():
        for user, role in (
            [(officer, Role.OFFICER)]
            + [(u, Role.AUXILIARY) for u in auxiliaries]
            + [(u, Role.GRID_WORKER) for u in grid_workers]
        ):
            if user is not None and user.role != role:
                raise OrgError("wrong_role", f"{user.label} 的角色不是{Role(role).label}")
        if officer is not None:
            grid.officer = officer
            grid.save(update_fields=["officer"])
        if auxiliaries:
            grid.auxiliaries.add(*auxiliaries)
        if grid_workers:
            grid.grid_workers.add(*grid_workers)


# --- 1-3-5 targets ------------------------------------------------------------------------------

# `Targets` lives in orgs/refdata.py (imported above) and is re-exported here for callers.


def targets_for(org: OrgUnit | None, grid_kind: str | None = None) -> Targets:
    """The nearest SLA policy up the tree; rural grids use the rural overrides when set.

    Policies are cached per process (orgs/refdata.py): no query when warm."""
    if org is None:
        return Targets()
    return refdata.targets_for_chain(org.ancestor_ids(), grid_kind)


_outline_cache: dict = {}


def public_grid_outlines(limit: int = 2000) -> dict | None:
    """Grid outlines with code and name only, for the citizen's map (village boundaries are
    public). Cached per grid version; None above `limit` grids, where a phone should not load
    them all."""
    version = _current_grid_version()
    if _outline_cache.get("version") != version:
        grids = list(Grid.objects.only("code", "name", "boundary")[: limit + 1])
        outlines = None
        if len(grids) <= limit:
            outlines = features_to_feature_collection(
                {
                    "geometry": g.geometry.simplify(0.0005),
                    "properties": {"code": g.code, "name": g.name},
                }
                for g in grids
            )
        _outline_cache.update(version=version, outlines=outlines)
    return _outline_cache["outlines"]
