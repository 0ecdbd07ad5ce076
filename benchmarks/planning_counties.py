"""Benchmark: one county of an accessibility run, as a worker computes it.

A province-wide or national run is one `planning.accessibility_part` task per county
(linli/planning/accessibility.py), so its time on N workers is about the number of counties
× the time of one county / N. This script measures the time of one county, end to end as a
worker does it (read the county's people and facilities from the database, load its
network from .npz, snap, nearest facility at the life-circle distances, E2SFCA, write the
part and merge the run), on two synthetic counties built in a scratch SQLite database:

- ``demo``: the demo district's size — 300,000 people in 156 communities over about
  19 × 19 km, a synthetic walking network at 80 m blocks (about 70,000 nodes), 60
  registered households per community (the demand points), a health station for every
  two communities;
- ``large``: a large urban district — 1,000,000 people in 400 communities over about
  30 × 30 km (about 160,000 nodes), the same densities;
- ``register``: the demo's size with every household registered (700 per community,
  about 100,000 demand points): the upper end of the points a county has.

Each county is measured in a fresh subprocess (so the network is read from disk as on a
worker that has not seen the county, and the peak RSS is the worker's memory for it),
REPEAT times (default 3); the best and the mean are printed, with the load average before
and after (the machine may be shared). Figures go to var/bench/planning_counties.json.

    .venv/bin/python benchmarks/planning_counties.py
    SIZES=demo REPEAT=1 .venv/bin/python benchmarks/planning_counties.py
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORK = Path(os.environ.get("BENCH_DIR", tempfile.gettempdir())) / "linli_bench_counties"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'db.sqlite3'}")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("LINLI_PLANNING_NETWORK_DIR", str(WORK / "networks"))

REPEAT = int(os.environ.get("REPEAT", "3"))
SIZES = os.environ.get("SIZES", "demo,large,register").split(",")
KIND = "health_station"
# Today: the households are registered when the county is built.
DAY = None
# County code, people, communities per side, community cell (m), households per community.
COUNTIES: dict[str, tuple[str, int, int, float, int]] = {
    "demo": ("970101", 300_000, 12, 1500.0, 60),
    "large": ("970102", 1_000_000, 20, 1500.0, 60),
    "register": ("970103", 300_000, 12, 1500.0, 700),
}
CHINA_COUNTIES = 2850


def setup_django() -> None:
    import django

    WORK.mkdir(parents=True, exist_ok=True)
    django.setup()


def build(size: str) -> dict[str, Any]:
    """The county's regions, households, facilities and network (once per database)."""
    from django.core.management import call_command

    from linli.directory.tests.factories import LocationFactory, OrganizationFactory
    from linli.planning import networks
    from linli.planning.engine.network import LocalProjection
    from linli.planning.models import RoadNetwork
    from linli.regions.models import Region
    from linli.regions.tests.factories import RegionFactory, region_chain
    from linli.residents.models import Household

    call_command("migrate", verbosity=0)
    code, people, per_side, cell, households = COUNTIES[size]
    county = code.ljust(12, "0")
    record = RoadNetwork.objects.filter(region_id=county).first()
    if record is not None:
        return {"county": county, "nodes": record.nodes, "edges": record.edges}
    centre = (114.0 + 0.5 * int(code[-1]), 30.5)
    proj = LocalProjection(*centre)
    n = per_side * per_side
    half = per_side * cell / 2.0
    region_chain(f"{code}001000")
    organization = OrganizationFactory()
    for i in range(n):
        street = f"{code}{1 + i // 50:03d}000"
        if not Region.objects.filter(code=street).exists():
            RegionFactory(code=street)
        row, col = divmod(i, per_side)
        x, y = -half + (col + 0.5) * cell, -half + (row + 0.5) * cell
        lon, lat = proj.inverse(x, y)
        (w, e), (s, nn) = proj.inverse([x - cell / 2, x + cell / 2], [y - cell / 2, y + cell / 2])
        ring = [[w, s], [e, s], [e, nn], [w, nn], [w, s]]
        community = cast(
            Region,
            RegionFactory(
                code=f"{street[:9]}{i % 50 + 1:03d}",
                lon=float(lon),
                lat=float(lat),
                boundary={
                    "type": "Polygon",
                    "coordinates": [[[float(a), float(b)] for a, b in ring]],
                },
                population=people // n,
                households=people // n // 3,
            ),
        )
        Household.objects.bulk_create(
            [Household(community=community, address=f"{i}-{h}") for h in range(households)]
        )
        if i % 2 == 0:
            flon, flat = proj.inverse(x + cell / 4, y)
            LocationFactory(
                organization=organization,
                kind=KIND,
                region=community,
                longitude=float(flon),
                latitude=float(flat),
                capacity=20,
            )
    record = networks.network_generate(region_code=code, seed=7)
    return {"county": county, "nodes": record.nodes, "edges": record.edges}


