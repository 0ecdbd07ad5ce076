"""The one way an app plugs into Linli's command line and demo builder.

An app that has something to add writes a `cli.py` (click commands attached to
`linli_group`) and/or a `demo.py` (functions decorated with `@demo_step`).
`discover()` imports those modules from every installed app, so adding an app
to INSTALLED_APPS is all it takes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from django.utils.module_loading import autodiscover_modules

T = TypeVar("T")


@click.group(name="linli", context_settings={"help_option_names": ["-h", "--help"]})
def linli_group() -> None:
    """Linli (邻里): an urban and rural community service system."""


@dataclass
class DemoContext:
    """What every demo step receives: one seeded random source, the scale, output."""

    seed: int
    scale: str
    rng: random.Random
    echo: Callable[[str], None] = click.echo
    show_progress: bool = True
    data: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def progress(
        self, items: Iterable[T], label: str, length: int | None = None
    ) -> Iterator[Iterable[T]]:
        """A progress bar over `items`; plain iteration when output is not shown."""
        if not self.show_progress:
            yield items
            return
        with click.progressbar(items, label=label, length=length, show_pos=True) as bar:
            yield bar


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int
    run: Callable[[DemoContext], None]
    description: str


_demo_steps: dict[str, DemoStep] = {}


def demo_step(
    *, name: str, order: int
) -> Callable[[Callable[[DemoContext], None]], Callable[[DemoContext], None]]:
    """Register a step of the demo builder. Steps run once each, by ascending order."""

    def register(function: Callable[[DemoContext], None]) -> Callable[[DemoContext], None]:
        if name in _demo_steps and _demo_steps[name].run is not function:
            raise RuntimeError(f"Two demo steps are named {name!r}")
        _demo_steps[name] = DemoStep(
            name=name, order=order, run=function, description=(function.__doc__ or "").strip()
        )
        return function

    return register


def demo_steps() -> list[DemoStep]:
    return sorted(_demo_steps.values(), key=lambda step: (step.order, step.name))


def discover() -> None:
    """Import every installed app's `cli` and `demo` modules, which register themselves."""
    autodiscover_modules("cli", "demo")
