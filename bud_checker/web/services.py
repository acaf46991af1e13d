"""What the doors (public pages, JSON API, later the advisers' workspace) do with the engine and the database.

Nothing here decides anything legal: the verdict is the engine's; this module only stores it. The commune
suggestions are bud_checker.commune_search's, shared with the command line.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from sqlalchemy import insert

from ..dates import today_in_france
from ..engine.verdict import evaluate
from .catalogues import remember_current_catalogue
from .extensions import db
from .models import ID_PATTERN, Verification, new_id, utcnow

_ID_RE = re.compile(ID_PATTERN)
_INSERT_VERIFICATION = insert(Verification.__table__)


def record_verification(situation: Mapping[str, Any], canal: str = "formulaire") -> Verification:
    """Evaluate `situation` and store it with its verdict. Raises `SituationError` on bad input (nothing stored).

    The row is written by one Core INSERT and committed: the ORM's unit of work (identity map, flush plan, then
    expiring and refreshing the object) cost more than the INSERT itself on every creation. The object returned
    holds what was written (no SELECT); it is not attached to the session: nothing is left to write."""
    verdict = evaluate(situation, date_verification=today_in_france()).to_dict()
    remember_current_catalogue()
    values = {
        "id": new_id(),
        "created_at": utcnow(),
        "situation": dict(situation),
        "verdict": verdict,
        "statut": verdict["statut"],
        "regles_version": verdict["regles_version"],
        "canal": canal,
    }
    db.session.execute(_INSERT_VERIFICATION, values)
    db.session.commit()
    return Verification(**values)  # what was written, not attached to the session (to change it, load the row)


def find_verification(verification_id: str) -> Verification | None:
    if not _ID_RE.fullmatch(verification_id or ""):
        return None
    return db.session.get(Verification, verification_id)
