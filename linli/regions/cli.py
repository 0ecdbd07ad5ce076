from __future__ import annotations

import io
from pathlib import Path

import click
from django.utils.translation import gettext as _

from linli.core.cli import run_import
from linli.core.files import decode_text
from linli.core.registry import linli_group

from . import codes
from .models import Region
from .services import region_export_csv, region_import_csv


@linli_group.group()
def regions() -> None:
    """The administrative region tree."""


@regions.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def regions_import(path: Path) -> None:
    """Import regions from CSV (code,name,name_en,level,kind,population,households,lat,lon).

    All or nothing: a file with any bad row changes nothing, and every bad row is listed.
    """
    text = run_import(lambda: decode_text(path.read_bytes()))
    with click.progressbar(length=text.count("\n"), label=_("Importing regions")) as bar:
        report = run_import(
            lambda: region_import_csv(stream=io.StringIO(text, newline=""), progress=bar.update)
        )
    click.echo(
        _("Imported regions: %(created)s created, %(updated)s updated.")
        % {"created": report.created, "updated": report.updated}
    )


@regions.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--under", "code", help=_("Only this region and those below it (a 12-digit code)."))
def regions_export(path: Path, code: str | None) -> None:
    """Export regions to CSV in the import format."""
    queryset = Region.objects.order_by("code")
    if code:
        if not codes.is_valid(code):
            raise click.BadParameter(
                _("A region code has exactly 12 digits."), param_hint="--under"
            )
        queryset = queryset.filter(code__startswith=codes.prefix_of(code))
    with path.open("w", encoding="utf-8", newline="") as stream:
        count = region_export_csv(stream=stream, regions=queryset.iterator())
    click.echo(_("Exported %(count)s regions to %(path)s.") % {"count": count, "path": path})
