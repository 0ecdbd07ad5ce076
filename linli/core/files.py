"""Reading the files people bring: spreadsheets saved as CSV, in whatever encoding."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import ValidationFailed

# Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else sends UTF-8,
# sometimes with a byte-order mark.
ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes) -> str:
    """The file's text, trying UTF-8 first, then GB18030."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(
        _("The file is neither UTF-8 nor GB18030 text."), fields={"file": [_("Unreadable text.")]}
    )
