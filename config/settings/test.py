"""Tests: the database comes from DATABASE_URL (SQLite by default), fast hashing."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import MIDDLEWARE, REST_FRAMEWORK

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
# Argon2 is right for production and too slow for thousands of test logins.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"login": "1000/min"},
}
# Tests use Django's own static handling; WhiteNoise serves collected files in real runs.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]
# Fixed test keys: two, so rotation can be tested; never used outside tests.
LINLI_FIELD_KEYS = [
    "t2:" + "dGVzdC1rZXktdHdvLW5vdC1zZWNyZXQtMzItYnl0ZXM=",
    "t1:" + "dGVzdC1rZXktb25lLW5vdC1zZWNyZXQtMzItYnl0ZXM=",
]
LINLI_BLIND_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMhISE="
# Stored walking networks (planning) go to a scratch folder, not the working tree's var/.
LINLI_PLANNING_NETWORK_DIR = Path(tempfile.gettempdir()) / "linli-test-networks"
