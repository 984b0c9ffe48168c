"""Grids: GeoJSON import (command and console upload, all or nothing), export, the index."""

import json
from io import StringIO

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from pingan.geo.crs import wgs84_to_gcj02
from pingan.geo.geojson import GeoJSONError
from pingan.orgs import services
from pingan.orgs.models import Grid, OrgKind, SlaPolicy
from tests.conftest import square

pytestmark = pytest.mark.django_db


def feature(code, name, geometry, **props):
    return {
        "type": "Feature",
        "geometry": shapely.geometry.mapping(geometry),
        "properties": {"code": code, "name": name, **props},
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def good_file():
    return collection(
        feature("GN1", "新村", square(114.50, 26.30), kind="rural_village"),
        feature("GN2", "工业园", square(114.52, 26.30), kind="工业园区"),
    )


def test_import_creates_grids_and_they_are_located_at_once(world):
    result = services.import_grids(json.dumps(good_file()), org=world.office_b)
    assert (result.created, result.updated) == (2, 0)
    grid = Grid.objects.get(code="GN2")
    assert grid.kind == "industrial_park" and grid.org == world.office_b
    assert grid.area_km2 == pytest.approx(4.0, rel=0.15)  # 0.02° × 0.02° at 26°N
    assert services.locate(114.52, 26.30).grid_id == grid.pk


def test_reimport_updates_in_place(world):
    services.import_grids(json.dumps(good_file()), org=world.office_b)
    moved = collection(feature("GN1", "新村（调整）", square(114.60, 26.30)))
    assert services.import_grids(json.dumps(moved), org=world.office_b).updated == 1
    grid = Grid.objects.get(code="GN1")
    assert grid.name == "新村（调整）"
    assert services.locate(114.60, 26.30).grid_id == grid.pk
    assert services.locate(114.50, 26.30).inside is False


def test_broken_feature_rolls_back_everything_and_is_named(world):
    bowtie = shapely.Polygon([(114.7, 26.3), (114.72, 26.32), (114.72, 26.3), (114.7, 26.32)])
    data = good_file()
    data["features"].append(feature("GN3", "坏村", bowtie))
    with pytest.raises(GeoJSONError) as exc:
        services.import_grids(json.dumps(data), org=world.office_b)
    assert "第 3 个" in exc.value.message and "GN3" in exc.value.message
    assert not Grid.objects.filter(code__startswith="GN").exists()


def test_unknown_org_code_in_a_feature_rolls_back(world):
    data = good_file()
    data["features"][1]["properties"]["org_code"] = "O-A1"  # not under station B
    with pytest.raises(services.OrgError) as exc:
        services.import_grids(json.dumps(data), org=world.station_b)
    assert exc.value.code == "unknown_org"
    assert not Grid.objects.filter(code__startswith="GN").exists()


def test_gcj02_file_is_converted(world):
    center = (114.50, 26.30)
    gcj = square(*wgs84_to_gcj02(*center))
    services.import_grids(
        json.dumps(collection(feature("GN9", "火星村", gcj))), org=world.office_b, crs="gcj02"
    )
    grid = Grid.objects.get(code="GN9")
    assert grid.geometry.centroid.distance(shapely.Point(center)) < 1e-4


def test_management_command(world, tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps(good_file()), encoding="utf-8")
    out = StringIO()
    call_command("import_grids", str(path), "--org", "O-B1", stdout=out)
    assert "2 created" in out.getvalue()
    path.write_text("{broken", encoding="utf-8")
    with pytest.raises(CommandError, match="未做任何修改"):
        call_command("import_grids", str(path), "--org", "O-B1")
    with pytest.raises(CommandError, match="不存在"):
        call_command("import_grids", str(path), "--org", "NOPE")


def upload(client, content, org="O-B1", crs="wgs84"):
    return client.post(
        "/console/grids/import/",
        {
            "file": SimpleUploadedFile("g.geojson", content, "application/geo+json"),
            "org": org,
            "crs": crs,
        },
    )


def test_console_upload(world):
    client = Client()
    client.force_login(world.commander)
    response = upload(client, json.dumps(good_file()).encode())
    assert response.status_code == 302
    assert Grid.objects.filter(code__startswith="GN").count() == 2
    bad = upload(client, b'{"type": "FeatureCollection", "features": []}')
    assert bad.status_code == 400
    assert "导入失败" in bad.content.decode()
    assert upload(client, b"{}", org="NOPE").status_code == 400
    assert upload(client, b"{}", crs="mars").status_code == 400


def test_console_upload_is_scoped(world):
    client = Client()
    client.force_login(world.chief_a)  # station A chief
    response = upload(client, json.dumps(good_file()).encode(), org="O-B1")
    assert response.status_code == 400
    assert not Grid.objects.filter(code__startswith="GN").exists()
    client.force_login(world.officer_a)
    assert upload(client, json.dumps(good_file()).encode()).status_code == 403


def test_geojson_export_round_trips(world, api):
    response = api(world.commander).get("/api/grids?format=geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert {f["properties"]["code"] for f in data["features"]} == {"GA1", "GB1"}
    again = json.dumps(data).replace('"GA1"', '"GX1"').replace('"GB1"', '"GX2"')
    assert services.import_grids(again, org=world.county).created == 2
    assert Grid.objects.get(code="GX1").org == world.office_a  # kept via org_code


def test_create_org_enforces_the_tree(world):
    with pytest.raises(services.OrgError):
        services.create_org(code="X", name="错", kind=OrgKind.POLICE_OFFICE, parent=world.county)
    office = services.create_org(
        code="O-A2", name="西门警务室", kind=OrgKind.POLICE_OFFICE, parent=world.station_a
    )
    assert office.path == f"{world.station_a.path}{office.pk}/"
    assert set(world.station_a.subtree()) == {world.station_a, world.office_a, office}


def test_targets_come_from_the_nearest_policy(world):
    assert services.targets_for(world.office_a) == services.Targets(60, 180, 300)
    SlaPolicy.objects.create(org=world.county, accept_seconds=90, rural_arrive_seconds=900)
    SlaPolicy.objects.create(org=world.station_a, arrive_seconds=240)
    assert services.targets_for(world.office_a, "urban_community") == services.Targets(60, 240, 300)
    assert services.targets_for(world.office_b, "rural_village") == services.Targets(90, 900, 300)
    assert services.targets_for(world.office_b, "urban_community").arrive_seconds == 180


def test_a_deleted_grid_is_not_returned_by_a_stale_index(world):
    from django.db.models import F

    from pingan.orgs.models import Grid as GridModel
    from pingan.orgs.models import GridVersion

    assert services.locate_grid(114.30, 26.30)[0] == world.grid_a
    # Another process deletes the grid and bumps the version; this process's index is still
    # within its check interval, names the deleted grid, and must rebuild rather than fail.
    GridModel.objects.filter(pk=world.grid_a.pk).delete()
    GridVersion.objects.update(version=F("version") + 1)
    grid, location = services.locate_grid(114.30, 26.30)
    assert grid == world.grid_b and location.inside is False


def test_admin_changes_bump_the_grid_version(world):
    from pingan.orgs.models import GridVersion

    admin_user = world.commander
    admin_user.is_superuser = admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    before = GridVersion.objects.get().version
    response = client.post(f"/admin/orgs/grid/{world.grid_b.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert GridVersion.objects.get().version == before + 1
    assert services.locate(114.40, 26.30).grid_id == world.grid_a.pk
