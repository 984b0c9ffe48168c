import copy
import json

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from pingan.geo.crs import UnknownCRS, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from pingan.geo.geojson import (
    GRID_KINDS,
    GeoJSONError,
    GridFeature,
    features_to_feature_collection,
    parse_grid_features,
)

SQUARE = [[[116.0, 39.9], [116.1, 39.9], [116.1, 40.0], [116.0, 40.0], [116.0, 39.9]]]


_DEFAULT = object()


def feature(code="G001", name="东城一网格", kind=None, coordinates=None, geometry=_DEFAULT):
    properties = {"code": code, "name": name}
    if kind is not None:
        properties["kind"] = kind
    if geometry is _DEFAULT:
        geometry = {"type": "Polygon", "coordinates": coordinates or copy.deepcopy(SQUARE)}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def shifted_square(dx):
    return [[[lng + dx, lat] for lng, lat in SQUARE[0]]]


def parse_error(source, **kwargs) -> GeoJSONError:
    with pytest.raises(GeoJSONError) as info:
        parse_grid_features(source, **kwargs)
    return info.value


# --- happy paths --------------------------------------------------------------


def test_valid_import():
    source = collection(
        feature(),
        feature(
            code="G002", name="西城二网格", kind="urban_community", coordinates=shifted_square(1)
        ),
    )
    grids = parse_grid_features(json.dumps(source, ensure_ascii=False))
    assert [g.code for g in grids] == ["G001", "G002"]
    first = grids[0]
    assert isinstance(first, GridFeature)
    assert first.name == "东城一网格"
    assert first.kind == "rural_village"  # default
    assert grids[1].kind == "urban_community"
    assert isinstance(first.geometry, Polygon)
    assert first.geometry.equals(box(116.0, 39.9, 116.1, 40.0))
    assert first.properties == {"code": "G001", "name": "东城一网格"}
    hash(first)  # frozen dataclass stays hashable despite the dict field


def test_accepts_bytes_with_bom_and_str_with_bom():
    text = json.dumps(collection(feature()), ensure_ascii=False)
    assert parse_grid_features(b"\xef\xbb\xbf" + text.encode("utf-8"))[0].code == "G001"
    assert parse_grid_features("\ufeff" + text)[0].name == "东城一网格"


def test_multipolygon():
    geometry = {"type": "MultiPolygon", "coordinates": [SQUARE, shifted_square(0.5)]}
    (grid,) = parse_grid_features(collection(feature(geometry=geometry)))
    assert isinstance(grid.geometry, MultiPolygon)
    assert len(grid.geometry.geoms) == 2


def test_polygon_with_hole_and_altitude_and_unclosed_ring():
    outer = [[116.0, 39.9, 50.0], [116.1, 39.9, 50.0], [116.1, 40.0, 50.0], [116.0, 40.0, 50.0]]
    hole = [[116.02, 39.92], [116.08, 39.92], [116.08, 39.98], [116.02, 39.92]]
    (grid,) = parse_grid_features(collection(feature(coordinates=[outer, hole])))
    assert not grid.geometry.has_z
    assert len(grid.geometry.interiors) == 1


@pytest.mark.parametrize(
    ("alias", "kind"),
    [
        ("城市社区", "urban_community"),
        ("农村村庄", "rural_village"),
        ("工业园区", "industrial_park"),
        ("景区", "scenic_area"),
        (" scenic_area ", "scenic_area"),
        ("", "rural_village"),
    ],
)
def test_kind_aliases(alias, kind):
    (grid,) = parse_grid_features(collection(feature(kind=alias)))
    assert grid.kind == kind
    assert kind in GRID_KINDS


def test_names_and_codes_are_trimmed():
    (grid,) = parse_grid_features(collection(feature(code=" G001 ", name=" 网格 ")))
    assert (grid.code, grid.name) == ("G001", "网格")


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_crs_conversion_applied_to_every_vertex(crs, forward):
    wgs_ring = [[116.0, 39.9], [116.1, 39.9], [116.1, 40.0], [116.0, 40.0], [116.0, 39.9]]
    shifted = [list(forward(lng, lat)) for lng, lat in wgs_ring]
    hole_wgs = [[116.02, 39.92], [116.08, 39.92], [116.08, 39.98], [116.02, 39.92]]
    hole = [list(forward(lng, lat)) for lng, lat in hole_wgs]
    (grid,) = parse_grid_features(collection(feature(coordinates=[shifted, hole])), crs=crs)
    for got, expected in zip(grid.geometry.exterior.coords, wgs_ring, strict=True):
        assert got == pytest.approx(tuple(expected), abs=1e-9)
    for got, expected in zip(grid.geometry.interiors[0].coords, hole_wgs, strict=True):
        assert got == pytest.approx(tuple(expected), abs=1e-9)


