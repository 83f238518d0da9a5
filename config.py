"""Configuration classes; secrets and the database URL come from the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))


def _dev_secret(name: str) -> str:
    """Return a secret from the environment, or one generated once and kept under instance/."""
    value = os.environ.get(name)
    if value:
        return value
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / f".{name.lower()}"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _dev_fernet_key() -> str:
    """CRM_FERNET_KEY from the environment, or a Fernet key generated once and kept under instance/."""
    value = os.environ.get("CRM_FERNET_KEY")
    if value:
        return value
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / ".crm_fernet_key"
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(value: str) -> str:
    """Use psycopg 3 for plain postgres:// or postgresql:// URLs (psycopg2 is not installed)."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix):]
    return value


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class BaseConfig:
    """Settings shared by every environment."""

    APP_NAME = "Klientela"
    APP_ICON = ""
    AUTH_TYPE = AUTH_DB
    AUTH_ROLE_ADMIN = "PlatformAdmin"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    FAB_SECURITY_MANAGER_CLASS = "app.security.manager.CrmSecurityManager"
    FAB_INDEX_VIEW = "app.views.dashboard.DashboardIndexView"
    FAB_BASE_TEMPLATE = "crm/base.html"
    FAB_UPDATE_PERMS = False
    FAB_CREATE_DB = False  # the schema belongs to Alembic migrations
    FAB_ADD_SECURITY_API = False
    FAB_API_SWAGGER_UI = False
    FAB_PASSWORD_HASH_METHOD = "scrypt"

    BABEL_DEFAULT_LOCALE = "pl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Warsaw"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"pl": {"flag": "pl", "name": "Polski"}}

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "klientela_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("CRM_SESSION_HOURS", "12")) * 3600

    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    AUTH_RATE_LIMITED = True
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "20 per minute")
    #: limits of the other unauthenticated security endpoints (second factor, reset, API token)
    SECURITY_RATE_LIMIT = os.environ.get("CRM_SECURITY_RATE_LIMIT", "10 per minute")

    # Account security (issue 3)
    CRM_FERNET_KEY = os.environ.get("CRM_FERNET_KEY", "")
    LOCKOUT_THRESHOLD = int(os.environ.get("CRM_LOCKOUT_THRESHOLD", "5"))
    LOCKOUT_MINUTES = int(os.environ.get("CRM_LOCKOUT_MINUTES", "15"))
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("CRM_PASSWORD_RESET_MAX_AGE", "3600"))
    #: how long the e-mailed link that confirms a restore request of deleted data works
    RESTORE_CONFIRM_HOURS = int(os.environ.get("CRM_RESTORE_CONFIRM_HOURS", "48"))
    TWO_FACTOR_PENDING_SECONDS = 300
    AUDIT_RETENTION_DAYS = int(os.environ.get("CRM_AUDIT_RETENTION_DAYS", "365"))
    #: a browser session unused this many days ends by itself (server-side session list)
    SESSION_IDLE_DAYS = int(os.environ.get("CRM_SESSION_IDLE_DAYS", "14"))
    JWT_ACCESS_TOKEN_EXPIRES = int(os.environ.get("CRM_API_TOKEN_SECONDS", "3600"))
    #: personal API tokens ("Tokeny API" in the profile): FAB's API-key step, our tokens
    FAB_API_KEY_ENABLED = True
    FAB_API_KEY_PREFIXES = ["kl_"]
    FAB_API_MAX_PAGE_SIZE = 100
    #: per-token limit of API calls (Flask-Limiter syntax); over it the answer is 429 with Retry-After
    API_RATE_LIMIT = os.environ.get("CRM_API_RATE_LIMIT", "120 per minute")
    #: send Strict-Transport-Security (production, behind HTTPS)
    SECURITY_HSTS = False
    #: number of trusted proxies in front of the app (X-Forwarded-For/-Proto/-Host); 0 = none
    PROXY_FIX_COUNT = int(os.environ.get("CRM_PROXY_COUNT", "0"))
    #: host names the app answers to (Host / X-Forwarded-Host), comma-separated; any other host gets
    #: 400, so e-mailed links (password reset, invitations) cannot point at a foreign host. Empty = any.
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("CRM_TRUSTED_HOSTS", "").split(",") if h.strip()] or None
    #: refuse to start without TRUSTED_HOSTS (production)
    SECURITY_REQUIRE_TRUSTED_HOSTS = False

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Klientela <no-reply@localhost>")
    #: development only (see DevelopmentConfig): a folder that stands in for SMTP
    MAIL_FOLDER = ""

    #: company mailboxes (Settings > Mailing): a CA file trusted in addition to the system's CAs when
    #: connecting to their SMTP/IMAP servers (certificates are always verified), and how long the
    #: verification looks for its test message in the mailbox (seconds)
    CRM_MAIL_CA_FILE = os.environ.get("CRM_MAIL_CA_FILE", "")
    CRM_MAILBOX_VERIFY_TIMEOUT = float(os.environ.get("CRM_MAILBOX_VERIFY_TIMEOUT", "120"))
    #: seconds a connection, a login or one command to a mailbox's SMTP/IMAP server may take
    CRM_MAIL_TIMEOUT = float(os.environ.get("CRM_MAIL_TIMEOUT", "20"))

    #: KSeF 2.0 (app/integrations/ksef.py): environment test | demo | production, an optional base URL
    #: override (e.g. the local fake, http://127.0.0.1:8099/v2), read timeout in seconds, FA(3) schema
    KSEF_ENVIRONMENT = os.environ.get("KSEF_ENVIRONMENT", "test")
    KSEF_BASE_URL = os.environ.get("KSEF_BASE_URL", "")
    KSEF_TIMEOUT = float(os.environ.get("KSEF_TIMEOUT", "30"))
    KSEF_FA3_SCHEMA = os.environ.get("KSEF_FA3_SCHEMA", str(BASE_DIR / "app/integrations/ksef_schema/FA3_v1-0E.xsd"))
    #: "Sprawdź połączenie" runs inside a request: its KSeF calls are bounded by this (seconds)
    KSEF_CHECK_TIMEOUT = float(os.environ.get("KSEF_CHECK_TIMEOUT", "5"))
    #: sending queue: first retry delay (doubled per attempt, at most KSEF_RETRY_MAX_SECONDS), the
    #: attempt after which the owner is e-mailed once, status polling, and the claim lease
    KSEF_RETRY_BASE_SECONDS = int(os.environ.get("KSEF_RETRY_BASE_SECONDS", "30"))
    KSEF_RETRY_MAX_SECONDS = int(os.environ.get("KSEF_RETRY_MAX_SECONDS", "3600"))
    KSEF_NOTIFY_AFTER_ATTEMPTS = int(os.environ.get("KSEF_NOTIFY_AFTER_ATTEMPTS", "5"))
    KSEF_POLL_INTERVAL = float(os.environ.get("KSEF_POLL_INTERVAL", "0.5"))
    KSEF_POLL_TIMEOUT = float(os.environ.get("KSEF_POLL_TIMEOUT", "60"))
    KSEF_LEASE_SECONDS = int(os.environ.get("KSEF_LEASE_SECONDS", "300"))

    #: PayU (app/integrations/payu.py): PAYU_ENV sandbox | production | a base URL (the local fake),
    #: the POS id, OAuth client id and secret, the second key (MD5) that signs notifications
    PAYU_ENV = os.environ.get("PAYU_ENV", "sandbox")
    PAYU_POS_ID = os.environ.get("PAYU_POS_ID", "")
    PAYU_CLIENT_ID = os.environ.get("PAYU_CLIENT_ID", "")
    PAYU_CLIENT_SECRET = os.environ.get("PAYU_CLIENT_SECRET", "")
    PAYU_SECOND_KEY = os.environ.get("PAYU_SECOND_KEY", "")
    PAYU_TIMEOUT = float(os.environ.get("PAYU_TIMEOUT", "15"))
    #: the platform operator who issues the subscription invoices (seller data on the invoice)
    CRM_OPERATOR_NAME = os.environ.get("CRM_OPERATOR_NAME", "")
    CRM_OPERATOR_NIP = os.environ.get("CRM_OPERATOR_NIP", "")
    CRM_OPERATOR_STREET = os.environ.get("CRM_OPERATOR_STREET", "")
    CRM_OPERATOR_POSTAL_CODE = os.environ.get("CRM_OPERATOR_POSTAL_CODE", "")
    CRM_OPERATOR_CITY = os.environ.get("CRM_OPERATOR_CITY", "")
    CRM_OPERATOR_IBAN = os.environ.get("CRM_OPERATOR_IBAN", "")
    CRM_OPERATOR_EMAIL = os.environ.get("CRM_OPERATOR_EMAIL", "")
    #: campaigns (app/services/mailing/outbox.py): a claimed message's lease (a sender killed mid-send
    #: leaves it; it is sent again when the lease runs out), messages per batch (one SMTP session),
    #: retry back-off of temporary (4xx, network) failures doubled per attempt up to a maximum, the
    #: attempts before a message counts as not delivered, and how long one scheduler run may send
    CAMPAIGN_LEASE_SECONDS = int(os.environ.get("CRM_CAMPAIGN_LEASE_SECONDS", "120"))
    CAMPAIGN_BATCH_SIZE = int(os.environ.get("CRM_CAMPAIGN_BATCH_SIZE", "50"))
    CAMPAIGN_RETRY_BASE_SECONDS = int(os.environ.get("CRM_CAMPAIGN_RETRY_BASE_SECONDS", "60"))
    CAMPAIGN_RETRY_MAX_SECONDS = int(os.environ.get("CRM_CAMPAIGN_RETRY_MAX_SECONDS", "3600"))
    CAMPAIGN_MAX_ATTEMPTS = int(os.environ.get("CRM_CAMPAIGN_MAX_ATTEMPTS", "5"))
    CAMPAIGN_SEND_BUDGET_SECONDS = float(os.environ.get("CRM_CAMPAIGN_SEND_BUDGET_SECONDS", "50"))

    TRIAL_DAYS = 14
    #: per-IP limit of the public sign-up, confirmation-resend and NIP-claim forms (POST)
    SIGNUP_RATE_LIMIT = os.environ.get("CRM_SIGNUP_RATE_LIMIT", "10 per hour")
    #: hours an unconfirmed sign-up (or NIP claim) waits for its e-mail link before it is removed
    SIGNUP_CONFIRM_HOURS = int(os.environ.get("CRM_SIGNUP_CONFIRM_HOURS", "48"))
    #: nightly backups (app/services/platform/backups.py): folder (default <instance>/backups) and retention
    BACKUP_DIR = os.environ.get("CRM_BACKUP_DIR", "")
    BACKUP_KEEP_DAYS = int(os.environ.get("CRM_BACKUP_KEEP_DAYS", "14"))
    #: second destinations of every archive: a folder on another mount (never created by the app) ...
    BACKUP_COPY_DIR = os.environ.get("CRM_BACKUP_COPY_DIR", "")
    #: ... and/or an S3-compatible bucket (AWS S3, MinIO, ...); boto3 is used only when a bucket is set
    BACKUP_S3_BUCKET = os.environ.get("CRM_BACKUP_S3_BUCKET", "")
    BACKUP_S3_PREFIX = os.environ.get("CRM_BACKUP_S3_PREFIX", "klientela-backups/")
    BACKUP_S3_ENDPOINT_URL = os.environ.get("CRM_BACKUP_S3_ENDPOINT_URL", "")
    BACKUP_S3_REGION = os.environ.get("CRM_BACKUP_S3_REGION", "")
    BACKUP_S3_ACCESS_KEY_ID = os.environ.get("CRM_BACKUP_S3_ACCESS_KEY_ID", "")
    BACKUP_S3_SECRET_ACCESS_KEY = os.environ.get("CRM_BACKUP_S3_SECRET_ACCESS_KEY", "")
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    AVATAR_MAX_BYTES = 2 * 1024 * 1024
    AVATAR_SIZE = 128
    LOGO_MAX_BYTES = 2 * 1024 * 1024
    AUTO_MIGRATE = False

    PLATFORM_ADMIN_EMAIL = os.environ.get("CRM_ADMIN_EMAIL")
    #: where "Zgłoś modyfikację lub problem" requests are e-mailed (none: only the admin panel lists them)
    CRM_SUPPORT_EMAIL = os.environ.get("CRM_SUPPORT_EMAIL", "")
    #: the largest file a support request may carry
    SUPPORT_MAX_BYTES = int(os.environ.get("CRM_SUPPORT_MAX_BYTES", str(5 * 1024 * 1024)))
    #: days between closing a company account and deleting its data
    ACCOUNT_CLOSING_GRACE_DAYS = int(os.environ.get("CRM_ACCOUNT_CLOSING_GRACE_DAYS", "30"))
    PLATFORM_ADMIN_PASSWORD = os.environ.get("CRM_ADMIN_PASSWORD")


