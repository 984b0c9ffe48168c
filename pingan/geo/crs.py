"""Conversions between the coordinate systems used by maps in China.

* WGS-84: GPS receivers, OpenStreetMap, our storage format.
* GCJ-02 ("Mars coordinates"): the legally mandated obfuscated datum used by
  Amap/Gaode, Tencent and Apple maps inside mainland China.
* BD-09: Baidu's additional obfuscation on top of GCJ-02.

Every function takes and returns ``(lng, lat)`` in degrees, the GeoJSON axis
order, because mixing up the order is the classic bug with these datums.

GCJ-02 is only applied inside a rough bounding box around mainland China (the
box used by virtually every open implementation); outside it WGS-84 and GCJ-02
are identical.  BD-09's extra rotation is applied everywhere, matching the
common open implementations (e.g. ``coordtransform``).

The GCJ-02 constants (Krasovsky semi-major axis and eccentricity) are the ones
from the widely circulated reference implementation; they are deliberately not
"corrected" to WGS-84 values because the output must match what Chinese map
providers compute.
"""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

WGS84 = "wgs84"
GCJ02 = "gcj02"
BD09 = "bd09"
CRS_NAMES = (WGS84, GCJ02, BD09)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as used by GCJ-02
_EE = 0.00669342162296594323  # Krasovsky first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0  # BD-09 rotation frequency
_BD_DLNG = 0.0065
_BD_DLAT = 0.006

# The inverses are solved by fixed-point iteration.  The forward transforms'
# Jacobians are within ~1% of identity, so each step gains several digits;
# the cap only guards against pathological inputs.
_INVERSE_TOLERANCE_DEG = 1e-12
_INVERSE_MAX_ITERATIONS = 20


class UnknownCRS(ValueError):
    """Raised for a coordinate system name outside ``CRS_NAMES``."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(f"不支持的坐标系：{name!r}，可选值为 {'、'.join(CRS_NAMES)}")


def validate_lnglat(lng: float, lat: float) -> None:
    """Raise ``ValueError`` (Chinese message) unless ``(lng, lat)`` is a real position."""
    try:
        lng_f, lat_f = float(lng), float(lat)
    except (TypeError, ValueError):
        raise ValueError(f"坐标必须是数字：经度={lng!r}，纬度={lat!r}") from None
    if not (math.isfinite(lng_f) and math.isfinite(lat_f)):
        raise ValueError(f"坐标必须是有限数值：经度={lng!r}，纬度={lat!r}")
    if not -180.0 <= lng_f <= 180.0:
        raise ValueError(f"经度超出范围 [-180, 180]：{lng!r}")
    if not -90.0 <= lat_f <= 90.0:
        raise ValueError(f"纬度超出范围 [-90, 90]：{lat!r}")


def out_of_china(lng: float, lat: float) -> bool:
    """True when GCJ-02 applies no offset (outside the conventional China box)."""
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _out_of_china_array(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return ~((lng >= 72.004) & (lng <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _gcj_delta(lng, lat, m: ModuleType):
    """GCJ-02 offset ``(dlng, dlat)`` in degrees at a WGS-84 position.

    ``m`` is ``math`` for scalars or ``numpy`` for arrays so both paths share
    one copy of the (opaque, easy to mistype) polynomial.
    """
    x = lng - 105.0
    y = lat - 35.0
    x_pi = x * math.pi
    y_pi = y * math.pi
    common = (20.0 * m.sin(6.0 * x_pi) + 20.0 * m.sin(2.0 * x_pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * m.sqrt(abs(x))
    dlat += common
    dlat += (20.0 * m.sin(y_pi) + 40.0 * m.sin(y_pi / 3.0)) * 2.0 / 3.0
    dlat += (160.0 * m.sin(y_pi / 12.0) + 320.0 * m.sin(y_pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * m.sqrt(abs(x))
    dlng += common
    dlng += (20.0 * m.sin(x_pi) + 40.0 * m.sin(x_pi / 3.0)) * 2.0 / 3.0
    dlng += (150.0 * m.sin(x_pi / 12.0) + 300.0 * m.sin(x_pi / 30.0)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * m.sin(rad_lat) ** 2
    sqrt_magic = m.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * m.cos(rad_lat) * math.pi)
    return dlng, dlat


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    if out_of_china(lng, lat):
        return lng, lat
    dlng, dlat = _gcj_delta(lng, lat, math)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Exact inverse of :func:`wgs84_to_gcj02` (to ~1e-12 degrees).

    The popular one-step approximation ``gcj - delta(gcj)`` is off by up to a
    few metres, enough to move a point across a grid boundary, so we iterate.
    """
    return _invert(wgs84_to_gcj02, lng, lat, (lng, lat))


