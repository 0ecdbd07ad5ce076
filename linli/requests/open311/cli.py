"""`linli open311 …`: partner systems' keys for the Open311 GeoReport v2 façade."""

from __future__ import annotations

import click
from django.utils.translation import gettext as _

from linli.core.cli import fail
from linli.core.errors import LinliError, ValidationFailed
from linli.core.registry import linli_group
from linli.regions.models import Region
from linli.requests.models import Open311Partner

from .services import open311_key_rotate, open311_partner_issue


@linli_group.group()
def open311() -> None:
    """Partner systems that post requests through Open311 GeoReport v2."""


@open311.command("issue-key")
@click.option("--name", required=True, help=_("The partner system's name (unique)."))
@click.option(
    "--region",
    "code",
    required=True,
    help=_("The 12-digit code of the region the partner's requests must fall in."),
)
def open311_issue_key(name: str, code: str) -> None:
    """Register a partner and print its api_key: shown this once, only its hash is kept."""
    try:
        partner, key = open311_partner_issue(
            name=name, region=Region.objects.filter(code=code.strip()).first()
        )
    except LinliError as error:
        raise fail(error) from error
    click.echo(
        _("Partner %(name)s may post requests in %(region)s.")
        % {"name": partner.name, "region": partner.region}
    )
    click.echo(_("Its api_key (shown only now; keep it safe):"), err=True)
    click.echo(key)


@open311.command("rotate-key")
@click.option("--name", required=True, help=_("The partner system's name."))
def open311_rotate_key(name: str) -> None:
    """Give a partner a new api_key; the old one stops working at once."""
    partner = Open311Partner.objects.filter(name=name.strip()).first()
    if partner is None:
        raise fail(ValidationFailed(fields={"name": [_("No partner with this name.")]}))
    key = open311_key_rotate(partner=partner)
    click.echo(_("Its api_key (shown only now; keep it safe):"), err=True)
    click.echo(key)
