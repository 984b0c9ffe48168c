import math
import threading
import time

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from bench.scale_grids import BBOX, generate_grids
from pingan.geo import index as index_module
from pingan.geo.distance import METRES_PER_DEGREE, haversine_m
from pingan.geo.index import NO_GRID, CachedGridIndex, GridIndex, Location

# Two unit-ish squares near Beijing sharing the edge lng = 116.1.
WEST = box(116.0, 39.9, 116.1, 40.0)
EAST = box(116.1, 39.9, 116.2, 40.0)


@pytest.fixture
def pair():
    # Inserted in descending id order on purpose: tie-breaking must not depend on it.
    return GridIndex([(20, EAST), (10, WEST)], version="v1")


def test_point_inside(pair):
    assert pair.locate(116.05, 39.95) == Location(10, True, 0.0)
    assert pair.locate(116.15, 39.95) == Location(20, True, 0.0)


def test_shared_boundary_goes_to_smallest_id(pair):
    assert pair.locate(116.1, 39.95) == Location(10, True, 0.0)
    assert pair.locate(116.1, 40.0) == Location(10, True, 0.0)  # shared corner


def test_outer_boundary_counts_as_inside(pair):
    assert pair.locate(116.2, 39.95) == Location(20, True, 0.0)
    assert pair.locate(116.0, 39.9) == Location(10, True, 0.0)


def test_outside_point_reports_nearest_grid_and_metres(pair):
    location = pair.locate(116.21, 39.95)
    assert location.grid_id == 20
    assert location.inside is False
    # Nearest point is straight west on the edge lng = 116.2.
    assert location.distance_m == pytest.approx(haversine_m(116.21, 39.95, 116.2, 39.95), rel=1e-9)
    assert 800 < location.distance_m < 900  # 0.01° of longitude at 40°N ≈ 852 m


def test_outside_equidistant_goes_to_smallest_id(pair):
    location = pair.locate(116.1, 40.01)  # due north of the shared corner
    assert (location.grid_id, location.inside) == (10, False)
    assert location.distance_m == pytest.approx(0.01 * METRES_PER_DEGREE, rel=1e-3)


def test_nearest_is_chosen_in_metres_not_degrees():
    # At 60°N a degree of longitude is half a degree of latitude.  The east grid
    # is 0.015° away (≈ 834 m), the north grid 0.010° away (≈ 1112 m): in raw
    # degrees north would win, in metres east does.
    east = box(10.015, 59.99, 10.03, 60.0)
    north = box(9.99, 60.01, 10.0, 60.02)
    index = GridIndex([(1, north), (2, east)])
    location = index.locate(10.0, 60.0)
    assert location.grid_id == 2
    assert location.distance_m == pytest.approx(haversine_m(10.0, 60.0, 10.015, 60.0), rel=1e-3)
    ids, inside, distances = index.locate_many([10.0], [60.0], return_distance=True)
    assert (ids[0], inside[0]) == (2, False)
    assert distances[0] == pytest.approx(location.distance_m, abs=1e-6)


def test_multipolygon_and_holes():
    ring = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    islands = MultiPolygon([box(10, 0, 11, 1), box(12, 0, 13, 1)])
    inner = box(1.5, 1.5, 2.5, 2.5)  # sits inside the ring's hole
    index = GridIndex([(1, ring), (2, islands), (3, inner)])
    assert index.locate(0.5, 0.5) == Location(1, True, 0.0)
    assert index.locate(12.5, 0.5) == Location(2, True, 0.0)
    assert index.locate(2.0, 2.0) == Location(3, True, 0.0)
    # In the hole: 0.2° from the ring's inner edge vs 0.3° from the inner grid...
    location = index.locate(1.2, 2.0)
    assert (location.grid_id, location.inside) == (1, False)
    # ...and 0.4° from the ring vs 0.1° from the inner grid.
    location = index.locate(1.4, 2.0)
    assert (location.grid_id, location.inside) == (3, False)
    # Between two islands of the same grid.
    location = index.locate(11.5, 0.5)
    assert (location.grid_id, location.inside) == (2, False)


def test_len_version_and_ids(pair):
    assert len(pair) == 2
    assert pair.version == "v1"
    assert list(pair.grid_ids) == [10, 20]
    with pytest.raises(ValueError):
        pair.grid_ids[0] = 5


def test_empty_index():
    index = GridIndex([], version=0)
    assert len(index) == 0
    assert index.locate(116.0, 39.0) is None
    ids, inside = index.locate_many([116.0, 117.0], [39.0, 40.0])
    assert ids.tolist() == [NO_GRID, NO_GRID]
    assert inside.tolist() == [False, False]


