"""The conditions of the BUD regime, one function each, under the name the law gives it.

Each function reads the situation and the rules in force on the date of creation, and returns a
`ConditionResult`: met / not met / unknown, a French explanation for a business creator, the references,
what the rule rests on (`fondement`, from `rules/conditions.yaml`), the uncertain points that could change this
verdict (`points`: never the general limits of the tool, stated once per verdict from `rules/limites.yaml`)
and, when unknown, the facts that would decide it. The legal source of each rule is in `rules/conditions.yaml`
under the same id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache, wraps
from operator import attrgetter
from typing import Callable

from .fr import accord, date_fr, euros, nombre_fr, pct, typographie
from .law import ConditionRule, LawVersion, Reference, Rules
from .results import (AUPRES_DU_SIE, ConditionResult, InformationManquante, PointAConfirmer, Statut, all_of, any_of,
                      merge_references)
from .situation import SCHEMA, Situation
from .zone import Classement

CLASSEMENT_DE_LA_COMMUNE = "classement de la commune"  # what to confirm when a commune's classification is uncertain


@dataclass(frozen=True, slots=True)
class Context:
    situation: Situation
    rules: Rules
    version: LawVersion
    classement: Classement | None
    epoch: int  # the period of stable parameter values containing the date of creation (Rules.epoch)

    @property
    def categorie(self) -> str | None:
        """«originale» or «limitrophe» when the commune is listed, else None."""
        if self.classement is None:
            return None
        row = self.classement.bud or self.classement.ancienne_commune_bud
        return row.liste.categorie if row else None

    def question(self, champ: str, variante: str | None = None, **extra: str) -> InformationManquante:
        """The missing fact `champ` and its question (rules/situation.yaml), with the values in force."""
        text = SCHEMA[champ].question(self.situation.date_creation, self.rules, variante, **extra)
        return InformationManquante(champ, text)


def _point(item: PointAConfirmer | str, libelle: str) -> PointAConfirmer:
    """A point to confirm; a bare sentence is read as a point on the condition, to confirm with the SIE."""
    if isinstance(item, str):
        item = PointAConfirmer(libelle[:1].lower() + libelle[1:], AUPRES_DU_SIE, item)
    return PointAConfirmer(item.quoi, item.aupres_de, typographie(item.motif))


@lru_cache(maxsize=1024)
def _condition_references(rule: ConditionRule, version: str) -> tuple[Reference, ...]:
    """The condition's own sources, pinned to the article version applied."""
    return tuple(c.reference(version if c.source.url_version else None) for c in rule.citations)


def _result(ctx: Context, condition_id: str, statut: Statut, explication: str, *,
            extra_refs: list[Reference] | None = None, confirmer: list[PointAConfirmer | str] | None = None,
            manquantes: list[InformationManquante] | None = None, fondement: str | None = None,
            notes: list[str] | None = None) -> ConditionResult:
    """`confirmer`: only the uncertain points that could change this verdict for this situation."""
    rule: ConditionRule = ctx.rules.conditions[condition_id]
    version = ctx.version.en_vigueur.isoformat()
    # The rule's own sources (official and complementary), then the official sources of the values it read.
    references = merge_references((*_condition_references(rule, version),
                                   *(r for r in extra_refs or () if not r.complementaire)))
    points = tuple(_point(item, rule.libelle) for item in confirmer or ())
    # The rule's own research notes (rules/conditions.yaml) are in the rules catalogue; `notes` are this case's.
    return ConditionResult(condition_id, rule.libelle, statut, typographie(explication), references,
                           points, tuple(manquantes or ()), fondement or rule.fondement,
                           tuple(typographie(n) for n in notes or ()))


_MEMO_LIMIT = 1 << 11  # per condition: bounds memory (a few MB) while common answers stay cached


class _Call:
    """A condition's call, equal to another when the memo key is: the context itself is not compared."""

    __slots__ = ("key", "ctx", "_hash")

    def __init__(self, key: tuple, ctx: Context):
        self.key, self.ctx, self._hash = key, ctx, hash(key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Call) and self.key == other.key


