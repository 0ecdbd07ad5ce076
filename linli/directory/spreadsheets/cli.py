"""`linli directory xlsx-template|xlsx-import|xlsx-export`: the directory in Excel.

Operators run these as a system job (no role or area check), so `--under`
is how an export or a template is cut to one area.
"""

from __future__ import annotations

from pathlib import Path

import click
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.core.cli import run_import
from linli.directory.cli import directory
from linli.regions import codes

from .importer import directory_import_xlsx
from .workbook import directory_export_xlsx, directory_template_xlsx


def _check_under(code: str | None) -> None:
    if code and not codes.is_valid(code):
        raise click.BadParameter(_("A region code has exactly 12 digits."), param_hint="--under")


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise click.ClickException(str(error)) from error


@directory.command("xlsx-template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--under", "code", help=_("Offer only communities and villages below this region code.")
)
def xlsx_template(path: Path, code: str | None) -> None:
    """Write the empty Excel workbook for organizations and facilities."""
    _check_under(code)
    _write(path, directory_template_xlsx(actor=None, under=code))
    click.echo(_("Wrote the template to %(path)s.") % {"path": path})


@directory.command("xlsx-import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--partial", is_flag=True, help=_("Write the good rows even if other rows have problems.")
)
def xlsx_import(path: Path, partial: bool) -> None:
    """Import organizations and facilities from an Excel workbook.

    All or nothing unless --partial: a file with any bad row changes nothing,
    and every problem is listed with its sheet, row and column.
    """
    report = run_import(
        lambda: directory_import_xlsx(actor=None, data=path.read_bytes(), partial=partial)
    )
    for warning in report.warnings:
        click.echo(warning, err=True)
    for problem in report.errors:
        click.echo(str(problem), err=True)
    click.echo(
        _(
            "Organizations: %(o_created)s created, %(o_updated)s updated, "
            "%(o_unchanged)s unchanged. Facilities: %(f_created)s created, "
            "%(f_updated)s updated, %(f_unchanged)s unchanged."
        )
        % {
            "o_created": report.organizations.created,
            "o_updated": report.organizations.updated,
            "o_unchanged": report.organizations.unchanged,
            "f_created": report.facilities.created,
            "f_updated": report.facilities.updated,
            "f_unchanged": report.facilities.unchanged,
        }
    )
    if report.errors:
        count = report.rows_refused
        click.echo(
            ngettext(
                "%(count)s row with problems was left out.",
                "%(count)s rows with problems were left out.",
                count,
            )
            % {"count": count},
            err=True,
        )


@directory.command("xlsx-export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--under", "code", help=_("Only this region and those below it (a 12-digit code)."))
def xlsx_export(path: Path, code: str | None) -> None:
    """Export organizations and facilities to Excel, in the template's layout."""
    _check_under(code)
    _write(path, directory_export_xlsx(actor=None, under=code))
    click.echo(_("Exported the directory to %(path)s.") % {"path": path})