def _invert(forward, lng: float, lat: float, start: tuple[float, float]) -> tuple[float, float]:
    """Fixed-point inverse of a small, smooth shift: step by the forward error until it vanishes."""
    x_lng, x_lat = start
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lng, f_lat = forward(x_lng, x_lat)
        err_lng, err_lat = f_lng - lng, f_lat - lat
        x_lng -= err_lng
        x_lat -= err_lat
        if abs(err_lng) < _INVERSE_TOLERANCE_DEG and abs(err_lat) < _INVERSE_TOLERANCE_DEG:
            break
    return x_lng, x_lat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    z = math.hypot(lng, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + _BD_DLNG, z * math.sin(theta) + _BD_DLAT


def _bd09_to_gcj02_approx(lng: float, lat: float) -> tuple[float, float]:
    # Baidu's published closed-form inverse; accurate to ~1e-7 degrees.
    x, y = lng - _BD_DLNG, lat - _BD_DLAT
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """Inverse of :func:`gcj02_to_bd09`, refined so round trips are exact."""
    return _invert(gcj02_to_bd09, lng, lat, _bd09_to_gcj02_approx(lng, lat))


def wgs84_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def bd09_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


_TO_WGS84 = {
    WGS84: lambda lng, lat: (lng, lat),
    GCJ02: gcj02_to_wgs84,
    BD09: bd09_to_wgs84,
}
_FROM_WGS84 = {
    WGS84: lambda lng, lat: (lng, lat),
    GCJ02: wgs84_to_gcj02,
    BD09: wgs84_to_bd09,
}


def to_wgs84(lng: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert a position given in ``crs`` (one of ``CRS_NAMES``) to WGS-84."""
    try:
        convert = _TO_WGS84[crs]
    except (KeyError, TypeError):
        raise UnknownCRS(crs) from None
    return convert(lng, lat)


def from_wgs84(lng: float, lat: float, crs: str) -> tuple[float, float]:
    """Convert a WGS-84 position to ``crs`` (one of ``CRS_NAMES``)."""
    try:
        convert = _FROM_WGS84[crs]
    except (KeyError, TypeError):
        raise UnknownCRS(crs) from None
    return convert(lng, lat)


# --- Vectorised variants -------------------------------------------------------
# Used to convert every vertex of an imported boundary file at once; a Python
# loop over hundreds of thousands of vertices would dominate import time.


def _wgs84_to_gcj02_array(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlng, dlat = _gcj_delta(lng, lat, np)
    outside = _out_of_china_array(lng, lat)
    return np.where(outside, lng, lng + dlng), np.where(outside, lat, lat + dlat)


def _gcj02_to_bd09_array(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lng, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.cos(theta) + _BD_DLNG, z * np.sin(theta) + _BD_DLAT


def _wgs84_to_bd09_array(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _gcj02_to_bd09_array(*_wgs84_to_gcj02_array(lng, lat))


def _invert_array(forward, lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Same fixed-point scheme as the scalar inverses, applied to all points.
    w_lng, w_lat = lng.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        f_lng, f_lat = forward(w_lng, w_lat)
        err_lng, err_lat = f_lng - lng, f_lat - lat
        w_lng -= err_lng
        w_lat -= err_lat
        worst = max(np.max(np.abs(err_lng), initial=0.0), np.max(np.abs(err_lat), initial=0.0))
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return w_lng, w_lat


def _float_arrays(lng, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    if crs not in CRS_NAMES:
        raise UnknownCRS(crs)
    return np.asarray(lng, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def to_wgs84_array(lng, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`to_wgs84` over array-likes of equal shape."""
    lng, lat = _float_arrays(lng, lat, crs)
    if crs == WGS84:
        return lng.copy(), lat.copy()
    forward = _wgs84_to_gcj02_array if crs == GCJ02 else _wgs84_to_bd09_array
    return _invert_array(forward, lng, lat)


def from_wgs84_array(lng, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`from_wgs84` over array-likes of equal shape."""
    lng, lat = _float_arrays(lng, lat, crs)
    if crs == WGS84:
        return lng.copy(), lat.copy()
    if crs == GCJ02:
        return _wgs84_to_gcj02_array(lng, lat)
    return _wgs84_to_bd09_array(lng, lat)