def condition(function: Callable[[Context], ConditionResult]) -> Callable[[Context], ConditionResult]:
    """A condition of the regime, named as in rules/conditions.yaml. The situation fields it reads are those
    whose `conditions` name it in rules/situation.yaml; its result depends on nothing else (besides the rules,
    the article version and the epoch of parameter values), so it is computed once per distinct combination
    and shared (results are immutable). tests/test_situation_schema.py checks that a condition reads no other
    field."""
    fields = SCHEMA.read_by(function.__name__)
    getters = tuple(attrgetter(name) for name in fields)

    @lru_cache(maxsize=_MEMO_LIMIT)
    def cached(call: _Call) -> ConditionResult:
        return function(call.ctx)

    @wraps(function)
    def run(ctx: Context) -> ConditionResult:
        situation = ctx.situation
        return cached(_Call((ctx.rules, ctx.version, ctx.epoch, *(get(situation) for get in getters)), ctx))

    run.reads = fields  # type: ignore[attr-defined]  # the fields it reads (tests/test_properties.py)
    run.memo = cached  # type: ignore[attr-defined]  # functools.lru_cache: cache_info(), cache_clear()
    return run


# --- CGI art. 44 sexdecies I: the creation window ------------------------------------------------------------

@condition
def periode_creation(ctx: Context) -> ConditionResult:
    rules, d = ctx.rules, ctx.situation.date_creation
    fin = rules.value("fin_periode_creation", d)
    debut_originale = rules.value("debut_periode_creation_originale", d)
    debut_limitrophe = rules.value("debut_periode_creation_limitrophe", d)
    refs = fin.references()
    confirmer: list[str] = []
    categorie = ctx.categorie
    debut = debut_limitrophe if categorie == "limitrophe" else debut_originale
    refs += [r for r in debut.references() if r not in refs]

    if d < debut_originale.valeur:
        return _result(ctx, "periode_creation", Statut.NON_REMPLIE,
                       f"Votre entreprise a commencé son activité le {date_fr(d)}, avant l'entrée en vigueur du "
                       f"régime : seules les entreprises créées à compter du {date_fr(debut_originale.valeur)} peuvent "
                       "en bénéficier.",
                       extra_refs=refs)
    last = rules.param("fin_periode_creation").last()
    prorogation = rules.value("prorogation_posterieure_connue", d)
    open_question = fin is last and not prorogation.valeur  # the last known end date, no later text known
    attendu = rules.value("texte_attendu_prorogation", d).valeur
    if d > fin.valeur:
        explication = (f"Votre entreprise a commencé son activité le {date_fr(d)}, après la fin de la période de "
                       f"création, fixée au {date_fr(fin.valeur)} par la version du texte en vigueur à cette date.")
        if open_question:
            explication = (f"Votre entreprise commence son activité le {date_fr(d)}, après le {date_fr(fin.valeur)}, "
                           f"dernier jour de la période de création en l'état du droit : elle n'ouvre pas droit au "
                           f"régime, sauf prorogation par {attendu}, en discussion, qui modifierait l'article "
                           "44 sexdecies.")
            confirmer.append(PointAConfirmer(
                f"prorogation du régime par {attendu}", f"{AUPRES_DU_SIE}, une fois la loi publiée",
                f"Une création après le {date_fr(fin.valeur)} n'est couverte que si {attendu} proroge le régime : "
                "vérifiez le texte publié, ou interrogez votre SIE, avant de compter sur l'exonération."))
            refs += [r for r in prorogation.references() if r not in refs]
        return _result(ctx, "periode_creation", Statut.NON_REMPLIE, explication,
                       extra_refs=refs, confirmer=confirmer)
    if d < debut_limitrophe.valeur and categorie is None:
        return _result(ctx, "periode_creation", Statut.INCONNUE,
                       f"Une création le {date_fr(d)} est dans la période pour les communes classées par "
                       f"{rules.listes['arrete_2018'].acte}, mais pas pour les communes limitrophes, admises seulement "
                       f"à compter du {date_fr(debut_limitrophe.valeur)} : la réponse dépend de la commune.",
                       extra_refs=refs,
                       manquantes=[ctx.question("commune_insee")])
    if d < debut.valeur:
        return _result(ctx, "periode_creation", Statut.NON_REMPLIE,
                       f"Votre commune fait partie des communes limitrophes ajoutées au bassin à compter du "
                       f"{date_fr(debut.valeur)} : une entreprise qui y a commencé son activité le {date_fr(d)} "
                       "n'ouvre pas droit au régime.",
                       extra_refs=refs)
    explication = (f"Votre entreprise a commencé son activité le {date_fr(d)}, dans la période de création "
                   f"(du {date_fr(debut.valeur)} au {date_fr(fin.valeur)} selon la version du texte en vigueur à cette "
                   "date).")
    if open_question and (d.year, d.month) == (fin.valeur.year, fin.valeur.month):
        explication += (f" Attention, la période se termine le {date_fr(fin.valeur)} : l'activité doit avoir commencé "
                        f"au plus tard ce jour-là ; une création plus tardive n'ouvrirait droit au régime que si "
                        f"{attendu} le proroge.")
    return _result(ctx, "periode_creation", Statut.REMPLIE, explication, extra_refs=refs)


