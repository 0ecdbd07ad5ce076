"""`linli requests dispatch [--community CODE]`: run a dispatch round from the shell.

It runs as the system (no account), like a scheduled round, so every waiting
request of the region is in it. The command joins the `linli requests` group,
which this module creates unless `cli.py` (which imports this module) already has.
"""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from linli.core.cli import fail
from linli.core.errors import LinliError
from linli.core.registry import linli_group
from linli.regions.models import Region

from .dispatch import round_run


@click.command("dispatch")
@click.option(
    "--community",
    "code",
    default="",
    metavar="CODE",
    help=_("Only requests of this community, street or district (a region code)."),
)
def dispatch_command(code: str) -> None:
    """Give every waiting request its responder, all at once at the least cost."""
    prefix = ""
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise click.ClickException(_("No region with the code %(code)s.") % {"code": code})
        prefix = region.prefix
    try:
        outcome = round_run(scope_prefix=prefix)
    except LinliError as error:
        raise fail(error) from error
    round_ = outcome.round
    click.echo(
        _(
            "Dispatch round %(id)s: %(requests)s waiting requests, %(responders)s responders "
            "with room; %(assigned)s assigned, total cost %(cost)s, in %(seconds)s s."
        )
        % {
            "id": round_.pk,
            "requests": round_.requests_considered,
            "responders": round_.responders_considered,
            "assigned": round_.assigned,
            "cost": round_.total_cost,
            "seconds": round_.seconds,
        }
    )
    if outcome.conflicts or outcome.refused:
        click.echo(
            _(
                "%(conflicts)s were assigned by someone else meanwhile; %(refused)s no longer "
                "fitted their responder. They wait for the next round."
            )
            % {"conflicts": outcome.conflicts, "refused": outcome.refused}
        )
    unserved = len(outcome.problem.requests) - round_.assigned
    if unserved:
        click.echo(
            _("%(count)s requests had nobody free to serve them and stay in the queue.")
            % {"count": unserved}
        )


def _requests_group() -> click.Group:
    existing = linli_group.commands.get("requests")
    if isinstance(existing, click.Group):
        return existing

    @linli_group.group("requests")
    def requests_group() -> None:
        """Service requests."""

    return requests_group


_requests_group().add_command(dispatch_command)
