"""Great-circle distances on a spherical Earth.

A sphere is accurate to ~0.5% versus the ellipsoid, which is far below GPS
noise for the "how far is this report from its grid" questions we answer.
"""

from __future__ import annotations

import math

import numpy as np

# IUGG mean Earth radius.
EARTH_RADIUS_M = 6_371_008.8
# Length of one degree of latitude (or of longitude at the equator) on that sphere.
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180.0


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Distance in metres between two WGS-84 positions given as ``(lng, lat)``."""
    phi1 = math.radians(lat1)
    phi2 = math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2.0) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2.0) ** 2
    # min() guards against h creeping above 1 through rounding for antipodes.
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_array(lng1, lat1, lng2, lat2) -> np.ndarray:
    """Vectorised :func:`haversine_m`; arguments broadcast like numpy arrays."""
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlmb = np.radians(np.asarray(lng2, dtype=np.float64) - np.asarray(lng1, dtype=np.float64))
    h = np.sin((phi2 - phi1) / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
