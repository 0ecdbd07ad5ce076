"""Planning's background tasks: one county of an accessibility run (see accessibility.py)."""

from __future__ import annotations

from linli.core.tasks import task

from . import accessibility


@task(accessibility.PART_TASK)
def accessibility_part(run_id: int, region_code: str) -> str:
    """Compute and store one county of a run; the last county completes the run."""
    part = accessibility.accessibility_part_compute(run_id, region_code)
    return f"run {run_id} county {region_code}: {'done' if part else 'skipped or failed'}"