class DevelopmentConfig(BaseConfig):
    """Local development on the embedded SQLite database."""

    SECRET_KEY = _dev_secret("SECRET_KEY")
    CRM_FERNET_KEY = _dev_fernet_key()
    SQLALCHEMY_DATABASE_URI = database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'klientela.db'}")
    )
    AUTO_MIGRATE = True
    #: run the one scheduler inside the web process (behind a lock); production runs `flask crm scheduler`
    SCHEDULER_IN_PROCESS = os.environ.get("CRM_SCHEDULER_IN_PROCESS", "1") == "1"
    #: with no MAIL_SERVER, system e-mail (sign-up links, resets, invitations) is saved here as .eml
    #: files and its text is printed in the server's console, so sign-up works offline
    MAIL_FOLDER = os.environ.get("CRM_MAIL_FOLDER", str(INSTANCE_DIR / "mail"))
    #: `make run` starts the local fake KSeF on this port; the demo company sends there
    KSEF_BASE_URL = os.environ.get(
        "KSEF_BASE_URL", f"http://127.0.0.1:{os.environ.get('KSEF_FAKE_PORT', '5081')}/v2")
    #: `make run` starts the local fake PayU on this port with these (test-only) credentials
    PAYU_ENV = os.environ.get("PAYU_ENV", f"http://127.0.0.1:{os.environ.get('PAYU_FAKE_PORT', '5082')}")
    PAYU_POS_ID = os.environ.get("PAYU_POS_ID", "300746")
    PAYU_CLIENT_ID = os.environ.get("PAYU_CLIENT_ID", "300746")
    PAYU_CLIENT_SECRET = os.environ.get("PAYU_CLIENT_SECRET", "dev-fake-payu-client-secret")
    PAYU_SECOND_KEY = os.environ.get("PAYU_SECOND_KEY", "dev-fake-payu-second-key")
    CRM_OPERATOR_NAME = os.environ.get("CRM_OPERATOR_NAME", "Klientela Operator Sp. z o.o.")
    CRM_OPERATOR_NIP = os.environ.get("CRM_OPERATOR_NIP", "5260000005")
    CRM_OPERATOR_STREET = os.environ.get("CRM_OPERATOR_STREET", "ul. Przykładowa 1")
    CRM_OPERATOR_POSTAL_CODE = os.environ.get("CRM_OPERATOR_POSTAL_CODE", "00-001")
    CRM_OPERATOR_CITY = os.environ.get("CRM_OPERATOR_CITY", "Warszawa")


class TestingConfig(BaseConfig):
    """Tests: database from TEST_DATABASE_URL, CSRF kept on unless a test turns it off."""

    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = False
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    CRM_FERNET_KEY = "dGVzdC1mZXJuZXQta2V5LW5vdC1mb3ItcHJvZHVjdGk="
    MAIL_SERVER = ""


class ProductionConfig(BaseConfig):
    """Production: every secret must come from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL", ""))
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-klientela_session"
    SECURITY_HSTS = True
    SECURITY_REQUIRE_TRUSTED_HOSTS = True
    PROXY_FIX_COUNT = int(os.environ.get("CRM_PROXY_COUNT", "1"))
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
