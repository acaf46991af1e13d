"""Combine the conditions into a verdict, with schedules, filings and missing facts.

`Verdict.to_dict()` is the public JSON contract (documented in README.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Callable, Mapping

from . import economies as savings
from .catalogue import AVERTISSEMENT, CATALOGUE_PATH, catalogue_id
from .catalogue import FORMAT as CATALOGUE_FORMAT
from ..communes import load_reference
from .conditions import CONDITIONS, Context
from .fr import date_fr, jour_echeance_fr, pct, typographie
from .law import LawVersion, Reference, Rules, Source, current_rules
from .results import (ConditionResult, InformationManquante, PointAConfirmer, Statut, add_references, cached_json,
                      json_cache, merge_references)
from .schedules import Exoneration, _echeance, cfe_deliberante, impot_benefices, local_taxes
from .situation import SCHEMA, Situation, parse_situation
from .zone import classify

# The shape of `Verdict.to_dict()`: 3 = what depends on the rules alone (sources table, general limits, the
# rules' own research notes and statements) in the rules catalogue (engine/catalogue.py, linked by `regles`),
# local-tax years as periods, keys that carry nothing left out (docs/contrat-json.md); 2 = sources written once
# in a `sources` table and cited by id; 1 = references written in full at each use (no `format` key).
FORMAT = CATALOGUE_FORMAT
ELIGIBLE, NON_ELIGIBLE, INDETERMINE = "eligible", "non_eligible", "indetermine"
LIBELLES_STATUT = {ELIGIBLE: "éligible", NON_ELIGIBLE: "non éligible", INDETERMINE: "à confirmer"}


@dataclass(frozen=True, slots=True)
class Demarche:
    titre: str
    description: str
    echeance: dt.date | None
    references: tuple[Reference, ...]
    a_confirmer: bool = False  # its modalities (deadline, form) rest on an unverified point
    id: str | None = None  # what rules/demarches_formulaires.yaml knows the step by (forms, where to go)
    destinataire: str = "entreprise"  # who acts: «entreprise» or «proprietaire» (the owner of the premises)
    rattrapage: str | None = None  # what can still be done once the deadline has passed
    passee: bool | None = None  # dated steps: whether the deadline is before the date of the check
    prochaine_echeance: dt.date | None = None  # a missed step that can still be made for later years: by when
    # The description depends on the rules alone (STATIC_STEPS): the JSON leaves it to the rules catalogue.
    statique: bool = False
    _json: dict[str, Any] | None = json_cache()  # the JSON form, built once (cached_json)

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", typographie(self.description))
        object.__setattr__(self, "references", merge_references(self.references))
        if self.rattrapage:
            object.__setattr__(self, "rattrapage", typographie(self.rattrapage))

    def to_dict(self) -> dict[str, Any]:
        return cached_json(self, self._to_dict)

    def _to_dict(self) -> dict[str, Any]:
        """Keys that carry nothing are left out (docs/contrat-json.md): no `echeance` = no deadline, no
        `passee` = not known (no date of check) or no deadline, no `a_confirmer` = false."""
        out: dict[str, Any] = {"id": self.id, "titre": self.titre}
        if not self.statique:  # absent: the step's description in the rules catalogue (`demarches`)
            out["description"] = self.description
        if self.echeance is not None:
            out["echeance"] = self.echeance.isoformat()
            if self.passee is not None:
                out["passee"] = self.passee
        if self.destinataire != "entreprise":
            out["destinataire"] = self.destinataire
        if self.passee:
            if self.rattrapage and self.rattrapage != STATIC_REMEDIES_FR.get(self.id or ""):
                out["rattrapage"] = self.rattrapage  # absent: none, or the catalogue's `rattrapages[id]`
            if self.prochaine_echeance:
                out["prochaine_echeance"] = self.prochaine_echeance.isoformat()
        add_references(out, self.references)
        if self.a_confirmer:
            out["a_confirmer"] = True
        return out


@dataclass(frozen=True, slots=True)
class Avertissement:
    """Something the user should check about the input itself (not a condition): e.g. a postal code typed
    where an INSEE code was expected."""

    code: str
    message: str
    code_saisi: str | None = None
    communes: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.code_saisi is not None:
            out["code_saisi"] = self.code_saisi
        if self.communes:
            out["communes"] = [dict(c) for c in self.communes]
        return out


@dataclass(slots=True)
class Verdict:
    statut: str
    resume: str
    situation: Situation
    version: LawVersion
    version_url: str
    regles_version: str
    conditions: list[ConditionResult]
    exonerations: dict[str, Exoneration]
    demarches: tuple[Demarche, ...] = ()
    informations_manquantes: list[dict[str, Any]] = field(default_factory=list)
    commune: dict[str, Any] | None = None
    article: Source | None = None
    limites: tuple[str, ...] = ()
    economies: dict[str, Any] | None = None  # the savings estimate (economies.estimate), its sources below
    economies_references: tuple[Reference, ...] = ()
    avertissements: tuple[Avertissement, ...] = ()
    date_verification: dt.date | None = None
    catalogue: str = ""  # the id of the rules catalogue (engine/catalogue.py) the verdict's ids refer to

    @property
    def version_loi(self) -> str:
        return self.version.en_vigueur.isoformat()

    @property
    def points_a_confirmer(self) -> list[dict[str, str]]:
        """The uncertain points that could change this verdict, in the order of the verdict."""
        points = [p.to_dict(c.id) for c in self.conditions for p in c.points]
        points += [p.to_dict(key) for key, e in self.exonerations.items() if e.applicable is not False
                   for p in e.points]
        return points

    @property
    def a_confirmer(self) -> bool:
        return bool(self.points_a_confirmer)

    def version_explication(self) -> str:
        """Which version applies and why, then what it changed (that part: the catalogue's `versions`)."""
        created = self.situation.date_creation
        if created < self.version.en_vigueur:
            return self._version_phrase()
        return typographie(f"{self._version_phrase()} {self.version.modification}")

    def _version_phrase(self) -> str:
        """The sentence about this case (the JSON's `version.explication`)."""
        created = self.situation.date_creation
        if created < self.version.en_vigueur:
            return typographie(
                f"Aucune version de l'article 44 sexdecies n'était en vigueur le {date_fr(created)} : le régime "
                f"a été créé le {date_fr(self.version.en_vigueur)} ; c'est cette première version qui sert de "
                "référence.")
        return typographie(f"C'est la version applicable à une création le {date_fr(created)}.")

    def certitude(self) -> list[dict[str, Any]]:
        """This case's research notes for experts («Sources et degré de certitude»), by condition and by
        exemption; the notes each rule always carries are in the rules catalogue (`notes`)."""
        out = [{"objet": c.id, "notes": list(c.notes)} for c in self.conditions if c.notes]
        out += [{"objet": key, "notes": list(e.notes)} for key, e in self.exonerations.items()
                if e.notes and e.applicable is not False]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract, format 3 (docs/contrat-json.md): a key that carries nothing is left out (an
        empty list, a null, a false `a_confirmer`), and what depends on the rules alone is in the catalogue
        linked by `regles`."""
        modificateur = self.version.texte_modificateur
        version: dict[str, Any] = {"en_vigueur": self.version_loi, "explication": self._version_phrase(),
                                   "source": self.article.id if self.article else None}
        if modificateur:
            version["texte_modificateur"] = modificateur.id
        version["confiance"] = self.version.confiance
        points = self.points_a_confirmer  # built once: `a_confirmer` is whether there are any
        out: dict[str, Any] = {
            "statut": self.statut,
            "libelle_statut": LIBELLES_STATUT[self.statut],
            "resume": self.resume,
            "a_confirmer": bool(points),
            "version_loi": self.version_loi,
            "version": version,
            "regles_version": self.regles_version,
            "regles": CATALOGUE_PATH + self.catalogue,
            "situation": self.situation.to_dict(),
        }
        if self.date_verification:
            out["date_verification"] = self.date_verification.isoformat()
        if self.commune:
            out["commune"] = {key: value for key, value in self.commune.items()
                              if value is not None and not (key == "code_saisi_ancien" and value is False)}
        optional = {
            "avertissements": [a.to_dict() for a in self.avertissements],
            "conditions": [c.to_dict() for c in self.conditions],
            "exonerations": {key: value.to_dict() for key, value in self.exonerations.items()},
            "demarches": [d.to_dict() for d in self.demarches],
            "informations_manquantes": [{key: value for key, value in m.items() if value != []}
                                        for m in self.informations_manquantes],
            "points_a_confirmer": points,
            "limites": list(self.limites),
            "certitude": self.certitude(),
        }
        out.update((key, value) for key, value in optional.items() if value)
        if self.economies:
            out["economies"] = self.economies
        out["avertissement"] = AVERTISSEMENT
        out["format"] = FORMAT
        return out


def _missing(conditions: list[ConditionResult]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        if condition.statut is not Statut.INCONNUE:
            continue
        for info in condition.informations_manquantes:
            entry = merged.setdefault(info.champ, {"champ": info.champ, "question": info.question, "conditions": []})
            entry["conditions"].append(condition.id)
    return list(merged.values())


def _schedule_questions(situation: Situation, rules: Rules) -> list[InformationManquante]:
    """Facts that do not change the verdict but refine the schedules (their questions: rules/situation.yaml)."""
    questions = []
    on = situation.date_creation
    epci = situation.commune.epci_nom if situation.commune else None
    if situation.date_creation_etablissement is None:
        questions.append(InformationManquante("date_creation_etablissement",
                                              SCHEMA["date_creation_etablissement"].question(on, rules)))
    if situation.deliberation_exoneration_cfe is None:
        body = cfe_deliberante(rules, epci, situation.date_creation_etablissement or situation.date_creation)
        questions.append(InformationManquante("deliberation_exoneration_cfe", SCHEMA["deliberation_exoneration_cfe"]
                                              .question(on, rules, "collectivite", sujet=body.sujet)))
    if situation.non_sedentaire and situation.ca_hors_zone_pct is None:
        questions.append(InformationManquante("ca_hors_zone_pct", SCHEMA["ca_hors_zone_pct"].question(on, rules)))
    return questions


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- the headline (`resume`): one sentence per concern, each from a small function ------------------------
# Each function reads the `Headline` facts and returns a sentence, or None when it has nothing to say; the
# headline is their sentences in order. A new clause (e.g. «périodes d'exonération terminées») is one more
# function in HEADLINE_SENTENCES.

@dataclass(frozen=True, slots=True)
class Headline:
    statut: str
    conditions: tuple[ConditionResult, ...]
    points: tuple[PointAConfirmer, ...]   # only the points that could change this verdict
    full_end: str | None                  # last day of the full profit-tax relief
    part_bassin: float | None             # non-sedentary activity above the threshold: share made in the zone
    periodes: str | None = None           # where the profit-tax periods stand on the day of the check, once the
                                          # full relief is over (clause_periodes_benefices)


def _what_to_confirm(points: tuple[PointAConfirmer, ...]) -> str:
    """«classement de la commune, auprès de votre SIE» — grouped by whom to ask, in order."""
    by_whom: dict[str, list[str]] = {}
    for point in points:
        whats = by_whom.setdefault(point.aupres_de, [])
        if point.quoi not in whats:
            whats.append(point.quoi)
    parts = []
    for whom, whats in by_whom.items():
        listed = whats[0] if len(whats) == 1 else ", ".join(whats[:-1]) + " et " + whats[-1]
        parts.append(f"{listed}, auprès de {whom}")
    return " ; ".join(parts)


def _sentence_statut(h: Headline) -> str | None:
    if h.statut == NON_ELIGIBLE:
        failing = ", ".join(_lower_first(c.libelle) for c in h.conditions if c.statut is Statut.NON_REMPLIE)
        if h.points:
            return (f"Non éligible en l'état du droit, à confirmer : {_what_to_confirm(h.points)}. "
                    f"Condition non remplie : {failing}.")
        return f"Non éligible au régime des bassins urbains à dynamiser, condition non remplie : {failing}."
    if h.statut == INDETERMINE:
        unknown = ", ".join(_lower_first(c.libelle) for c in h.conditions if c.statut is Statut.INCONNUE)
        return f"Éligibilité à confirmer, il manque des informations sur : {unknown}."
    if h.points:
        return f"Éligible, à confirmer : {_what_to_confirm(h.points)}."
    return None  # the exemption sentence says «Éligible…» itself


def _sentence_exoneration(h: Headline) -> str | None:
    if h.statut != ELIGIBLE:
        return None
    if h.periodes and not h.points:
        return f"Éligible au régime des bassins urbains à dynamiser, mais {h.periodes}."
    if h.periodes:
        return None  # said by _sentence_periodes, after the point to confirm
    if h.points:
        opening = "Si ce point se confirme" if len(h.points) == 1 else "Si ces points se confirment"
        text = f"{opening}, exonération"
    else:
        text = "Éligible au régime des bassins urbains à dynamiser, avec une exonération"
    if h.full_end is None:
        return text + " d'impôt sur les bénéfices et d'impôts locaux."
    end = date_fr(dt.date.fromisoformat(h.full_end))
    if h.part_bassin is None:
        return f"{text} totale d'impôt sur les bénéfices jusqu'au {end}."
    return (f"{text} d'impôt sur les bénéfices limitée à la part réalisée dans le bassin ({pct(h.part_bassin)} du "
            f"chiffre d'affaires) jusqu'au {end}.")


def _sentence_periodes(h: Headline) -> str | None:
    """The profit-tax periods over (or past the full relief) on the day of the check, when the first sentence
    is about something else (a point to confirm, missing facts)."""
    if h.periodes and (h.statut == INDETERMINE or (h.statut == ELIGIBLE and h.points)):
        return f"À noter : {h.periodes}."
    return None


def _sentence_indetermine_points(h: Headline) -> str | None:
    if h.statut == INDETERMINE and h.points:
        return f"À confirmer aussi : {_what_to_confirm(h.points)}."
    return None


HEADLINE_SENTENCES: list[Callable[[Headline], str | None]] = [
    _sentence_statut, _sentence_exoneration, _sentence_periodes, _sentence_indetermine_points,
]


@lru_cache(maxsize=1 << 11)
def _summary_of(headline: Headline) -> str:
    """The verdict in a few words (results are shared objects, so the same headline recurs)."""
    sentences = (sentence(headline) for sentence in HEADLINE_SENTENCES)
    return typographie(" ".join(text for text in sentences if text))


def _points_that_matter(statut: str, conditions: list[ConditionResult],
                        exonerations: dict[str, Exoneration]) -> list[ConditionResult]:
    """Keep a condition's points only where they could change this verdict (BUD.md: a [U] point matters only if
    it could change the verdict for this situation): when another condition fails for certain, nothing can."""
    if statut != NON_ELIGIBLE:
        return conditions
    failing = [c for c in conditions if c.statut is Statut.NON_REMPLIE]
    decisive = all(c.points for c in failing)
    out = []
    for condition in conditions:
        keep = decisive and condition.statut is Statut.NON_REMPLIE
        if condition.points and not keep:
            condition = replace(condition, points=(),
                                notes=condition.notes + tuple(p.motif for p in condition.points))
        out.append(condition)
    return out


def _limites(rules: Rules, statut: str, conditions: list[ConditionResult]) -> tuple[str, ...]:
    """The ids of the general limits of the tool that concern this verdict (rules/limites.yaml; their text is
    in the rules catalogue), each named once."""
    examined = {c.id for c in conditions if c.statut is not Statut.INCONNUE}
    out = []
    for limite in rules.limites:
        if limite.exoneration and statut == NON_ELIGIBLE:
            continue
        if limite.conditions and not examined.intersection(limite.conditions):
            continue
        out.append(limite.id)
    return tuple(out)


def _demarches(rules: Rules, statut: str, taxes: Any, situation: Situation,
               today: dt.date | None) -> tuple[Demarche, ...]:
    if statut == NON_ELIGIBLE:
        return ()
    epci = situation.commune.epci_nom if situation.commune else None
    steps = _demarches_for(rules, taxes, situation.deliberation_exoneration_cfe is None,
                           situation.deliberation_exoneration_tfpb is None, situation.proprietaire_immeuble, epci)
    if today is None:
        return steps
    # The date of the check is not part of the cached steps: `passee` (and the remedy) are set per verdict.
    return tuple(_dated(rules, step, taxes, today) if step.echeance else step for step in steps)


def _dated(rules: Rules, step: Demarche, taxes: Any, today: dt.date) -> Demarche:
    if step.echeance >= today:
        return replace(step, passee=False)
    prochaine = None
    if step.id == "declaration_tfpb":
        later = [_echeance(rules, "echeance_declaration_tfpb", year.annee, step.echeance)[0]
                 for year in taxes.tfpb.annees]
        prochaine = next((day for day in later if day >= today), None)
    return replace(step, passee=True, rattrapage=_rattrapage(rules, step, taxes, today), prochaine_echeance=prochaine)


def _rattrapage(rules: Rules, step: Demarche, taxes: Any, today: dt.date) -> str | None:
    """What can still be done once the deadline of `step` has passed."""
    if step.echeance is None or step.echeance >= today:
        return None
    if step.id in STATIC_REMEDIES:
        return STATIC_REMEDIES[step.id]
    if step.id == "declaration_tfpb":
        years = [year.annee for year in taxes.tfpb.annees]
        following = [year for year in years
                     if _echeance(rules, "echeance_declaration_tfpb", year, step.echeance)[0] >= today]
        if not following:
            return ("Délai dépassé, et la période d'exonération de taxe foncière est terminée : il n'y a plus rien "
                    "à déclarer.")
        year = following[0]
        deadline = _echeance(rules, "echeance_declaration_tfpb", year, step.echeance)[0]
        return ("Délai dépassé : pas d'exonération de taxe foncière pour les années déjà écoulées, mais une "
                f"déclaration faite au plus tard le {date_fr(deadline)} ouvre l'exonération à compter de {year}, pour "
                "les années restantes de la période (art. 1383 F IV).")
    return None


# The steps whose description depends on the rules alone: written once, in the rules catalogue (`demarches`).
STATIC_STEPS = {
    "declarer_benefice": ("Portez chaque année le bénéfice exonéré (art. 44 sexdecies) sur votre déclaration de "
                          "résultats : vous appliquez vous-même l'exonération, sous le contrôle de l'administration."),
    "clause_embauche": ("Refaites le calcul de la clause à la clôture de chaque exercice : l'exonération de "
                        "l'exercice en dépend."),
    "demande_cfe": "Au service des impôts de l'établissement, avec sa déclaration provisoire (art. 1477 II a) ; une "
                   "demande tardive fait perdre l'exonération de l'année.",
    "choisir_regime": ("Non cumulable avec les autres allègements des bénéfices (art. 44 sexies, JEI, ZFU-TE, "
                       "ZRR…) : si vous y avez droit, il faut opter ; délai et modalités à demander à votre SIE."),
}


# What can still be done once a step's deadline has passed, when it depends on the rules alone: written once, in
# the rules catalogue (`rattrapages`).
STATIC_REMEDIES = {
    "demande_cfe": ("Délai dépassé : l'exonération de CFE est perdue pour l'année dont la déclaration était en retard, "
                    "pas pour les suivantes ; déclarez les éléments exonérés dans les délais de l'art. 1477 pour les "
                    "années à venir et faites le point avec votre service des impôts des entreprises (SIE)."),
    "declaration_cfe_annuelle": ("Délai dépassé : déposez la déclaration sans attendre ; les éléments déclarés hors "
                                 "délai ne sont pas exonérés pour l'année concernée."),
}
STATIC_REMEDIES_FR = {key: typographie(text) for key, text in STATIC_REMEDIES.items()}


@lru_cache(maxsize=1024)
def _demarches_for(rules: Rules, taxes: Any, deliberation_unknown: bool, deliberation_tfpb_unknown: bool,
                   proprietaire: bool | None, epci: str | None) -> tuple[Demarche, ...]:
    """What to file and when (built once per local-tax schedule, which is itself shared)."""
    article = rules.sources["cgi_44_sexdecies"].cite()
    out = [
        Demarche("Déclarer le bénéfice exonéré", STATIC_STEPS["declarer_benefice"],
                 None, (article,), id="declarer_benefice", statique=True),
        Demarche("Vérifier la clause d'emploi ou d'embauche à chaque clôture", STATIC_STEPS["clause_embauche"],
                 None, (rules.sources["bofip_bud_operations"].cite("§ 1"),), id="clause_embauche", statique=True),
    ]
    if taxes.cfe.applicable is not False and "cfe" in taxes.echeances:
        date, refs = taxes.echeances["cfe"]
        out.append(Demarche("Demander l'exonération de CFE", STATIC_STEPS["demande_cfe"], date, refs,
                            id="demande_cfe", statique=True))
        creation = dt.date(date.year, 1, 1)
        concurrentes = rules.value("cfe_exonerations_concurrentes_1463_a", creation)
        articles = ", ".join(concurrentes.valeur[:-1]) + " ou " + concurrentes.valeur[-1]
        out.append(Demarche("Opter si une autre exonération de CFE est possible",
                            f"Avec une autre exonération de CFE (art. {articles}), l'option entre elles est "
                            "irrévocable (art. 1463 A) ; délai à demander à votre SIE.",
                            None, tuple(concurrentes.references()), a_confirmer=True, id="option_cfe"))
        date, refs = taxes.echeances["cfe_annuelle"]
        annuelle = rules.value("echeance_declaration_cfe_annuelle", date).valeur
        out.append(Demarche("Déclarer les éléments d'imposition à la CFE",
                            f"{jour_echeance_fr(annuelle).capitalize()} de l'année qui suit la création (art. 1477 I).",
                            date, refs, id="declaration_cfe_annuelle"))
        date, refs = taxes.echeances["tfpb"]
        tfpb_spec = rules.value("echeance_declaration_tfpb", date).valeur
        rule = (f"au service des impôts de sa situation avant {jour_echeance_fr(tfpb_spec, lendemain=True)} de la "
                "première année d'exonération (art. 1383 F IV)")
        if proprietaire is True:
            out.append(Demarche("Déclarer l'immeuble pour l'exonération de taxe foncière",
                                "Propriétaire des locaux, l'entreprise est redevable de la taxe : elle déclare "
                                f"l'immeuble {rule}.", date, refs, id="declaration_tfpb", destinataire="proprietaire"))
        elif proprietaire is False:
            out.append(Demarche("Prévenir votre bailleur pour l'exonération de taxe foncière",
                                "Vous êtes locataire : votre bailleur, redevable de la taxe, est seul à pouvoir en "
                                f"bénéficier. Transmettez-lui l'information : il déclare l'immeuble {rule}.",
                                date, refs, id="declaration_tfpb", destinataire="proprietaire"))
        else:
            out.append(Demarche("Faire déclarer l'immeuble par son propriétaire pour l'exonération de taxe foncière",
                                f"Le propriétaire, redevable de la taxe, déclare l'immeuble {rule} ; locataire, "
                                "transmettez l'information à votre bailleur.",
                                date, refs, id="declaration_tfpb", destinataire="proprietaire"))
        if deliberation_unknown or deliberation_tfpb_unknown:
            body = cfe_deliberante(rules, epci, creation)
            tfpb = "à la mairie et à l'intercommunalité, chacune pour sa part, si elles ont délibéré (art. 1383 F II)"
            if deliberation_unknown:
                text = f"Pour la CFE, demandez à {body.complement} si elle a délibéré (art. 1466 B)"
                text += f" ; pour la taxe foncière, {tfpb}." if deliberation_tfpb_unknown else "."
            else:
                text = f"Pour la taxe foncière, demandez {tfpb}."
            out.append(Demarche("Se renseigner sur les délibérations exonérant le reste de la base", text,
                                None, (rules.sources["cgi_1466_b"].cite(), rules.sources["cgi_1383_f"].cite("II"),
                                       rules.sources["cgi_1639_a_bis"].cite()), id="se_renseigner_deliberation"))
    out.append(Demarche("Choisir entre régimes concurrents le cas échéant", STATIC_STEPS["choisir_regime"],
                        None, (rules.sources["lfr_2017_art_17"].cite("I, 1° à 6°"),), a_confirmer=True,
                        id="choisir_regime", statique=True))
    return tuple(out)


def clause_periodes_benefices(periodes: tuple[Any, ...] | list[Any], today: dt.date | None) -> str | None:
    """The headline clause on the profit-tax periods as seen on the day of the check, for `resume`: None while
    the full exemption is still running (or the day is unknown), else where things stand, with the end date."""
    if today is None or not periodes:
        return None
    full_end, last_end = periodes[0].fin, periodes[-1].fin
    if today <= full_end:
        return None
    if today <= last_end:
        current = next(p for p in periodes if p.debut <= today <= p.fin)
        rate = (current.taux_exoneration if current.taux_exoneration_effectif is None
                else current.taux_exoneration_effectif)
        return (f"l'exonération totale d'impôt sur les bénéfices a pris fin le {date_fr(full_end)} ; le bénéfice est "
                f"aujourd'hui exonéré à {pct(rate)} jusqu'au {date_fr(current.fin)}, et les "
                f"périodes d'exonération prennent fin le {date_fr(last_end)}")
    return f"les périodes d'exonération d'impôt sur les bénéfices sont terminées depuis le {date_fr(last_end)}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]


def _de(nom: str) -> str:
    """«de Douai», «d'Aulnoy-lez-Valenciennes», «du Cateau-Cambrésis», «des Rues-des-Vignes»."""
    if nom.startswith("Le "):
        return "du " + nom[3:]
    if nom.startswith("Les "):
        return "des " + nom[4:]
    if nom[:1] in "AEIOUYÉÈÊÂÎÔ":
        return "d'" + nom
    return "de " + nom


