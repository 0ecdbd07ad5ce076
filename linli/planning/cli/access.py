"""`linli network access`: accessibility runs from the command line, county by county.

    linli network access --region CODE --kind KIND|all [--date YYYY-MM-DD]

Each county is one `planning.accessibility_part` task (linli/planning/accessibility.py).
Without a broker they run here and a progress bar counts the counties; with Celery
configured they go to the workers and the command prints the runs to watch. The operator
at the command line is not scoped; a refusal names the field and the reason (exit 1).
"""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from linli.core import tasks
from linli.core.cli import fail
from linli.core.errors import LinliError

from .. import accessibility, networks
from ..models import AccessibilityRun, RunStatus
from .network import _network_group


def _describe(run: AccessibilityRun) -> str:
    share = "—" if run.share_walk is None else f"{run.share_walk * 100:.1f} %"
    return _(
        "Run #%(id)s %(kind)s as of %(day)s: %(status)s, %(done)s/%(total)s counties, "
        "%(method)s, within the 15-minute walk: %(share)s"
    ) % {
        "id": run.pk,
        "kind": run.kind,
        "day": run.as_of.isoformat(),
        "status": run.get_status_display(),
        "done": run.partitions_done,
        "total": run.partitions_total,
        "method": run.get_distance_method_display() or "—",
        "share": share,
    }


@click.command("access")
@click.option("--region", "region", required=True, help="Region code, e.g. 990102.")
@click.option("--kind", "kind", required=True, help="A facility kind, or all.")
@click.option("--date", "day", default=None, help="As of YYYY-MM-DD (default today).")
def access_command(region: str, kind: str, day: str | None) -> None:
    """Run the accessibility analysis of a region, one task per county."""
    try:
        place = networks.resolve_region(region)
        chosen = accessibility.kinds() if kind == "all" else [accessibility.check_kind(kind)]
        total = len(accessibility.partitions(place)) * len(chosen)
        runs = []
        if tasks.uses_celery():
            for k in chosen:
                runs.append(
                    accessibility.accessibility_run(actor=None, region_code=region, kind=k, day=day)
                )
        else:
            with click.progressbar(length=total, label=_("Counties"), show_pos=True) as bar:
                for k in chosen:
                    runs.append(
                        accessibility.accessibility_run(
                            actor=None,
                            region_code=region,
                            kind=k,
                            day=day,
                            progress=lambda _county: bar.update(1),
                        )
                    )
    except LinliError as error:
        raise fail(error) from error
    for run in runs:
        click.echo(_describe(run))
        if run.error:
            click.echo(f"  {run.error}", err=True)
    if any(run.status == RunStatus.FAILED for run in runs):
        raise click.ClickException(_("A run failed; see its error above."))
    if tasks.uses_celery():
        click.echo(_("The counties were handed to the Celery workers; the runs complete there."))


_network_group().add_command(access_command)
