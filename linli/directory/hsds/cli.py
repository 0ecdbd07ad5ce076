"""`linli hsds export` and `linli hsds import`: the directory as an HSDS 3.0 dataset."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.core.cli import fail, run_import
from linli.core.errors import LinliError
from linli.directory.cli import hsds

from .dataset import FORMATS, JSON_FILE, ProgressUpdate, hsds_dataset_export, hsds_dataset_import


@contextmanager
def _progress(label: str, length: int) -> Iterator[ProgressUpdate]:
    with click.progressbar(length=length, label=label, show_pos=True, file=sys.stderr) as bar:
        yield bar.update


@hsds.command("export")
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="csv",
    show_default=True,
    help=_("csv: a data package (datapackage.json and CSV files); json: one file, %(file)s.")
    % {"file": JSON_FILE},
)
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
def hsds_export(format_: str, directory: Path) -> None:
    """Write the whole directory into DIR as an HSDS 3.0 dataset."""
    try:
        report = hsds_dataset_export(directory=directory, format=format_, progress=_progress)
    except LinliError as error:
        raise fail(error) from error
    for problem in report.problems:
        click.echo(_("Not valid HSDS: %(problem)s") % {"problem": problem}, err=True)
    click.echo(
        ngettext(
            "Exported %(count)s rows in %(files)s file to %(path)s.",
            "Exported %(count)s rows in %(files)s files to %(path)s.",
            len(report.files),
        )
        % {"count": report.total, "files": len(report.files), "path": directory}
    )


@hsds.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--partial",
    is_flag=True,
    help=_("Write the rows without problems and report the others, instead of all or nothing."),
)
def hsds_import(path: Path, partial: bool) -> None:
    """Import an HSDS 3.0 dataset: a data package (its folder or datapackage.json) or JSON.

    Records are created or updated by their HSDS id. All or nothing unless
    --partial: every problem is listed with its file, row and field.
    """
    report = run_import(lambda: hsds_dataset_import(path=path, partial=partial, progress=_progress))
    for warning in report.warnings:
        click.echo(warning, err=True)
    for problem in report.problems:
        if problem.dropped:
            line = _("%(problem)s (imported without this reference)")
        else:
            line = _("%(problem)s (row not imported)")
        click.echo(line % {"problem": problem}, err=True)
    for file, count in report.tables.items():
        if count.created or count.updated or count.unchanged:
            click.echo(
                _("%(file)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
                % {
                    "file": file,
                    "created": count.created,
                    "updated": count.updated,
                    "unchanged": count.unchanged,
                }
            )
    click.echo(
        _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
        % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged}
    )
    if report.skipped:
        click.echo(
            ngettext(
                "%(count)s row was not imported; see the problems above.",
                "%(count)s rows were not imported; see the problems above.",
                report.skipped,
            )
            % {"count": report.skipped},
            err=True,
        )
