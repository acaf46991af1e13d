"""The ranked commune search shared by every door: the form's suggestions, `/api/v1/communes`, the map's search
and `bud-checker communes`. The basin's communes come first (exact name, then name prefix, then word prefix,
most populated first), then the reference's own matches, then names close to what was typed (rapidfuzz): see
`communes.CommuneSuggester`. Each commune comes with where it stands with respect to the BUD lists. Pure: no web
import, so that the command line gives the same answers as the site."""

from __future__ import annotations

import functools
from typing import Any

from .communes import Commune, CommuneSuggester, Suggestion, load_reference
from .engine.fr import date_fr
from .engine.law import Rules, current_rules
from .engine.zone import basin_codes, classify

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
