"""Exemption schedules: profit tax (art. 44 sexdecies I), CFE (1463 A / 1466 B), TFPB (1383 F), CVAE.

Date arithmetic is strict and done with python-dateutil: «jusqu'au terme du vingt-troisième mois suivant
celui de leur création» ends on the last day of the month m0 + n (n from rules/), and each following period lasts
exactly twelve months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta

from .fr import date_fr, euros, pct, typographie
from .law import ParameterValue, Reference, Rules
from .results import PointAConfirmer, add_references, cached_json, json_cache, merge_references

# What a schedule rests on, from the confidence tags of the parameter values it reads (rules/parameters).
FONDEMENT_DE_CONFIANCE = {"V": "texte", "S": "sources_concordantes", "U": "incertain"}


def fondement_of(*values: ParameterValue) -> str:
    """The weakest footing among the values read: one unverified value makes the schedule «incertain»."""
    worst = max((v.confiance for v in values), key="VSU".index, default="V")
    return FONDEMENT_DE_CONFIANCE[worst]

# A schedule is computed for a situation that is eligible, or that could be (statut indéterminé: `applicable`
# is then None, and the pages say «sous réserve» once for all the taxes).


# Research notes on a schedule that do not depend on the situation: written once, in the rules catalogue
# (engine/catalogue.py), and shown with the exemption wherever it may apply.
STATIC_NOTES: dict[str, tuple[str, ...]] = {
    "cvae": ("Non lus : application de la part exonérée de CFE à la valeur ajoutée, exonération sur délibération "
             "depuis que la CVAE n'est plus locale ; trajectoire de suppression : sources concordantes.",),
}


def _regle_impot_benefices(rules: Rules, d: dt.date) -> str:
    return "Les plus-values de réévaluation d'éléments d'actif ne sont pas exonérées."


def _regle_tfpb(rules: Rules, d: dt.date) -> str:
    return ("Les immeubles rattachés à l'établissement sont exonérés dans les mêmes proportions et pour la même durée "
            "que la CFE (art. 1383 F I), à partir de l'année qui suit leur rattachement ; le reste de la base l'est "
            "sur délibération de la commune et de l'intercommunalité, chacune pour sa part (art. 1383 F II).")


def _regle_cvae(rules: Rules, d: dt.date) -> str:
    return ("Cotisation sur la valeur ajoutée des entreprises : la valeur ajoutée de l'activité exonérée de CFE "
            "(art. 1463 A) en est exclue de plein droit, les mêmes années (art. 1586 ter, II, 1°) ; la part exonérée "
            "sur délibération l'est sur demande (art. 1586 nonies, I).")


# The static statement of an exemption's rule, shown with the sentences about the case wherever the exemption
# may apply (rules catalogue, `regles`): (statement, shown before the explanation).
TAX_STATEMENTS: dict[str, tuple[Callable[[Rules, dt.date], str], bool]] = {
    "impot_benefices": (_regle_impot_benefices, False),
    "tfpb": (_regle_tfpb, False),
    "cvae": (_regle_cvae, True),
}


def _unique(references: list[Reference]) -> list[Reference]:
    return list(dict.fromkeys(references))


@dataclass(frozen=True, slots=True)
class Periode:
    debut: dt.date
    fin: dt.date
    taux_exoneration: float
    taux_exoneration_effectif: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"debut": self.debut.isoformat(), "fin": self.fin.isoformat(),
                               "taux_exoneration": self.taux_exoneration}
        if self.taux_exoneration_effectif is not None:
            out["taux_exoneration_effectif"] = self.taux_exoneration_effectif
        return out


@dataclass(frozen=True, slots=True)
class AnneeLocale:
    annee: int
    part_de_droit: float | None
    part_sur_deliberation: float | None
    phase: str  # «exoneration» (7 years) or «abattement» (3 degressive years)
    cvae_supprimee: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The year as a one-year period of the verdict (`periodes_locales` groups equal years)."""
        return _local_period(self, self.annee)


