"""Benchmark point → grid lookup (pingan.geo.index.GridIndex).

    python -m bench.bench_point_to_grid --grids 50000 --points 1000000

Reports index build time and memory, batched throughput of ``locate_many``
and the per-call latency distribution of ``locate``.  Points are uniform over
the grids' bounding box widened by ``--margin`` degrees, so a few percent
fall outside every grid and exercise the nearest-grid path.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

import numpy as np
import shapely

from bench.scale_grids import BBOX, generate_grids
from pingan.geo.index import GridIndex


def rss_mib() -> float:
    """Current resident set size; falls back to the peak where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_points(n: int, margin: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    min_lng, min_lat, max_lng, max_lat = BBOX
    rng = np.random.default_rng(seed)
    lngs = rng.uniform(min_lng - margin, max_lng + margin, n)
    lats = rng.uniform(min_lat - margin, max_lat + margin, n)
    return lngs, lats


def single_latencies_us(index: GridIndex, lngs: np.ndarray, lats: np.ndarray) -> np.ndarray:
    locate = index.locate
    clock = time.perf_counter_ns
    xs, ys = lngs.tolist(), lats.tolist()  # plain floats, as a request handler would pass
    for x, y in zip(xs[:1000], ys[:1000], strict=True):  # warm-up
        locate(x, y)
    out = np.empty(len(xs), dtype=np.float64)
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        start = clock()
        locate(x, y)
        out[i] = clock() - start
    return out / 1000.0


def percentiles(values: np.ndarray) -> str:
    if not len(values):
        return "– | – | –"
    p50, p99, p999 = np.percentile(values, [50, 99, 99.9])
    return f"{p50:.1f} | {p99:.1f} | {p999:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=1_000_000, help="batched lookups")
    parser.add_argument("--singles", type=int, default=100_000, help="single lookups timed")
    parser.add_argument("--margin", type=float, default=0.05, help="degrees around the grids")
    parser.add_argument(
        "--densify",
        type=float,
        default=0.0,
        help="max edge length in degrees (adds vertices to mimic surveyed boundaries)",
    )
    parser.add_argument("--workers", type=int, default=2, help="threads for the extra batch row")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    rss_start = rss_mib()
    started = time.perf_counter()
    grids = generate_grids(args.grids, seed=args.seed)
    if args.densify > 0:
        grids = [(gid, shapely.segmentize(geom, args.densify)) for gid, geom in grids]
    generate_s = time.perf_counter() - started
    vertices = float(np.mean(shapely.get_num_coordinates([g for _, g in grids])))

    rss_grids = rss_mib()
    started = time.perf_counter()
    index = GridIndex(grids, version=1)
    build_s = time.perf_counter() - started
    rss_index = rss_mib() - rss_grids
    rss_grids -= rss_start

    lngs, lats = random_points(args.points, args.margin, args.seed + 1)
    started = time.perf_counter()
    _, inside = index.locate_many(lngs, lats)
    batch_s = time.perf_counter() - started
    started = time.perf_counter()
    index.locate_many(lngs, lats, workers=args.workers)
    batch_workers_s = time.perf_counter() - started
    started = time.perf_counter()
    index.locate_many(lngs, lats, return_distance=True)
    batch_distance_s = time.perf_counter() - started

    singles = min(args.singles, args.points)
    latencies = single_latencies_us(index, lngs[:singles], lats[:singles])
    hit = inside[:singles]

    print(
        f"Python {platform.python_version()}, shapely {shapely.__version__} "
        f"(GEOS {shapely.geos_version_string}), numpy {np.__version__}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{args.grids:,} grids (mean {vertices:.1f} vertices), generated in {generate_s:.2f} s; "
        f"{args.points:,} points, {1 - inside.mean():.1%} outside every grid\n"
    )
    print("| Metric | Value |")
    print("|---|---|")
    print(f"| Index build | {build_s:.2f} s |")
    print(f"| Grid geometries (RSS delta) | {rss_grids:.0f} MiB |")
    print(f"| Index on top of them (RSS delta) | {rss_index:.0f} MiB |")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"| Process peak RSS | {peak_rss:.0f} MiB |")
    print(f"| `locate_many`, 1 thread | {args.points / batch_s:,.0f} points/s |")
    print(
        f"| `locate_many`, {args.workers} threads | {args.points / batch_workers_s:,.0f} points/s |"
    )
    print(
        f"| `locate_many(return_distance=True)`, 1 thread | "
        f"{args.points / batch_distance_s:,.0f} points/s |"
    )
    print()
    print(f"`locate` latency over {singles:,} calls (µs):\n")
    print("| Points | Calls | p50 | p99 | p99.9 |")
    print("|---|---|---|---|---|")
    print(f"| all | {singles:,} | {percentiles(latencies)} |")
    print(f"| inside a grid | {int(hit.sum()):,} | {percentiles(latencies[hit])} |")
    print(f"| outside (nearest grid) | {int((~hit).sum()):,} | {percentiles(latencies[~hit])} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
