"""Commands every deployment needs: serve, migrate, the demo, Django's own commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from django.core.management import call_command
from django.utils.translation import gettext as _

from .errors import ImportRejected, LinliError
from .registry import linli_group

T = TypeVar("T")


def fail(error: LinliError) -> click.ClickException:
    """A domain error as a command-line error: its message and each field's reasons."""
    lines = [error.message]
    lines += [f"  {name}: {' '.join(reasons)}" for name, reasons in error.fields.items()]
    return click.ClickException("\n".join(lines))


def run_import(action: Callable[[], T]) -> T:
    """Run an import; a refusal lists every problem, then exits 1 with the reason."""
    try:
        return action()
    except ImportRejected as error:
        for problem in error.rows:
            click.echo(str(problem), err=True)
        raise fail(error) from error
    except LinliError as error:
        raise fail(error) from error


@linli_group.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not run scheduled jobs in this process (another process or Celery beat does).",
)
def serve(host: str, port: int, threads: int, no_scheduler: bool) -> None:
    """Serve Linli with waitress (collects static files first).

    Without a Celery broker, this process also runs the scheduled jobs (escalations,
    dispatch rounds) in a background thread; run it in one process only."""
    from waitress import serve as waitress_serve

    from .tasks import start_scheduler, uses_celery

    # Collect first: WhiteNoise indexes the static folder when the application loads.
    call_command("collectstatic", interactive=False, verbosity=0)
    from config.wsgi import application

    if no_scheduler:
        click.echo(_("Scheduled jobs are not run by this process (--no-scheduler)."))
    elif uses_celery():
        click.echo(_("Scheduled jobs are run by Celery beat (CELERY_BROKER_URL is set)."))
    else:
        start_scheduler()
        click.echo(_("Scheduled jobs run in this process."))
    click.echo(_("Linli is serving at http://%(host)s:%(port)s/") % {"host": host, "port": port})
    waitress_serve(application, host=host, port=port, threads=threads, ident="linli")


@linli_group.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    call_command("migrate", interactive=False, verbosity=1)


@linli_group.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command: linli manage createsuperuser."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(["linli manage", *args])


@linli_group.group()
def demo() -> None:
    """The generated demo district (nothing in it is real personal data)."""


@demo.command("build")
@click.option("--seed", default=2021, show_default=True, type=int)
@click.option(
    "--scale", default="county", show_default=True, type=click.Choice(["small", "county"])
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def demo_build_command(seed: int, scale: str, quiet: bool) -> None:
    """Build the demo district; steps already built are skipped."""
    from .services import demo_build

    try:
        ran = demo_build(seed=seed, scale=scale, show_progress=not quiet)
    except LinliError as error:
        raise fail(error) from error
    if ran:
        click.echo(_("Demo built: %(steps)s.") % {"steps": ", ".join(ran)})
    else:
        click.echo(_("The demo district is already built; nothing to do."))


@linli_group.group()
def keys() -> None:
    """Keys that encrypt personal data at rest."""


@keys.command("new")
def keys_new() -> None:
    """Print a fresh random key (for LINLI_FIELD_KEYS or LINLI_BLIND_INDEX_KEY)."""
    from .crypto import new_key

    click.echo(new_key())


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted value with the first key of LINLI_FIELD_KEYS.

    Put the new key first and keep the old ones after it until this has run;
    then the old ones can be removed.
    """
    from .services import encrypted_fields, reencrypt

    for model, fields in encrypted_fields():
        total = model._default_manager.count()
        label = _("Re-encrypting %(model)s") % {"model": model._meta.verbose_name_plural}
        with click.progressbar(length=total, label=label) as bar:
            reencrypt(model=model, fields=fields, progress=bar.update)
    click.echo(_("Every encrypted value now uses the current key."))
