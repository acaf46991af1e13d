"""Where a commune stands with respect to the BUD lists (CGI art. 44 sexdecies II and its arrêtés)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..communes import Commune, load_reference
from .law import BudCommune, Rules, current_rules


@dataclass(frozen=True, slots=True)
class Classement:
    """The answer for one commune.

    `bud` is the list row when the commune is classified (or a candidate); `ancienne_commune_bud` is set when
    the commune is not listed itself but absorbed a listed commune (the zone then covers only part of it);
    `epci_liste_incomplete` is set for a commune outside the lists but in an EPCI whose list could not be read.
    """

    commune: Commune
    bud: BudCommune | None
    ancienne_commune_bud: BudCommune | None = None
    epci_liste_incomplete: bool = False


@cache
def _epcis_with_unsourced_rows(rules: Rules) -> frozenset[str]:
    """The intercommunalities holding communes that no readable source names (their list is incomplete)."""
    reference = load_reference()
    epcis = set()
    for row in rules.communes_bud.values():
        if row.confiance.id == "non_sourcee":
            commune = reference.get(row.insee)
            if commune is not None and commune.epci:
                epcis.add(commune.epci)
    return frozenset(epcis)


def classify(commune: Commune, given_code: str | None = None, rules: Rules | None = None) -> Classement:
    rules = rules or current_rules()
    listed = rules.communes_bud.get(commune.insee)
    if listed is None and given_code and given_code != commune.insee:
        listed = rules.communes_bud.get(given_code)
    if listed is not None:
        return Classement(commune, listed)
    for code in commune.anciens_codes:
        former = rules.communes_bud.get(code)
        if former is not None:
            return Classement(commune, None, ancienne_commune_bud=former)
    incomplete = bool(commune.epci) and commune.epci in _epcis_with_unsourced_rows(rules)
    return Classement(commune, None, epci_liste_incomplete=incomplete)


@cache
def basin_codes(rules: Rules) -> frozenset[str]:
    """Current INSEE codes of the communes of the BUD lists, the unsourced candidates included (the basin)."""
    reference = load_reference()
    codes = set()
    for row in rules.communes_bud.values():
        commune = reference.get(row.insee)
        if commune is not None:
            codes.add(commune.insee)
    return frozenset(codes)
