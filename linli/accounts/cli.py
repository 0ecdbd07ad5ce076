from __future__ import annotations

import unicodedata

import click
from django.utils.translation import gettext as _

from linli.core.cli import demo

from .demo import DEMO_PASSWORD, demo_accounts


@demo.command("accounts")
def demo_accounts_command() -> None:
    """Print the demo accounts, their roles and scopes."""
    assignments = demo_accounts()
    if not assignments:
        raise click.ClickException(
            _("The demo accounts are not built yet: run `linli demo build`.")
        )
    click.echo(_("Demo accounts (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
    for assignment in assignments:
        if assignment.organization:
            where = assignment.organization.name
        else:
            where = assignment.region.display_name if assignment.region else _("all regions")
        role = pad(str(assignment.get_role_display()), 22)
        click.echo(f"  {assignment.user.username:<24} {role} {where}")


def pad(text: str, width: int) -> str:
    """Left-justify in a terminal, where a Chinese character takes two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 0)
