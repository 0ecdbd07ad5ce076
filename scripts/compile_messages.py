"""Compile every .po catalogue under linli/locale into its .mo, without GNU gettext.

The compiled .mo files are committed, so a fresh machine needs no gettext tools;
`make messages` re-extracts and recompiles, and a test checks they are in step.
"""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[1] / "linli" / "locale"


def compile_all() -> list[Path]:
    written = []
    for po_path in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(path.relative_to(LOCALE.parent.parent))
