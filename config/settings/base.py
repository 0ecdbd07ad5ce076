"""Settings shared by every environment.

Everything that differs between machines is read from the environment (see
`.env.example`); the defaults here are those of the embedded SQLite set-up.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(environ.Env().str("LINLI_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
# A .env file beside manage.py is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "linli.core",
    "linli.regions",
    "linli.accounts",
    "linli.directory",
    "linli.residents",
    "linli.requests",
    "linli.volunteers",
    "linli.incentives",
    "linli.evaluations",
    "linli.notifications",
    "linli.planning",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "linli.core.middleware.ContentSecurityPolicyMiddleware",
    # Last, so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "linli" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "linli.notifications.context_processors.inbox",
            ],
        },
    },
]


def database_from_env(default_url: str) -> dict:
    """One database from DATABASE_URL; SQLite gets WAL and immediate transactions.

    WAL lets readers go on while one writer writes; BEGIN IMMEDIATE takes the
    write lock up front so two writers queue instead of failing mid-transaction.
    """
    config = env.db_url("DATABASE_URL", default=default_url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    else:
        config.setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASES = {"default": database_from_env(f"sqlite:///{VAR_DIR / 'linli.sqlite3'}")}
# Login throttles and other counters must be shared by every process in production:
# set CACHE_URL=redis://127.0.0.1:6379/1 there.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://linli")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: after this many failures for one username from one address, wait.
AXES_FAILURE_LIMIT = env.int("LINLI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LINLI_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "linli.accounts.views.lockout_response"
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def password_validators(min_length: int) -> list[dict]:
    return [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {
            "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
            "OPTIONS": {"min_length": min_length},
        },
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]


# Local installs accept the demo's 10-character password; production asks for 12 or more.
AUTH_PASSWORD_VALIDATORS = password_validators(env.int("LINLI_PASSWORD_MIN_LENGTH", default=8))

# Chinese is the default; English is complete. Accept-Language picks between them.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "linli" / "locale"]
TIME_ZONE = env.str("LINLI_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "linli" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "linli.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "linli.core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": env.str("LINLI_LOGIN_THROTTLE", default="10/min"),
    },
}

REST_KNOX = {
    # Tokens expire; an expired token answers 401 and the client logs in again.
    "TOKEN_TTL": timedelta(seconds=env.int("LINLI_TOKEN_TTL_SECONDS", default=10 * 3600)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Linli API",
    "DESCRIPTION": _("The API of Linli, a community service system."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from local files: the system runs on closed networks.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice sets share a field name ("kind"): name each enum after its class.
    "ENUM_NAME_OVERRIDES": {
        "RegionKindEnum": "linli.regions.choices.RegionKind",
        "RelationKindEnum": "linli.residents.choices.RelationKind",
    },
}

# Maps draw communities and facilities from Linli's own data; a tile server is optional
# (e.g. a city's own, on a closed network): {z}/{x}/{y} URL and its attribution.
LINLI_MAP_TILE_URL = env.str("LINLI_MAP_TILE_URL", default="")
LINLI_MAP_TILE_ATTRIBUTION = env.str("LINLI_MAP_TILE_ATTRIBUTION", default="")
# Planning accessibility: where a region has no road network, walking distance is the
# straight line × this detour factor (about 1.3 in dense street grids); walking speed (m/s)
# of an older adult gives the 15-minute walk (1.2 × 900 s = 1,080 m); road networks are
# stored as one .npz per region under this directory (not served by any URL).
LINLI_PLANNING_DETOUR_FACTOR = env.float("LINLI_PLANNING_DETOUR_FACTOR", default=1.3)
LINLI_PLANNING_WALK_SPEED_M_S = env.float("LINLI_PLANNING_WALK_SPEED_M_S", default=1.2)
LINLI_PLANNING_NETWORK_DIR = Path(
    env.str("LINLI_PLANNING_NETWORK_DIR", default=str(VAR_DIR / "media" / "networks"))
)

# Keys for personal data at rest (see linli/core/crypto.py): "id:key,…", first encrypts.
LINLI_FIELD_KEYS = env.list("LINLI_FIELD_KEYS", default=[])
LINLI_BLIND_INDEX_KEY = env.str("LINLI_BLIND_INDEX_KEY", default="")

# Where facilities may lie: south, west, north, east in degrees (China by default);
# "none" turns the check off, e.g. to load another country's HSDS data.
_bounds = env.list("LINLI_COORDINATE_BOUNDS", default=["3.5", "73.0", "54.0", "135.5"])
LINLI_COORDINATE_BOUNDS = (
    None if [b.lower() for b in _bounds] == ["none"] else tuple(float(b) for b in _bounds)
)
# Largest spreadsheet a community worker may upload (bytes).
LINLI_SPREADSHEET_MAX_BYTES = env.int("LINLI_SPREADSHEET_MAX_BYTES", default=10 * 1024 * 1024)
# Rows one residents register file may hold (a big town's register; split beyond it).
LINLI_REGISTER_MAX_ROWS = env.int("LINLI_REGISTER_MAX_ROWS", default=100_000)
# Service requests: days after completion a request may be reopened; triage points per
# hour waited, and the most waiting can add.
LINLI_REQUEST_REOPEN_DAYS = env.int("LINLI_REQUEST_REOPEN_DAYS", default=7)
# Largest photo or PDF a request may carry (kept under MEDIA_ROOT, served only by the API).
LINLI_ATTACHMENT_MAX_BYTES = env.int("LINLI_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
LINLI_TRIAGE_POINTS_PER_HOUR = env.int("LINLI_TRIAGE_POINTS_PER_HOUR", default=1)
LINLI_TRIAGE_WAITING_CAP = env.int("LINLI_TRIAGE_WAITING_CAP", default=48)

# Volunteers and the time bank. Defaults from the plan's data (plan_targets.yaml, after
# Nanjing's 2019 time-bank rules and Guangdong's star levels): an individual balance is
# capped and hours above it go to the community pool; stars by cumulative hours, awarded
# after a public notice of so many working days; a QR code at the site is good for so
# many minutes; a delivered request earns its start-to-completion time, within bounds.
LINLI_TIMEBANK_CAP_HOURS = env.int("LINLI_TIMEBANK_CAP_HOURS", default=1500)
LINLI_VOLUNTEER_STAR_HOURS = env.list(
    "LINLI_VOLUNTEER_STAR_HOURS", cast=int, default=[100, 300, 600, 1000, 1500]
)
LINLI_VOLUNTEER_STAR_NOTICE_DAYS = env.int("LINLI_VOLUNTEER_STAR_NOTICE_DAYS", default=5)
LINLI_ACTIVITY_QR_MINUTES = env.int("LINLI_ACTIVITY_QR_MINUTES", default=10)
# Days a volunteer has to dispute the hours certified for an activity.
LINLI_ACTIVITY_DISPUTE_DAYS = env.int("LINLI_ACTIVITY_DISPUTE_DAYS", default=30)
LINLI_REQUEST_HOURS_MIN = env.float("LINLI_REQUEST_HOURS_MIN", default=0.5)
LINLI_REQUEST_HOURS_MAX = env.float("LINLI_REQUEST_HOURS_MAX", default=8.0)

# Evaluations: the person served may rate a delivered request within so many days of
# its completion and change the rating for so many hours; a complaint is to be answered
# within so many days (its service level).
LINLI_EVALUATION_WINDOW_DAYS = env.int("LINLI_EVALUATION_WINDOW_DAYS", default=30)
LINLI_EVALUATION_EDIT_HOURS = env.int("LINLI_EVALUATION_EDIT_HOURS", default=24)
LINLI_COMPLAINT_ANSWER_DAYS = env.int("LINLI_COMPLAINT_ANSWER_DAYS", default=7)
# A complaint still open past its answer date goes to the street officials at once and,
# so many days later, to the district officials (evaluations/jobs.py).
LINLI_COMPLAINT_ESCALATE_DAYS = env.int("LINLI_COMPLAINT_ESCALATE_DAYS", default=7)
# Satisfaction indices: the weight (in ratings) of the service's mean that a provider's
# mean is shrunk toward, and when a rater or a burst of ratings is flagged for review.
LINLI_INDEX_PRIOR_WEIGHT = env.float("LINLI_INDEX_PRIOR_WEIGHT", default=10.0)
# Quality points one complaint per evaluated request costs (evaluations/scores.py quality).
LINLI_INDEX_COMPLAINT_PENALTY = env.float("LINLI_INDEX_COMPLAINT_PENALTY", default=2.0)
LINLI_INDEX_FLAG_RATER_MIN = env.int("LINLI_INDEX_FLAG_RATER_MIN", default=10)
LINLI_INDEX_FLAG_BURST_MIN = env.int("LINLI_INDEX_FLAG_BURST_MIN", default=5)
# Community scorecards (evaluations/scorecards.py): the weight of each part in the
# composite (a part left out for want of data is dropped and the rest renormalised);
# the ratings a responder needs in a community before the scorecard may name them among
# its best; and the fewest ratings behind any published rating figure, since a figure
# over one or two people (a priority group of one) would tell who said what.
LINLI_SCORECARD_WEIGHTS = env.dict(
    "LINLI_SCORECARD_WEIGHTS",
    cast={"value": float},
    default={"coverage": 1.0, "timeliness": 1.0, "satisfaction": 1.0, "needs_met": 1.0},
)
LINLI_SCORECARD_BEST_MIN_N = env.int("LINLI_SCORECARD_BEST_MIN_N", default=10)
LINLI_SCORE_PRIVACY_MIN_N = env.int("LINLI_SCORE_PRIVACY_MIN_N", default=5)

# Background work (linli/core/tasks.py). With a broker, tasks go to Celery workers and
# Celery beat keeps the schedule; without one (the embedded default) they run in-process
# after commit and `linli serve` runs the scheduler. CELERY_TASK_ALWAYS_EAGER forces
# in-process even with a broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
# Tasks report through the database (job runs, deliveries), not through results.
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when done, so a worker that dies mid-task has it run again
# elsewhere: tasks are idempotent. One message at a time per process keeps that fair.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request hands a task over after its commit: do not hang on a broker that is
# away (the task then runs in the web process instead, see tasks._hand_over).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Planning runs are one task per county (thousands for a country): a queue of their own
# keeps them from delaying notifications. Empty: the default queue, which every worker
# consumes; when set, start workers with -Q <this queue> (docs/scaling.md).
LINLI_PLANNING_QUEUE = env.str("LINLI_PLANNING_QUEUE", default="")
CELERY_TASK_ROUTES = {"planning.*": {"queue": LINLI_PLANNING_QUEUE}} if LINLI_PLANNING_QUEUE else {}
# How often the in-process scheduler looks for due jobs (seconds).
LINLI_SCHEDULER_TICK_SECONDS = env.int("LINLI_SCHEDULER_TICK_SECONDS", default=30)
# A missed service level goes to the community's workers, and to the street's officials
# when it is still missed this long after that.
LINLI_ESCALATION_GRACE_MINUTES = env.int("LINLI_ESCALATION_GRACE_MINUTES", default=120)

# Notifications: every one is in the user's inbox; these channels also carry it
# (console, email, sms, wechat). SMS and WeChat go through the deployment's gateways
# (an HTTP service that holds the operator's credentials); a channel without its
# gateway URL is off.
LINLI_NOTIFICATION_CHANNELS = env.list("LINLI_NOTIFICATION_CHANNELS", default=["console"])
LINLI_SMS_GATEWAY_URL = env.str("LINLI_SMS_GATEWAY_URL", default="")
LINLI_SMS_GATEWAY_TOKEN = env.str("LINLI_SMS_GATEWAY_TOKEN", default="")
LINLI_WECHAT_GATEWAY_URL = env.str("LINLI_WECHAT_GATEWAY_URL", default="")
LINLI_WECHAT_GATEWAY_TOKEN = env.str("LINLI_WECHAT_GATEWAY_TOKEN", default="")
LINLI_WECHAT_TEMPLATE_ID = env.str("LINLI_WECHAT_TEMPLATE_ID", default="")
LINLI_NOTIFICATION_TIMEOUT_SECONDS = env.float("LINLI_NOTIFICATION_TIMEOUT_SECONDS", default=5.0)
# The site's address as people reach it (https://linli.example.gov.cn): links in SMS,
# WeChat and e-mail messages need it; without it they carry no link.
LINLI_SITE_URL = env.str("LINLI_SITE_URL", default="")
# E-mail for the email channel, e.g. smtp+tls://user:password@mail.example.gov.cn:587
_email = env.email_url("EMAIL_URL", default="smtp://localhost:25")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="linli@localhost")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("LINLI_SESSION_SECONDS", default=8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LINLI_LOG_LEVEL", default="INFO")},
}
