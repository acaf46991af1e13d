"""Today's date as the doors pass it to the engine (which never reads the clock itself)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today_in_france() -> dt.date:
    """The calendar day in metropolitan France: deadlines of French tax law fall on French days."""
    return dt.datetime.now(PARIS).date()
