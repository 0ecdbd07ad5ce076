"""Domain errors with stable codes.

Services raise these; the API handler, the pages and the command line each
turn them into a response, a form error or a message, in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _


class LinliError(Exception):
    """A refusal the user can act on. `code` is stable; `message` is translated."""

    code = "error"
    status = 400

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = str(message) if message is not None else str(self.default_message)
        self.fields = fields or {}
        super().__init__(self.message)

    default_message = _("The request could not be carried out.")


class ValidationFailed(LinliError):
    code = "invalid"
    default_message = _("Some values are not valid.")


class NotFound(LinliError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class PermissionDenied(LinliError):
    code = "permission_denied"
    status = 403
    default_message = _("You do not have permission to do this.")


class Conflict(LinliError):
    """Someone else changed the record first: reload and decide again."""

    code = "conflict"
    status = 409
    default_message = _("Someone else changed this first: reload it and try again.")


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an imported file (row 1 is the header)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return str(_("row %(row)s, %(field)s: %(message)s")) % {
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


class ImportRejected(LinliError):
    """An all-or-nothing import refused as a whole; `rows` lists every problem found."""

    code = "import_rejected"
    default_message = _("The file was not imported: nothing was changed.")

    def __init__(self, rows: list[RowError], message: str | None = None):
        self.rows = rows
        super().__init__(message)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    warnings: list[str] = field(default_factory=list)
