"""`linli plan sites` through click's CliRunner, on the hand-made county."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from django.utils import translation

from linli.core.registry import discover, linli_group
from linli.planning import networks
from linli.planning.models import SitingRun

from .sites_region import CANDIDATES_CSV, build_county

pytestmark = pytest.mark.django_db


@pytest.fixture
def linli(db: Any) -> Callable[..., Result]:
    networks.clear_cache()
    build_county()
    discover()
    runner = CliRunner()
    return lambda *args: runner.invoke(linli_group, [str(a) for a in args])


@pytest.fixture
def candidates(tmp_path: Path) -> Path:
    path = tmp_path / "candidates.csv"
    path.write_text(CANDIDATES_CSV, encoding="utf-8")
    return path


BASE = ("plan", "sites", "--kind", "outdoor_fitness", "--region", "970101", "--radius", "1200")


def test_table_in_english_and_csv_out(
    linli: Callable[..., Result], candidates: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chosen.csv"
    with translation.override("en"):
        result = linli(*BASE, "--candidates", candidates, "--k", "1", "--fast", "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    run = SitingRun.objects.get()
    assert lines[0] == (
        f"Siting run #{run.pk}: Maximal covering (most people within reach), outdoor_fitness "
        "in Region 970101000000 (970101000000), as of " + run.day.isoformat()
    )
    assert lines[1] == "Distances: straight line × 1.3 (no walking network for this region)."
    site_line = next(line for line in lines if line.lstrip().startswith("1  Site B"))
    assert site_line.split()[-3:] == ["600", "600", "600"]
    everyone = next(line for line in lines if line.startswith("Everyone"))
    assert everyone.split()[1:] == ["2,300", "1,000", "43.5%", "1,000", "43.5%", "1,600", "69.6%"]
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["rank"], r["id"], r["people"]) for r in rows] == [("1", "B", "600.0")]
    assert run.via == "cli"
    assert run.created_by is None


def test_chinese_by_default_and_geojson_out(
    linli: Callable[..., Result], candidates: Path, tmp_path: Path
) -> None:
    out = tmp_path / "chosen.geojson"
    with translation.override("zh-hans"):
        result = linli(
            *BASE, "--candidates", candidates, "--budget", "200", "--exact", "--out", out
        )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    proposed = sorted(
        f["properties"]["id"] for f in data["features"] if f["properties"]["role"] == "proposed"
    )
    assert proposed == ["C", "D"]


def test_weights(linli: Callable[..., Result], candidates: Path) -> None:
    result = linli(*BASE, "--candidates", candidates, "--k", "1", "--weight", "elderly=2")
    assert result.exit_code == 0, result.output
    assert [s["id"] for s in SitingRun.objects.get().results["sites"]] == ["D"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--budget", "0"), "budget"),
        (("--k", "1", "--weight", "aliens=3"), "weights"),
        (("--k", "1", "--weight", "elderly"), "weights"),
        (("--k", "0"), "k"),
        (("--k", "1", "--out", "x.txt"), "out"),
        (("--k", "1", "--date", "2025-13-01"), "date"),
    ],
)
def test_bad_input_names_the_option(
    linli: Callable[..., Result], extra: tuple[str, ...], field: str
) -> None:
    with translation.override("en"):
        result = linli(*BASE, *extra)
    assert result.exit_code == 1
    assert f"  {field}: " in result.output
    assert SitingRun.objects.count() == 0


def test_region_outside_the_deployment(linli: Callable[..., Result]) -> None:
    with translation.override("en"):
        result = linli("plan", "sites", "--kind", "outdoor_fitness", "--region", "880101", "--k", 1)
    assert result.exit_code == 1
    assert "  region: No region 880101 in this deployment" in result.output
    assert SitingRun.objects.count() == 0


def test_bad_candidates_file(linli: Callable[..., Result], tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,lat,lon\n1,30.0,500\n2,x,120\n", encoding="utf-8")
    with translation.override("en"):
        result = linli(*BASE, "--candidates", path, "--k", "1")
    assert result.exit_code == 1
    assert "row 2, lon: 500.0 is not between -180 and 180" in result.output
    assert "row 3, lat: not a latitude: 'x'" in result.output
    missing = linli(*BASE, "--candidates", tmp_path / "nowhere.csv", "--k", "1")
    assert missing.exit_code == 1
    assert "candidates" in missing.output
    assert SitingRun.objects.count() == 0
