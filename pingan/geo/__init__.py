"""Geospatial helpers for pingan: datums, distances, grid lookup, GeoJSON I/O.

Plain library code with no Django dependency, so it can be used from
management commands, workers and benchmarks alike.
"""

from pingan.geo.crs import (
    BD09,
    CRS_NAMES,
    GCJ02,
    WGS84,
    UnknownCRS,
    from_wgs84,
    to_wgs84,
    validate_lnglat,
)
from pingan.geo.distance import haversine_m, haversine_m_array
from pingan.geo.geojson import (
    GRID_KINDS,
    GeoJSONError,
    GridFeature,
    features_to_feature_collection,
    parse_grid_features,
)
from pingan.geo.index import CachedGridIndex, GridIndex, Location

__all__ = [
    "BD09",
    "CRS_NAMES",
    "GCJ02",
    "GRID_KINDS",
    "WGS84",
    "CachedGridIndex",
    "GeoJSONError",
    "GridFeature",
    "GridIndex",
    "Location",
    "UnknownCRS",
    "features_to_feature_collection",
    "from_wgs84",
    "haversine_m",
    "haversine_m_array",
    "parse_grid_features",
    "to_wgs84",
    "validate_lnglat",
]
