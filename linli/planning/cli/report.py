"""`linli report REGION --date D --out FILE`: a region's report as a workbook or a PDF.

The format follows the file's extension (.xlsx or .pdf). The operator at the command line
is not scoped: the region must be part of the deployment. Every refusal names the field
and the reason and exits 1 without writing anything; the file is written to a temporary
name and renamed, so it is either complete or absent.
"""

from __future__ import annotations

from pathlib import Path

import click
from django.utils.translation import gettext as _

from linli.core.cli import fail
from linli.core.errors import LinliError, ValidationFailed
from linli.core.registry import linli_group

from .. import reports


@linli_group.command("report")
@click.argument("region")
@click.option("--date", "day", help="The report's date (YYYY-MM-DD; default today).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .xlsx (workbook) or .pdf (summary).",
)
def report_command(region: str, day: str | None, out: Path) -> None:
    """Write a region's planning report (indicators, gaps, accessibility)."""
    try:
        fmt = reports.FORMATS.get(out.suffix.lower())
        if fmt is None:
            raise ValidationFailed(
                fields={"out": [_("Write the report to a .xlsx or a .pdf file.")]}
            )
        if not out.parent.is_dir():
            raise ValidationFailed(
                fields={"out": [_("No folder %(folder)s.") % {"folder": out.parent}]}
            )
        data = reports.report_data(None, region_code=region, day_text=day)
        content = reports.build(data, fmt)
        try:
            reports.write_atomic(out, content)
        except OSError as error:
            raise ValidationFailed(
                fields={
                    "out": [
                        _("Cannot write %(path)s: %(reason)s")
                        % {"path": out, "reason": error.strerror}
                    ]
                }
            ) from None
    except LinliError as error:
        raise fail(error) from error
    click.echo(
        _("Report of %(region)s as of %(day)s written to %(path)s.")
        % {"region": data.region.display_name, "day": data.day.isoformat(), "path": out}
    )