def test_locate_many_empty_input(pair):
    ids, inside, distances = pair.locate_many([], [], return_distance=True)
    assert ids.dtype == np.int64 and inside.dtype == bool
    assert len(ids) == len(inside) == len(distances) == 0


def test_rejects_duplicate_ids():
    with pytest.raises(ValueError, match="重复"):
        GridIndex([(1, WEST), (1, EAST)])


@pytest.mark.parametrize("geometry", [Point(0, 0), Polygon(), shapely.LineString([(0, 0), (1, 1)])])
def test_rejects_non_polygons(geometry):
    with pytest.raises(ValueError, match="Polygon"):
        GridIndex([(1, geometry)])


def test_rejects_non_finite_points(pair):
    with pytest.raises(ValueError):
        pair.locate(math.nan, 39.9)
    with pytest.raises(ValueError):
        pair.locate_many([116.0, math.inf], [39.9, 39.9])
    with pytest.raises(ValueError):
        pair.locate_many([116.0, 116.1], [39.9])


# --- locate_many agrees with locate and with brute force -------------------------

# Coordinates on a lattice of exact binary fractions, so that generated points
# regularly land exactly on edges and vertices of the generated grids.
_STEP = 0.125
lattice = st.integers(min_value=0, max_value=16).map(lambda k: 114.0 + k * _STEP)
lattice_lat = st.integers(min_value=0, max_value=16).map(lambda k: 30.0 + k * _STEP)


@st.composite
def grid_sets(draw):
    count = draw(st.integers(min_value=1, max_value=8))
    ids = draw(st.lists(st.integers(1, 10_000), min_size=count, max_size=count, unique=True))
    grids = []
    for grid_id in ids:
        x0, x1 = sorted(draw(st.lists(lattice, min_size=2, max_size=2, unique=True)))
        y0, y1 = sorted(draw(st.lists(lattice_lat, min_size=2, max_size=2, unique=True)))
        if draw(st.booleans()):
            geometry = box(x0, y0, x1, y1)
        else:
            geometry = Polygon([(x0, y0), (x1, y0), (x0, y1)])  # triangle: slanted edge
        grids.append((grid_id, geometry))
    return grids


points = st.one_of(
    st.tuples(lattice, lattice_lat),
    st.tuples(st.floats(113.5, 116.5, allow_nan=False), st.floats(29.5, 32.5, allow_nan=False)),
)


def brute_force(grids, lng, lat):
    containing = [gid for gid, geom in grids if geom.intersects(Point(lng, lat))]
    if containing:
        return min(containing), True
    # Nearest in the documented plane: longitude scaled by cos(mid latitude).
    bounds = shapely.total_bounds([geom for _, geom in grids])
    scale = math.cos(math.radians((bounds[1] + bounds[3]) / 2))
    point = Point(lng * scale, lat)
    distances = [
        (shapely.transform(geom, lambda c: c * (scale, 1.0)).distance(point), gid)
        for gid, geom in grids
    ]
    best = min(d for d, _ in distances)
    return min(gid for d, gid in distances if d == best), False


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid_sets(), st.lists(points, min_size=1, max_size=40))
def test_locate_many_matches_locate_and_brute_force(grids, pts):
    index = GridIndex(grids)
    lngs = [p[0] for p in pts]
    lats = [p[1] for p in pts]
    ids, inside, distances = index.locate_many(lngs, lats, return_distance=True)
    plain_ids, plain_inside = index.locate_many(lngs, lats)
    assert np.array_equal(ids, plain_ids) and np.array_equal(inside, plain_inside)
    for i, (lng, lat) in enumerate(pts):
        location = index.locate(lng, lat)
        assert (location.grid_id, location.inside) == (ids[i], inside[i])
        assert (location.grid_id, location.inside) == brute_force(grids, lng, lat)
        assert location.distance_m == pytest.approx(distances[i], abs=1e-6)
        assert (location.distance_m == 0.0) == location.inside


