from __future__ import annotations

import random
from collections.abc import Callable

import click
from django.db import transaction
from django.utils.translation import gettext as _

from .errors import ValidationFailed
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
