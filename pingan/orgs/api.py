from typing import Literal

from django.http import JsonResponse
from ninja import Query, Router, Schema

from pingan.core.api_auth import REQUIRED
from pingan.core.errors import Forbidden

from .models import Grid
from .services import grids_geojson, visible_orgs

router = Router(tags=["jurisdiction"])


class GridOut(Schema):
    code: str
    name: str
    kind: str
    org_code: str
    org: str
    officer: str | None
    centroid: dict
    area_km2: float


class GridFilter(Schema):
    format: Literal["json", "geojson"] = "json"
    org: str | None = None


class OrgOut(Schema):
    code: str
    name: str
    kind: str
    parent: str | None


def grids_for(user):
    if not user.is_staff_role and not user.is_superuser:
        raise Forbidden("只有民警、辅警和指挥员可以查看网格")
    return Grid.objects.filter(org__in=visible_orgs(user)).select_related("org", "officer")


@router.get(
    "/grids",
    response=list[GridOut],
    auth=REQUIRED,
    summary="Grids in my jurisdiction (?format=geojson for a FeatureCollection)",
)
def list_grids(request, filters: Query[GridFilter]):
    grids = grids_for(request.auth)
    if filters.org:
        grids = grids.filter(org__code=filters.org)
    if filters.format == "geojson":
        return JsonResponse(grids_geojson(grids), content_type="application/geo+json")
    return [
        GridOut(
            code=g.code,
            name=g.name,
            kind=g.kind,
            org_code=g.org.code,
            org=g.org.name,
            officer=g.officer.label if g.officer else None,
            centroid={"lat": g.centroid_lat, "lng": g.centroid_lng},
            area_km2=g.area_km2,
        )
        for g in grids
    ]


@router.get("/orgs", response=list[OrgOut], auth=REQUIRED)
def list_orgs(request):
    if not request.auth.is_staff_role and not request.auth.is_superuser:
        raise Forbidden()
    return [
        OrgOut(code=o.code, name=o.name, kind=o.kind, parent=o.parent.code if o.parent else None)
        for o in visible_orgs(request.auth).select_related("parent")
    ]
