import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingan.geo import crs
from pingan.geo.crs import (
    BD09,
    CRS_NAMES,
    GCJ02,
    WGS84,
    UnknownCRS,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    from_wgs84_array,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    to_wgs84_array,
    validate_lnglat,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from pingan.geo.distance import haversine_m

# Published vectors from googollee/eviltransform's test suites (go/transform_test.go,
# python/test.py), given there as (wgsLat, wgsLng, gcjLat, gcjLng).  The Python
# suite checks them to 6 decimal places.
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]

# Published in wandergis/coordtransform's README for the input (116.404, 39.915),
# in (lng, lat) order, printed at full double precision.
WANDERGIS_INPUT = (116.404, 39.915)
WANDERGIS_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
WANDERGIS_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
WANDERGIS_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)

# Roughly mainland China, kept clear of the GCJ-02 box edge where the
# transform is discontinuous by design.
china_lng = st.floats(min_value=73.5, max_value=134.8, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.5, allow_nan=False)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_VECTORS)
def test_wgs84_to_gcj02_matches_eviltransform(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lng, lat = wgs84_to_gcj02(wgs_lng, wgs_lat)
    assert lng == pytest.approx(gcj_lng, abs=1e-9)
    assert lat == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_VECTORS)
def test_gcj02_to_wgs84_is_exact_on_eviltransform_vectors(wgs_lat, wgs_lng, gcj_lat, gcj_lng):
    lng, lat = gcj02_to_wgs84(gcj_lng, gcj_lat)
    # eviltransform's own exact inverse only promises 0.5 m; ours is far tighter.
    assert haversine_m(lng, lat, wgs_lng, wgs_lat) < 0.01
    assert lng == pytest.approx(wgs_lng, abs=1e-7)
    assert lat == pytest.approx(wgs_lat, abs=1e-7)


def test_wandergis_published_vectors():
    assert wgs84_to_gcj02(*WANDERGIS_INPUT) == pytest.approx(WANDERGIS_WGS84_TO_GCJ02, abs=1e-9)
    assert gcj02_to_bd09(*WANDERGIS_INPUT) == pytest.approx(WANDERGIS_GCJ02_TO_BD09, abs=1e-9)
    # The published value comes from Baidu's closed-form inverse, which is itself
    # ~5e-7 degrees (5 cm) off; we refine to the exact inverse of gcj02_to_bd09.
    assert bd09_to_gcj02(*WANDERGIS_INPUT) == pytest.approx(WANDERGIS_BD09_TO_GCJ02, abs=1e-6)


def test_gcj02_to_wgs84_beats_one_step_approximation():
    # wandergis publishes gcj02towgs84(116.404, 39.915) from the one-step
    # approximation; the exact inverse must round-trip, the approximation not.
    approx = (116.39775550083061, 39.91359571849836)
    exact = gcj02_to_wgs84(*WANDERGIS_INPUT)
    assert wgs84_to_gcj02(*exact) == pytest.approx(WANDERGIS_INPUT, abs=1e-10)
    assert wgs84_to_gcj02(*approx) != pytest.approx(WANDERGIS_INPUT, abs=1e-7)
    assert haversine_m(*exact, *approx) < 1.0  # still close: the approximation is decent


def test_gcj_offset_in_beijing_is_a_few_hundred_metres():
    lng, lat = 116.397128, 39.916527  # Tiananmen
    offset = haversine_m(lng, lat, *wgs84_to_gcj02(lng, lat))
    assert 100 < offset < 700


def test_bd09_adds_baidu_offset_on_top_of_gcj02():
    g_lng, g_lat = wgs84_to_gcj02(116.397128, 39.916527)
    b_lng, b_lat = gcj02_to_bd09(g_lng, g_lat)
    # Fixed shift (0.0065, 0.006) plus a small rotation/scaling term whose size
    # at Beijing's distance from (0, 0) is a few 1e-4 degrees.
    assert b_lng - g_lng == pytest.approx(0.0065, abs=0.0006)
    assert b_lat - g_lat == pytest.approx(0.006, abs=0.0006)
    assert wgs84_to_bd09(116.397128, 39.916527) == (b_lng, b_lat)


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895), (151.2093, -33.8688)],
)
def test_no_gcj_shift_outside_china(lng, lat):
    assert wgs84_to_gcj02(lng, lat) == (lng, lat)
    assert gcj02_to_wgs84(lng, lat) == (lng, lat)
    assert to_wgs84(lng, lat, GCJ02) == (lng, lat)


