"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json.

The situation schema is generated from the engine (keys, French labels, enumerations); the verdict schema
describes `Verdict.to_dict()` (README, «The JSON contract»). tests/test_api.py validates every expert rule
test's response against it, and tests/test_openapi_schemathesis.py fuzzes the API with it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...engine.conditions import CONDITION_IDS
from ...engine.law import FONDEMENTS
from ...engine.situation import KEYS, SCHEMA
from ...engine.verdict import FORMAT, LIBELLES_STATUT
from ..models import ID_PATTERN
from .openapi_lots import SECURITY_SCHEMES, UNAVAILABLE, batch_paths, batch_schemas

API_VERSION = "1.0.0"

_DATE_PATTERN = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    out = dict(schema)
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    if "type" not in out and "enum" not in out:
        return {"anyOf": [schema, {"type": "null"}]}
    return out


def _situation_property(key: str, *, output: bool) -> dict[str, Any]:
    """The JSON schema of one field of rules/situation.yaml."""
    champ = SCHEMA[key]
    label = champ.libelle()
    if champ.type == "date":
        schema: dict[str, Any] = {"type": "string", "format": "date", "pattern": _DATE_PATTERN,
                                  "example": "2019-05-14"}
    elif champ.type == "commune":
        schema = {"type": "string", "pattern": r"^[0-9][0-9AB][0-9]{3}$", "example": "59178",
                  "description": f"{label} ; un ancien code de commune fusionnée est admis ; ce n'est pas le code "
                                 "postal"}
    elif champ.type == "choix":
        schema = {"type": "string", "enum": list(champ.choix)}
    elif champ.type in ("nombre", "entier"):
        schema = {"type": "integer" if champ.type == "entier" else "number", "minimum": champ.min,
                  "maximum": champ.max}
    else:
        schema = {"type": "boolean"}
    schema.setdefault("description", f"{label} ; {champ.description}" if champ.description else label)
    question = champ.question()
    schema["description"] += f". Question : {question}"
    if output or champ.obligatoire:
        return schema
    return _nullable(schema)