# --- CGI art. 44 sexdecies II and the classification arrêtés (rules/communes/listes.yaml): the commune ------

@condition
def commune_zone(ctx: Context) -> ConditionResult:
    classement = ctx.classement
    if classement is None:
        return _result(ctx, "commune_zone", Statut.INCONNUE,
                       "La commune d'implantation n'est pas indiquée : le régime ne s'applique qu'aux entreprises "
                       "implantées dans l'une des communes classées en bassin urbain à dynamiser.",
                       manquantes=[ctx.question("commune_insee")])
    commune = classement.commune
    nom = f"{commune.nom} ({commune.departement})"
    if classement.bud is not None:
        row = classement.bud
        refs = [c.reference() for c in row.liste.citations]
        confirmer: list[PointAConfirmer | str] = []
        notes = [f"{commune.nom} : commune {row.confiance.libelle}."]
        if row.confiance.a_confirmer:
            explication = (f"{nom} est traitée comme classée en bassin urbain à dynamiser par {row.liste.acte} : "
                           "elle est dans le périmètre officiel du bassin, mais son classement reste à confirmer.")
            confirmer.append(PointAConfirmer(
                CLASSEMENT_DE_LA_COMMUNE, AUPRES_DU_SIE,
                f"{commune.nom} est dans le périmètre officiel du bassin, mais aucun texte lisible ne la nomme : "
                "faites confirmer son classement par votre SIE avant de vous engager."))
        else:
            explication = (f"{nom} figure parmi les communes classées en bassin urbain à dynamiser par "
                           f"{row.liste.acte}, depuis le {date_fr(row.liste.classee_depuis)}.")
        if ctx.situation.commune_code_ancien:
            explication += (f" Le code saisi ({ctx.situation.commune_insee}) est l'ancien code d'une commune fusionnée "
                            f"dans {commune.nom}.")
        return _result(ctx, "commune_zone", Statut.REMPLIE, explication, extra_refs=refs, confirmer=confirmer,
                       fondement=row.confiance.fondement, notes=notes)
    if classement.ancienne_commune_bud is not None:
        former = classement.ancienne_commune_bud
        return _result(ctx, "commune_zone", Statut.INCONNUE,
                       f"{nom} regroupe d'anciennes communes, dont {former.nom} ({former.insee}), classée en bassin "
                       "urbain à dynamiser ; le classement vaut pour le territoire de l'ancienne commune. Il faut "
                       "savoir si l'entreprise est implantée sur ce territoire.",
                       extra_refs=[c.reference() for c in former.liste.citations],
                       confirmer=[PointAConfirmer(
                           f"classement du territoire de l'ancienne commune de {former.nom}", AUPRES_DU_SIE,
                           "L'effet d'une fusion de communes sur le périmètre du bassin n'est pas établi : faites "
                           "confirmer par votre SIE que votre adresse est dans le bassin.")],
                       fondement="incertain",
                       manquantes=[ctx.question("commune_insee", "ancienne_commune", nom=former.nom,
                                                insee=former.insee)])
    confirmer = []
    actes = " et ".join(dict.fromkeys(liste.acte for liste in ctx.rules.listes.values()))
    explication = (f"{nom} ne figure pas sur la liste des communes classées en bassin urbain à dynamiser "
                   f"({actes}) : le régime ne s'applique pas à une entreprise qui y est implantée.")
    notes = []
    if classement.epci_liste_incomplete:
        confirmer.append(PointAConfirmer(
            CLASSEMENT_DE_LA_COMMUNE, AUPRES_DU_SIE,
            f"{commune.nom} est hors du périmètre officiel du bassin, mais la liste des communes classées de son "
            "intercommunalité n'est pas connue avec certitude : faites confirmer auprès de votre SIE."))
        notes.append(f"{commune.nom} : hors du contour officiel du bassin (ANCT), dans une intercommunalité dont la "
                     "liste n'a pas été lue.")
    return _result(ctx, "commune_zone", Statut.NON_REMPLIE, explication, confirmer=confirmer,
                   fondement="incertain" if confirmer else None, notes=notes)


