"""The store: runs, attempts, findings and events, in SQLite or PostgreSQL."""

from redline.store.db import Store
from redline.store.models import Attempt, Event, Finding, RateWindow, Run

__all__ = ["Attempt", "Event", "Finding", "RateWindow", "Run", "Store"]