def _situation_schema(*, output: bool) -> dict[str, Any]:
    description = ("Situation normalisée, telle que le moteur l'a comprise (les réponses « je ne sais pas » en sont "
                   "absentes)."
                   if output else
                   "Situation de l'entreprise. Seule `date_creation` est obligatoire ; une clé absente ou `null` "
                   "signifie « je ne sais pas ». Une clé inconnue est refusée (422). Le moteur tolère aussi quelques "
                   "formes textuelles (« oui »/« non », nombres écrits en texte) : elles donnent le même résultat que "
                   "la commande `bud-checker check`.")
    return {
        "type": "object",
        "description": description,
        "properties": {key: _situation_property(key, output=output) for key in KEYS},
        "required": [champ.id for champ in SCHEMA if champ.obligatoire],
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_STRING = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_NULL_STRING = {"type": ["string", "null"]}
_STRINGS = {"type": "array", "items": _STRING}
_NULLABLE_BOOLEAN = {"type": ["boolean", "null"]}
_UNKNOWN = "absent (ou null) : inconnu"

_FONDEMENT = {"type": ["string", "null"], "enum": [*FONDEMENTS, None],
              "description": "ce sur quoi repose la règle : texte officiel lu, doctrine de l'administration, sources "
                             "secondaires concordantes, ou point incertain ; absent : « texte » (null : vérification "
                             "enregistrée avant l'introduction du fondement)"}
_A_CONFIRMER = {"type": "boolean", "description": "absent : false"}
_REFERENCES = {"type": "array", "items": _ref("Reference"),
               "description": "sources officielles, par identifiant du catalogue des règles"}
_COMPLEMENTAIRES = {"type": "array", "items": _ref("Reference"),
                    "description": "sources complémentaires (éditeurs, traductions, portails d'aides), absent si "
                                   "aucune"}
_MOTIFS = {**_STRINGS, "description": "présent quand a_confirmer : ce qui pourrait changer le résultat"}
_EXONERATION_COMMON = {
    "applicable": {"type": ["boolean", "null"],
                   "description": "true, false, ou null quand cela dépend de conditions encore inconnues"},
    "explication": _STRING,
    "fondement": _FONDEMENT,
    "references": _REFERENCES,
    "sources_complementaires": _COMPLEMENTAIRES,
    "a_confirmer": _A_CONFIRMER,
    "motifs_a_confirmer": _MOTIFS,
}
_COMMON_REQUIRED = ["applicable", "explication", "references"]
_PERIODES_DESCRIPTION = "absent : aucune période (l'exonération ne s'applique pas)"


def _local_exoneration(extra: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {**_EXONERATION_COMMON,
                       "periodes": {"type": "array", "items": _ref("PeriodeLocale"),
                                    "description": _PERIODES_DESCRIPTION},
                       **extra},
        "required": _COMMON_REQUIRED,
        "additionalProperties": False,
    }


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Erreur")}}}


# Rate limits per client address (bud_checker/web/security.py); the limits themselves are configuration.
_TOO_MANY = {**_error_response("Trop de requêtes depuis cette adresse : réessayer après `Retry-After` secondes"),
             "headers": {"Retry-After": {"description": "secondes à attendre", "schema": {"type": "integer"}}}}


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Situation": _situation_schema(output=False),
        "SituationNormalisee": _situation_schema(output=True),
        "Reference": {
            "type": "object",
            "description": "Une citation : l'identifiant d'une source du tableau `sources` du catalogue des règles "
                           "(lien `regles` du verdict), et le passage cité",
            "properties": {"source": _STRING, "precision": _STRING},
            "required": ["source"],
            "additionalProperties": False,
        },
        "Source": {
            "type": "object",
            "description": "Une source du catalogue des règles ; `url_version` : adresse datée, où `{date}` est "
                           "remplacé par la version appliquée (`version_loi` du verdict) ; `version` : la version "
                           "appliquée (tableau d'une vérification enregistrée avant le format 3) ; `complementaire` "
                           "(absent : false) : source non officielle",
            "properties": {"texte": _STRING, "url": {"type": ["string", "null"], "format": "uri"},
                           "url_version": _STRING,
                           "version": {"type": "string", "format": "date"}, "complementaire": {"type": "boolean"}},
            "required": ["texte", "url"],
            "additionalProperties": False,
        },
        "Condition": {
            "type": "object",
            "properties": {
                "id": {"type": "string", "enum": list(CONDITION_IDS)},
                "libelle": _STRING,
                "statut": {"type": "string", "enum": ["remplie", "non_remplie", "inconnue"]},
                "explication": _STRING,
                "fondement": _FONDEMENT,
                "references": _REFERENCES,
                "sources_complementaires": _COMPLEMENTAIRES,
                "a_confirmer": {"type": "boolean",
                                "description": "un point incertain pourrait changer ce verdict pour cette situation "
                                               "(absent : false)"},
                "motifs_a_confirmer": _MOTIFS,
                "informations_manquantes": {"type": "array", "description": "absent si rien ne manque", "items": {
                    "type": "object",
                    "properties": {"champ": {"type": "string", "enum": list(KEYS)}, "question": _STRING},
                    "required": ["champ", "question"], "additionalProperties": False}},
            },
            "description": "Une condition ; `explication` est la phrase sur ce cas, l'énoncé de la règle étant dans "
                           "le catalogue des règles (`regles`)",
            "required": ["id", "libelle", "statut", "explication", "references"],
            "additionalProperties": False,
        },
        "Periode": {
            "type": "object",
            "properties": {"debut": _DATE, "fin": _DATE,
                           "taux_exoneration": {"type": "number", "minimum": 0, "maximum": 100},
                           "taux_exoneration_effectif": {"type": "number", "minimum": 0, "maximum": 100,
                                                         "description": "activité non sédentaire réalisant hors du "
                                                                        "bassin plus que le seuil de chiffre "
                                                                        "d'affaires du paramètre "
                                                                        "seuil_ca_hors_zone_non_sedentaire_pct"}},
            "required": ["debut", "fin", "taux_exoneration"],
            "additionalProperties": False,
        },
        "PeriodeLocale": {
            "type": "object",
            "description": "Des années d'imposition consécutives aux mêmes parts (pourcentages de la base), de `de` à "
                           "`a` inclus",
            "properties": {"de": {"type": "integer"}, "a": {"type": "integer"},
                           "part_de_droit": {"type": ["number", "null"],
                                             "description": "absent (ou null) : impôt supprimé (cvae_supprimee)"},
                           "part_sur_deliberation": {"type": ["number", "null"],
                                                     "description": "absent (ou null) quand la délibération n'est pas "
                                                                    "connue"},
                           "phase": {"type": "string", "enum": ["exoneration", "abattement"]},
                           "cvae_supprimee": {"type": "boolean", "description": "absent : false"}},
            "required": ["de", "a", "phase"],
            "additionalProperties": False,
        },
        "ImpotBenefices": {
            "type": "object",
            "properties": {**_EXONERATION_COMMON,
                           "periodes": {"type": "array", "items": _ref("Periode"),
                                        "description": _PERIODES_DESCRIPTION},
                           "fin_exoneration_totale": _DATE,
                           "part_bassin_pct": {"type": "number", "minimum": 0, "maximum": 100,
                                               "description": "activité non sédentaire au-delà du seuil : part du "
                                                              "chiffre d'affaires réalisée dans le bassin, seule "
                                                              "exonérée"}},
            "required": _COMMON_REQUIRED,
            "additionalProperties": False,
        },
        "Cfe": _local_exoneration({"premiere_annee": {"type": "integer"}}, "CFE (art. 1463 A et 1466 B)"),
        "Tfpb": _local_exoneration({"premiere_annee": {"type": "integer"},
                                    "proprietaire_immeuble": {**_NULLABLE_BOOLEAN, "description": _UNKNOWN}},
                                   "TFPB (art. 1383 F)"),
        "Cvae": _local_exoneration({"nulle_du_fait_du_chiffre_affaires": {**_NULLABLE_BOOLEAN, "description": _UNKNOWN},
                                    "deliberation_exoneration_cfe": {**_NULLABLE_BOOLEAN, "description": _UNKNOWN}},
                                   "CVAE (art. 1586 ter et 1586 nonies)"),
        "Demarche": {
            "type": "object",
            "description": "Une démarche ; une clé absente ne porte rien (voir chaque clé)",
            "properties": {"titre": _STRING,
                           "description": {**_STRING, "description": "absent : la description de la démarche, qui ne "
                                                                     "dépend que des règles, est dans le catalogue des "
                                                                     "règles (`demarches`, sous `id`)"},
                           "echeance": {"type": ["string", "null"], "format": "date",
                                        "description": "absent (ou null) : démarche sans date limite"},
                           "references": _REFERENCES, "sources_complementaires": _COMPLEMENTAIRES,
                           "a_confirmer": {"type": "boolean",
                                           "description": "modalités non vérifiées (absent : false)"},
                           "id": _STRING,
                           "passee": {"type": ["boolean", "null"],
                                      "description": "échéance antérieure à date_verification ; absent (ou null) : "
                                                     "démarche non datée, ou vérification sans date_verification"},
                           "destinataire": {"type": "string", "enum": ["entreprise", "proprietaire"]},
                           "rattrapage": {"type": ["string", "null"],
                                          "description": "ce qui peut encore être fait, quand l'échéance est "
                                                         "passée ; absent : le texte du catalogue des règles "
                                                         "(`rattrapages`, sous `id`), s'il y en a un"},
                           "prochaine_echeance": {"type": ["string", "null"], "format": "date",
                                                  "description": "échéance passée rattrapable pour les années "
                                                                 "suivantes : nouvelle date limite"}},
            "required": ["titre", "references"],
            "additionalProperties": False,
        },
        "Economies": {
            "type": "object",
            "description": "Estimation des économies d'impôt (null sans montant indiqué ou si non éligible) : année "
                           "par année, avec ses hypothèses ; ce n'est pas un calcul de l'impôt dû.",
            "properties": {
                "estimation": {"type": "boolean"},
                "annees": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"annee": {"type": "integer"}, "impot_benefices": {"type": ["integer", "null"]},
                                   "cfe": {"type": ["integer", "null"]}, "tfpb": {"type": ["integer", "null"]},
                                   "total": {"type": "integer"}},
                    "required": ["annee", "impot_benefices", "cfe", "tfpb", "total"], "additionalProperties": False}},
                "periodes_impot_benefices": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"debut": _DATE, "fin": _DATE, "taux_exoneration": {"type": "number"},
                                   "benefice": {"type": "integer"}, "impot_sans_exoneration": {"type": "integer"},
                                   "impot_avec_exoneration": {"type": "integer"}, "economie": {"type": "integer"}},
                    "required": ["debut", "fin", "taux_exoneration", "benefice", "impot_sans_exoneration",
                                 "impot_avec_exoneration", "economie"], "additionalProperties": False}},
                "totaux": {"type": "object",
                           "properties": {k: {"type": ["integer", "null"]} for k in ("impot_benefices", "cfe", "tfpb")},
                           "required": ["impot_benefices", "cfe", "tfpb"], "additionalProperties": False},
                "total": {"type": "integer"},
                "hypotheses": _STRINGS,
                "explication": _STRING,
                "references": _REFERENCES, "sources_complementaires": _COMPLEMENTAIRES,
            },
            "required": ["estimation", "annees", "periodes_impot_benefices", "totaux", "total", "hypotheses",
                         "explication", "references"],
            "additionalProperties": False,
        },
        "Verdict": {
            "type": "object",
            "description": "Le verdict du moteur (docs/contrat-json.md) : identique à la sortie de "
                           "`bud-checker check`. Ce qui ne dépend que des règles (tableau des sources, limites "
                           "générales, notes et énoncés des règles, description des démarches fixes) est dans le "
                           "catalogue des règles, lié par `regles` ; une clé absente ne porte rien (liste vide, null, "
                           "false : voir chaque clé).",
            "properties": {
                "format": {"type": "integer", "const": FORMAT,
                           "description": "forme du verdict (3 : catalogue des règles à part, années en périodes, "
                                          "clés vides omises)"},
                "statut": {"type": "string", "enum": list(LIBELLES_STATUT)},
                "libelle_statut": {"type": "string", "enum": list(LIBELLES_STATUT.values())},
                "resume": _STRING,
                "a_confirmer": {"type": "boolean",
                                "description": "un point incertain pourrait changer ce verdict (voir "
                                               "points_a_confirmer)"},
                "version_loi": _DATE,
                "version": {
                    "type": "object",
                    "properties": {"en_vigueur": _DATE,
                                   "explication": {**_STRING, "description": "la version appliquée et pourquoi ; "
                                                   "ce qu'elle a changé est dans `versions` du catalogue"},
                                   "source": {**_NULL_STRING, "description": "l'article, dans les sources du "
                                                                             "catalogue"},
                                   "texte_modificateur": {**_NULL_STRING, "description": "la loi, dans les sources du "
                                                                                         "catalogue (absent : aucune)"},
                                   "confiance": {"type": "string", "enum": ["V", "S", "U"]}},
                    "required": ["en_vigueur", "explication", "source", "confiance"],
                    "additionalProperties": False,
                },
                "regles_version": _STRING,
                "regles": {**_STRING, "description": "adresse du catalogue des règles de ce verdict "
                                                     "(GET /api/v1/regles/{id}), absent dans une vérification "
                                                     "enregistrée avant le format 3, qui porte son `catalogue`"},
                "catalogue": _ref("CatalogueEnLigne"),
                "situation": _ref("SituationNormalisee"),
                "commune": {"anyOf": [{"type": "null"}, {
                    "type": "object",
                    "properties": {"insee": _STRING, "nom": _STRING, "departement": _STRING,
                                   "epci": {"type": ["string", "null"],
                                            "description": "code SIREN de l'intercommunalité"},
                                   "epci_nom": {"type": ["string", "null"], "description": "nom de l'intercommunalité"},
                                   "code_saisi_ancien": {"type": "boolean"}, "bud": {"type": "boolean"},
                                   "liste": _NULL_STRING,
                                   "classee_depuis": {"type": ["string", "null"], "format": "date"},
                                   "confiance_liste": _NULL_STRING},
                    "description": "absent : aucune commune indiquée ; `code_saisi_ancien` absent : false ; `liste`, "
                                   "`classee_depuis`, `confiance_liste` absents : commune hors des listes BUD",
                    "required": ["insee", "nom", "departement", "bud"],
                    "additionalProperties": False}]},
                "conditions": {"type": "array", "items": _ref("Condition"), "minItems": len(CONDITION_IDS),
                               "maxItems": len(CONDITION_IDS)},
                "exonerations": {
                    "type": "object",
                    "properties": {"impot_benefices": _ref("ImpotBenefices"), "cfe": _ref("Cfe"), "tfpb": _ref("Tfpb"),
                                   "cvae": _ref("Cvae")},
                    "required": ["impot_benefices", "cfe", "tfpb", "cvae"],
                    "additionalProperties": False,
                },
                "demarches": {"type": "array", "items": _ref("Demarche"), "description": "absent : aucune"},
                "date_verification": {"type": ["string", "null"], "format": "date",
                                      "description": "absent : jour de la vérification non indiqué"},
                "avertissements": {"type": "array", "description": "absent : aucun", "items": {
                    "type": "object",
                    "description": "Point à vérifier dans la saisie elle-même (par exemple un code postal saisi comme "
                                   "code INSEE).",
                    "properties": {"code": _STRING, "message": _STRING,
                                   "code_saisi": {**_NULL_STRING, "description": "absent : aucun"},
                                   "communes": {"type": "array", "items": {
                                       "type": "object",
                                       "properties": {"insee": _STRING, "nom": _STRING, "bud": {"type": "boolean"}},
                                       "required": ["insee", "nom", "bud"],
                                       "additionalProperties": False}}},
                    "required": ["code", "message"], "additionalProperties": False}},
                "informations_manquantes": {"type": "array", "description": "absent : rien ne manque", "items": {
                    "type": "object",
                    "properties": {"champ": {"type": "string", "enum": list(KEYS)}, "question": _STRING,
                                   "conditions": {"type": "array",
                                                  "items": {"type": "string", "enum": list(CONDITION_IDS)},
                                                  "description": "les conditions que la réponse décide ; absent : "
                                                                 "aucune (la réponse précise les échéanciers)"}},
                    "required": ["champ", "question"], "additionalProperties": False}},
                "points_a_confirmer": {"type": "array", "description": "les seuls points incertains qui pourraient "
                                       "changer ce verdict : quoi, auprès de qui, pourquoi (absent : aucun)", "items": {
                    "type": "object", "properties": {"objet": {**_STRING, "description": "la condition ou "
                                                               "l'exonération, dont `motifs_a_confirmer` dit pourquoi"},
                                                     "quoi": _STRING, "aupres_de": _STRING},
                    "required": ["objet", "quoi", "aupres_de"], "additionalProperties": False}},
                "limites": {**_STRINGS, "description": "les limites générales de l'outil qui concernent ce verdict, "
                                                       "par identifiant : leur texte est dans `limites` du catalogue "
                                                       "(absent : aucune)"},
                "certitude": {"type": "array", "description": "notes de recherche propres à ce cas, pour les experts, "
                              "par condition ou exonération ; les notes de chaque règle sont dans `notes` du catalogue "
                              "(absent : aucune)", "items": {
                    "type": "object", "properties": {"objet": _STRING, "notes": _STRINGS},
                    "required": ["objet", "notes"], "additionalProperties": False}},
                "avertissement": {**_STRING, "description": "à montrer avec tout résultat : il est indicatif"},
                "economies": {"anyOf": [{"type": "null"}, _ref("Economies")],
                              "description": "absent : aucune estimation demandée ou possible"},
            },
            "required": ["format", "statut", "libelle_statut", "resume", "a_confirmer", "version_loi", "version",
                         "regles_version", "situation", "conditions", "exonerations", "avertissement"],
            "additionalProperties": False,
        },
        "Catalogue": {
            "type": "object",
            "description": "Le catalogue des règles d'un verdict : ce qui ne dépend que de la version des règles, "
                           "écrit une fois (GET /api/v1/regles/{id}) ; son contenu ne change jamais",
            "properties": {
                "id": _STRING, "regles_version": _STRING, "format": {"type": "integer", "const": FORMAT},
                "avertissement": _STRING,
                "limites": {"type": "object", "additionalProperties": _STRING,
                            "description": "les limites générales de l'outil, par identifiant"},
                "notes": {"type": "object", "additionalProperties": _STRINGS,
                          "description": "les notes de recherche de chaque règle (condition ou exonération), à "
                                         "lire avant celles du verdict (`certitude`) ; celles d'une exonération "
                                         "valent là où elle peut s'appliquer"},
                "regles": {"type": "object", "description": "l'énoncé de chaque règle qui en a un, montré après "
                                                            "(`position` : apres) ou avant l'explication du verdict, "
                           "dans la variante en vigueur à la date de création (`depuis` null : la première)",
                           "additionalProperties": {
                               "type": "object",
                               "properties": {"position": {"type": "string", "enum": ["avant", "apres"]},
                                              "variantes": {"type": "array", "items": {
                                                  "type": "object",
                                                  "properties": {"depuis": {"type": ["string", "null"],
                                                                            "format": "date"},
                                                                 "texte": _STRING},
                                                  "required": ["depuis", "texte"], "additionalProperties": False}}},
                               "required": ["position", "variantes"], "additionalProperties": False}},
                "demarches": {"type": "object", "additionalProperties": _STRING,
                              "description": "la description des démarches qui ne dépend que des règles, par `id`"},
                "rattrapages": {"type": "object", "additionalProperties": _STRING,
                                "description": "ce qui peut encore être fait une fois l'échéance d'une démarche "
                                               "passée, quand cela ne dépend que des règles, par `id`"},
                "versions": {"type": "object", "additionalProperties": _STRING,
                             "description": "ce qu'a changé chaque version de l'art. 44 sexdecies, par date d'entrée "
                                            "en vigueur : à lire après `version.explication` du verdict quand la "
                                            "création est postérieure à cette date"},
                "sources": {"type": "object", "additionalProperties": _ref("Source"),
                            "description": "chaque source, une seule fois, par identifiant"},
            },
            "required": ["id", "regles_version", "format", "avertissement", "limites", "notes", "regles",
                         "demarches", "rattrapages", "versions", "sources"],
            "additionalProperties": False,
        },
        "CatalogueEnLigne": {
            "type": "object",
            "description": "Vérification enregistrée avant le format 3 : ses propres sources et limites, celles des "
                           "règles avec lesquelles elle a été faite (à la place du lien `regles`)",
            "properties": {"sources": {"type": "object", "additionalProperties": _ref("Source")},
                           "limites": {"type": "object", "additionalProperties": _STRING}},
            "required": ["sources", "limites"],
            "additionalProperties": False,
        },
        "Verification": {
            "type": "object",
            "description": "Une vérification enregistrée : la situation reçue et le verdict tel que calculé alors.",
            "properties": {
                "id": {"type": "string", "pattern": f"^{ID_PATTERN}$"},
                "url": {"type": "string", "format": "uri", "description": "adresse de cette ressource dans l'API"},
                "page": {"type": "string", "format": "uri", "description": "page web du résultat, à partager"},
                "cree_le": {"type": "string", "format": "date-time"},
                "regles_version": _STRING,
                "situation": {"type": "object", "description": "la situation telle que reçue"},
                "verdict": _ref("Verdict"),
            },
            "required": ["id", "url", "page", "cree_le", "regles_version", "situation", "verdict"],
            "additionalProperties": False,
        },
        "Commune": {
            "type": "object",
            "properties": {"insee": _STRING, "nom": _STRING, "libelle": _STRING, "departement": _STRING,
                           "codes_postaux": _STRINGS, "epci": _NULL_STRING, "epci_nom": _NULL_STRING,
                           "bud": {"type": "boolean", "description": "classée (ou réputée classée) en BUD"},
                           "liste": _NULL_STRING, "classee_depuis": {"type": ["string", "null"], "format": "date"},
                           "a_confirmer": {"type": "boolean"}, "classement": _STRING,
                           "approchee": {"type": "boolean", "description": (
                               "true quand le nom ne correspond pas à la saisie mais lui ressemble (faute de "
                               "frappe tolérée) : à faire confirmer par l'utilisateur")}},
            "required": ["insee", "nom", "libelle", "departement", "codes_postaux", "epci", "epci_nom", "bud", "liste",
                         "classee_depuis", "a_confirmer", "classement", "approchee"],
            "additionalProperties": False,
        },
        "Erreur": {
            "type": "object",
            "properties": {"erreur": {
                "type": "object",
                "properties": {"champ": {"type": ["string", "null"],
                                         "description": "la clé ou le paramètre en cause, null si aucun"},
                               "message": {"type": "string", "description": "une phrase en français"}},
                "required": ["champ", "message"], "additionalProperties": False}},
            "required": ["erreur"],
            "additionalProperties": False,
        },
    }
    verification_response = {"application/json": {"schema": _ref("Verification")}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "BUD Checker — API",
            "version": API_VERSION,
            "description": (
                "Vérification de l'éligibilité au régime des bassins urbains à dynamiser (CGI art. 44 sexdecies). "
                "Chaque vérification est enregistrée sous un identifiant non devinable et peut être relue telle "
                "qu'elle a été calculée. Les erreurs sont en JSON : {\"erreur\": {\"champ\": …, \"message\": …}}. "
                "Le résultat est indicatif."),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/verifications": {"post": {
                "operationId": "creerVerification",
                "summary": "Évaluer une situation et enregistrer la vérification",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("Situation"),
                    "example": {"date_creation": "2019-05-14", "commune_insee": "59178", "activite": "commerciale",
                                "origine": "creation_pure", "effectif": 3, "chiffre_affaires": 180000,
                                "capital_detenu_par_societes_pct": 0, "siege_et_moyens_dans_zone": True,
                                "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 2}}}},
                "responses": {
                    "201": {"description": "Vérification enregistrée", "content": verification_response,
                            "headers": {"Location": {"description": "adresse de la vérification dans l'API",
                                                     "schema": {"type": "string", "format": "uri"}}}},
                    "400": _error_response("Corps illisible (JSON invalide ou mal encodé)"),
                    "413": _error_response("Corps trop volumineux"),
                    "415": _error_response("Le corps n'est pas déclaré en application/json"),
                    "422": _error_response("Situation invalide : `champ` nomme la clé en cause"),
                    "429": _TOO_MANY,
                    "503": UNAVAILABLE,
                },
            }},
            "/verifications/{id}": {"get": {
                "operationId": "lireVerification",
                "summary": "Relire une vérification enregistrée, telle qu'elle a été calculée",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 64}}],
                "responses": {
                    "200": {"description": "La vérification", "content": verification_response},
                    "404": _error_response("Aucune vérification sous cet identifiant"),
                    "429": _TOO_MANY,
                    "503": UNAVAILABLE,
                },
            }},
            "/regles/{id}": {"get": {
                "operationId": "lireCatalogueRegles",
                "summary": "Le catalogue des règles d'un verdict (sources, limites, notes et énoncés des règles)",
                "description": "L'adresse est le lien `regles` du verdict ; le contenu d'un catalogue ne change "
                               "jamais (une nouvelle version des règles a un autre identifiant).",
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "string", "minLength": 1, "maxLength": 80}}],
                "responses": {
                    "200": {"description": "Le catalogue", "content": {"application/json": {
                        "schema": _ref("Catalogue")}}},
                    "404": _error_response("Aucun catalogue sous cet identifiant"),
                    "429": _TOO_MANY,
                    "503": UNAVAILABLE,
                },
            }},
            "/communes": {"get": {
                "operationId": "chercherCommunes",
                "summary": "Chercher une commune par nom, code postal ou code INSEE, avec son classement en BUD",
                "description": (
                    "Ordre des résultats : d'abord les communes du bassin (listes BUD et communes à confirmer) dont "
                    "le nom est la saisie, commence par elle ou a un mot qui commence par elle (ou dont un code "
                    "postal commence par les chiffres saisis), les plus peuplées d'abord ; puis les autres communes "
                    "de France (nom exact, début du nom, début d'un mot, partie du nom ; code postal ; code INSEE, "
                    "y compris celui d'une ancienne commune fusionnée). Les accents, la casse, les tirets et « st » "
                    "pour « saint » sont indifférents. S'il reste de la place, des noms proches de la saisie "
                    "(fautes de frappe, au moins 3 caractères) complètent la liste, marqués `approchee`."),
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 100}, "example": "douai"},
                    {"name": "limite", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}},
                ],
                "responses": {
                    "200": {"description": "Les communes trouvées, la plus probable d'abord", "content": {
                        "application/json": {"schema": {
                            "type": "object", "properties": {"communes": {"type": "array", "items": _ref("Commune")}},
                            "required": ["communes"], "additionalProperties": False}}}},
                    "400": _error_response("Paramètre manquant ou invalide"),
                    "429": _TOO_MANY,
                },
            }},
            "/openapi.json": {"get": {
                "operationId": "documentOpenapi",
                "summary": "Ce document",
                "responses": {"200": {"description": "Document OpenAPI 3.1",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            **batch_paths(),  # the advisers' batches (openapi_lots.py)
        },
        "components": {"schemas": {**schemas, **batch_schemas()}, "securitySchemes": SECURITY_SCHEMES},
    }
