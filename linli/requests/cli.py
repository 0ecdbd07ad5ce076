"""The requests app's commands; each lives beside the code it drives."""

from . import dispatch_cli as _dispatch_cli  # noqa: F401
from .open311 import cli as _open311_cli  # noqa: F401