def test_locate_many_chunking_and_threads(monkeypatch):
    grids = generate_grids(300, seed=7)
    index = GridIndex(grids, version=1)
    rng = np.random.default_rng(3)
    min_lng, min_lat, max_lng, max_lat = BBOX
    lngs = rng.uniform(min_lng - 0.2, max_lng + 0.2, 500)
    lats = rng.uniform(min_lat - 0.2, max_lat + 0.2, 500)
    expected = [index.locate(x, y) for x, y in zip(lngs, lats, strict=True)]
    monkeypatch.setattr(index_module, "_CHUNK", 37)  # many chunks, last one partial
    for workers in (1, 2):
        ids, inside, distances = index.locate_many(
            lngs, lats, return_distance=True, workers=workers
        )
        assert ids.tolist() == [loc.grid_id for loc in expected]
        assert inside.tolist() == [loc.inside for loc in expected]
        assert distances == pytest.approx([loc.distance_m for loc in expected], abs=1e-6)
    assert inside.any() and not inside.all()


def test_generated_grids_tile_the_box_deterministically():
    grids = generate_grids(200, seed=5)
    assert [gid for gid, _ in grids] == list(range(1, 201))
    assert all(geom.is_valid and not geom.is_empty for _, geom in grids)
    total = sum(geom.area for _, geom in grids)
    assert total == pytest.approx(box(*BBOX).area, rel=1e-9)
    again = generate_grids(200, seed=5)
    assert all(a.equals_exact(b, 0) for (_, a), (_, b) in zip(grids, again, strict=True))


# --- CachedGridIndex ----------------------------------------------------------


class FakeSource:
    """Counts loader calls; the version and grids can be changed by the test."""

    def __init__(self):
        self.version = 1
        self.grids = [(1, WEST)]
        self.version_calls = 0
        self.grid_calls = 0
        self.grid_delay_s = 0.0

    def load_version(self):
        self.version_calls += 1
        return self.version

    def load_grids(self):
        self.grid_calls += 1
        if self.grid_delay_s:
            time.sleep(self.grid_delay_s)
        return list(self.grids)


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make_cache(source, clock, interval=1.0):
    return CachedGridIndex(source.load_version, source.load_grids, interval, clock=clock)


def test_cache_builds_once_and_polls_version_at_most_once_per_interval():
    source, clock = FakeSource(), FakeClock()
    cache = make_cache(source, clock)
    first = cache.get()
    assert first.version == 1 and len(first) == 1
    assert (source.version_calls, source.grid_calls) == (1, 1)

    clock.now += 0.5
    assert cache.get() is first
    assert source.version_calls == 1  # within the interval: no poll

    clock.now += 0.6
    assert cache.get() is first  # polled, version unchanged: no rebuild
    assert (source.version_calls, source.grid_calls) == (2, 1)


def test_cache_rebuilds_when_version_changes():
    source, clock = FakeSource(), FakeClock()
    cache = make_cache(source, clock)
    first = cache.get()
    source.version = 2
    source.grids = [(1, WEST), (2, EAST)]
    assert cache.get() is first  # change not seen until the interval elapses
    clock.now += 1.0
    second = cache.get()
    assert second is not first
    assert second.version == 2 and len(second) == 2
    assert source.grid_calls == 2


def test_cache_invalidate_forces_a_check():
    source, clock = FakeSource(), FakeClock()
    cache = make_cache(source, clock, interval=3600)
    first = cache.get()
    source.version = 2
    assert cache.get() is first
    cache.invalidate()
    assert cache.get().version == 2
    assert source.version_calls == 2


def test_cache_retries_after_loader_failure():
    source, clock = FakeSource(), FakeClock()
    attempts = []

    def flaky_load_grids():
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("database unavailable")
        return source.load_grids()

    cache = CachedGridIndex(source.load_version, flaky_load_grids, 1.0, clock=clock)
    for _ in range(2):
        with pytest.raises(ConnectionError):
            cache.get()  # a failed build is not remembered as "checked"
    assert cache.get().version == 1
    assert len(attempts) == 3


def test_concurrent_first_get_builds_once():
    source, clock = FakeSource(), FakeClock()
    source.grid_delay_s = 0.05
    cache = make_cache(source, clock)
    results = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        results.append(cache.get())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert source.grid_calls == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_concurrent_rebuild_serves_previous_index_and_builds_once():
    source, clock = FakeSource(), FakeClock()
    cache = make_cache(source, clock)
    first = cache.get()
    source.version = 2
    source.grid_delay_s = 0.1
    clock.now += 5
    results = []
    barrier = threading.Barrier(6)

    def worker():
        barrier.wait()
        results.append(cache.get())

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert source.grid_calls == 2  # initial build + exactly one rebuild
    assert {r.version for r in results} <= {1, 2}
    assert any(r.version == 2 for r in results)
    assert cache.get().version == 2
    assert first.version == 1
