"""Database URLs: the default location, accepted schemes, and masking passwords for display."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from loadgate.errors import StoreError

ENV_VAR = "LOADGATE_DB"
EXPECTED_FORMS = "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"

# what users type -> the SQLAlchemy driver we ship (psycopg 3, not psycopg2)
_DRIVER_ALIASES = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "sqlite": "sqlite+pysqlite",
}
_SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_USERINFO_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def default_db_url() -> str:
    """LOADGATE_DB if set, else a SQLite file in the user's data folder (created if missing)."""
    from_env = os.environ.get(ENV_VAR, "").strip()
    if from_env:
        return from_env
    folder = data_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the run store folder {folder}: {exc.strerror}") from exc
    return f"sqlite:///{folder / 'runs.db'}"


def data_folder() -> Path:
    """loadgate's folder in the user's data folder (XDG_DATA_HOME/loadgate); may not exist yet."""
    return _data_home() / "loadgate"


def _data_home() -> Path:
    # The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    configured = os.environ.get("XDG_DATA_HOME", "")
    if configured and Path(configured).is_absolute():
        return Path(configured)
    return Path.home() / ".local" / "share"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, safe to print."""
    try:
        masked = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        masked = _USERINFO_PASSWORD.sub(r"\1***@", url)
    return _QUERY_PASSWORD.sub(r"\1***", masked)


def parse_db_url(url: str) -> URL:
    """The SQLAlchemy URL for what the user typed; StoreError for anything we cannot use."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(
            f"invalid database URL {mask_url(url)!r}: expected {EXPECTED_FORMS}"
        ) from exc
    backend = parsed.drivername.partition("+")[0]
    backend = "postgresql" if backend == "postgres" else backend
    if backend not in _SUPPORTED_BACKENDS:
        raise StoreError(
            f"unsupported database URL {mask_url(url)!r}: the scheme {parsed.drivername!r} "
            f"is not supported; expected {EXPECTED_FORMS}"
        )
    driver = _DRIVER_ALIASES.get(parsed.drivername, parsed.drivername)
    if driver.startswith("postgres+"):
        driver = "postgresql" + driver.removeprefix("postgres")
    return parsed.set(drivername=driver)
