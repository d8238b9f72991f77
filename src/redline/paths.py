"""Where redline keeps its files: ``REDLINE_HOME`` or ``./.redline``.

Nothing is created at import time; callers create what they write.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """Redline's working folder (cache, default database, keys)."""
    return Path(os.environ.get("REDLINE_HOME", ".redline"))


def database_url() -> str:
    """The store URL: ``REDLINE_DB`` (SQLAlchemy URL or file path), else the default SQLite file."""
    value = os.environ.get("REDLINE_DB")
    if not value:
        return f"sqlite:///{home() / 'redline.db'}"
    if "://" in value:
        return value
    return f"sqlite:///{value}"
