"""The `linli` command. Apps add subcommands through linli.core.registry."""

from __future__ import annotations

import os


def cli_language() -> str:
    """The command line speaks the operator's language: LINLI_LANGUAGE, else the locale.

    Chinese unless the locale asks for English, as on the web pages.
    """
    for variable in ("LINLI_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").lower()
        if value.startswith("en"):
            return "en"
        if value.startswith("zh"):
            return "zh-hans"
    return "zh-hans"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.utils import translation

    from linli.core.registry import discover, linli_group

    translation.activate(cli_language())
    discover()
    linli_group()