@lru_cache(maxsize=1024)
def _homonym_warnings(rules: Rules, code: str) -> tuple[Avertissement, ...]:
    """BUD.md § 5.5: a code read as an INSEE code that is also the postal code of other communes."""
    reference = load_reference()
    own = reference.get(code)
    others = reference.postal_code_homonyms(code)
    if own is None or not others:
        return ()
    classed = [(c, classify(c, None, rules).bud is not None) for c in others]
    classed.sort(key=lambda item: not item[1])  # BUD communes first, then by population (stable)
    shown = classed[:6]
    in_basin = [c for c, b in shown if b]
    groups = []
    if in_basin:
        # The codes to type instead are given for the communes of the basin, where the answer would change.
        label = "code INSEE " if len(in_basin) == 1 else ""
        names = [f"{_de(c.nom)} ({label}{c.insee})" for c in in_basin]
        groups.append(_and(names) + (", classée" if len(in_basin) == 1 else ", classées")
                      + " en bassin urbain à dynamiser")
    outside = [_de(c.nom) for c, b in shown if not b]
    if outside:
        groups.append(_and(outside) + ", hors du bassin")
    more = f", entre autres ({len(classed)} communes)" if len(classed) > len(shown) else ""
    where = "y est implantée" if len(classed) == 1 else "est implantée dans l'une d'elles"
    message = (f"{code} est le code INSEE {_de(own.nom)} ({own.departement}), commune retenue ; c'est aussi le code "
               f"postal {', et '.join(groups)}{more} : si l'entreprise {where}, indiquez son code INSEE.")
    communes = tuple({"insee": c.insee, "nom": c.nom, "bud": bud} for c, bud in classed)
    return (Avertissement("code_postal_homonyme", typographie(message), code, communes),)


