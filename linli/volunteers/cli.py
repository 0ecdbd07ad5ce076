"""`linli timebank check`: what the time bank's books hold, and whether they add up.

Exit status 0 when the books hold, 1 when a check finds a problem (so a cron job or a
monitoring probe can run it as it is).
"""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from linli.core.registry import linli_group

from .books import books_read


def _timebank_group() -> click.Group:
    existing = linli_group.commands.get("timebank")
    if isinstance(existing, click.Group):
        return existing

    @linli_group.group("timebank")
    def timebank_group() -> None:
        """The time bank of volunteer hours."""

    return timebank_group


@click.command("check")
@click.pass_context
def check_command(ctx: click.Context) -> None:
    """Check the time bank's books and print what they hold."""
    books = books_read()
    figures = books.figures
    for line in (
        _("Accounts: %(count)s") % {"count": f"{figures.accounts:,}"},
        _("Transfers: %(count)s (%(movements)s movements)")
        % {"count": f"{figures.transfers:,}", "movements": f"{figures.movements:,}"},
        _("Hours issued (earned, net of corrections): %(hours)s") % {"hours": figures.issued},
        _("Hours in people's accounts: %(hours)s") % {"hours": figures.people},
        _("Hours of organizations: %(hours)s") % {"hours": figures.organizations},
        _("Hours in community pools: %(hours)s") % {"hours": figures.pools},
        _("Hours held for services not yet delivered: %(hours)s") % {"hours": figures.held},
        _("Hours spent on delivered services: %(hours)s") % {"hours": figures.spent},
    ):
        click.echo(line)
    if books.hold:
        click.echo(_("The books hold."))
        return
    for problem in books.problems:
        click.echo(problem, err=True)
    click.echo(
        _("The books do not add up: %(count)s problems found.") % {"count": len(books.problems)},
        err=True,
    )
    ctx.exit(1)


_timebank_group().add_command(check_command)