def _local_period(year: AnneeLocale, last: int) -> dict[str, Any]:
    # Absent `part_sur_deliberation`: the deliberation is not known; absent `part_de_droit`: the tax is
    # abolished (`cvae_supprimee`, written only when true).
    out: dict[str, Any] = {"de": year.annee, "a": last}
    if year.part_de_droit is not None:
        out["part_de_droit"] = year.part_de_droit
    if year.part_sur_deliberation is not None:
        out["part_sur_deliberation"] = year.part_sur_deliberation
    out["phase"] = year.phase
    if year.cvae_supprimee:
        out["cvae_supprimee"] = True
    return out


def periodes_locales(annees: tuple[AnneeLocale, ...]) -> list[dict[str, Any]]:
    """A local tax's yearly table as periods: consecutive years with the same shares and phase make one
    `{"de": 2025, "a": 2031, "part_de_droit": 50, "phase": "exoneration"}` (contract.annees expands them)."""
    out: list[dict[str, Any]] = []
    start: AnneeLocale | None = None
    previous: AnneeLocale | None = None
    for year in annees:
        if start is not None and previous is not None and year.annee == previous.annee + 1 and (
                year.part_de_droit, year.part_sur_deliberation, year.phase, bool(year.cvae_supprimee)) == (
                start.part_de_droit, start.part_sur_deliberation, start.phase, bool(start.cvae_supprimee)):
            previous = year
            continue
        if start is not None and previous is not None:
            out.append(_local_period(start, previous.annee))
        start = previous = year
    if start is not None and previous is not None:
        out.append(_local_period(start, previous.annee))
    return out


@dataclass(frozen=True, slots=True)
class Exoneration:
    """One tax: whether it applies (None = depends on unknown conditions), why, and the timeline.

    Immutable: the same object may be shared by several verdicts (local-tax schedules are built once per
    year of creation). `extra` is read-only by convention."""

    impot: str
    applicable: bool | None
    explication: str
    references: tuple[Reference, ...]
    periodes: tuple[Periode, ...] = ()
    annees: tuple[AnneeLocale, ...] = ()
    points: tuple[PointAConfirmer, ...] = ()  # uncertain points that could change this exemption
    extra: dict[str, Any] = field(default_factory=dict)
    fondement: str = "texte"
    notes: tuple[str, ...] = ()  # research notes for the expert detail
    _json: dict[str, Any] | None = json_cache()  # the JSON form, built once (cached_json)

    def __post_init__(self) -> None:
        object.__setattr__(self, "explication", typographie(self.explication))
        object.__setattr__(self, "notes", tuple(typographie(n) for n in self.notes))
        # Schedules cite the official sources of the values they read (their complementary sources are in rules/).
        object.__setattr__(self, "references", merge_references(r for r in self.references if not r.complementaire))

    @property
    def motifs_a_confirmer(self) -> tuple[str, ...]:
        return tuple(p.motif for p in self.points)

    def to_dict(self) -> dict[str, Any]:
        return cached_json(self, self._to_dict)

    def _to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"applicable": self.applicable, "explication": self.explication}
        if self.fondement != "texte":  # absent: «texte» (the official text read)
            out["fondement"] = self.fondement
        add_references(out, self.references)
        if self.points:  # absent `a_confirmer`: false
            out["a_confirmer"] = True
            out["motifs_a_confirmer"] = list(self.motifs_a_confirmer)
        periodes = ([p.to_dict() for p in self.periodes] if self.impot == "impot_benefices"
                    else periodes_locales(self.annees))
        if periodes:  # absent: no period (the exemption does not apply)
            out["periodes"] = periodes
        out.update((key, value) for key, value in self.extra.items() if value is not None)  # absent: null
        return out


