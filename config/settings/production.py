"""Production: PostgreSQL, HTTPS, secrets only from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    LINLI_BLIND_INDEX_KEY,
    LINLI_FIELD_KEYS,
    SECRET_KEY,
    database_from_env,
    env,
    password_validators,
)

DEBUG = False
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to at least 50 random characters.")

# Production names its database explicitly: no silent fallback to a local SQLite file.
DATABASES = {"default": database_from_env(env.str("DATABASE_URL"))}

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)

# Weak passwords (the demo's among them) are refused: at least 12 characters, never fewer.
AUTH_PASSWORD_VALIDATORS = password_validators(
    max(12, env.int("LINLI_PASSWORD_MIN_LENGTH", default=12))
)

# Joining the browsers' HSTS preload list binds the whole domain for years: that is
# the domain owner's decision (DJANGO_SECURE_HSTS_PRELOAD), not a default to force.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Personal data cannot be stored without its keys: refuse to start rather than fail later.
if not LINLI_FIELD_KEYS or not LINLI_BLIND_INDEX_KEY:
    raise ImproperlyConfigured("Set LINLI_FIELD_KEYS and LINLI_BLIND_INDEX_KEY (linli keys new).")
