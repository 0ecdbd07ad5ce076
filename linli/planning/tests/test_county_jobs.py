"""Accessibility runs as one task per county: in-process by default with progress counted,
handed to Celery when a broker is configured, idempotent when a county runs twice, a
failed county failing the run; and `linli network access` with its progress bar."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner

from linli.core import tasks
from linli.core.registry import discover, linli_group
from linli.planning import accessibility, networks
from linli.planning.engine.network import NetworkError
from linli.planning.models import AccessibilityPart, AccessibilityRun, RunStatus

from .access_tree import COUNTY, OTHER_COUNTY_COMMUNITY, A, B, build, facility

DAY = dt.date(2025, 6, 1)
CITY = "990100000000"
OTHER_COUNTY = "990103000000"


@pytest.fixture(autouse=True)
def network_dir(settings, tmp_path):
    settings.LINLI_PLANNING_NETWORK_DIR = tmp_path / "networks"
    settings.LINLI_PLANNING_DETOUR_FACTOR = 1.3
    settings.LINLI_PLANNING_WALK_SPEED_M_S = 1.2
    networks.clear_cache()
    yield
    networks.clear_cache()


@pytest.fixture
def tree(db):
    built = build()
    facility(-100.0)
    return built


def parts(run: AccessibilityRun) -> list[tuple[str, str]]:
    return list(run.parts.order_by("region_id").values_list("region_id", "status"))


def test_in_process_each_county_is_a_part_and_progress_is_counted(tree):
    seen: list[str] = []
    run = accessibility.accessibility_run(
        actor=None,
        region_code="9901",
        kind="health_station",
        day=DAY,
        progress=lambda county: seen.append(county.code),
    )
    assert seen == [COUNTY, OTHER_COUNTY]
    assert (run.status, run.partitions_done, run.partitions_total) == (RunStatus.DONE, 2, 2)
    assert parts(run) == [(COUNTY, "done"), (OTHER_COUNTY, "done")]
    assert all(p.seconds is not None and p.cpu_seconds is not None for p in run.parts.all())
    assert run.results is not None
    assert [c["code"] for c in run.results["communities"]] == [A, B, OTHER_COUNTY_COMMUNITY]
    assert run.results["totals"]["covered"][-1] == 1000.0


def test_running_a_county_task_again_changes_nothing(tree):
    run = accessibility.accessibility_run(
        actor=None, region_code="9901", kind="health_station", day=DAY
    )
    before = (run.results, run.population, run.share_walk, run.partitions_done)
    tasks.execute(accessibility.PART_TASK, run.pk, COUNTY, runner="inline")
    tasks.execute(accessibility.PART_TASK, run.pk, COUNTY, runner="inline")
    run.refresh_from_db()
    assert AccessibilityPart.objects.filter(run=run).count() == 2
    assert (run.results, run.population, run.share_walk, run.partitions_done) == before
    assert run.status == RunStatus.DONE


def test_with_a_broker_each_county_is_enqueued_and_the_last_completes_the_run(
    tree, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks, "uses_celery", lambda: True)
    monkeypatch.setattr(tasks, "_hand_over", lambda name, args: sent.append((name, *args)))
    with django_capture_on_commit_callbacks(execute=True):
        run = accessibility.accessibility_run(
            actor=None, region_code="9901", kind="health_station", day=DAY
        )
    assert sent == [
        (accessibility.PART_TASK, run.pk, COUNTY),
        (accessibility.PART_TASK, run.pk, OTHER_COUNTY),
    ]
    assert (run.status, run.partitions_done, run.partitions_total) == (RunStatus.RUNNING, 0, 2)
    # What a worker does with each message, in either order.
    tasks.execute(accessibility.PART_TASK, run.pk, OTHER_COUNTY, runner="celery")
    run.refresh_from_db()
    assert (run.status, run.partitions_done, run.results) == (RunStatus.RUNNING, 1, None)
    tasks.execute(accessibility.PART_TASK, run.pk, COUNTY, runner="celery")
    run.refresh_from_db()
    assert (run.status, run.partitions_done) == (RunStatus.DONE, 2)
    assert run.results is not None
    assert [p["region"] for p in run.results["partitions"]] == [COUNTY, OTHER_COUNTY]


def test_a_failed_county_fails_the_run_and_stops_the_rest(tree, monkeypatch):
    real = networks.demand_points

    def broken(region: Any, day: Any) -> Any:
        if region.code == COUNTY:
            raise NetworkError("points: coordinate #0 (nan, nan) is not a longitude/latitude pair")
        return real(region, day)

    monkeypatch.setattr(networks, "demand_points", broken)
    run = accessibility.accessibility_run(
        actor=None, region_code="9901", kind="health_station", day=DAY
    )
    assert (run.status, run.results, run.partitions_done) == (RunStatus.FAILED, None, 0)
    assert "not a longitude/latitude pair" in run.error
    assert parts(run) == [(COUNTY, "failed"), (OTHER_COUNTY, "running")]
    # A late delivery of the other county does not revive the run.
    assert accessibility.accessibility_part_compute(run.pk, OTHER_COUNTY) is None
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED


def test_the_command_runs_every_county_with_a_progress_bar(tree):
    discover()
    result = CliRunner().invoke(
        linli_group,
        [
            "network",
            "access",
            "--region",
            "9901",
            "--kind",
            "health_station",
            "--date",
            "2025-06-01",
        ],
    )
    assert result.exit_code == 0, result.output
    run = AccessibilityRun.objects.get()
    assert "2/2" in result.output
    assert f"Run #{run.pk} health_station as of 2025-06-01: Done, 2/2 counties" in result.output
    assert "within the 15-minute walk: 40.0 %" in result.output  # 1,000 of 2,500


def test_the_command_refuses_bad_input_with_the_field(tree):
    discover()
    result = CliRunner().invoke(
        linli_group, ["network", "access", "--region", "9901", "--kind", "spaceport"]
    )
    assert result.exit_code == 1
    assert "kind:" in result.output
    assert not AccessibilityRun.objects.exists()
