"""Generated situations made consistent: the engine refuses answers that cannot all be true together
(`check_consistency`); property tests about valid situations drop the field at fault until it accepts them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

from bud_checker.engine.situation import SituationError, parse_situation


def made_consistent(situation: dict[str, Any]) -> dict[str, Any]:
    out = dict(situation)
    for _ in range(len(out) + 1):
        try:
            parse_situation(out)
        except SituationError as error:
            champs = getattr(error, "champs", (error.champ,))
            if len(champs) < 2 or error.champ not in out:
                return out  # not an inconsistency: the test decides what to do with it
            out.pop(error.champ)
        else:
            return out
    return out


def day_of(verdict: Mapping[str, Any]) -> dt.date | None:
    """The day a stored verdict was computed for (`date_verification`): comparing with the engine on that day,
    not on today's, keeps a test right across midnight."""
    day = verdict.get("date_verification")
    return dt.date.fromisoformat(day) if day else None