def test_geometry_broken_by_conversion_is_rejected(monkeypatch):
    from pingan.geo import geojson

    def folding_conversion(lng, lat, crs):
        lat = lat.copy()
        lat[[1, 2]] = lat[[2, 1]]  # turns the square into a bow-tie
        return lng, lat

    monkeypatch.setattr(geojson, "to_wgs84_array", folding_conversion)
    error = parse_error(collection(feature()), crs="gcj02")
    assert (error.code, error.feature_index) == ("bad_geometry", 0)
    assert error.message.startswith("第 1 个要素（code=G001）转换为 WGS-84 后几何无效：自相交")


def test_unknown_crs():
    with pytest.raises(UnknownCRS):
        parse_grid_features(collection(feature()), crs="epsg:3857")


# --- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        b"{not json",
        "[1, 2",
        b"\xff\xfe\x00garbage",
        '{"type": "FeatureCollection", "x": NaN}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_invalid_json(source):
    error = parse_error(source)
    assert error.code == "invalid_json"
    assert error.feature_index is None
    assert "文件" in error.message


@pytest.mark.parametrize(
    "source",
    [
        {"type": "Feature", "geometry": None, "properties": {}},
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": {}},
        "[]",
    ],
)
def test_not_feature_collection(source):
    assert parse_error(source).code == "not_feature_collection"


def test_empty_feature_collection():
    error = parse_error(collection())
    assert error.code == "no_features"
    assert "没有任何要素" in error.message


def test_not_a_feature():
    error = parse_error(collection(feature(), {"type": "Polygon", "coordinates": SQUARE}))
    assert (error.code, error.feature_index) == ("not_feature", 1)
    assert "第 2 个要素" in error.message


def test_self_intersecting_geometry_reports_reason_and_feature():
    bowtie = [[[116.0, 39.9], [116.1, 40.0], [116.1, 39.9], [116.0, 40.0], [116.0, 39.9]]]
    error = parse_error(
        collection(
            feature(),
            feature(code="G002", coordinates=shifted_square(1)),
            feature(code="G003", coordinates=bowtie),
        )
    )
    assert (error.code, error.feature_index) == ("bad_geometry", 2)
    assert error.message.startswith("第 3 个要素（code=G003）的几何无效：自相交")
    assert str(error) == error.message


@pytest.mark.parametrize(
    "geometry",
    [
        None,
        {"type": "Point", "coordinates": [116.0, 39.9]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[116.0, 39.9], [116.1, 39.9], [116.0, 39.9]]]},
        {"type": "Polygon", "coordinates": [[[116.0, "39.9"], [116.1, 39.9], [116.1, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[116.0], [116.1, 39.9], [116.1, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[True, 39.9], [116.1, 39.9], [116.1, 40.0]]]},
        {"type": "Polygon", "coordinates": [[[116.0, 39.9, "1m"], [116.1, 39.9], [116.1, 40.0]]]},
        {"type": "Polygon", "coordinates": [[116.0, 39.9]]},
        {"type": "MultiPolygon", "coordinates": []},
    ],
)
def test_malformed_geometry(geometry):
    error = parse_error(collection(feature(code="G009", geometry=geometry)))
    assert (error.code, error.feature_index) == ("bad_geometry", 0)
    assert "第 1 个要素（code=G009）" in error.message


@pytest.mark.parametrize("bad_vertex", [[181.0, 39.9], [116.0, -90.5], [12_958_000.0, 4_825_000.0]])
def test_coordinates_out_of_range(bad_vertex):
    coordinates = copy.deepcopy(SQUARE)
    coordinates[0][2] = bad_vertex
    error = parse_error(collection(feature(), feature(code="G002", coordinates=coordinates)))
    assert (error.code, error.feature_index) == ("coordinates_out_of_range", 1)
    assert "第 2 个要素（code=G002）" in error.message
    assert "超出经纬度范围" in error.message


def test_non_finite_coordinates_via_parsed_dict():
    coordinates = copy.deepcopy(SQUARE)
    coordinates[0][1] = [float("inf"), 39.9]
    error = parse_error(collection(feature(coordinates=coordinates)))
    assert (error.code, error.feature_index) == ("coordinates_out_of_range", 0)


@pytest.mark.parametrize(
    ("properties", "key"),
    [
        ({"name": "网格"}, "code"),
        ({"code": "  ", "name": "网格"}, "code"),
        ({"code": "G001"}, "name"),
        ({"code": "G001", "name": ""}, "name"),
    ],
)
def test_missing_property(properties, key):
    item = {"type": "Feature", "properties": properties, "geometry": feature()["geometry"]}
    error = parse_error(collection(feature(code="G000"), item))
    assert (error.code, error.feature_index) == ("missing_property", 1)
    assert error.message.startswith("第 2 个要素")
    assert key in error.message


