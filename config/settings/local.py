"""The embedded default: SQLite under var/, one machine, no other service needed."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A local install without a configured key still runs; the key is not shared.
SECRET_KEY = SECRET_KEY or "local-only-not-secret-linli-embedded-default-key"

# The embedded database and collected static files live under var/.
VAR_DIR.mkdir(parents=True, exist_ok=True)