# --- CGI art. 44 sexdecies I: industrial, commercial or craft activity (art. 34) -------------------------------

# Which activities are admitted is law (rules/parameters/activite_et_origine.yaml); here, only how each case
# not admitted is explained.
_ACTIVITES_EXCLUES = {
    "liberale": "Une activité libérale (bénéfices non commerciaux, art. 92 du CGI) n'est pas visée par le texte, "
                "qui ne retient que les activités industrielles, commerciales ou artisanales au sens de l'article 34.",
    "agricole": "Une activité agricole (bénéfices agricoles, art. 63 du CGI) n'est pas visée par le texte, "
                "qui ne retient que les activités industrielles, commerciales ou artisanales au sens de l'article 34.",
    "civile": "Une activité civile (par exemple la gestion d'un patrimoine immobilier) n'est pas une activité "
              "industrielle, commerciale ou artisanale au sens de l'article 34 du CGI.",
}


@condition
def activite(ctx: Context) -> ConditionResult:
    value = ctx.situation.activite
    if value is None:
        return _result(ctx, "activite", Statut.INCONNUE,
                       "La nature de l'activité n'est pas indiquée : seules les activités industrielles, commerciales "
                       "ou artisanales ouvrent droit au régime.",
                       manquantes=[ctx.question("activite")])
    admises = ctx.rules.value("activites_admises", ctx.situation.date_creation)
    if value not in admises.valeur:
        return _result(ctx, "activite", Statut.NON_REMPLIE, _ACTIVITES_EXCLUES.get(
            value, "Cette activité n'est pas une activité industrielle, commerciale ou artisanale au sens de "
                   "l'article 34 du CGI."), extra_refs=admises.references())
    return _result(ctx, "activite", Statut.REMPLIE,
                   f"Une activité {value} est une activité industrielle, commerciale ou artisanale "
                   "au sens de l'article 34 du CGI.", extra_refs=admises.references())


# --- BOI-BIC-CHAMP-80-10-90-20 § 10-30: a genuinely new creation ------------------------------------------------

# Which origins exclude the company is law (rules/parameters/activite_et_origine.yaml); here, how each is named.
_ORIGINES = {
    "reprise": "la reprise d'une activité préexistante",
    "transfert": "le transfert d'une activité préexistante",
    "concentration": "la concentration d'activités préexistantes",
    "restructuration": "la restructuration d'activités préexistantes",
    "extension": "l'extension d'une activité préexistante",
}


@condition
def creation_nouvelle(ctx: Context) -> ConditionResult:
    value = ctx.situation.origine
    if value is None:
        return _result(ctx, "creation_nouvelle", Statut.INCONNUE,
                       "L'origine de l'entreprise n'est pas indiquée : seules les entreprises réellement nouvelles, "
                       "au sens juridique et économique, ouvrent droit au régime.",
                       manquantes=[ctx.question("origine")])
    exclues = ctx.rules.value("origines_exclues", ctx.situation.date_creation)
    if value in exclues.valeur:
        return _result(ctx, "creation_nouvelle", Statut.NON_REMPLIE,
                       f"Une entreprise créée dans le cadre de {_ORIGINES.get(value, value)} est exclue du régime. "
                       "Attention, un entrepreneur qui s'installe dans le bassin sans reprendre de moyens "
                       "d'exploitation ni de clientèle, même partiellement, d'une entreprise existante réalise une "
                       "création.")
    return _result(ctx, "creation_nouvelle", Statut.REMPLIE,
                   "Votre entreprise est une création nouvelle : elle ne reprend ni les moyens d'exploitation ni la "
                   "clientèle, même partielle, d'une entreprise existante.")


