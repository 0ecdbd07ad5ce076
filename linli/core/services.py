from __future__ import annotations

import random
from collections.abc import Callable

import click
from django.apps import apps
from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from .errors import ValidationFailed
from .fields import EncryptedTextField
from .models import DemoStepRun
from .registry import DemoContext, demo_steps, discover

DEMO_SCALES = ("small", "county")


def demo_build(
    *,
    seed: int = 2021,
    scale: str = "county",
    echo: Callable[[str], None] = click.echo,
    show_progress: bool = True,
) -> list[str]:
    """Run every registered demo step that has not run yet; return the names of those run.

    Each step commits on its own, so an interrupted build resumes where it
    stopped. A demo already built with another seed or scale is left alone:
    mixing two demos would make neither repeatable.
    """
    if scale not in DEMO_SCALES:
        raise ValidationFailed(
            fields={
                "scale": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(DEMO_SCALES)}]
            }
        )
    previous = DemoStepRun.objects.first()
    if previous and (previous.seed, previous.scale) != (seed, scale):
        raise ValidationFailed(
            _(
                "A demo built with seed %(seed)s and scale %(scale)s is already here; "
                "start from an empty database to build another."
            )
            % {"seed": previous.seed, "scale": previous.scale}
        )
    discover()
    done = set(DemoStepRun.objects.values_list("name", flat=True))
    ran = []
    for step in demo_steps():
        if step.name in done:
            continue
        echo(_("Demo step: %(name)s") % {"name": step.name})
        # Every step gets its own random stream, so adding a step never changes another's data.
        context = DemoContext(
            seed=seed,
            scale=scale,
            rng=random.Random(f"{seed}:{step.name}"),  # noqa: S311 - fictional data, not secrets
            echo=echo,
            show_progress=show_progress,
        )
        with transaction.atomic():
            step.run(context)
            DemoStepRun.objects.create(name=step.name, seed=seed, scale=scale)
        ran.append(step.name)
    return ran


def encrypted_fields() -> list[tuple[type[Model], list[str]]]:
    """Every model with encrypted fields, and those fields' names."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def reencrypt(
    *, model: type[Model], fields: list[str], progress: Callable[[int], None] | None = None
) -> int:
    """Read and write back `fields` of every row: reading opens any key, writing seals with
    the current one. In batches, each in its own transaction, so a rotation can resume."""
    done = 0
    manager = model._default_manager
    pks = list(manager.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), 500):
        with transaction.atomic():
            rows = list(manager.select_for_update().filter(pk__in=pks[start : start + 500]))
            manager.bulk_update(rows, fields)
        done += len(rows)
        if progress:
            progress(len(rows))
    return done
