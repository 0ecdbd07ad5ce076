"""`linli network import-osm` and `linli network generate`: a region's walking network.

    linli network import-osm FILE.osm.pbf --region CODE
    linli network generate --region CODE [--seed N] [--block M] [--margin M]
    linli network list

The operator at the command line is not scoped: the region must exist in this
deployment. Every refusal is printed in the operator's language with the field and the
reason, the command exits 1, and the region's earlier network (if any) stays as it was.
"""

from __future__ import annotations

from pathlib import Path

import click
from django.utils.translation import gettext as _

from linli.core.cli import fail
from linli.core.errors import LinliError
from linli.core.registry import linli_group

from .. import networks
from ..models import RoadNetwork


def _network_group() -> click.Group:
    existing = linli_group.commands.get("network")
    if isinstance(existing, click.Group):
        return existing

    @linli_group.group("network")
    def network_group() -> None:
        """Walking networks of regions, for the planning analyses."""

    return network_group


def _report(record: RoadNetwork) -> None:
    click.echo(
        _(
            "Stored the %(source)s network of %(region)s: %(nodes)s nodes, %(edges)s edges, "
            "%(parts)s connected parts, %(size)s MB (%(file)s)."
        )
        % {
            "source": record.get_source_display(),
            "region": record.region_id,
            "nodes": f"{record.nodes:,}",
            "edges": f"{record.edges:,}",
            "parts": record.components,
            "size": f"{record.size_bytes / 1e6:.1f}",
            "file": record.file,
        }
    )


@click.command("import-osm")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--region", "region", required=True, help="Region code, e.g. 330106.")
def import_osm_command(file: Path, region: str) -> None:
    """Read an OpenStreetMap extract (.osm.pbf) into the region's walking network."""
    try:
        record = networks.network_import_osm(region_code=region, path=file)
    except LinliError as error:
        raise fail(error) from error
    _report(record)
    dropped = record.parameters.get("nodes_dropped", 0)
    if dropped:
        click.echo(
            _("%(count)s nodes in fragments of fewer than %(min)s nodes were left out.")
            % {"count": f"{dropped:,}", "min": networks.MIN_COMPONENT_NODES}
        )


@click.command("generate")
@click.option("--region", "region", required=True, help="Region code, e.g. 990102.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--block",
    default=networks.SYNTHETIC_BLOCK_M,
    show_default=True,
    type=float,
    help="Block size in metres.",
)
@click.option(
    "--margin",
    default=networks.SYNTHETIC_MARGIN_M,
    show_default=True,
    type=float,
    help="Metres of network around the communities.",
)
def generate_command(region: str, seed: int, block: float, margin: float) -> None:
    """Build a synthetic walking network over the region's communities (demo, tests)."""
    try:
        record = networks.network_generate(
            region_code=region, seed=seed, block_m=block, margin_m=margin
        )
    except LinliError as error:
        raise fail(error) from error
    _report(record)


@click.command("list")
def list_command() -> None:
    """The stored networks."""
    rows = list(RoadNetwork.objects.select_related("region").order_by("region_id"))
    if not rows:
        click.echo(_("No road network is stored yet."))
        return
    for r in rows:
        click.echo(
            f"{r.region_id}  {r.region.display_name}  {r.get_source_display()}  "
            f"{r.nodes:,} / {r.edges:,}  {r.built_at:%Y-%m-%d %H:%M}  {r.file}"
        )


for _command in (import_osm_command, generate_command, list_command):
    _network_group().add_command(_command)
