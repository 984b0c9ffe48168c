"""Import and export of grid boundaries as GeoJSON.

Import is strict and fails on the first problem with a :class:`GeoJSONError`
whose Chinese message names the offending feature, because the people
uploading these files are station staff who fix them by hand in a GIS tool.
Geometries are returned in WGS-84, our storage datum.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

from pingan.geo.crs import CRS_NAMES, WGS84, UnknownCRS, from_wgs84_array, to_wgs84_array

GRID_KINDS = ("urban_community", "rural_village", "industrial_park", "scenic_area")
DEFAULT_GRID_KIND = "rural_village"
GRID_KIND_ALIASES = {
    "城市社区": "urban_community",
    "农村村庄": "rural_village",
    "工业园区": "industrial_park",
    "景区": "scenic_area",
}
MAX_CODE_LENGTH = 32
MAX_NAME_LENGTH = 100
EXPORT_DECIMALS = 6  # ~0.1 m: finer precision only bloats the file

# GEOS explain_validity() reasons, translated for the uploader.
_VALIDITY_REASONS_ZH = {
    "Self-intersection": "自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "顶点数过少",
    "Too few distinct points in geometry component": "不同的顶点数过少",
    "Hole lies outside shell": "内环（洞）位于外环之外",
    "Holes are nested": "内环（洞）相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Nested shells": "多边形相互嵌套",
    "Duplicate Rings": "存在重复的环",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
    "Repeated Point": "存在重复顶点",
}
_VALIDITY_RE = re.compile(r"^(?P<reason>[^\[]+?)\s*\[(?P<x>\S+)\s+(?P<y>\S+)[^\]]*\]\s*$")


class GeoJSONError(ValueError):
    """A rejected grid boundary file.

    ``code`` is a stable machine-readable reason, ``feature_index`` the
    0-based position of the offending feature (``None`` for file-level
    problems) and ``message`` a Chinese explanation whose feature number is
    1-based, as a person counts.
    """

    def __init__(self, code: str, message: str, feature_index: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.feature_index = feature_index


@dataclass(frozen=True)
class GridFeature:
    code: str
    name: str
    kind: str
    geometry: Polygon | MultiPolygon
    # Excluded from hashing so the frozen dataclass stays hashable.
    properties: dict = field(hash=False)


def normalize_grid_kind(value: object) -> str | None:
    """Canonical kind for an English name or Chinese alias, else ``None``."""
    if value is None:
        return DEFAULT_GRID_KIND
    if not isinstance(value, str):
        return None
    value = value.strip()
    if value == "":
        return DEFAULT_GRID_KIND
    if value in GRID_KINDS:
        return value
    return GRID_KIND_ALIASES.get(value)


# --- Import --------------------------------------------------------------------


def parse_grid_features(source: bytes | str | Mapping, crs: str = WGS84) -> list[GridFeature]:
    """Validate a grid boundary FeatureCollection and return its grids in WGS-84.

    ``source`` is UTF-8 JSON (a BOM is tolerated, as Windows tools add one) or
    an already parsed mapping.  ``crs`` names the datum of the coordinates in
    the file; every vertex is converted to WGS-84.  Geometry validity is
    checked on the file's own coordinates, so reported positions can be found
    in the uploader's GIS tool.
    """
    if not isinstance(crs, str) or crs not in CRS_NAMES:
        raise UnknownCRS(crs)
    document = _load_json(source)
    features = _feature_list(document)
    result: list[GridFeature] = []
    first_index_of_code: dict[str, int] = {}
    for index, feature in enumerate(features):
        grid = _parse_feature(index, feature)
        previous = first_index_of_code.get(grid.code)
        if previous is not None:
            raise GeoJSONError(
                "duplicate_code",
                f"{_where(index, grid.code, grid.name)}的编码与第 {previous + 1} 个要素重复",
                index,
            )
        first_index_of_code[grid.code] = index
        result.append(grid)
    if crs != WGS84:
        result = _convert_to_wgs84(result, crs)
    return result


def _convert_to_wgs84(grids: list[GridFeature], crs: str) -> list[GridFeature]:
    # One vectorised call for all vertices: the iterative inverse has a fixed
    # numpy overhead per call that would dominate if paid per ring.
    def convert(coords: np.ndarray) -> np.ndarray:
        lng, lat = to_wgs84_array(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lng, lat])

    geometries = shapely.transform(np.array([g.geometry for g in grids], dtype=object), convert)
    # The datum shift is smooth and tiny, but a near-degenerate input could
    # still fold over; better to refuse than to store an invalid boundary.
    for index in np.flatnonzero(~shapely.is_valid(geometries)):
        grid = grids[index]
        reason = _explain_invalid(geometries[index])
        raise GeoJSONError(
            "bad_geometry",
            f"{_where(int(index), grid.code, grid.name)}转换为 WGS-84 后几何无效：{reason}",
            int(index),
        )
    return [replace(grid, geometry=geom) for grid, geom in zip(grids, geometries, strict=True)]


def _load_json(source: bytes | str | Mapping) -> Any:
    if isinstance(source, Mapping):
        return source
    if isinstance(source, bytes | bytearray | memoryview):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GeoJSONError(
                "invalid_json", f"文件不是有效的 UTF-8 编码（第 {exc.start + 1} 个字节处）"
            ) from None
    if not isinstance(source, str):
        raise TypeError(f"unsupported GeoJSON source type: {type(source).__name__}")
    source = source.removeprefix("\ufeff")
    try:
        # parse_constant rejects NaN/Infinity, which Python's json would accept.
        return json.loads(source, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise GeoJSONError(
            "invalid_json", f"文件不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有错误"
        ) from None
    except ValueError as exc:
        raise GeoJSONError("invalid_json", f"文件不是有效的 JSON：{exc}") from None
    except RecursionError:
        raise GeoJSONError("invalid_json", "文件不是有效的 JSON：嵌套层级过深") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"不允许使用 {name}")


def _feature_list(document: Any) -> list:
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection":
        raise GeoJSONError("not_feature_collection", "文件顶层必须是 GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list | tuple):
        raise GeoJSONError("not_feature_collection", "FeatureCollection 缺少 features 数组")
    if not features:
        raise GeoJSONError("no_features", "FeatureCollection 中没有任何要素")
    return features


def _where(index: int, code: str | None = None, name: str | None = None) -> str:
    """Human reference to a feature: "第 3 个要素（code=G001）"."""
    if code:
        return f"第 {index + 1} 个要素（code={code}）"
    if name:
        return f"第 {index + 1} 个要素（name={name}）"
    return f"第 {index + 1} 个要素"


def _parse_feature(index: int, feature: Any) -> GridFeature:
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise GeoJSONError("not_feature", f"{_where(index)}不是 GeoJSON Feature", index)
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, Mapping):
        raise GeoJSONError("bad_property", f"{_where(index)}的 properties 必须是对象", index)

    # Read the identifying properties first so later messages can name the feature.
    raw_code, raw_name = properties.get("code"), properties.get("name")
    code = raw_code.strip() if isinstance(raw_code, str) else None
    name = raw_name.strip() if isinstance(raw_name, str) else None
    where = _where(index, code, name)

    code = _required_text(index, where, "code", raw_code, MAX_CODE_LENGTH)
    name = _required_text(index, where, "name", raw_name, MAX_NAME_LENGTH)
    kind = normalize_grid_kind(properties.get("kind"))
    if kind is None:
        allowed = "、".join([*GRID_KINDS, *GRID_KIND_ALIASES])
        raise GeoJSONError(
            "bad_kind",
            f"{where}的类型 kind={_short(properties.get('kind'))} 无效，可选值：{allowed}",
            index,
        )
    geometry = _parse_geometry(index, where, feature.get("geometry"))
    return GridFeature(
        code=code, name=name, kind=kind, geometry=geometry, properties=dict(properties)
    )


def _required_text(index: int, where: str, key: str, value: Any, max_length: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise GeoJSONError("missing_property", f"{where}缺少必填属性 {key}", index)
    if not isinstance(value, str):
        raise GeoJSONError("bad_property", f"{where}的属性 {key} 必须是字符串", index)
    value = value.strip()
    if len(value) > max_length:
        raise GeoJSONError("bad_property", f"{where}的属性 {key} 超过 {max_length} 个字符", index)
    return value


def _parse_geometry(index: int, where: str, geometry: Any) -> Polygon | MultiPolygon:
    if not isinstance(geometry, Mapping):
        raise GeoJSONError("bad_geometry", f"{where}缺少几何（geometry）", index)
    geom_type = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if geom_type == "Polygon":
        polygons = [coordinates]
    elif geom_type == "MultiPolygon":
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise GeoJSONError("bad_geometry", f"{where}的 MultiPolygon 坐标为空或格式错误", index)
        polygons = coordinates
    else:
        raise GeoJSONError(
            "bad_geometry",
            f"{where}的几何类型 {_short(geom_type)} 不受支持，只接受 Polygon 或 MultiPolygon",
            index,
        )

    shapes = [_build_polygon(index, where, rings) for rings in polygons]
    shape = shapes[0] if geom_type == "Polygon" else MultiPolygon(shapes)
    if not shape.is_valid:
        raise GeoJSONError("bad_geometry", f"{where}的几何无效：{_explain_invalid(shape)}", index)
    return shape


def _build_polygon(index: int, where: str, rings: Any) -> Polygon:
    if not isinstance(rings, list | tuple) or not rings:
        raise GeoJSONError("bad_geometry", f"{where}的多边形坐标为空或格式错误", index)
    arrays = [_ring_array(index, where, ring) for ring in rings]
    return Polygon(arrays[0], arrays[1:])


_SEQUENCE_TYPES = (list, tuple)
_NUMBER_TYPES = (int, float)  # exact types: JSON true/false must not pass as 1/0


def _ring_array(index: int, where: str, ring: Any) -> np.ndarray:
    """Validate one linear ring's positions and return them as an (n, 2) array."""
    if type(ring) not in _SEQUENCE_TYPES:
        raise GeoJSONError("bad_geometry", f"{where}的坐标格式错误：环必须是坐标数组", index)
    # Per-vertex type checks are the hot loop of a large import; keep them lean.
    for position in ring:
        if (
            type(position) not in _SEQUENCE_TYPES
            or len(position) < 2
            or type(position[0]) not in _NUMBER_TYPES
            or type(position[1]) not in _NUMBER_TYPES
            or (len(position) > 2 and any(type(c) not in _NUMBER_TYPES for c in position))
        ):
            raise GeoJSONError(
                "bad_geometry",
                f"{where}的坐标格式错误：{_short(position)} 不是 [经度, 纬度]",
                index,
            )
    try:
        # Altitude, if present, is dropped: grids are 2-D.
        array = np.array([(position[0], position[1]) for position in ring], dtype=np.float64)
    except OverflowError:
        array = np.full((len(ring), 2), np.inf)  # integers too large for a float
    valid = (
        np.isfinite(array).all(axis=1)
        & (np.abs(array[:, 0]) <= 180.0)
        & (np.abs(array[:, 1]) <= 90.0)
    )
    if not valid.all():
        position = ring[int(np.flatnonzero(~valid)[0])]
        raise GeoJSONError(
            "coordinates_out_of_range",
            f"{where}的坐标 {_short(position)} 超出经纬度范围（经度 -180～180，纬度 -90～90），"
            "请确认文件使用经纬度而不是投影坐标",
            index,
        )
    if len(array) and not np.array_equal(array[0], array[-1]):
        array = np.vstack([array, array[:1]])  # tolerate unclosed rings, as most tools do
    if len(array) < 4:
        raise GeoJSONError("bad_geometry", f"{where}的几何无效：环至少需要 3 个不同的顶点", index)
    return array


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain_invalid(geometry: shapely.Geometry) -> str:
    explanation = shapely.is_valid_reason(geometry)
    match = _VALIDITY_RE.match(explanation)
    if not match:
        return _VALIDITY_REASONS_ZH.get(explanation, explanation)
    reason = match["reason"]
    return f"{_VALIDITY_REASONS_ZH.get(reason, reason)}（位置 {match['x']}, {match['y']}）"


# --- Export --------------------------------------------------------------------


def features_to_feature_collection(items: Iterable[Mapping], crs: str = WGS84) -> dict:
    """Build a GeoJSON FeatureCollection from ``{"geometry", "properties"}`` items.

    Geometries are WGS-84 shapely objects; ``crs`` converts them for consumers
    that draw on GCJ-02/BD-09 base maps.  Coordinates are rounded to
    ``EXPORT_DECIMALS`` places.
    """
    if not isinstance(crs, str) or crs not in CRS_NAMES:
        raise UnknownCRS(crs)

    def convert(coords: np.ndarray) -> np.ndarray:
        if crs != WGS84:
            lng, lat = from_wgs84_array(coords[:, 0], coords[:, 1], crs)
            coords = np.column_stack([lng, lat])
        return np.round(coords, EXPORT_DECIMALS)

    features = []
    for item in items:
        geometry = shapely.transform(item["geometry"], convert)
        features.append(
            {
                "type": "Feature",
                "geometry": _plain(mapping(geometry)),
                "properties": dict(item.get("properties") or {}),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _plain(value: Any) -> Any:
    # mapping() yields nested tuples; lists make the dict JSON-identical to its parse.
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
