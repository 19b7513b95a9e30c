"""The run store: runs, their settings and per-second measurements, in SQLite or PostgreSQL."""

from loadgate.store.runs import RunStore
from loadgate.store.url import default_db_url, mask_url

__all__ = ["RunStore", "default_db_url", "mask_url"]