def test_missing_properties_object():
    item = {"type": "Feature", "properties": None, "geometry": feature()["geometry"]}
    error = parse_error(collection(item))
    assert (error.code, error.feature_index) == ("missing_property", 0)
    assert error.message == "第 1 个要素缺少必填属性 code"


def test_missing_code_message_uses_name():
    item = feature(code=None)
    error = parse_error(collection(item))
    assert error.message == "第 1 个要素（name=东城一网格）缺少必填属性 code"


@pytest.mark.parametrize(
    ("code", "name"), [("G" * 33, "网格"), ("G001", "长" * 101), (123, "网格"), ("G001", ["x"])]
)
def test_bad_property(code, name):
    error = parse_error(collection(feature(code=code, name=name)))
    assert (error.code, error.feature_index) == ("bad_property", 0)
    assert "第 1 个要素" in error.message


def test_limits_are_inclusive():
    (grid,) = parse_grid_features(collection(feature(code="G" * 32, name="长" * 100)))
    assert len(grid.code) == 32 and len(grid.name) == 100


def test_duplicate_code():
    error = parse_error(
        collection(
            feature(code="G001"),
            feature(code="G002", coordinates=shifted_square(1)),
            feature(code="G001", name="重复网格", coordinates=shifted_square(2)),
        )
    )
    assert (error.code, error.feature_index) == ("duplicate_code", 2)
    assert error.message == "第 3 个要素（code=G001）的编码与第 1 个要素重复"


@pytest.mark.parametrize("kind", ["city", "村庄", 3])
def test_bad_kind(kind):
    error = parse_error(collection(feature(), feature(code="G002", kind=kind)))
    assert (error.code, error.feature_index) == ("bad_kind", 1)
    assert "第 2 个要素（code=G002）" in error.message
    assert "urban_community" in error.message and "城市社区" in error.message


def test_error_is_a_value_error():
    assert issubclass(GeoJSONError, ValueError)


# --- export -------------------------------------------------------------------


def test_export_round_trips_through_import():
    items = [
        {
            "geometry": box(116.0, 39.9, 116.123456789, 40.0),
            "properties": {"code": "G001", "name": "一网格", "kind": "scenic_area"},
        },
        {
            "geometry": MultiPolygon([box(117, 39, 117.1, 39.1), box(118, 39, 118.1, 39.1)]),
            "properties": {"code": "G002", "name": "二网格"},
        },
    ]
    exported = features_to_feature_collection(items)
    assert exported["type"] == "FeatureCollection"
    first = exported["features"][0]
    assert first["type"] == "Feature"
    assert first["properties"] == items[0]["properties"]
    assert first["geometry"]["type"] == "Polygon"
    lngs = {lng for lng, _ in first["geometry"]["coordinates"][0]}
    assert 116.123457 in lngs  # rounded to 6 decimals
    # JSON-serialisable and accepted by our own importer.
    grids = parse_grid_features(json.dumps(exported, ensure_ascii=False))
    assert [g.code for g in grids] == ["G001", "G002"]
    assert grids[0].kind == "scenic_area"
    assert isinstance(grids[1].geometry, MultiPolygon)


def test_export_in_gcj02_inverts_import_conversion():
    items = [{"geometry": box(116.0, 39.9, 116.1, 40.0), "properties": {"code": "A", "name": "a"}}]
    exported = features_to_feature_collection(items, crs="gcj02")
    ring = exported["features"][0]["geometry"]["coordinates"][0]
    original = box(116.0, 39.9, 116.1, 40.0).exterior.coords
    for exported_vertex, wgs_vertex in zip(ring, original, strict=True):
        assert exported_vertex == pytest.approx(list(wgs84_to_gcj02(*wgs_vertex)), abs=1e-6)
        assert gcj02_to_wgs84(*exported_vertex) == pytest.approx(wgs_vertex, abs=2e-6)
    (grid,) = parse_grid_features(exported, crs="gcj02")
    assert grid.geometry.equals_exact(box(116.0, 39.9, 116.1, 40.0), 2e-6)


def test_accepts_shapely_mapping_with_tuples():
    from shapely.geometry import mapping

    source = collection(feature(geometry=mapping(box(116.0, 39.9, 116.1, 40.0))))
    (grid,) = parse_grid_features(source)
    assert grid.geometry.equals(box(116.0, 39.9, 116.1, 40.0))


def test_validity_reason_is_translated():
    degenerate = [[[116.0, 39.9], [116.1, 39.9], [116.1, 39.9], [116.0, 39.9]]]
    error = parse_error(collection(feature(coordinates=degenerate)))
    assert error.code == "bad_geometry"
    assert "顶点数过少" in error.message
    assert "Too few" not in error.message
