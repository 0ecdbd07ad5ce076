"""The requests app's commands; each lives beside the code it drives."""

from .open311 import cli as _open311_cli  # noqa: F401
