from __future__ import annotations

import click
from django.utils.translation import gettext as _

from linli.core.registry import linli_group

from .models import Resident
from .services import resident_anonymize


@linli_group.group()
def residents() -> None:
    """The residents register."""


@residents.command("anonymize")
@click.argument("resident_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def residents_anonymize(resident_id: int, yes: bool) -> None:
    """Erase a resident's identity at their request; statistics keep counting them."""
    resident = Resident.objects.filter(pk=resident_id, anonymized_at__isnull=True).first()
    if resident is None:
        raise click.ClickException(
            _("No resident no. %(id)s, or already anonymized.") % {"id": resident_id}
        )
    if not yes:
        click.confirm(
            _("Erase the identity of resident no. %(id)s for good?") % {"id": resident_id},
            abort=True,
        )
    resident_anonymize(resident=resident)
    click.echo(_("Resident no. %(id)s is anonymized.") % {"id": resident_id})


# The commands themselves live beside the code they drive.
from .spreadsheets import cli as _spreadsheets_cli  # noqa: E402, F401
