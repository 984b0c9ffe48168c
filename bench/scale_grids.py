"""Deterministic generator of province-sized grid tilings for benchmarks.

Grids are Voronoi cells of seeded random points, clipped to a box roughly the
size of a Chinese province (lng 113–118, lat 24–29).  Cells tile the box with
shared edges, like real policing grids, so boundary and gap cases occur.

    python -m bench.scale_grids --grids 50000 --out grids.geojson
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import shapely
from shapely.geometry import box

from pingan.geo.geojson import GRID_KINDS, features_to_feature_collection

BBOX = (113.0, 24.0, 118.0, 29.0)  # (min_lng, min_lat, max_lng, max_lat)


def generate_grids(
    n: int, seed: int = 1, bbox: tuple[float, float, float, float] = BBOX
) -> list[tuple[int, shapely.Polygon]]:
    """Return ``n`` ``(grid_id, polygon)`` pairs tiling ``bbox``; ids are 1..n.

    Same ``(n, seed, bbox)`` always yields the same polygons.
    """
    if n < 1:
        raise ValueError("n must be >= 1")
    min_lng, min_lat, max_lng, max_lat = bbox
    rng = np.random.default_rng(seed)
    seeds = np.column_stack([rng.uniform(min_lng, max_lng, n), rng.uniform(min_lat, max_lat, n)])
    frame = box(*bbox)
    if n == 1:
        return [(1, frame)]
    # ordered=True keeps cell i aligned with seed i, making ids reproducible.
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    clipped = shapely.intersection(shapely.get_parts(cells), frame)
    return [(i + 1, geom) for i, geom in enumerate(clipped)]


def grids_feature_collection(grids: list[tuple[int, shapely.Polygon]]) -> dict:
    """GeoJSON FeatureCollection with the properties the importer expects."""
    return features_to_feature_collection(
        {
            "geometry": geom,
            "properties": {
                "code": f"G{grid_id:06d}",
                "name": f"测试网格 {grid_id}",
                "kind": GRID_KINDS[grid_id % len(GRID_KINDS)],
            },
        }
        for grid_id, geom in grids
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000, help="number of grid polygons")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="output .geojson path, '-' for stdout")
    args = parser.parse_args(argv)

    collection = grids_feature_collection(generate_grids(args.grids, seed=args.seed))
    if args.out == "-":
        json.dump(collection, sys.stdout, ensure_ascii=False)
    else:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(collection, fh, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
