"""Fail when a translatable text has no Chinese translation yet (after makemessages)."""

import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parents[1] / "linli/locale/zh_Hans/LC_MESSAGES/django.po"


def main() -> int:
    po = polib.pofile(str(PO))
    missing = po.untranslated_entries() + po.fuzzy_entries()
    for entry in missing:
        where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
        print(f"untranslated: {entry.msgid!r} ({where})")
    if missing:
        print(f"{len(missing)} texts lack Chinese: translate them in {PO}, then `make messages`.")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
