"""Point → grid lookup over many grid polygons.

Every incident report, patrol check-in and imported address is assigned to a
grid, so lookups sit on hot paths; see docs/benchmarks.md for measured speed.

Geometry model
--------------
Grids and points are WGS-84 ``(lng, lat)``.  Containment is decided on the
original coordinates and includes the boundary, so a point exactly on a
shared edge is inside both neighbours and the smallest ``grid_id`` wins.

For a point outside every grid the *nearest* grid is chosen in a locally
equirectangular plane (longitude scaled by the cosine of the data set's mid
latitude), because raw degrees overweight east-west distance by 10–30% at
Chinese latitudes.  The reported distance is the haversine length from the
point to the closest point of that grid found in the same plane.  Ties go to
the smallest ``grid_id``.

Costs: the scaled copy of every polygon behind the nearest search roughly
doubles geometry memory, bought for exact boundaries plus metric nearest at
no extra latency.  Lookup time grows linearly with the vertex count of the
few candidate polygons (STRtree prepares the query point, not the polygons);
a hundred vertices per grid still meets the budget (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from pingan.geo.distance import haversine_m, haversine_m_array

NO_GRID = -1  # grid id reported by locate_many() when the index is empty

# Batches are processed in chunks so memory stays bounded for huge inputs
# (STRtree.query materialises every envelope hit at once).
_CHUNK = 65_536
_INT64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Location:
    grid_id: int
    inside: bool
    distance_m: float  # 0.0 when inside


class GridIndex:
    """Immutable spatial index answering "which grid is this point in?"."""

    def __init__(self, grids: Iterable[tuple[int, shapely.Geometry]], version: Hashable = None):
        self.version = version
        pairs = sorted(((int(grid_id), geom) for grid_id, geom in grids), key=lambda p: p[0])
        ids = np.fromiter((grid_id for grid_id, _ in pairs), dtype=np.int64, count=len(pairs))
        if len(ids) and np.any(ids[1:] == ids[:-1]):
            dup = int(ids[1:][ids[1:] == ids[:-1]][0])
            raise ValueError(f"网格编号重复：{dup}")
        geoms = np.empty(len(pairs), dtype=object)
        for i, (grid_id, geom) in enumerate(pairs):
            if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
                raise ValueError(f"网格 {grid_id} 的几何必须是非空的 Polygon 或 MultiPolygon")
            geoms[i] = geom
        # Tree position i <-> ids[i]; ids are sorted, so "smallest position"
        # means "smallest grid_id" and tie-breaking is a plain minimum.
        self._ids = ids
        # Python ints for the single-point path: numpy scalar indexing and
        # small-array reductions cost microseconds each, a real share of locate().
        self._id_list = ids.tolist()
        # Containment tree over the original coordinates.  STRtree prepares the
        # query point, not the polygons, so preparing these would only cost memory.
        self._tree = shapely.STRtree(geoms)
        if len(geoms):
            min_lat, max_lat = shapely.total_bounds(geoms)[[1, 3]]
            mid_lat = (min_lat + max_lat) / 2.0
        else:
            mid_lat = 0.0
        # Nearest-grid tree in the equirectangular plane (see module docstring);
        # clamped so polar data cannot collapse the plane.
        self._x_scale = max(math.cos(math.radians(mid_lat)), 1e-3)
        self._scaled = shapely.transform(geoms, lambda c: c * (self._x_scale, 1.0))
        self._near_tree = shapely.STRtree(self._scaled)
        self._scaled_list = self._scaled.tolist()

    def __len__(self) -> int:
        return len(self._ids)

    def __repr__(self) -> str:
        return f"<GridIndex grids={len(self)} version={self.version!r}>"

    @property
    def grid_ids(self) -> np.ndarray:
        """Sorted ids of all grids (read-only view)."""
        view = self._ids.view()
        view.flags.writeable = False
        return view

    # --- single point ---------------------------------------------------------

    def locate(self, lng: float, lat: float) -> Location | None:
        """Grid containing ``(lng, lat)``, else the nearest grid; ``None`` if empty."""
        if not self._id_list:
            return None
        lng, lat = float(lng), float(lat)
        if not (math.isfinite(lng) and math.isfinite(lat)):
            raise ValueError(f"坐标必须是有限数值：经度={lng!r}，纬度={lat!r}")
        hits = self._tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(hits):
            position = hits[0] if len(hits) == 1 else min(hits.tolist())
            return Location(self._id_list[position], True, 0.0)
        scale = self._x_scale
        point = shapely.Point(lng * scale, lat)
        nearest = self._near_tree.query_nearest(point, all_matches=True)
        position = nearest[0] if len(nearest) == 1 else min(nearest.tolist())
        line = shapely.shortest_line(self._scaled_list[position], point)
        near_x, near_y = shapely.get_coordinates(line)[0].tolist()
        distance = haversine_m(lng, lat, near_x / scale, near_y)
        return Location(self._id_list[position], False, distance)

    # --- batches --------------------------------------------------------------

    def locate_many(self, lngs, lats, *, return_distance: bool = False, workers: int = 1):
        """Vectorised :meth:`locate`; results agree with it point for point.

        Returns ``(grid_ids, inside)`` arrays (int64, bool), plus metre
        distances (0 when inside) if ``return_distance`` is true.  On an empty
        index every id is ``NO_GRID``.  ``workers > 1`` spreads chunks over
        threads; shapely releases the GIL, so this scales with cores for bulk
        jobs (keep the default inside web requests).
        """
        lngs = np.asarray(lngs, dtype=np.float64).ravel()
        lats = np.asarray(lats, dtype=np.float64).ravel()
        if lngs.shape != lats.shape:
            raise ValueError("经度与纬度数组长度不一致")
        if not (np.isfinite(lngs).all() and np.isfinite(lats).all()):
            raise ValueError("坐标必须是有限数值")
        n = len(lngs)
        positions = np.zeros(n, dtype=np.int64)
        inside = np.zeros(n, dtype=bool)
        distances = np.zeros(n, dtype=np.float64) if return_distance else None

        def run(start: int) -> None:
            # Each chunk writes only its own slice of the outputs, so chunks
            # can run concurrently without locking.
            chunk = slice(start, min(start + _CHUNK, n))
            self._locate_chunk(
                lngs[chunk],
                lats[chunk],
                positions[chunk],
                inside[chunk],
                None if distances is None else distances[chunk],
            )

        if len(self._ids) and n:
            starts = range(0, n, _CHUNK)
            if workers > 1 and len(starts) > 1:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    list(pool.map(run, starts))
            else:
                for start in starts:
                    run(start)
            grid_ids = self._ids[positions]
        else:
            grid_ids = np.full(n, NO_GRID, dtype=np.int64)
        if distances is not None:
            return grid_ids, inside, distances
        return grid_ids, inside

    def _locate_chunk(self, lngs, lats, positions, inside, distances) -> None:
        """Fill the output slices ``positions``/``inside``/``distances`` in place."""
        point_idx, tree_idx = self._tree.query(shapely.points(lngs, lats), predicate="intersects")
        best = np.full(len(lngs), _INT64_MAX, dtype=np.int64)
        np.minimum.at(best, point_idx, tree_idx)
        found = best != _INT64_MAX
        positions[found] = best[found]
        inside[found] = True

        missing = np.flatnonzero(~found)
        if not len(missing):
            return
        points = shapely.points(lngs[missing] * self._x_scale, lats[missing])
        miss_idx, near_idx = self._near_tree.query_nearest(points, all_matches=True)
        nearest = np.full(len(missing), _INT64_MAX, dtype=np.int64)
        np.minimum.at(nearest, miss_idx, near_idx)
        positions[missing] = nearest
        if distances is not None:
            lines = shapely.shortest_line(self._scaled[nearest], points)
            ends = shapely.get_coordinates(shapely.get_point(lines, 0))
            distances[missing] = haversine_m_array(
                lngs[missing], lats[missing], ends[:, 0] / self._x_scale, ends[:, 1]
            )


class CachedGridIndex:
    """One :class:`GridIndex` per process, rebuilt when the grids' version changes.

    ``load_version`` should be cheap (e.g. one row holding a counter bumped on
    every grid edit); it is polled at most once per ``check_interval_s``.
    ``load_grids`` is only called when the version changed.  The version is
    read *before* the grids, so an edit racing with a rebuild at worst yields
    an index labelled with the older version, which the next check replaces.

    While one thread rebuilds, other threads keep getting the previous index
    instead of blocking; only the very first build makes callers wait.
    Exceptions from the loaders propagate, and the next ``get()`` retries.
    """

    def __init__(
        self,
        load_version: Callable[[], Hashable],
        load_grids: Callable[[], Iterable[tuple[int, shapely.Geometry]]],
        check_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load_version = load_version
        self._load_grids = load_grids
        self._check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._index: GridIndex | None = None
        self._next_check = -math.inf
        # Bumped by invalidate(); lets a refresh that started earlier avoid
        # postponing the check that invalidate() asked for.
        self._generation = 0

    def get(self) -> GridIndex:
        index = self._index
        if index is not None and self._clock() < self._next_check:
            return index
        if index is None:
            with self._lock:
                return self._refresh()
        if not self._lock.acquire(blocking=False):
            return index  # another thread is refreshing; a slightly stale index is fine
        try:
            return self._refresh()
        finally:
            self._lock.release()

    def refresh(self) -> GridIndex:
        """Check the version now and rebuild if it moved, waiting for the lock if needed.

        For a caller that knows its index is stale (it named a grid that no longer exists).
        """
        with self._lock:
            self._next_check = -math.inf
            return self._refresh()

    def invalidate(self) -> None:
        """Force a version check on the next :meth:`get`."""
        self._generation += 1
        self._next_check = -math.inf

    def _refresh(self) -> GridIndex:
        # Caller holds the lock.  Re-check: another thread may have just refreshed.
        index = self._index
        now = self._clock()
        if index is not None and now < self._next_check:
            return index
        generation = self._generation
        version = self._load_version()
        if index is None or index.version != version:
            index = GridIndex(self._load_grids(), version=version)
            self._index = index
        if generation == self._generation:
            self._next_check = now + self._check_interval_s
        return index
