"""Demo step "planning_network": the demo district's walking network and its accessibility.

The demo district has no OpenStreetMap extract (it lies on no real map), so it gets a
synthetic network over its communities, seeded by the demo's seed; then one accessibility
run per facility kind as of the demo's day, so that the accessibility page has a map for
every kind from the start.
"""

from __future__ import annotations

from django.utils import timezone

from linli.core.registry import DemoContext, demo_step
from linli.regions.demo import DISTRICT
from linli.regions.models import Region

from . import accessibility, networks
from .models import Indicator, IndicatorTarget, RunStatus
from .targets import load_defaults

# The small scale is what the tests build, again and again: a coarser network and one kind
# keep the step under half a second there.
SMALL_SCALE_KINDS = ("health_station",)
SMALL_SCALE_BLOCK_M = 160.0


@demo_step(name="planning_network", order=110)
def build_demo_planning_network(context: DemoContext) -> None:
    """A synthetic walking network for the demo district and an accessibility run per kind."""
    # The plan's indicators come with the migration; a database emptied since (tests
    # flush it between transactional tests) gets them again. Nothing is written when they
    # are there.
    load_defaults(Indicator, IndicatorTarget)
    if not Region.objects.filter(code=DISTRICT).exists():
        return
    small = context.scale == "small"
    record = networks.network_generate(
        region_code=DISTRICT,
        seed=context.seed,
        block_m=SMALL_SCALE_BLOCK_M if small else networks.SYNTHETIC_BLOCK_M,
    )
    context.echo(f"  network: {record.nodes:,} nodes, {record.edges:,} edges")
    day = timezone.localdate()
    kinds = list(SMALL_SCALE_KINDS) if small else accessibility.kinds()
    with context.progress(kinds, label="accessibility") as bar:
        for kind in bar:
            run = accessibility.accessibility_run(
                actor=None, region_code=DISTRICT, kind=kind, day=day
            )
            if run.status != RunStatus.DONE:
                context.echo(f"  {kind}: {run.status} {run.error}")
    context.echo(f"  accessibility: {len(kinds)} facility kinds as of {day:%Y-%m-%d}")