def _enumeration(items: list[str]) -> str:
    """«a, b et c»."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _month_end_after(start: dt.date, months: int) -> dt.date:
    """Last day of the month `months` after the month of `start` (month of start + months)."""
    return _month_end(start.year, start.month, months)


@lru_cache(maxsize=16384)
def _month_end(year: int, month: int, months: int) -> dt.date:
    # Only the month matters, so the (small) set of results is kept.
    return dt.date(year, month, 1) + relativedelta(months=months + 1, days=-1)


def profit_tax_periods(date_creation: dt.date, rules: Rules, part_hors_zone_pct: float | None) -> list[Periode]:
    """Full exemption to the end of the n-th month after the creation month, then the degressive periods."""
    full_months = rules.value("duree_exoneration_totale_mois", date_creation).valeur
    step = rules.value("duree_periode_degressive_mois", date_creation).valeur
    rates = rules.value("taux_exoneration_degressive", date_creation).valeur

    def effective(rate: float) -> float | None:
        if part_hors_zone_pct is None:
            return None
        return round(rate * (100 - part_hors_zone_pct) / 100, 4)

    fin = _month_end_after(date_creation, full_months)
    periods = [Periode(date_creation, fin, 100, effective(100))]
    for index, rate in enumerate(rates, start=1):
        debut = fin + dt.timedelta(days=1)
        fin = _month_end_after(date_creation, full_months + step * index)
        periods.append(Periode(debut, fin, rate, effective(rate)))
    return periods


@lru_cache(maxsize=1 << 11)
def impot_benefices(rules: Rules, date_creation: dt.date, applicable: bool | None, reason: str,
                    non_sedentaire: bool | None, ca_hors_zone_pct: float | None) -> Exoneration:
    refs = _unique(rules.value("duree_exoneration_totale_mois", date_creation).references()
                   + rules.value("taux_exoneration_degressive", date_creation).references())
    if applicable is False:
        return Exoneration("impot_benefices", False, f"Aucune exonération d'impôt sur les bénéfices : {reason}.",
                           tuple(refs))
    seuil = rules.value("seuil_ca_hors_zone_non_sedentaire_pct", date_creation).valeur
    above = non_sedentaire and ca_hors_zone_pct is not None and ca_hors_zone_pct > seuil
    hors_zone = ca_hors_zone_pct if above else None
    periods = profit_tax_periods(date_creation, rules, hors_zone)
    full_months = rules.value("duree_exoneration_totale_mois", date_creation).valeur
    full, *degressive = periods
    text = (f"Bénéfices exonérés d'impôt sur le revenu ou sur les sociétés du {date_fr(full.debut)} au "
            f"{date_fr(full.fin)} (terme du {full_months}e mois suivant celui de la création), puis imposés sur "
            + _enumeration([pct(100 - p.taux_exoneration) for p in degressive])
            + f" de leur montant sur les périodes de douze mois suivantes, jusqu'au {date_fr(periods[-1].fin)}.")
    if hors_zone is not None:
        text += (f" Activité non sédentaire avec {pct(hors_zone)} du chiffre d'affaires hors du bassin : cette part du "
                 "bénéfice est imposée dans les conditions de droit commun (taux effectif indiqué pour chaque "
                 "période).")
    elif non_sedentaire and ca_hors_zone_pct is None:
        text += (f" Activité non sédentaire : si plus de {pct(seuil)} du chiffre d'affaires est réalisé hors du bassin "
                 "au cours d'un exercice, la part correspondante du bénéfice est imposée.")
    notes = ()  # the unread points (straddling exercices, EU ceiling) are a general limit (rules/limites.yaml)
    extra: dict[str, Any] = {"fin_exoneration_totale": full.fin.isoformat()}
    if hors_zone is not None:
        extra["part_bassin_pct"] = round(100 - hors_zone, 4)
    fondement = fondement_of(rules.value("duree_exoneration_totale_mois", date_creation),
                             rules.value("taux_exoneration_degressive", date_creation))
    return Exoneration("impot_benefices", applicable, text, tuple(refs), periodes=tuple(periods), extra=extra,
                       fondement=fondement, notes=notes)


def _local_years(rules: Rules, creation: dt.date, deliberation: bool | None) -> tuple[AnneeLocale, ...]:
    return _build_local_years(
        creation.year, deliberation,
        rules.value("duree_exoneration_locale_ans", creation),
        rules.value("part_base_exoneree_de_droit_pct", creation),
        rules.value("part_base_exoneree_sur_deliberation_pct", creation),
        rules.value("abattement_degressif_local_pct", creation),
    )


@lru_cache(maxsize=1024)
def _build_local_years(creation_year: int, deliberation: bool | None, years_value: ParameterValue,
                       de_droit_value: ParameterValue, sur_deliberation_value: ParameterValue,
                       abattements_value: ParameterValue) -> tuple[AnneeLocale, ...]:
    """The yearly timeline from the values in force (kept: few distinct years and values exist)."""
    years, de_droit = years_value.valeur, de_droit_value.valeur
    sur_deliberation, abattements = sur_deliberation_value.valeur, abattements_value.valeur
    out = []

    def deliberated(rate: float) -> float | None:
        if deliberation is None:
            return None
        return rate if deliberation else 0

    first = creation_year + 1
    for offset in range(years):
        out.append(AnneeLocale(first + offset, de_droit, deliberated(sur_deliberation), "exoneration"))
    for offset, abattement in enumerate(abattements):
        out.append(AnneeLocale(first + years + offset, de_droit * abattement / 100,
                               deliberated(sur_deliberation * abattement / 100), "abattement"))
    return tuple(out)


def establishment_window(rules: Rules, creation_etablissement: dt.date,
                         categorie: str | None) -> tuple[dt.date, dt.date, list[Reference], str]:
    """The window in which the establishment must be created (1463 A, 1383 F) and the confidence of its end."""
    debut_param = ("debut_periode_creation_etablissement_limitrophe" if categorie == "limitrophe"
                   else "debut_periode_creation_originale")
    debut = rules.value(debut_param, creation_etablissement)
    fin = rules.value("fin_periode_creation_etablissement", creation_etablissement)
    return debut.valeur, fin.valeur, _unique(debut.references() + fin.references()), fin.confiance


@lru_cache(maxsize=256)
def _jours_feries(rules: Rules, year: int) -> frozenset[dt.date]:
    """The legal public holidays of `year` (rules/parameters/jours_feries.yaml; Easter from python-dateutil)."""
    on = dt.date(year, 1, 1)
    fixed = {dt.date(year, int(day[:2]), int(day[3:])) for day in rules.value("jours_feries_fixes", on).valeur}
    paques = easter(year)
    mobile = {paques + dt.timedelta(days=offset) for offset in rules.value("jours_feries_paques", on).valeur}
    return frozenset(fixed | mobile)


def jour_ferie(rules: Rules, day: dt.date) -> bool:
    """A legal public holiday (Code du travail, art. L. 3133-1)."""
    return day in _jours_feries(rules, day.year)


def _echeance(rules: Rules, parameter: str, year: int, on: dt.date) -> tuple[dt.date, tuple[Reference, ...]]:
    """The deadline `parameter` for reference `year`: a fixed day, or the n-th working day after it."""
    value = rules.value(parameter, on)
    spec = value.valeur
    day = dt.date(year + spec["annee"], spec["mois"], spec["jour"])
    remaining = spec.get("jours_ouvres_apres", 0)
    while remaining:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and not jour_ferie(rules, day):
            remaining -= 1
    return day, value.refs


@dataclass(frozen=True, slots=True)
class CollectiviteCfe:
    """Who decides on the deliberated half of the CFE (art. 1466 B), as the sentences name it."""

    sujet: str  # «L'intercommunalité (CA Douaisis Agglo), qui perçoit seule la CFE,»
    complement: str  # «l'intercommunalité (CA Douaisis Agglo), qui perçoit seule la CFE,»
    conseil: str  # what to do to find out
    seule: bool  # True when the intercommunality alone levies the CFE (fiscalité professionnelle unique)


@lru_cache(maxsize=256)
def cfe_deliberante(rules: Rules, epci_nom: str | None, on: dt.date) -> CollectiviteCfe:
    """The body whose deliberation exempts the other half of the CFE. Communautés d'agglomération, urbaines and
    métropoles levy the CFE alone (art. 1379-0 bis I, fiscalité professionnelle unique): only their deliberation
    counts. A communauté de communes may or may not be under that regime."""
    prefixes = rules.value("cfe_collectivite_qui_percoit", on).valeur
    if epci_nom and any(epci_nom.startswith(prefix) for prefix in prefixes):
        phrase = f"l'intercommunalité ({epci_nom}), qui perçoit seule la CFE,"
        return CollectiviteCfe(phrase[:1].upper() + phrase[1:], phrase,
                               f"la commune ne délibère pas sur la CFE ; renseignez-vous auprès de {epci_nom}.", True)
    if epci_nom:
        phrase = f"l'intercommunalité ({epci_nom}) ou, si elle ne perçoit pas seule la CFE, la commune"
        conseil = (f"demandez à {epci_nom} si elle perçoit seule la CFE (fiscalité professionnelle unique) et si elle "
                   "a délibéré ; sinon, c'est la commune qui délibère.")
    else:
        phrase = "l'intercommunalité ou, si elle ne perçoit pas seule la CFE, la commune"
        conseil = "renseignez-vous auprès de votre intercommunalité."
    return CollectiviteCfe(phrase[:1].upper() + phrase[1:], phrase, conseil, False)


@dataclass(frozen=True, slots=True, eq=False)
class LocalTaxes:
    cfe: Exoneration
    tfpb: Exoneration
    cvae: Exoneration
    echeances: dict[str, tuple[dt.date, tuple[Reference, ...]]]


def _ca_bucket(rules: Rules, creation: dt.date, chiffre_affaires: float | None) -> str | None:
    """Where turnover stands with respect to the CVAE thresholds: all the CVAE text depends on."""
    if chiffre_affaires is None:
        return None
    if chiffre_affaires < rules.value("cvae_seuil_assujettissement_ca", creation).valeur:
        return "non_assujetti"
    if chiffre_affaires < rules.value("cvae_seuil_taux_nul_ca", creation).valeur:
        return "taux_nul"
    return "due"


def local_taxes(rules: Rules, *, applicable: bool | None, reason: str, creation_etablissement: dt.date,
                categorie: str | None, deliberation_cfe: bool | None, deliberation_tfpb: bool | None,
                proprietaire: bool | None, chiffre_affaires: float | None,
                fin_exoneration_benefices: dt.date | None = None, epci_nom: str | None = None) -> LocalTaxes:
    """CFE (1463 A / 1466 B), TFPB (1383 F) and CVAE (1586 ter / 1586 nonies) for one establishment.

    `fin_exoneration_benefices`: the last day of the profit-tax relief; an establishment created after it is
    «à confirmer» (1463 A covers «les entreprises qui bénéficient de l'exonération prévue à l'article 44
    sexdecies», BUD.md §8 item 10). `epci_nom`: the commune's intercommunality, which the sentences on the
    deliberations name (art. 1379-0 bis)."""
    creation = creation_etablissement
    if applicable is not False:
        debut, fin, _, _ = establishment_window(rules, creation, categorie)
        if not debut <= creation <= fin:
            applicable = False
            reason = (f"l'établissement, créé le {date_fr(creation)}, ne l'a pas été pendant la période "
                      f"prévue pour ces exonérations (du {date_fr(debut)} au {date_fr(fin)}).")
    if applicable is False:
        return _no_local_taxes(rules, creation, categorie, reason)
    # Only the year and the values in force matter below: key the cache on the earliest equivalent day.
    taxes = _local_taxes(rules, rules.canonical_date(creation), categorie, applicable, deliberation_cfe,
                         deliberation_tfpb, proprietaire, _ca_bucket(rules, creation, chiffre_affaires), epci_nom)
    if fin_exoneration_benefices is not None and creation > fin_exoneration_benefices:
        return _after_profit_relief(taxes, fin_exoneration_benefices)
    return taxes


@lru_cache(maxsize=256)
def _after_profit_relief(taxes: LocalTaxes, fin: dt.date) -> LocalTaxes:
    """The establishment was created once the company's profit relief was over: 1463 A and 1383 F may no longer
    apply (the company no longer «bénéficie» of art. 44 sexdecies); the point is unsettled (BUD.md §8 item 10)."""
    point = PointAConfirmer(
        "exonération de CFE et de taxe foncière de l'établissement",
        "le service des impôts dont relève l'établissement",
        typographie(f"L'établissement est créé après la fin de l'exonération d'impôt sur les bénéfices de l'entreprise "
                    f"({date_fr(fin)}) : l'art. 1463 A vise les entreprises « qui bénéficient » de cette exonération, "
                    "et son application dans ce cas n'est pas établie ; faites-la confirmer par le service des impôts "
                    "dont relève l'établissement."))
    cfe = replace(taxes.cfe, points=taxes.cfe.points + (point,))
    tfpb = replace(taxes.tfpb, points=taxes.tfpb.points + (point,))
    return LocalTaxes(cfe, tfpb, taxes.cvae, taxes.echeances)


@lru_cache(maxsize=1 << 11)
def _no_local_taxes(rules: Rules, creation: dt.date, categorie: str | None, reason: str) -> LocalTaxes:
    refs = _local_references(rules, creation, categorie)
    cvae_refs = tuple(rules.value("cvae_seuil_taux_nul_ca", creation).references())
    return LocalTaxes(Exoneration("cfe", False, f"Aucune exonération de CFE : {reason}.", refs),
                      Exoneration("tfpb", False, "Aucune exonération de taxe foncière, pour la même raison.", refs),
                      Exoneration("cvae", False, "Aucune exonération de CVAE, pour la même raison.", cvae_refs), {})


def _local_references(rules: Rules, creation: dt.date, categorie: str | None) -> tuple[Reference, ...]:
    """The local-tax articles: durations, abatement and the end of the establishment window (its start is the
    profit-tax window's, cited by the condition «période de création»)."""
    return tuple(_unique(rules.value("duree_exoneration_locale_ans", creation).references()
                         + rules.value("abattement_degressif_local_pct", creation).references()
                         + rules.value("fin_periode_creation_etablissement", creation).references()))


@lru_cache(maxsize=1024)
def _local_taxes(rules: Rules, creation: dt.date, categorie: str | None, applicable: bool | None,
                 deliberation_cfe: bool | None, deliberation_tfpb: bool | None, proprietaire: bool | None,
                 ca_bucket: str | None, epci_nom: str | None = None) -> LocalTaxes:
    """Everything below depends on the year of creation and the values in force, not on the exact day
    (`creation` is the canonical day of that year and legal epoch): built once per combination, and
    immutable, so shared safely between verdicts."""
    year = creation.year
    values = rules.values_at(creation)

    def lookup(parameter_id: str) -> ParameterValue:
        return values[parameter_id]
    _, fin, _, confiance = establishment_window(rules, creation, categorie)
    refs = list(_local_references(rules, creation, categorie))
    window_note = (() if confiance == "V" else
                   (f"Fin de la période de création des établissements ({date_fr(fin)}) : sources secondaires "
                    "concordantes, texte non lu dans cette version.",))
    local_fondement = FONDEMENT_DE_CONFIANCE[confiance]
    years = lookup("duree_exoneration_locale_ans").valeur
    de_droit = pct(lookup("part_base_exoneree_de_droit_pct").valeur)
    abattements = lookup("abattement_degressif_local_pct").valeur
    degressive = _enumeration([pct(a) for a in abattements])
    cfe_years = _local_years(rules, creation, deliberation_cfe)
    first, last_full = year + 1, year + years
    echeances = {
        "cfe": _echeance(rules, "echeance_demande_cfe", year, creation),
        "cfe_annuelle": _echeance(rules, "echeance_declaration_cfe_annuelle", year, creation),
        "tfpb": _echeance(rules, "echeance_declaration_tfpb", first, creation),
    }
    body = cfe_deliberante(rules, epci_nom, creation)
    deliberation_text = {
        True: f"{body.sujet} a délibéré (art. 1466 B) : le reste de la base est exonéré lui aussi.",
        False: f"Sans délibération de {body.complement.rstrip(',')} (art. 1466 B), le reste de la base demeure "
               "imposable.",
        None: f"Le reste de la base peut être exonéré si {body.complement} a délibéré (art. 1466 B).",
    }[deliberation_cfe]
    cfe = Exoneration(
        "cfe", applicable,
        (f"Cotisation foncière des entreprises : {de_droit} de la base nette exonérée de plein droit (art. 1463 A) "
         f"de {first} à {last_full}, puis un abattement dégressif de {degressive} de cette part de {last_full + 1} "
         f"à {last_full + len(abattements)}. {deliberation_text} À demander au plus tard le "
         f"{date_fr(echeances['cfe'][0])}."),
        tuple(_unique(refs + list(echeances["cfe"][1])
                      + lookup("part_base_exoneree_sur_deliberation_pct").references())),
        annees=cfe_years, notes=window_note, fondement=local_fondement,
        extra={"premiere_annee": first},
    )
    tfpb_years = _local_years(rules, creation, deliberation_tfpb)
    owner = {
        True: "L'entreprise, propriétaire, en bénéficie.",
        False: "L'entreprise n'étant pas propriétaire, c'est le propriétaire, redevable de la taxe, qui en bénéficie "
               "et fait la déclaration : transmettez-lui l'information.",
        None: "Elle bénéficie au propriétaire de l'immeuble, redevable de la taxe, qui fait la déclaration.",
    }[proprietaire]
    tfpb = Exoneration(
        "tfpb", applicable,
        (f"Taxe foncière sur les propriétés bâties : exonération à partir de {first} pour les immeubles rattachés à "
         f"l'établissement dès sa création. {owner} À déclarer au plus tard le {date_fr(echeances['tfpb'][0])}."),
        tuple(_unique(refs + list(echeances["tfpb"][1]))),
        annees=tfpb_years, fondement=local_fondement,
        extra={"premiere_annee": first, "proprietaire_immeuble": proprietaire},
    )
    cvae = _cvae(rules, cfe_years, applicable, creation, ca_bucket, deliberation_cfe)
    return LocalTaxes(cfe, tfpb, cvae, echeances)


def _cvae_years(rules: Rules, cfe_years: tuple[AnneeLocale, ...]) -> tuple[AnneeLocale, ...]:
    flags = tuple(rules.value("cvae_supprimee", dt.date(year.annee, 1, 1)) for year in cfe_years)
    return _build_cvae_years(cfe_years, flags)


@lru_cache(maxsize=1024)
def _build_cvae_years(cfe_years: tuple[AnneeLocale, ...], flags: tuple[ParameterValue, ...]) -> tuple[AnneeLocale, ...]:
    out = []
    for year, flag in zip(cfe_years, flags):
        supprimee = bool(flag.valeur)
        out.append(AnneeLocale(year.annee, None if supprimee else year.part_de_droit,
                               None if supprimee else year.part_sur_deliberation, year.phase, cvae_supprimee=supprimee))
    return tuple(out)


def _cvae(rules: Rules, cfe_years: tuple[AnneeLocale, ...], applicable: bool | None, creation: dt.date,
          ca_bucket: str | None, deliberation: bool | None) -> Exoneration:
    seuil_assujetti = rules.value("cvae_seuil_assujettissement_ca", creation)
    seuil_nul = rules.value("cvae_seuil_taux_nul_ca", creation)
    articles = [rules.sources["cgi_1586_ter"].cite("II, 1°"), rules.sources["cgi_1586_nonies"].cite("I"),
                rules.sources["cgi_1586_quater"].cite()]
    refs = _unique(articles + seuil_assujetti.references() + seuil_nul.references()
                   + rules.value("cvae_supprimee", dt.date(cfe_years[-1].annee, 1, 1)).references())
    years = _cvae_years(rules, cfe_years)
    abolished = [y.annee for y in years if y.cvae_supprimee]
    if ca_bucket is None:
        nulle = None
        montant = (f"Elle n'est due qu'au-delà de {euros(seuil_assujetti.valeur)} de chiffre d'affaires et son taux "
                   f"est nul en dessous de {euros(seuil_nul.valeur)} : pour la plupart des créations, elle est nulle "
                   "de toute façon.")
    elif ca_bucket == "non_assujetti":
        nulle = True
        montant = (f"Avec un chiffre d'affaires inférieur à {euros(seuil_assujetti.valeur)}, l'entreprise n'y est pas "
                   "assujettie : elle est nulle de toute façon.")
    elif ca_bucket == "taux_nul":
        nulle = True
        montant = (f"Avec un chiffre d'affaires inférieur à {euros(seuil_nul.valeur)}, son taux est nul : elle est "
                   f"nulle de toute façon (une déclaration reste due au-delà de {euros(seuil_assujetti.valeur)}).")
    else:
        nulle = False
        montant = (f"Avec un chiffre d'affaires d'au moins {euros(seuil_nul.valeur)}, la CVAE est due en principe : "
                   "l'exonération a un effet.")
    text = montant  # after the rule's statement (TAX_STATEMENTS, shown first)
    if abolished:
        text += f" La CVAE est supprimée à compter de {abolished[0]} selon la trajectoire actuelle."
    return Exoneration("cvae", applicable, text, tuple(refs), annees=years,
                       fondement=fondement_of(seuil_assujetti, seuil_nul),
                       extra={"nulle_du_fait_du_chiffre_affaires": nulle,
                              "deliberation_exoneration_cfe": deliberation})