# --- Règlement (UE) n° 651/2014, annexe I: small or medium-sized enterprise -----------------------------------

@condition
def taille_pme(ctx: Context) -> ConditionResult:
    s, rules, d = ctx.situation, ctx.rules, ctx.situation.date_creation
    effectif_max = rules.value("effectif_maximum_exclu", d)
    ca_max = rules.value("chiffre_affaires_maximum", d)
    bilan_max = rules.value("total_bilan_maximum", d)
    refs = effectif_max.references()

    effectif_ok = Statut.INCONNUE if s.effectif is None else (
        Statut.REMPLIE if s.effectif < effectif_max.valeur else Statut.NON_REMPLIE)
    ca_ok = Statut.INCONNUE if s.chiffre_affaires is None else (
        Statut.REMPLIE if s.chiffre_affaires <= ca_max.valeur else Statut.NON_REMPLIE)
    bilan_ok = Statut.INCONNUE if s.total_bilan is None else (
        Statut.REMPLIE if s.total_bilan <= bilan_max.valeur else Statut.NON_REMPLIE)
    financier = any_of([ca_ok, bilan_ok])
    statut = all_of([effectif_ok, financier])
    # The rule itself (thresholds, partner and linked enterprises) is stated once, in the rules catalogue
    # (STATEMENTS below); the explanation is the sentence about this company.
    if statut is Statut.REMPLIE:
        facts = [f"{nombre_fr(s.effectif)} personne{'s' if s.effectif >= 2 else ''}"]
        if ca_ok is Statut.REMPLIE:
            facts.append(f"un chiffre d'affaires de {euros(s.chiffre_affaires)}")
        if bilan_ok is Statut.REMPLIE:
            facts.append(f"un total de bilan de {euros(s.total_bilan)}")
        listed = facts[0] if len(facts) == 1 else ", ".join(facts[:-1]) + " et " + facts[-1]
        return _result(ctx, "taille_pme", statut,
                       f"Votre entreprise est une PME au sens européen, avec {listed}.", extra_refs=refs)
    if statut is Statut.NON_REMPLIE:
        if effectif_ok is Statut.NON_REMPLIE:
            why = (f"son effectif ({nombre_fr(s.effectif)}) atteint ou dépasse {nombre_fr(effectif_max.valeur)} "
                   "personnes")
        else:
            why = (f"son chiffre d'affaires ({euros(s.chiffre_affaires)}) dépasse {euros(ca_max.valeur)} et son total "
                   f"de bilan ({euros(s.total_bilan)}) dépasse {euros(bilan_max.valeur)}")
        return _result(ctx, "taille_pme", statut,
                       f"Votre entreprise n'est pas une PME au sens européen, car {why}.", extra_refs=refs)
    manquantes = []
    if effectif_ok is Statut.INCONNUE:
        manquantes.append(ctx.question("effectif"))
    if financier is Statut.INCONNUE:
        if ca_ok is Statut.INCONNUE:
            manquantes.append(ctx.question("chiffre_affaires"))
        if bilan_ok is Statut.INCONNUE:
            manquantes.append(ctx.question("total_bilan"))
    return _result(ctx, "taille_pme", statut,
                   "Il manque des éléments pour vérifier que votre entreprise est une PME au sens européen.",
                   extra_refs=refs, manquantes=manquantes)


def regle_taille_pme(rules: Rules, d: dt.date) -> str:
    """The statement of the SME rule in force on `d` (rules catalogue)."""
    return (f"Une PME compte moins de {nombre_fr(rules.value('effectif_maximum_exclu', d).valeur)} personnes et a un "
            f"chiffre d'affaires annuel d'au plus {euros(rules.value('chiffre_affaires_maximum', d).valeur)} ou un "
            f"total de bilan d'au plus {euros(rules.value('total_bilan_maximum', d).valeur)}. Les effectifs et "
            "montants des entreprises partenaires ou liées s'ajoutent aux vôtres ; pour une entreprise nouvelle, ils "
            "sont estimés de bonne foi.")


# --- Capital not held for more than 50 % by other companies --------------------------------------------------

