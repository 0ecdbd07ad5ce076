"""The directory's commands: `linli hsds …` (datasets) and `linli directory …` (spreadsheets)."""

from linli.core.registry import linli_group


@linli_group.group()
def hsds() -> None:
    """Exchange the directory as an HSDS 3.0 dataset (JSON or a CSV data package)."""


@linli_group.group()
def directory() -> None:
    """The service directory: organizations, services and facilities."""


# The commands themselves live beside the code they drive.
from .hsds import cli as _hsds_cli  # noqa: E402, F401
from .spreadsheets import cli as _spreadsheets_cli  # noqa: E402, F401