def evaluate(data: Mapping[str, Any] | Situation, rules: Rules | None = None, *,
             date_verification: dt.date | None = None) -> Verdict:
    """Evaluate a situation (a JSON-like mapping or a `Situation`) and return its `Verdict`.

    `date_verification` is the day of the check (the doors pass today's date; the situation's own
    `date_verification`, when given, prevails): it tells the deadlines already past from those ahead. Without
    either, the verdict does not say which steps are past.

    Raises `SituationError` (with the field and a French message) on bad input.
    """
    rules = rules or current_rules()
    situation = parse_situation(data)
    today = situation.date_verification or date_verification
    version = rules.version_at(situation.date_creation)
    classement = classify(situation.commune, situation.commune_insee, rules) if situation.commune else None
    ctx = Context(situation, rules, version, classement, rules.epoch(situation.date_creation))
    conditions = [function(ctx) for _, function in CONDITIONS]
    statuts = [c.statut for c in conditions]
    if Statut.NON_REMPLIE in statuts:
        statut, applicable = NON_ELIGIBLE, False
    elif Statut.INCONNUE in statuts:
        statut, applicable = INDETERMINE, None
    else:
        statut, applicable = ELIGIBLE, True
    failing_names = [f"« {_lower_first(c.libelle)} »" for c in conditions if c.statut is Statut.NON_REMPLIE]
    failing = (f"la condition {failing_names[0]} n'est pas remplie" if len(failing_names) == 1 else
               f"les conditions {', '.join(failing_names)} ne sont pas remplies")
    profit = impot_benefices(rules, situation.date_creation, applicable, failing, situation.non_sedentaire,
                             situation.ca_hors_zone_pct)
    taxes = local_taxes(rules, applicable=applicable, reason=failing,
                        creation_etablissement=situation.date_creation_etablissement or situation.date_creation,
                        categorie=ctx.categorie, deliberation_cfe=situation.deliberation_exoneration_cfe,
                        deliberation_tfpb=situation.deliberation_exoneration_tfpb,
                        proprietaire=situation.proprietaire_immeuble, chiffre_affaires=situation.chiffre_affaires,
                        fin_exoneration_benefices=profit.periodes[-1].fin if profit.periodes else None,
                        epci_nom=situation.commune.epci_nom if situation.commune else None)
    exonerations = {"impot_benefices": profit, "cfe": taxes.cfe, "tfpb": taxes.tfpb, "cvae": taxes.cvae}
    conditions = _points_that_matter(statut, conditions, exonerations)
    points = tuple(p for c in conditions for p in c.points)
    if statut != NON_ELIGIBLE:
        points += tuple(p for e in exonerations.values() if e.applicable is not False for p in e.points)
    headline = Headline(statut, tuple(conditions), tuple(dict.fromkeys(points)),
                        profit.extra.get("fin_exoneration_totale"), profit.extra.get("part_bassin_pct"),
                        clause_periodes_benefices(profit.periodes, today) if statut != NON_ELIGIBLE else None)
    missing = _missing(conditions) if statut == INDETERMINE else []
    if statut != NON_ELIGIBLE:
        known = {m["champ"] for m in missing}
        missing += [{"champ": q.champ, "question": q.question, "conditions": []}
                    for q in _schedule_questions(situation, rules) if q.champ not in known]
    commune = None
    if classement is not None:
        row = classement.bud
        commune = {
            "insee": classement.commune.insee, "nom": classement.commune.nom,
            "departement": classement.commune.departement,
            "epci": classement.commune.epci, "epci_nom": classement.commune.epci_nom,
            "code_saisi_ancien": situation.commune_code_ancien,
            "bud": row is not None,
            "liste": row.liste.id if row else None,
            "classee_depuis": row.liste.classee_depuis.isoformat() if row else None,
            "confiance_liste": row.confiance.id if row else None,
        }
    economies_references = _savings_references(rules, situation)
    economies = savings.estimate(rules, situation, applicable, profit, taxes.cfe, taxes.tfpb, economies_references)
    return Verdict(
        statut=statut,
        resume=_summary_of(headline),
        situation=situation,
        version=version,
        version_url=rules.article.cite(version=version.en_vigueur.isoformat()).url,
        regles_version=rules.empreinte,
        conditions=conditions,
        exonerations=exonerations,
        demarches=_demarches(rules, statut, taxes, situation, today),
        informations_manquantes=missing,
        commune=commune,
        article=rules.article,
        limites=_limites(rules, statut, conditions),
        economies=economies,
        economies_references=economies_references if economies else (),
        avertissements=_homonym_warnings(rules, situation.commune_insee) if situation.commune_insee else (),
        date_verification=today,
        catalogue=catalogue_id(rules),
    )


def _savings_references(rules: Rules, situation: Situation) -> tuple[Reference, ...]:
    """The sources of the savings estimate: the corporate-tax rates in force at creation, when at IS."""
    if situation.impot_sur != "is" or situation.benefice_annuel_estime is None:
        return ()
    refs: list[Reference] = []
    for parameter in ("is_taux_normal_bareme", "is_taux_reduit_pme_pct", "is_plafond_taux_reduit_pme",
                      "is_taux_reduit_ca_maximum"):
        refs += rules.value(parameter, situation.date_creation).references()
    return merge_references(refs)
