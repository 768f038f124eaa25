"""Halqa settings: one module, everything that differs between machines comes from the environment.

The embedded default (nothing set) is SQLite plus the in-memory channel layer, so `make run`
needs no other server. `DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to channels-redis and a
Redis cache. See `.env.example`.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from server.logfilter import ACCESS_LOGGERS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("HALQA_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def _local_secret_key() -> str:
    """A per-install random key for the embedded default, kept out of git in var/."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()


def _master_keys() -> list[str]:
    """Fernet keys that wrap each circle session's key; the first one wraps new keys.

    Production sets HALQA_MASTER_KEYS (comma-separated, newest first). The embedded default
    generates one on first run into var/master_keys, which git ignores.
    """
    keys = env.list("HALQA_MASTER_KEYS", default=[])
    if keys:
        return keys
    from cryptography.fernet import Fernet

    path = VAR_DIR / "master_keys"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode() + "\n")
        path.chmod(0o600)
    return path.read_text().split()


HALQA_MASTER_KEYS = _master_keys()


def _derived_secret(purpose: str) -> str:
    """A separate secret for another use, derived from the primary master key."""
    import base64
    import hashlib

    raw = base64.urlsafe_b64decode(HALQA_MASTER_KEYS[0].encode())
    return base64.urlsafe_b64encode(
        hashlib.sha256(b"halqa:" + purpose.encode() + b":" + raw).digest()
    ).decode()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Full origins (scheme://host[:port]) whose pages may open a websocket (server/origins.py).
# Empty: each ALLOWED_HOSTS name, as https://name behind TLS (HTTPS), else http://name:<the
# port served>. SITE_PORT is that port where the server does not say (`manage.py serve`'s
# default port too).
SITE_ORIGINS = env.list("SITE_ORIGINS", default=[])
SITE_PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served as our own static files
    "accounts",
    "rooms",
    "moderation",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
ASGI_APPLICATION = "server.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'halqa.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers run beside the writer; IMMEDIATE avoids lock-upgrade deadlocks;
            # secure_delete overwrites freed pages so deleted text leaves the file too.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# Connections are kept open (SQLite too): opening one per call, with its PRAGMAs, was a large
# share of a message's cost in the embedded default.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: channel layer and cache -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_PREFIX = env.str("REDIS_PREFIX", default="halqa")
# "core" (RedisChannelLayer, lists + BZPOPMIN) or "pubsub" (RedisPubSubChannelLayer): one
# switch so fan-out can be measured both ways.
CHANNEL_LAYER_FLAVOUR = env.str("CHANNEL_LAYER", default="core")

if REDIS_URL:
    _layer_backend = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }[CHANNEL_LAYER_FLAVOUR]
    _layer_config: dict = {
        "hosts": [REDIS_URL],
        "prefix": REDIS_PREFIX,
        # Frames crossing Redis (message text included) are encrypted too.
        "symmetric_encryption_keys": [_derived_secret("channel-layer")],
    }
    if CHANNEL_LAYER_FLAVOUR == "core":
        # Undelivered frames should not linger in Redis: short expiry, bounded queues.
        _layer_config.update({"expiry": 30, "group_expiry": 86400, "capacity": 500})
    CHANNEL_LAYERS = {"default": {"BACKEND": _layer_backend, "CONFIG": _layer_config}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    # The in-memory layer drops frames past a channel's capacity (100 by default): give a
    # socket the same headroom as on Redis.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                                  "CONFIG": {"capacity": 500, "expiry": 30}}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Sessions and security --------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 24 * 30)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
HTTPS = env.bool("HTTPS", default=False)  # set when served behind TLS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin": other sites never learn where a visitor came from, and Chromium still sends
# a real Origin on our own form posts (with "no-referrer" it sends "null" and CSRF refuses them).
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Languages --------------------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="ar")
LANGUAGES = [("ar", _("Arabic")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="Africa/Casablanca")
USE_TZ = True

# --- Static files (servestatic, no CDN) -------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = DEBUG

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A signed-in request also counts as using the identity (the stale-identity purge).
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ActiveSessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Halqa API",
    "DESCRIPTION": "Anonymous peer-support circles. Session cookie auth; send the CSRF token.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Two "status" fields with different choices: each gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStatusEnum": "rooms.models.Application.Status",
        "ReportStatusEnum": "moderation.models.Report.Status",
    },
    # The API page (/api/v1/docs/) loads Swagger UI from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the outside validator badge: the page talks to this site only.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- E-mail: only invitations to a session, and only to an address the person gave for it ------
