"""`linli residents template|import|export`: the residents register in Excel.

Operators run imports and templates as a system job unless `--as` names the
account to act as (its role and area then apply). An export always names an
account: every export of personal data is logged against someone.
"""

from __future__ import annotations

from pathlib import Path

import click
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.accounts.models import User
from linli.core.cli import fail, run_import
from linli.core.errors import LinliError
from linli.residents.cli import residents

from .importer import register_import_xlsx
from .workbook import register_export_xlsx, register_template_xlsx

AS_HELP = _("Act as this account (its role and area apply); by default an operator, everywhere.")


def _account(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise click.BadParameter(
            _("No account is named %(name)s.") % {"name": username}, param_hint="--as"
        )
    return user


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as error:
        raise click.ClickException(str(error)) from error


@residents.command("template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--as", "username", metavar="USERNAME", help=AS_HELP)
def register_template(path: Path, username: str | None) -> None:
    """Write the empty residents register workbook (Excel)."""
    actor = _account(username)
    try:
        data = register_template_xlsx(actor=actor)
    except LinliError as error:
        raise fail(error) from error
    _write(path, data)
    click.echo(_("Wrote the template to %(path)s.") % {"path": path})


@residents.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--partial", is_flag=True, help=_("Write the good rows even if other rows have problems.")
)
@click.option("--as", "username", metavar="USERNAME", help=AS_HELP)
def register_import(path: Path, partial: bool, username: str | None) -> None:
    """Register residents from an Excel workbook.

    All or nothing unless --partial: a file with any bad row changes nothing,
    and every problem is listed with its row and column.
    """
    actor = _account(username)
    report = run_import(
        lambda: register_import_xlsx(actor=actor, data=path.read_bytes(), partial=partial)
    )
    for warning in report.warnings:
        click.echo(warning, err=True)
    for problem in report.errors:
        click.echo(str(problem), err=True)
    click.echo(
        _(
            "Residents: %(created)s registered. Households: %(new)s new, "
            "%(joined)s already registered joined."
        )
        % {
            "created": report.created,
            "new": report.households_created,
            "joined": report.households_joined,
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


@residents.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option(
    "--as",
    "username",
    metavar="USERNAME",
    help=_("The account exporting (a community worker or an administrator); logged."),
)
@click.option("--unmasked", is_flag=True, help=_("Sensitive fields in clear; needs --purpose."))
@click.option("--purpose", default="", help=_("Why the export is needed; logged."))
def register_export(path: Path, username: str | None, unmasked: bool, purpose: str) -> None:
    """Export the residents an account keeps to Excel, masked unless --unmasked.

    Every resident exported gets an access event (who, which fields, why).
    """
    actor = _account(username)
    if actor is None:
        raise click.UsageError(
            _("Say who exports with --as USERNAME: every export of personal data is logged.")
        )
    if unmasked and not purpose.strip():
        raise click.UsageError(_("An unmasked export needs --purpose: say why."))
    try:
        data = register_export_xlsx(actor=actor, unmasked=unmasked, purpose=purpose)
    except LinliError as error:
        raise fail(error) from error
    _write(path, data)
    click.echo(_("Exported the residents register to %(path)s.") % {"path": path})
