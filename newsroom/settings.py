"""Settings for Newsroom.

Everything that differs between a laptop and production comes from environment
variables; the defaults run the site from a SQLite file and a media folder beside
the project, with nothing else installed.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def media_storage(environ) -> dict:
    """The storage for media (figure images, avatars): S3-compatible object storage
    when AWS_STORAGE_BUCKET_NAME is set, the media folder otherwise (docs/deploy.md).
    """
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": bucket,
        # Stored names are unique (a content hash; a free name when taken), so
        # a file is never replaced under its address, and browsers and CDNs
        # may keep it for good. Media is public: plain, cacheable addresses.
        "file_overwrite": False,
        "querystring_auth": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    for option, variable in (
        ("endpoint_url", "AWS_S3_ENDPOINT_URL"),
        ("region_name", "AWS_S3_REGION_NAME"),
        ("custom_domain", "AWS_S3_CUSTOM_DOMAIN"),
        ("location", "AWS_LOCATION"),
    ):
        if environ.get(variable):
            options[option] = environ[variable]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DJANGO_ENV=production (see docs/deploy.md)"
        )
    return value


# DJANGO_ENV=production turns on everything a site on the open internet needs
# and refuses to start without the settings that cannot have a safe default.
PRODUCTION = os.environ.get("DJANGO_ENV", "development") == "production"

if PRODUCTION:
    DEBUG = env_bool("DEBUG", False)
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", []) or env_required("ALLOWED_HOSTS").split(",")
else:
    DEBUG = env_bool("DEBUG", True)
    SECRET_KEY = os.environ.get("SECRET_KEY", "newsroom-development-key-not-for-production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "taggit",
    "axes",
    "django_tasks_db",
    "articles",
]

MIDDLEWARE = [
    "newsroom.middleware.HealthCheckMiddleware",
    # Above the rest, so that a page is kept with every header it left with,
    # and answered from the cache without any of them running again. It leaves
    # to them what is not a page (static files) and the HTTPS redirect.
    "articles.caching.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "newsroom.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "newsroom.middleware.EditorsSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "newsroom.middleware.EditorsAuthenticationMiddleware",
    "newsroom.middleware.EditorsMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:
    # Static files straight from the app servers, after `collectstatic`; in
    # development `runserver` serves them from the source folders.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "newsroom.urls"
# Where editors work: the admin. The session, sign-in and messages middleware
# run only under it (newsroom.middleware.ForEditors).
ADMIN_PATH = "admin/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "articles.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "newsroom.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while the importer writes; IMMEDIATE transactions
    # make concurrent writers wait for the lock instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests use a file rather than a shared in-memory database, so that the live
    # server's threads each have a connection of their own, as in production.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_DATABASE")
        or str(Path(tempfile.gettempdir()) / f"newsroom-test-{os.getpid()}.sqlite3")
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, but for a health check that costs no round trip and
    # a cursor whose statements are prepared (newsroom/postgresql).
    DATABASES["default"]["ENGINE"] = "newsroom.postgresql"
    _prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5")
    # Give up on an unreachable database within seconds, so a request answers
    # 503 instead of hanging (see newsroom.middleware).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        connect_timeout=int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")),
        # A connection to a server that vanished without a word fails within
        # seconds too, rather than when the kernel gives up.
        tcp_user_timeout=5000,
        keepalives=1,
        keepalives_idle=10,
        keepalives_interval=2,
        keepalives_count=3,
        # psycopg prepares a statement run this many times on a connection,
        # which only `server_bound_cursor()`'s can be (Django's cursors bind
        # on the client). Off ("") behind PgBouncer in transaction mode
        # before 1.21, which cannot carry prepared statements across.
        prepare_threshold=int(_prepare_threshold) if _prepare_threshold else None,
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文")]
# The few admin strings Django's own Traditional Chinese does not cover yet.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Hong_Kong"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {
        # In production: hashed, compressed names that browsers may keep for a
        # year (whitenoise serves them with far-future caching headers).
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
WHITENOISE_MAX_AGE = 365 * 24 * 3600 if PRODUCTION else 0

# A cache shared by every app server (Redis) in production; each process keeps
# its own in development.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.RedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            "KEY_PREFIX": "newsroom",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "newsroom.cache.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Work queued for after a request (articles/tasks.py): in production a queue in
# the database that `manage.py db_worker` works through; elsewhere, at once.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database" if PRODUCTION else "immediate")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "immediate": "django.tasks.backends.immediate.ImmediateBackend",
        }[TASKS_BACKEND]
    }
}

# Content Security Policy, enforced everywhere (development included, so that
# what the tests see is what production sends). Scripts and styles come only
# from the site; images also from the Wayback Machine; frames only from the
# video players a reader chooses to start.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "https://web.archive.org", *env_list("CSP_IMG_SRC", [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "media-src": [CSP.SELF],
    "frame-src": [
        "https://www.youtube-nocookie.com",
        "https://www.facebook.com",
        "https://roundme.com",
        "https://www.dailymotion.com",
    ],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    # Behind a proxy that terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = env_list(
        "CSRF_TRUSTED_ORIGINS", [f"https://{host}" for host in ALLOWED_HOSTS if host != "*"]
    )
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Request limits: bodies over these are refused (413 from
# newsroom.middleware, 400 from Django) before they are read into memory.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_BYTES", str(12 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# Admin login protection: after AXES_FAILURE_LIMIT failed logins for a user
# name from one address, that pair is locked out for AXES_COOLOFF_TIME hours.
# Attempts are kept in the database, which every app server shares.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "1" if PRODUCTION else "0"))
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"

TAGGIT_CASE_INSENSITIVE = True

# Public pages: how long a rendered page is kept (it is retired as soon as any
# content changes), and how long browsers and proxies may keep it.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600"))
PAGE_MAX_AGE = int(os.environ.get("PAGE_MAX_AGE", "300"))
# An article's page but for its links, kept until the article or a tag,
# section or author changes; the article view puts it together with the links.
ARTICLE_CACHE_SECONDS = int(os.environ.get("ARTICLE_CACHE_SECONDS", str(7 * 24 * 3600)))
# Its related articles and neighbours, kept until an article appears,
# disappears, moves in time or changes its title, address or tags, and never
# past the next scheduled article's going live.
LINKS_CACHE_SECONDS = int(os.environ.get("LINKS_CACHE_SECONDS", str(24 * 3600)))
# An article's whole page, kept until the article, its taxonomy or its links
# change, for this long and never longer than its links (articles.caching).
ARTICLE_PAGE_CACHE_SECONDS = int(os.environ.get("ARTICLE_PAGE_CACHE_SECONDS", str(24 * 3600)))

# Seed import.
NEWSROOM_ARTICLE_NUMBER_PATTERN = os.environ.get(
    "NEWSROOM_ARTICLE_NUMBER_PATTERN", r"/article/(?P<number>\d+)(?:/|$)"
)
NEWSROOM_SEED_MAX_BYTES = int(os.environ.get("NEWSROOM_SEED_MAX_BYTES", 2 * 1024 * 1024))
NEWSROOM_IMPORT_WORKERS = int(os.environ.get("NEWSROOM_IMPORT_WORKERS", "0")) or None

# Figure images (articles/images.py, articles/fetching.py; see docs/images.md).
NEWSROOM_IMAGE_WIDTHS = [480, 960, 1600]
NEWSROOM_IMAGE_MAX_BYTES = int(os.environ.get("NEWSROOM_IMAGE_MAX_BYTES", 20 * 1024 * 1024))
NEWSROOM_IMAGE_MAX_PIXELS = int(os.environ.get("NEWSROOM_IMAGE_MAX_PIXELS", 50_000_000))
NEWSROOM_FETCH_WORKERS = int(os.environ.get("NEWSROOM_FETCH_WORKERS", "4"))
NEWSROOM_FETCH_RATE = float(os.environ.get("NEWSROOM_FETCH_RATE", "2"))  # requests/s; 0: no limit
NEWSROOM_FETCH_CONNECT_TIMEOUT = float(os.environ.get("NEWSROOM_FETCH_CONNECT_TIMEOUT", "10"))
NEWSROOM_FETCH_READ_TIMEOUT = float(os.environ.get("NEWSROOM_FETCH_READ_TIMEOUT", "30"))
NEWSROOM_FETCH_RETRIES = int(os.environ.get("NEWSROOM_FETCH_RETRIES", "3"))
NEWSROOM_FETCH_BACKOFF = float(os.environ.get("NEWSROOM_FETCH_BACKOFF", "2"))  # s, then doubled
NEWSROOM_FETCH_USER_AGENT = os.environ.get(
    "NEWSROOM_FETCH_USER_AGENT", "Newsroom/0.1 (Citizen News archive; fetches each image once)"
)
# Loopback and private addresses are never fetched, except these (an internal
# mirror, a test server): "10.1.2.3", "10.0.0.0/8", "127.0.0.1:8123", "[::1]:8123".
NEWSROOM_FETCH_PRIVATE_ALLOWLIST = env_list("NEWSROOM_FETCH_PRIVATE_ALLOWLIST", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # Lockouts are expected under attack; one line each is enough.
        "axes": {"level": os.environ.get("AXES_LOG_LEVEL", "WARNING")},
    },
}
