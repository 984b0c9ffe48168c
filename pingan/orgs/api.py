"""Jurisdiction endpoints: grids and org units in the caller's scope.

Both lists take `limit`/`offset` and answer the page envelope with `paged=true`; without it
they answer the bare array they always did (`pingan.core.pagination`). `?format=geojson` is
the grids' export (a FeatureCollection of the whole filtered scope, for re-import), not paged.
"""

from typing import Literal

from django.http import JsonResponse
from ninja import Query, Router, Schema

from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden
from pingan.core.pagination import Listing, PageOut, paginated
from pingan.core.schemas import QuerySchema, QueryText

from .models import Grid
from .services import grids_geojson, visible_orgs

router = Router(tags=["jurisdiction"])


class GridCentroidOut(Schema):
    lat: float
    lng: float


class GridOut(Schema):
    code: str
    name: str
    kind: str
    org_code: str
    org: str
    officer: str | None
    centroid: GridCentroidOut
    area_km2: float


class GridFilter(QuerySchema):
    format: Literal["json", "geojson"] = "json"
    org: QueryText(32) | None = None


class GridListOut(PageOut):
    items: list[GridOut]


class OrgOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None


class OrgListOut(PageOut):
    items: list[OrgOut]


# `?format=geojson`: one Feature per grid, its boundary and the grid's fields as properties.
GEOJSON_SCHEMA = {
    "schema": {
        "type": "object",
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"const": "Feature"},
                        "geometry": {"type": "object"},
                        "properties": {"type": "object"},
                    },
                    "required": ["type", "geometry", "properties"],
                },
            },
        },
        "required": ["type", "features"],
    }
}


def grids_for(user):
    if not user.is_staff_role and not user.is_superuser:
        raise Forbidden("只有民警、辅警和指挥员可以查看网格")
    return Grid.objects.filter(org__in=visible_orgs(user)).select_related("org", "officer")


@router.get(
    "/grids",
    response=list[GridOut] | GridListOut,
    auth=REQUIRED,
    summary="Grids in my jurisdiction (?format=geojson for a FeatureCollection)",
    description="Ordered by code. `limit` 1-500; `format=geojson` exports all, unpaged.",
    openapi_extra={"responses": {200: {"content": {"application/geo+json": GEOJSON_SCHEMA}}}},
)
@paginated(max_limit=500, legacy_array=True, array_limit=None)
def list_grids(request, filters: Query[GridFilter]):
    grids = grids_for(request.auth)
    if filters.org:
        grids = grids.filter(org__code=filters.org)
    if filters.format == "geojson":
        return JsonResponse(grids_geojson(grids), content_type="application/geo+json")
    return Listing(grids.order_by("code"), render=lambda rows: [_grid_out(g) for g in rows])


def _grid_out(g: Grid) -> GridOut:
    return GridOut(
        code=g.code,
        name=g.name,
        kind=g.kind,
        org_code=g.org.code,
        org=g.org.name,
        officer=g.officer.label if g.officer else None,
        centroid=GridCentroidOut(lat=g.centroid_lat, lng=g.centroid_lng),
        area_km2=g.area_km2,
    )


@router.get(
    "/orgs",
    response=list[OrgOut] | OrgListOut,
    auth=REQUIRED,
    summary="Org units in my jurisdiction, the tree in path order",
)
@paginated(legacy_array=True, array_limit=None)
def list_orgs(request):
    if not request.auth.is_staff_role and not request.auth.is_superuser:
        raise Forbidden()
    return Listing(
        visible_orgs(request.auth).select_related("parent").order_by("path", "pk"),
        render=lambda rows: [
            OrgOut(
                code=o.code, name=o.name, kind=o.kind, parent=o.parent.code if o.parent else None
            )
            for o in rows
        ],
    )
