"""Configuration from the environment.

    SECRET_KEY     signs sessions and CSRF tokens. When unset, a random key is generated once and kept in
                   `instance/secret_key` (mode 0600), so that every gunicorn worker and every restart share it.
    DATABASE_URL   SQLAlchemy URL; default `sqlite:///<instance>/bud_checker.sqlite3`, where <instance> is
                   BUD_INSTANCE_DIR, else `instance/` of the checkout, else of the current directory. `postgres://` and
                   `postgresql://` URLs are rewritten to use psycopg 3 (`postgresql+psycopg://`).
    BUD_ENV        `production` (default: SECRET_KEY must then come from the environment), `local` (a machine of
                   one's own: scripts/serve's default; the generated key is accepted), `development` or `test`.
    BUD_TRUST_PROXY, BUD_RATE_LIMIT_*, RATELIMIT_STORAGE_URI: see security.py.

`create_app(config)` applies these first, then the `config` mapping it is given (tests pass their own
database URL there, as `DATABASE_URL` or `SQLALCHEMY_DATABASE_URI`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Mapping

from ..resources import SOURCE_ROOT, data_dir, instance_dir

REPO_ROOT = SOURCE_ROOT  # the checkout (tests, scripts); an installed package reads data_dir() instead
INSTANCE_DIR = instance_dir()
TEMPLATES_DIR = data_dir("templates")
MIGRATIONS_DIR = data_dir("migrations")
ENVIRONMENTS = ("production", "local", "development", "test")
MAX_CONTENT_LENGTH = 64 * 1024  # a situation is well under 2 KB; 64 KB leaves room and refuses abuse (413)


def default_database_url(instance_dir: Path = INSTANCE_DIR) -> str:
    return f"sqlite:///{instance_dir / 'bud_checker.sqlite3'}"


def normalize_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs that name no driver (psycopg2 is not installed)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """The key kept in instance/secret_key, created on first use (atomically, readable by the owner only)."""
    path = instance_dir / "secret_key"
    try:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".secret_key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    try:
        os.link(tmp, path)  # fails if another process created it meanwhile: then theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text(encoding="ascii").strip()


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings read from the environment (secret key excepted: see `resolve_secret_key`)."""
    environ = os.environ if environ is None else environ
    env = environ.get("BUD_ENV", "production").strip().lower() or "production"
    if env not in ENVIRONMENTS:
        raise RuntimeError(f"BUD_ENV : « {env} » n'est pas admis ; valeurs admises : {', '.join(ENVIRONMENTS)}.")
    settings: dict[str, Any] = {
        "BUD_ENV": env,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(environ.get("DATABASE_URL") or default_database_url()),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session cookie (the browser session)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": environ.get("BUD_COOKIE_SECURE", "0") == "1",
        "BUD_WARMUP": env != "test",
        # A rate-limit storage that fails (Redis down) must not fail requests: count in memory meanwhile.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }
    if environ.get("SECRET_KEY"):
        settings["SECRET_KEY"] = environ["SECRET_KEY"]
    return settings


def private_sqlite_file(path: str | Path) -> None:
    """Create the SQLite file's folder (0700 when it is created, and always for instance/) and the file itself
    (0600) before SQLite does, so that it is never readable by other users whatever the umask. SQLite gives its
    -wal and -shm files the mode of the database file."""
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.resolve() == INSTANCE_DIR.resolve():
        os.chmod(folder, 0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