def measure(county: str) -> dict[str, Any]:
    """One run of one county in this (fresh) process, as a worker does it."""
    from linli.planning import accessibility
    from linli.planning.models import AccessibilityPart

    wall, cpu = time.perf_counter(), time.process_time()
    run = accessibility.accessibility_run(actor=None, region_code=county, kind=KIND, day=DAY)
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    part = AccessibilityPart.objects.get(run=run)
    return {
        "status": run.status,
        "distance_method": run.distance_method,
        "wall_s": round(total_wall, 2),
        "cpu_s": round(total_cpu, 2),
        "part_wall_s": part.seconds,
        "part_cpu_s": part.cpu_seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "points": sum(c["points"] for c in (run.results or {}).get("communities", [])),
        "share_walk": run.share_walk,
    }


def accessibility_kinds() -> list[str]:
    from linli.planning.accessibility import kinds

    return kinds()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        setup_django()
        print(json.dumps(measure(sys.argv[2])))
        return
    setup_django()
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "counties": {},
    }
    for size in SIZES:
        started = time.perf_counter()
        info = build(size)
        info["build_s"] = round(time.perf_counter() - started, 1)
        runs = []
        for _ in range(REPEAT):
            load = os.getloadavg()
            out = subprocess.run(
                [sys.executable, __file__, "--one", info["county"]],
                check=True,
                capture_output=True,
                text=True,
                env=os.environ.copy(),
            )
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            figures["load_before"] = [round(v, 2) for v in load]
            figures["load_after"] = [round(v, 2) for v in os.getloadavg()]
            runs.append(figures)
        info["runs"] = runs
        best = min(runs, key=lambda r: r["part_wall_s"])
        info["best"] = best
        info["mean_part_wall_s"] = round(sum(r["part_wall_s"] for r in runs) / len(runs), 2)
        report["counties"][size] = info
    print(
        "| county | nodes | points | part wall s (best / mean) | part CPU s "
        "| run wall s | peak RSS MB | load 1 min |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for size, info in report["counties"].items():
        b = info["best"]
        print(
            f"| {size} | {info['nodes']:,} | {b['points']:,} | {b['part_wall_s']} / "
            f"{info['mean_part_wall_s']} | {b['part_cpu_s']} | {b['wall_s']} | "
            f"{b['peak_rss_mb']} | {b['load_before'][0]} → {b['load_after'][0]} |"
        )
    for size, info in report["counties"].items():
        t = info["mean_part_wall_s"]
        kinds = len(accessibility_kinds())
        row = ", ".join(
            f"N={n}: {CHINA_COUNTIES * t / n / 60:.1f} min (all {kinds} kinds: "
            f"{CHINA_COUNTIES * kinds * t / n / 60:.1f} min)"
            for n in (1, 8, 32, 128)
        )
        print(f"national, one kind ({CHINA_COUNTIES} counties × {t} s, {size}): {row}")
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "planning_counties.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