# EMAIL_URL: smtp+tls://user:password@host:587, or consolemail:// while trying things out (it
# prints the address and the link: never in production). Default: nothing is sent.
vars().update(env.email_url("EMAIL_URL", default="dummymail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Halqa <no-reply@localhost>")

# --- Halqa ------------------------------------------------------------------------------------
HALQA = {
    # How many messages a newcomer sees when entering a circle.
    "HISTORY_LIMIT": env.int("HALQA_HISTORY_LIMIT", default=50),
    # Upper bound of messages replayed on resume; more than that and the client reloads.
    "RESUME_LIMIT": env.int("HALQA_RESUME_LIMIT", default=1000),
    # A socket that has not pinged for this long no longer counts as present.
    "PRESENCE_TIMEOUT": env.int("HALQA_PRESENCE_TIMEOUT", default=75),
    # A socket whose unsent frames pass this many bytes (a reader on a stalled network) is
    # closed with 4414 and resumes with ?after=, so it cannot hold the server's memory or
    # slow the circle down for everyone else.
    "SLOW_READER_BYTES": env.int("HALQA_SLOW_READER_BYTES", default=1024 * 1024),
    # The longest retention an admin may give a circle's messages.
    "MAX_RETENTION_HOURS": env.int("HALQA_MAX_RETENTION_HOURS", default=24 * 30),
    # Ephemeral circles: a backstop in case a session is never ended.
    "EPHEMERAL_MAX_HOURS": env.int("HALQA_EPHEMERAL_MAX_HOURS", default=12),
    # A circle session of a timed circle gets a new key after this long.
    "SESSION_KEY_HOURS": env.int("HALQA_SESSION_KEY_HOURS", default=24),
    # Anonymous identities unused for this many days are deleted with all they wrote.
    "STALE_IDENTITY_DAYS": env.int("HALQA_STALE_IDENTITY_DAYS", default=90),
    # Audit entries (who did what, never message text) are kept this long.
    "AUDIT_RETENTION_DAYS": env.int("HALQA_AUDIT_RETENTION_DAYS", default=180),
    # A resolved report (with its sealed copy of the reported text) is deleted this long after
    # it was resolved; one left open goes when it is MAX_RETENTION_HOURS old.
    "REPORT_GRACE_HOURS": env.int("HALQA_REPORT_GRACE_HOURS", default=72),
    # The address people use to reach this site: invitation e-mails link to it.
    "SITE_URL": env.str("HALQA_SITE_URL", default="http://127.0.0.1:8000"),
    # Rows deleted per statement by the purge, so a live circle never waits long.
    "PURGE_BATCH": env.int("HALQA_PURGE_BATCH", default=500),
    # Where the quick-exit button (every page, or Escape three times) sends someone at once.
    "QUICK_EXIT_URL": env.str("HALQA_QUICK_EXIT_URL",
                              default="https://www.google.com/search?q=weather"),
}

# --- Logging: never client addresses, never message text --------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_client_addresses": {"()": "server.logfilter.ClientAddressFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["no_client_addresses"]},
                 # A logger without any handler falls back to Python's last-resort handler,
                 # which prints WARNING and above unfiltered: access loggers get this one.
                 "discard": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's defaults give "django" a console handler of its own (with DEBUG=true) and the
        # error e-mails, which carry the request's client address: only ours, through the filter.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # SQL with its parameters (pseudonyms, aliases, ciphertext) is never logged.
        "django.db.backends": {"handlers": [], "level": "INFO", "propagate": True},
        # Access logs would carry client addresses; server.serve runs daphne without one anyway.
        **{name: {"handlers": ["discard"], "level": "CRITICAL", "propagate": False}
           for name in ACCESS_LOGGERS},
    },
}
ADMINS: list = []
