"""The floor: a plain hand-written function that decides BUD eligibility and computes the profit-tax
schedule, with no explanations, references, local taxes or validation beyond what deciding needs.

Its constants are read once from rules/ (at import, outside the timed loop) so that the benchmark
compares code, not law; the benchmark checks that it agrees with the engine on every situation.
"""

from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta

from bud_checker.communes import load_reference
from bud_checker.engine.law import current_rules

_rules = current_rules()
_reference = load_reference()
_BUD = {code: row.liste.categorie for code, row in _rules.communes_bud.items()}
_FIRST = _rules.param("debut_periode_creation_originale").first().valeur
_FIRST_LIMITROPHE = _rules.param("debut_periode_creation_limitrophe").first().valeur
_ENDS = [(v.depuis, v.valeur) for v in _rules.param("fin_periode_creation").valeurs]
_FULL = _rules.param("duree_exoneration_totale_mois").first().valeur
_STEP = _rules.param("duree_periode_degressive_mois").first().valeur
_RATES = _rules.param("taux_exoneration_degressive").first().valeur
_HEADCOUNT = _rules.param("effectif_maximum_exclu").first().valeur
_TURNOVER = _rules.param("chiffre_affaires_maximum").first().valeur
_BALANCE = _rules.param("total_bilan_maximum").first().valeur
_CAPITAL = _rules.param("capital_detenu_par_societes_maximum_pct").first().valeur
_RESIDENTS = _rules.param("part_minimale_residents_bud_pct").first().valeur
_ELIGIBLE_ACTIVITIES = {"industrielle", "commerciale", "artisanale"}

YES, NO, UNKNOWN = 1, 0, None


def _and(*values):
    if NO in values:
        return NO
    if UNKNOWN in values:
        return UNKNOWN
    return YES


def _or(*values):
    if YES in values:
        return YES
    if UNKNOWN in values:
        return UNKNOWN
    return NO


def _location(s: dict):
    """BUD.md § 2.6: siège, whole activity and means in the zone; a non-sedentary activity with its siège in the
    zone meets it whatever share of turnover it makes outside, short of all of it (above 15 %, the profit made
    outside is taxed: the schedule's business, not eligibility's). The shorthand siege_et_moyens_dans_zone
    «non» says only that not everything is in the zone (rules/situation.yaml): alone, it decides nothing."""
    shorthand = s.get("siege_et_moyens_dans_zone")
    seat = s.get("siege_dans_zone")
    if seat is None and shorthand is True:
        seat = True
    whole = s.get("activite_et_moyens_dans_zone")
    if whole is None and shorthand is not None and (shorthand or seat is True):
        whole = shorthand
    mobile, outside = s.get("non_sedentaire"), s.get("ca_hors_zone_pct")
    if seat is False:
        return NO
    if seat and whole and not (mobile and outside):
        return YES
    if mobile is False and (whole is False or shorthand is False):
        return NO
    if mobile is not True or seat is None or outside is None:
        return UNKNOWN
    return NO if outside >= 100 else YES


def decide(s: dict) -> tuple[str, list[tuple[dt.date, dt.date, int]]]:
    created = dt.date.fromisoformat(s["date_creation"])
    code = s.get("commune_insee")
    commune = _reference.get(code) if code else None
    category = _BUD.get(commune.insee) if commune else None
    end = _ENDS[0][1]
    for since, value in _ENDS:
        if created >= since:
            end = value
    if created < _FIRST or created > end:
        period = NO
    elif category is None and commune is None and created < _FIRST_LIMITROPHE:
        period = UNKNOWN
    elif category == "limitrophe" and created < _FIRST_LIMITROPHE:
        period = NO
    else:
        period = YES
    if commune is None:
        zone = UNKNOWN
    elif category is None:
        zone = UNKNOWN if any(c in _BUD for c in commune.anciens_codes) else NO
    else:
        zone = YES
    activity = s.get("activite")
    activity = UNKNOWN if activity is None else (YES if activity in _ELIGIBLE_ACTIVITIES else NO)
    origin = s.get("origine")
    origin = UNKNOWN if origin is None else (YES if origin == "creation_pure" else NO)
    headcount, turnover, balance = s.get("effectif"), s.get("chiffre_affaires"), s.get("total_bilan")
    size = _and(UNKNOWN if headcount is None else (YES if headcount < _HEADCOUNT else NO),
                _or(UNKNOWN if turnover is None else (YES if turnover <= _TURNOVER else NO),
                    UNKNOWN if balance is None else (YES if balance <= _BALANCE else NO)))
    capital = s.get("capital_detenu_par_societes_pct")
    capital = UNKNOWN if capital is None else (YES if capital <= _CAPITAL else NO)
    seat = _location(s)
    staff = s.get("salaries_eligibles")
    if staff is None and s.get("effectif") == 0:
        staff = 0
    hires = s.get("embauches_eligibles")

    def ratio(residents, total):
        return UNKNOWN if residents is None or total is None else (YES if residents * 100 >= _RESIDENTS * total else NO)

    employment = YES if staff == 0 else ratio(s.get("salaries_eligibles_residents_bud"), staff)
    if hires == 0:
        hiring = YES if staff == 0 else (UNKNOWN if staff is None else NO)
    else:
        hiring = ratio(s.get("embauches_eligibles_residents_bud"), hires)
    clause = _or(employment, hiring)
    result = _and(period, zone, activity, origin, size, capital, seat, clause)
    if result is NO:
        return "non_eligible", []
    start = created.replace(day=1)
    periods, begin = [], created
    for index, rate in enumerate([100, *_RATES]):
        finish = start + relativedelta(months=_FULL + 1 + _STEP * index, days=-1)
        periods.append((begin, finish, rate))
        begin = finish + dt.timedelta(days=1)
    return ("eligible" if result is YES else "indetermine"), periods
