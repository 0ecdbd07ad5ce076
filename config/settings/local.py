"""The embedded default: SQLite under var/, one machine, no other service needed."""

from .base import *  # noqa: F403
from .base import LINLI_BLIND_INDEX_KEY, LINLI_FIELD_KEYS, SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A local install without a configured key still runs; the key is not shared.
SECRET_KEY = SECRET_KEY or "local-only-not-secret-linli-embedded-default-key"

# The embedded database and collected static files live under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# An embedded install keeps its personal-data keys in var/keys.env unless the
# environment gives them (back that file up apart from the database).
if not LINLI_FIELD_KEYS or not LINLI_BLIND_INDEX_KEY:
    from linli.core.crypto import local_keys

    LINLI_FIELD_KEYS, LINLI_BLIND_INDEX_KEY = local_keys(VAR_DIR / "keys.env")
