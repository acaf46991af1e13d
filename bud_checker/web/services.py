"""What the doors (public pages, JSON API, later the advisers' workspace) do with the engine and the database.

Nothing here decides anything legal: the verdict is the engine's; this module only stores it and finds
communes for the suggestions.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Mapping

from sqlalchemy.orm.attributes import set_committed_value

from ..communes import Commune, CommuneSuggester, Suggestion, load_reference
from ..dates import today_in_france
from ..engine.fr import date_fr
from ..engine.law import Rules, current_rules
from ..engine.verdict import evaluate
from ..engine.zone import basin_codes, classify
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


def commune_label(commune: Commune) -> str:
    """«Douai (59)», as shown in the form once a commune is chosen."""
    return f"{commune.nom} ({commune.departement})"


def commune_payload(commune: Commune, query: str | None = None, approchee: bool = False) -> dict[str, Any]:
    """A commune and where it stands with respect to the BUD lists, for the suggestions and the API."""
    reference = load_reference()
    given = query.strip().upper() if query and reference.get(query.strip().upper()) else None
    classement = classify(commune, given, current_rules())
    row = classement.bud
    if row is not None:
        if row.confiance.a_confirmer:
            classement_text = f"classée en BUD depuis le {date_fr(row.liste.classee_depuis)} (à confirmer)"
        else:
            classement_text = f"classée en BUD depuis le {date_fr(row.liste.classee_depuis)}"
    elif classement.ancienne_commune_bud is not None:
        former = classement.ancienne_commune_bud
        classement_text = f"en partie : ancienne commune {former.nom} ({former.insee}) classée en BUD"
    else:
        classement_text = "hors BUD" + (" (à confirmer)" if classement.epci_liste_incomplete else "")
    return {
        "insee": commune.insee,
        "nom": commune.nom,
        "libelle": commune_label(commune),
        "departement": commune.departement,
        "codes_postaux": list(commune.codes_postaux),
        "epci": commune.epci,
        "epci_nom": commune.epci_nom,
        "bud": row is not None,
        "liste": row.liste.id if row else None,
        "classee_depuis": row.liste.classee_depuis.isoformat() if row else None,
        "a_confirmer": bool((row and row.confiance.a_confirmer) or classement.epci_liste_incomplete
                            or classement.ancienne_commune_bud),
        "classement": classement_text,
        "approchee": approchee,
    }


@functools.lru_cache(maxsize=2)
def _suggester(rules: Rules) -> CommuneSuggester:
    return CommuneSuggester(load_reference(), basin_codes(rules))


def suggest_communes(query: str, limit: int = 10) -> list[Suggestion]:
    """Communes for what is typed in a commune field: the basin's first, typos tolerated (CommuneSuggester)."""
    return _suggester(current_rules()).suggest(query, limit)


def search_communes(query: str, limit: int = 10) -> list[dict[str, Any]]:
    """The suggestions for `query` with where each commune stands (the form's suggestions and the API)."""
    return [commune_payload(s.commune, query, s.approchee) for s in suggest_communes(query, limit)]
