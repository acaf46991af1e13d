"""Combine the conditions into a verdict, with schedules, filings and missing facts.

`Verdict.to_dict()` is the public JSON contract (documented in README.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

from .conditions import CLASSEMENT_NON_CONFIRME, CONDITIONS, Context
from .fr import date_fr, pct
from .law import LawVersion, Reference, Rules, current_rules
from .results import ConditionResult, InformationManquante, Statut
from .schedules import Exoneration, impot_benefices, local_taxes
from .situation import Situation, parse_situation
from .zone import classify

ELIGIBLE, NON_ELIGIBLE, INDETERMINE = "eligible", "non_eligible", "indetermine"
LIBELLES_STATUT = {ELIGIBLE: "éligible", NON_ELIGIBLE: "non éligible", INDETERMINE: "à confirmer"}
AVERTISSEMENT = ("Résultat indicatif, établi d'après les informations déclarées et les textes connus à la date des "
                 "règles appliquées ; il ne remplace ni l'analyse d'un professionnel ni la position de l'administration "
                 "fiscale (rescrit).")


@dataclass(frozen=True, slots=True)
class Demarche:
    titre: str
    description: str
    echeance: dt.date | None
    references: list[Reference]
    a_confirmer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"titre": self.titre, "description": self.description,
                "echeance": self.echeance.isoformat() if self.echeance else None,
                "references": [r.to_dict() for r in self.references], "a_confirmer": self.a_confirmer}


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

    @property
    def version_loi(self) -> str:
        return self.version.en_vigueur.isoformat()

    def version_explication(self) -> str:
        created = self.situation.date_creation
        if created < self.version.en_vigueur:
            return (f"Aucune version de l'article 44 sexdecies n'était en vigueur le {date_fr(created)} : le régime "
                    f"a été créé le {date_fr(self.version.en_vigueur)} ; c'est cette première version qui sert de référence.")
        return (f"Version de l'article 44 sexdecies du CGI appliquée : celle en vigueur le {date_fr(created)}, date de "
                f"création de l'entreprise, soit la version du {date_fr(self.version.en_vigueur)}. "
                f"{self.version.modification}")

    def condition(self, condition_id: str) -> ConditionResult:
        return next(c for c in self.conditions if c.id == condition_id)

    def to_dict(self) -> dict[str, Any]:
        points = [{"objet": c.id, "motif": m} for c in self.conditions for m in c.motifs_a_confirmer]
        points += [{"objet": key, "motif": m} for key, e in self.exonerations.items() if e.applicable is not False
                   for m in e.motifs_a_confirmer]
        return {
            "statut": self.statut,
            "libelle_statut": LIBELLES_STATUT[self.statut],
            "resume": self.resume,
            "version_loi": self.version_loi,
            "version": {
                "en_vigueur": self.version_loi,
                "explication": self.version_explication(),
                "article": "CGI, art. 44 sexdecies",
                "modification": self.version.modification,
                "texte_modificateur": self.version.texte_modificateur.texte if self.version.texte_modificateur else None,
                "confiance": self.version.confiance,
                "url": self.version_url,
            },
            "regles_version": self.regles_version,
            "situation": self.situation.to_dict(),
            "commune": self.commune,
            "conditions": [c.to_dict() for c in self.conditions],
            "exonerations": {key: value.to_dict() for key, value in self.exonerations.items()},
            "demarches": [d.to_dict() for d in self.demarches],
            "informations_manquantes": self.informations_manquantes,
            "points_a_confirmer": points,
            "avertissement": AVERTISSEMENT,
        }


def _missing(conditions: list[ConditionResult]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for condition in conditions:
        if condition.statut is not Statut.INCONNUE:
            continue
        for info in condition.informations_manquantes:
            entry = merged.setdefault(info.champ, {"champ": info.champ, "question": info.question, "conditions": []})
            entry["conditions"].append(condition.id)
    return list(merged.values())


def _schedule_questions(situation: Situation) -> list[InformationManquante]:
    """Facts that do not change the verdict but refine the schedules."""
    questions = []
    if situation.date_creation_etablissement is None:
        questions.append(InformationManquante("date_creation_etablissement",
                                              "À quelle date l'établissement a-t-il été créé (si ce n'est pas la date de début d'activité) ?"))
    if situation.deliberation_exoneration_cfe is None:
        questions.append(InformationManquante("deliberation_exoneration_cfe",
                                              "La commune ou l'intercommunalité a-t-elle délibéré pour exonérer l'autre moitié de la CFE ?"))
    if situation.non_sedentaire and situation.ca_hors_zone_pct is None:
        questions.append(InformationManquante("ca_hors_zone_pct",
                                              "Quelle part du chiffre d'affaires est réalisée hors du bassin ?"))
    return questions


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _summary(statut: str, conditions: list[ConditionResult], full_end: str | None, part_bassin: float | None) -> str:
    return _summary_of(statut, tuple(conditions), full_end, part_bassin)


@lru_cache(maxsize=1 << 11)
def _summary_of(statut: str, conditions: tuple[ConditionResult, ...], full_end: str | None,
                part_bassin: float | None) -> str:
    """The verdict in one sentence (results are shared objects, so the same tuple recurs)."""
    failing = [c for c in conditions if c.statut is Statut.NON_REMPLIE]
    unknown = [c for c in conditions if c.statut is Statut.INCONNUE]
    to_confirm = any(c.a_confirmer for c in conditions)
    if statut == NON_ELIGIBLE:
        names = ", ".join(_lower_first(c.libelle) for c in failing)
        return f"Non éligible au régime des bassins urbains à dynamiser : condition non remplie — {names}."
    if statut == INDETERMINE:
        names = ", ".join(_lower_first(c.libelle) for c in unknown)
        return f"Éligibilité à confirmer : il manque des informations sur — {names}."
    text = "Éligible au régime des bassins urbains à dynamiser"
    if full_end and part_bassin is None:
        text += f", avec une exonération totale d'impôt sur les bénéfices jusqu'au {date_fr(dt.date.fromisoformat(full_end))}"
    elif full_end:
        text += (f", avec une exonération d'impôt sur les bénéfices limitée à la part réalisée dans le bassin "
                 f"({pct(part_bassin)} du chiffre d'affaires) jusqu'au {date_fr(dt.date.fromisoformat(full_end))}")
    unconfirmed_commune = any(m.startswith(CLASSEMENT_NON_CONFIRME) for c in conditions for m in c.motifs_a_confirmer)
    if unconfirmed_commune:
        text += (", sous réserve des points à confirmer indiqués, en premier lieu le classement de la commune, "
                 "que vous devez faire confirmer par votre service des impôts des entreprises")
    elif to_confirm:
        text += ", sous réserve des points à confirmer indiqués"
    return text + "."


def _demarches(rules: Rules, statut: str, taxes: Any, situation: Situation) -> tuple[Demarche, ...]:
    if statut == NON_ELIGIBLE:
        return ()
    return _demarches_for(rules, taxes, situation.deliberation_exoneration_cfe is None)


@lru_cache(maxsize=1024)
def _demarches_for(rules: Rules, taxes: Any, deliberation_unknown: bool) -> tuple[Demarche, ...]:
    """What to file and when (built once per local-tax schedule, which is itself shared)."""
    article = rules.sources["cgi_44_sexdecies"].cite()
    out = [
        Demarche("Déclarer le bénéfice exonéré",
                 "Pour chaque exercice, portez le bénéfice exonéré au titre de l'article 44 sexdecies sur votre "
                 "déclaration de résultats : c'est vous qui appliquez l'exonération, sous le contrôle de l'administration.",
                 None, [article]),
        Demarche("Vérifier la clause d'emploi ou d'embauche à chaque clôture",
                 "À la date de clôture de chaque exercice, au moins la moitié des salariés (ou des embauchés depuis la "
                 "création) en CDI ou CDD d'au moins 12 mois doivent résider dans un bassin urbain à dynamiser.",
                 None, [rules.sources["bofip_bud_operations"].cite("§ 1"), rules.sources["erevue_clause_embauche"].cite()],
                 a_confirmer=True),
    ]
    if taxes.cfe.applicable is not False and "cfe" in taxes.echeances:
        date, refs = taxes.echeances["cfe"]
        out.append(Demarche("Demander l'exonération de CFE",
                            "Demandez l'exonération au service des impôts dont relève l'établissement, avec la déclaration "
                            "provisoire de l'établissement créé (art. 1477 II a) ; une demande tardive fait perdre "
                            "l'exonération pour l'année concernée.", date, refs))
        date, refs = taxes.echeances["cfe_annuelle"]
        out.append(Demarche("Déclarer les éléments d'imposition à la CFE",
                            "Déclaration des éléments servant au calcul de la CFE, au plus tard le deuxième jour ouvré "
                            "suivant le 1er mai de l'année qui suit la création (art. 1477 I).", date, refs))
        date, refs = taxes.echeances["tfpb"]
        out.append(Demarche("Déclarer l'immeuble pour l'exonération de taxe foncière",
                            "Le redevable de la taxe foncière (le propriétaire) déclare l'immeuble au service des impôts du "
                            "lieu de sa situation, sur le formulaire établi par l'administration, avant le 1er janvier de "
                            "la première année d'exonération (art. 1383 F IV).", date, refs))
        if deliberation_unknown:
            out.append(Demarche("Se renseigner sur la délibération de la commune",
                                "Demandez à la mairie ou à l'intercommunalité si elle a délibéré pour exonérer l'autre "
                                "moitié de CFE (art. 1466 B) et de taxe foncière (art. 1383 F II).",
                                None, [rules.sources["cgi_1466_b"].cite(), rules.sources["cgi_1639_a_bis"].cite()],
                                a_confirmer=True))
    out.append(Demarche("Choisir entre régimes concurrents le cas échéant",
                        "L'exonération n'est pas cumulable avec d'autres régimes d'allègement des bénéfices (entreprises "
                        "nouvelles art. 44 sexies, JEI, ZFU-TE, ZRR, etc.) ; si vous pouvez en bénéficier, une option est "
                        "nécessaire. Le délai et les modalités de cette option n'ont pas été vérifiés : interrogez votre SIE.",
                        None, [rules.sources["lfr_2017_art_17"].cite("I, 1° à 6°")], a_confirmer=True))
    return tuple(out)


def evaluate(data: Mapping[str, Any] | Situation, rules: Rules | None = None) -> Verdict:
    """Evaluate a situation (a JSON-like mapping or a `Situation`) and return its `Verdict`.

    Raises `SituationError` (with the field and a French message) on bad input.
    """
    rules = rules or current_rules()
    situation = parse_situation(data)
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
    failing = "; ".join(c.explication for c in conditions if c.statut is Statut.NON_REMPLIE)
    profit = impot_benefices(rules, situation.date_creation, applicable, failing, situation.non_sedentaire,
                             situation.ca_hors_zone_pct)
    taxes = local_taxes(rules, applicable=applicable, reason=failing,
                        creation_etablissement=situation.date_creation_etablissement or situation.date_creation,
                        categorie=ctx.categorie, deliberation_cfe=situation.deliberation_exoneration_cfe,
                        deliberation_tfpb=situation.deliberation_exoneration_tfpb,
                        proprietaire=situation.proprietaire_immeuble, chiffre_affaires=situation.chiffre_affaires)
    missing = _missing(conditions) if statut == INDETERMINE else []
    if statut != NON_ELIGIBLE:
        known = {m["champ"] for m in missing}
        missing += [{"champ": q.champ, "question": q.question, "conditions": []}
                    for q in _schedule_questions(situation) if q.champ not in known]
    commune = None
    if classement is not None:
        row = classement.bud
        commune = {
            "insee": classement.commune.insee, "nom": classement.commune.nom,
            "departement": classement.commune.departement, "epci": classement.commune.epci_nom,
            "code_saisi_ancien": situation.commune_code_ancien,
            "bud": row is not None,
            "liste": row.liste.id if row else None,
            "classee_depuis": row.liste.classee_depuis.isoformat() if row else None,
            "confiance_liste": row.confiance.id if row else None,
        }
    return Verdict(
        statut=statut,
        resume=_summary(statut, conditions, profit.extra.get("fin_exoneration_totale"), profit.extra.get("part_bassin_pct")),
        situation=situation,
        version=version,
        version_url=rules.article.cite(version=version.en_vigueur.isoformat()).url,
        regles_version=rules.empreinte,
        conditions=conditions,
        exonerations={"impot_benefices": profit, "cfe": taxes.cfe, "tfpb": taxes.tfpb, "cvae": taxes.cvae},
        demarches=_demarches(rules, statut, taxes, situation),
        informations_manquantes=missing,
        commune=commune,
    )
