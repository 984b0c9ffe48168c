from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from pingan.geo.crs import CRS_NAMES
from pingan.geo.geojson import GeoJSONError

from . import services


@login_required
def grid_import(request):
    user = request.user
    if not user.is_commander:
        raise PermissionDenied("只有指挥员可以导入网格")
    orgs = services.visible_orgs(user)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        org = orgs.filter(code=request.POST.get("org", "")).first()
        crs = request.POST.get("crs", "wgs84")
        if upload is None:
            error = "请选择 GeoJSON 文件"
        elif upload.size > settings.GEOJSON_MAX_BYTES:
            error = f"文件超过 {settings.GEOJSON_MAX_BYTES // 1024 // 1024} MB"
        elif org is None:
            error = "请选择所属单位"
        elif crs not in CRS_NAMES:
            error = "坐标系只能是 wgs84、gcj02 或 bd09"
        else:
            try:
                result = services.import_grids(upload.read(), org=org, crs=crs)
            except (GeoJSONError, services.OrgError) as exc:
                error = f"导入失败，未做任何修改：{exc.message}"
            else:
                messages.success(
                    request, f"导入成功：新增 {result.created} 个网格，更新 {result.updated} 个"
                )
                return redirect("console-grid-import")
    return render(
        request,
        "orgs/grid_import.html",
        {"orgs": orgs, "error": error, "crs_names": CRS_NAMES},
        status=400 if error else 200,
    )