@condition
def capital(ctx: Context) -> ConditionResult:
    value = ctx.situation.capital_detenu_par_societes_pct
    maximum = ctx.rules.value("capital_detenu_par_societes_maximum_pct", ctx.situation.date_creation)
    refs = maximum.references()
    if value is None:
        return _result(ctx, "capital", Statut.INCONNUE,
                       f"La répartition du capital n'est pas indiquée : il ne doit pas être détenu, directement ou "
                       f"indirectement, pour plus de {pct(maximum.valeur)} par d'autres sociétés.",
                       extra_refs=refs,
                       manquantes=[ctx.question("capital_detenu_par_societes_pct")])
    if value > maximum.valeur:
        return _result(ctx, "capital", Statut.NON_REMPLIE,
                       f"{pct(value)} du capital est détenu par d'autres sociétés, soit plus que le maximum de "
                       f"{pct(maximum.valeur)}.", extra_refs=refs)
    return _result(ctx, "capital", Statut.REMPLIE,
                   f"{pct(value)} du capital est détenu par d'autres sociétés, ce qui ne dépasse pas "
                   f"{pct(maximum.valeur)} (le capital détenu par des personnes physiques n'est pas compté).",
                   extra_refs=refs)


# --- Siège, activité et moyens d'exploitation in the zone; non-sedentary activities ----------------------------

CONFLIT_NON_SEDENTAIRE = (
    "Au-delà de {seuil} du chiffre d'affaires réalisé hors du bassin, les fiches de l'administration divergent : la "
    "première impose seulement la part du bénéfice réalisée hors du bassin, la plus récente exige au moins {reste} du "
    "chiffre d'affaires dans le bassin ; faites confirmer la règle par votre service des impôts des entreprises (SIE)."
)


@condition
def implantation(ctx: Context) -> ConditionResult:
    """Siège, whole activity and operating means in the zone; for a non-sedentary activity, the siège in the
    zone and at most the threshold share of turnover made outside (BUD.md § 2.6; the threshold is in rules/)."""
    s = ctx.situation
    seuil = ctx.rules.value("seuil_ca_hors_zone_non_sedentaire_pct", s.date_creation)
    refs = seuil.references()
    siege, activite_moyens = s.siege_en_zone, s.activite_et_moyens_en_zone
    mobile, part = s.non_sedentaire, s.ca_hors_zone_pct
    regle_mobile = ("pour une activité non sédentaire, exercée en partie hors du bassin, la condition est réputée "
                    f"remplie si le siège est dans le bassin et si au plus {pct(seuil.valeur)} du chiffre d'affaires "
                    "est réalisé hors du bassin ; elle s'apprécie exercice par exercice")
    if siege is False:
        return _result(ctx, "implantation", Statut.NON_REMPLIE,
                       "Le siège social doit être implanté dans le bassin urbain à dynamiser, même pour une activité "
                       "non sédentaire ; ce n'est pas le cas.", extra_refs=refs)
    # Everything in the zone (siège, activity and means): met, whatever the kind of activity, unless a
    # non-sedentary activity reports turnover made outside (the turnover test then decides).
    if siege and activite_moyens and not (mobile and part):
        return _result(ctx, "implantation", Statut.REMPLIE,
                       "Le siège social, l'ensemble de l'activité et les moyens d'exploitation sont implantés dans le "
                       "bassin.", extra_refs=refs)
    if mobile is False and (activite_moyens is False or s.siege_et_moyens_dans_zone is False):
        return _result(ctx, "implantation", Statut.NON_REMPLIE,
                       "Le siège social, l'ensemble de l'activité et les moyens d'exploitation doivent être implantés "
                       "dans le bassin urbain à dynamiser ; ce n'est pas le cas, et l'activité n'est pas non "
                       f"sédentaire (seule exception : {regle_mobile}).", extra_refs=refs)
    if mobile is not True:
        manquantes = []
        if mobile is None and activite_moyens is not True:
            manquantes.append(ctx.question("non_sedentaire"))
        if siege is None:
            manquantes.append(ctx.question("siege_dans_zone"))
        if activite_moyens is None:
            manquantes.append(ctx.question("activite_et_moyens_dans_zone"))
        return _result(ctx, "implantation", Statut.INCONNUE,
                       "Il faut que le siège social, l'ensemble de l'activité et les moyens d'exploitation soient "
                       f"implantés dans le bassin urbain à dynamiser ; {regle_mobile}.",
                       extra_refs=refs, manquantes=manquantes)
    # A non-sedentary activity: the siège and the share of turnover made outside the zone decide.
    if siege is None or part is None:
        manquantes = []
        if siege is None:
            manquantes.append(ctx.question("siege_dans_zone"))
        if part is None:
            manquantes.append(ctx.question("ca_hors_zone_pct"))
        return _result(ctx, "implantation", Statut.INCONNUE,
                       f"Activité non sédentaire : {regle_mobile}.", extra_refs=refs, manquantes=manquantes)
    if part >= 100:
        return _result(ctx, "implantation", Statut.NON_REMPLIE,
                       "Activité non sédentaire dont tout le chiffre d'affaires est réalisé hors du bassin : "
                       "l'activité n'est pas exercée dans le bassin, la condition n'est pas remplie "
                       f"({regle_mobile}).", extra_refs=refs)
    if part <= seuil.valeur:
        return _result(ctx, "implantation", Statut.REMPLIE,
                       f"Activité non sédentaire, siège dans le bassin : {pct(part)} du chiffre d'affaires est réalisé "
                       f"hors du bassin, ce qui ne dépasse pas {pct(seuil.valeur)} ; la condition d'implantation est "
                       "réputée remplie pour tout le bénéfice. Elle s'apprécie exercice par exercice.", extra_refs=refs)
    # BUD.md § 8, point 9: the two DDFIP sheets conflict above the threshold, and that changes this verdict.
    conflit = PointAConfirmer(f"règle applicable au-delà de {pct(seuil.valeur)} du chiffre d'affaires hors du bassin",
                              AUPRES_DU_SIE,
                              CONFLIT_NON_SEDENTAIRE.format(seuil=pct(seuil.valeur), reste=pct(100 - seuil.valeur)))
    return _result(ctx, "implantation", Statut.REMPLIE,
                   f"Activité non sédentaire, siège dans le bassin : {pct(part)} du chiffre d'affaires est réalisé "
                   f"hors du bassin, plus que {pct(seuil.valeur)} ; selon la première fiche de l'administration, la "
                   f"part du bénéfice correspondante ({pct(part)}) est imposée dans les conditions de droit commun et "
                   "le reste bénéficie du régime. Elle s'apprécie exercice par exercice.",
                   extra_refs=refs, confirmer=[conflit])


