"""What the doors (public pages, JSON API, later the advisers' workspace) do with the engine and the database.

Nothing here decides anything legal: the verdict is the engine's; this module only stores it. The commune
suggestions are bud_checker.commune_search's, shared with the command line.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sqlalchemy.orm.attributes import set_committed_value

from ..dates import today_in_france
from ..engine.verdict import evaluate
from .extensions import db
from .models import ID_PATTERN, Verification, new_id, utcnow

_ID_RE = re.compile(ID_PATTERN)


def record_verification(situation: Mapping[str, Any], canal: str = "formulaire") -> Verification:
    """Evaluate `situation` and store it with its verdict. Raises `SituationError` on bad input (nothing stored)."""
    verdict = evaluate(situation, date_verification=today_in_france()).to_dict()
    values = {
        "id": new_id(),
        "created_at": utcnow(),
        "situation": dict(situation),
        "verdict": verdict,
        "statut": verdict["statut"],
        "regles_version": verdict["regles_version"],
        "canal": canal,
    }
    verification = Verification(**values)
    db.session.add(verification)
    db.session.commit()
    # The commit expired the object: put back what was just written instead of reading the row again (the
    # verdict is most of it: a SELECT and a JSON parse of ~30 KB saved on every creation).
    for key, value in values.items():
        set_committed_value(verification, key, value)
    return verification


def find_verification(verification_id: str) -> Verification | None:
    if not _ID_RE.fullmatch(verification_id or ""):
        return None
    return db.session.get(Verification, verification_id)