@settings(max_examples=300, deadline=None)
@given(china_lng, china_lat)
def test_gcj02_round_trip(lng, lat):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert back == pytest.approx((lng, lat), abs=1e-9)
    forward = wgs84_to_gcj02(*gcj02_to_wgs84(lng, lat))
    assert forward == pytest.approx((lng, lat), abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(china_lng, china_lat)
def test_bd09_round_trips(lng, lat):
    assert bd09_to_gcj02(*gcj02_to_bd09(lng, lat)) == pytest.approx((lng, lat), abs=1e-9)
    assert bd09_to_wgs84(*wgs84_to_bd09(lng, lat)) == pytest.approx((lng, lat), abs=1e-9)
    for name in CRS_NAMES:
        assert to_wgs84(*from_wgs84(lng, lat, name), name) == pytest.approx((lng, lat), abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(china_lng, china_lat), min_size=1, max_size=20))
def test_array_variants_match_scalar(points):
    lngs = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    for name in CRS_NAMES:
        to_lng, to_lat = to_wgs84_array(lngs, lats, name)
        from_lng, from_lat = from_wgs84_array(lngs, lats, name)
        for i, (lng, lat) in enumerate(points):
            assert (to_lng[i], to_lat[i]) == pytest.approx(to_wgs84(lng, lat, name), abs=1e-9)
            assert (from_lng[i], from_lat[i]) == pytest.approx(
                from_wgs84(lng, lat, name), abs=1e-12
            )


def test_array_variant_leaves_points_outside_china_alone():
    lng, lat = to_wgs84_array([2.3522, 116.4], [48.8566, 39.9], GCJ02)
    assert (lng[0], lat[0]) == (2.3522, 48.8566)
    assert (lng[1], lat[1]) != pytest.approx((116.4, 39.9), abs=1e-4)


def test_wgs84_is_identity():
    assert to_wgs84(116.4, 39.9, WGS84) == (116.4, 39.9)
    assert from_wgs84(116.4, 39.9, WGS84) == (116.4, 39.9)


@pytest.mark.parametrize("name", ["WGS84", "epsg:4326", "", None, BD09.upper()])
def test_unknown_crs_is_rejected(name):
    with pytest.raises(UnknownCRS, match="不支持的坐标系"):
        to_wgs84(116.4, 39.9, name)
    with pytest.raises(UnknownCRS):
        from_wgs84(116.4, 39.9, name)
    with pytest.raises(UnknownCRS):
        to_wgs84_array([116.4], [39.9], name)
    assert issubclass(UnknownCRS, ValueError)


@pytest.mark.parametrize(
    ("lng", "lat"), [(0, 0), (180, 90), (-180, -90), (116.4, 39.9), ("116.4", "39.9")]
)
def test_validate_lnglat_accepts_valid(lng, lat):
    validate_lnglat(lng, lat)


@pytest.mark.parametrize(
    ("lng", "lat", "fragment"),
    [
        (180.0001, 0, "经度"),
        (-181, 0, "经度"),
        (0, 90.5, "纬度"),
        (0, -91, "纬度"),
        (math.nan, 0, "有限"),
        (0, math.inf, "有限"),
        ("abc", 0, "数字"),
        (None, 0, "数字"),
    ],
)
def test_validate_lnglat_rejects_invalid(lng, lat, fragment):
    with pytest.raises(ValueError, match=fragment):
        validate_lnglat(lng, lat)


def test_out_of_china_box():
    assert not crs.out_of_china(116.4, 39.9)
    assert crs.out_of_china(72.0, 39.9)
    assert crs.out_of_china(116.4, 56.0)