# --- Clause d'emploi ou d'embauche (BOI-BIC-CHAMP-80-10-90-20 § 1) ---------------------------------------------

@condition
def clause_embauche(ctx: Context) -> ConditionResult:
    s = ctx.situation
    part = ctx.rules.value("part_minimale_residents_bud_pct", s.date_creation)
    refs = part.references()
    seuil = part.valeur
    salaries = s.salaries_eligibles
    if salaries is None and s.effectif == 0:
        salaries = 0
    embauches = s.embauches_eligibles

    def test(residents: float | None, total: float | None) -> Statut:
        if residents is None or total is None:
            return Statut.INCONNUE
        return Statut.REMPLIE if residents * 100 >= seuil * total else Statut.NON_REMPLIE

    # A company with no qualifying employee at the closing date has nobody living outside the zone: the
    # «emploi» test is met vacuously (flagged below). No hire since creation only passes with no staff at all.
    no_staff = salaries == 0
    emploi = Statut.REMPLIE if no_staff else test(s.salaries_eligibles_residents_bud, salaries)
    if embauches == 0:
        embauche = Statut.REMPLIE if no_staff else (Statut.INCONNUE if salaries is None else Statut.NON_REMPLIE)
    else:
        embauche = test(s.embauches_eligibles_residents_bud, embauches)
    statut = any_of([emploi, embauche])
    # The clause itself is stated once, in the rules catalogue (regle_clause_embauche, after the explanation).
    # Only the company with no qualifying employee rests on an unverified reading (BUD.md §2.9): 0 ≥ ½ × 0.
    confirmer: list[PointAConfirmer | str] = [] if not no_staff else [PointAConfirmer(
        "application de la clause d'emploi ou d'embauche à une entreprise sans salarié", AUPRES_DU_SIE,
        "Sans salarié, la clause est tenue pour respectée, aucun salarié ne résidant hors du bassin ; ce point "
        "n'est pas tranché par les textes lus : faites-le confirmer par votre SIE (un rescrit est possible).")]
    if statut is Statut.REMPLIE:
        if no_staff:
            texte = ("L'entreprise n'emploie pas de salarié entrant dans le calcul : aucun salarié ne réside hors du "
                     "bassin, la clause est considérée comme respectée.")
        else:
            met = []
            if emploi is Statut.REMPLIE:
                met.append("clause d'emploi : " + _residents(s.salaries_eligibles_residents_bud, salaries,
                                                             "salarié", "salariés"))
            if embauche is Statut.REMPLIE:
                met.append("clause d'embauche : " + _residents(s.embauches_eligibles_residents_bud, embauches,
                                                               "embauché", "embauchés"))
            texte = f"La clause est respectée ({' ; '.join(met)})."
        return _result(ctx, "clause_embauche", statut, texte, extra_refs=refs, confirmer=confirmer)
    if statut is Statut.NON_REMPLIE:
        emploi_text = _residents(s.salaries_eligibles_residents_bud, salaries, "salarié", "salariés")
        embauche_text = ("aucun embauché depuis la création" if embauches == 0 else
                         _residents(s.embauches_eligibles_residents_bud, embauches, "embauché", "embauchés"))
        texte = (f"Ni la clause d'emploi ({emploi_text}) ni la clause d'embauche ({embauche_text}) "
                 "n'est respectée : l'exonération n'est pas due au titre d'un exercice à la clôture duquel aucune des "
                 "deux n'est respectée.")
        return _result(ctx, "clause_embauche", statut, texte, extra_refs=refs, confirmer=confirmer)
    manquantes = []
    if emploi is Statut.INCONNUE:
        if salaries is None:
            manquantes.append(ctx.question("salaries_eligibles"))
        if s.salaries_eligibles_residents_bud is None:
            manquantes.append(ctx.question("salaries_eligibles_residents_bud"))
    if embauche is Statut.INCONNUE and embauches != 0:  # no hire: nothing to ask about resident hires
        if embauches is None:
            manquantes.append(ctx.question("embauches_eligibles"))
        if s.embauches_eligibles_residents_bud is None:
            manquantes.append(ctx.question("embauches_eligibles_residents_bud"))
    return _result(ctx, "clause_embauche", statut,
                   "Il manque des éléments pour vérifier la clause d'emploi ou d'embauche.",
                   extra_refs=refs, confirmer=confirmer, manquantes=manquantes)


def regle_clause_embauche(rules: Rules, d: dt.date) -> str:
    """The statement of the clause in force on `d` (rules catalogue)."""
    seuil = pct(rules.value("part_minimale_residents_bud_pct", d).valeur)
    cdd = rules.value("duree_minimale_cdd_mois", d).valeur
    return (f"À la clôture de chaque exercice, au moins {seuil} des salariés en CDI ou en CDD d'au moins {cdd} mois "
            f"doivent résider dans un bassin urbain à dynamiser (clause d'emploi), ou au moins {seuil} des salariés "
            "embauchés dans ces conditions depuis la création (clause d'embauche), temps partiels au prorata.")


# The static statement of a rule, shown after the sentence about the case (rules catalogue, `regles`).
STATEMENTS: dict[str, Callable[[Rules, dt.date], str]] = {
    "taille_pme": regle_taille_pme,
    "clause_embauche": regle_clause_embauche,
}


def _count(value: float | None) -> str:
    return "?" if value is None else nombre_fr(value)


def _residents(residents: float | None, total: float | None, singulier: str, pluriel: str) -> str:
    """«1 salarié sur 2 réside dans le bassin», «3 embauchés sur 4 résident dans le bassin»."""
    verbe = accord(residents, "réside", "résident")
    return f"{_count(residents)} {accord(residents, singulier, pluriel)} sur {_count(total)} {verbe} dans le bassin"


CONDITIONS: tuple[tuple[str, Callable[[Context], ConditionResult]], ...] = (
    ("periode_creation", periode_creation),
    ("commune_zone", commune_zone),
    ("activite", activite),
    ("creation_nouvelle", creation_nouvelle),
    ("taille_pme", taille_pme),
    ("capital", capital),
    ("implantation", implantation),
    ("clause_embauche", clause_embauche),
)

CONDITION_IDS = tuple(name for name, _ in CONDITIONS)
