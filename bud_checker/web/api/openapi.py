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
                  "description": f"{label} ; un ancien code de commune fusionnée est admis ; ce n'est pas le code postal"}
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
    description = ("Situation normalisée, telle que le moteur l'a comprise (les réponses « je ne sais pas » en sont absentes)."
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

_FONDEMENT = {"type": ["string", "null"], "enum": [*FONDEMENTS, None],
              "description": "ce sur quoi repose la règle : texte officiel lu, doctrine de l'administration, sources "
                             "secondaires concordantes, ou point incertain (null : vérification enregistrée avant "
                             "l'introduction du fondement)"}
_REFERENCES = {"type": "array", "items": _ref("Reference"), "description": "sources officielles, par identifiant"}
_COMPLEMENTAIRES = {"type": "array", "items": _ref("Reference"),
                    "description": "sources complémentaires (éditeurs, traductions, portails d'aides), absent si aucune"}
_MOTIFS = {**_STRINGS, "description": "présent quand a_confirmer : ce qui pourrait changer le résultat"}
_EXONERATION_COMMON = {
    "applicable": {"type": ["boolean", "null"],
                   "description": "true, false, ou null quand cela dépend de conditions encore inconnues"},
    "explication": _STRING,
    "fondement": _FONDEMENT,
    "references": _REFERENCES,
    "sources_complementaires": _COMPLEMENTAIRES,
    "a_confirmer": {"type": "boolean"},
    "motifs_a_confirmer": _MOTIFS,
}
_COMMON_REQUIRED = ["applicable", "explication", "references", "a_confirmer"]


def _local_exoneration(extra: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {**_EXONERATION_COMMON, "annees": {"type": "array", "items": _ref("AnneeLocale")}, **extra},
        "required": [*_COMMON_REQUIRED, "annees"],
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
            "description": "Une citation : l'identifiant d'une source du tableau `sources` du verdict, et le "
                           "passage cité",
            "properties": {"source": _STRING, "precision": _STRING},
            "required": ["source"],
            "additionalProperties": False,
        },
        "Source": {
            "type": "object",
            "description": "Une source citée par le verdict, écrite une seule fois ; `version` : la version appliquée "
                           "(texte daté), `complementaire` : source non officielle",
            "properties": {"texte": _STRING, "url": {"type": ["string", "null"], "format": "uri"},
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
                                "description": "un point incertain pourrait changer ce verdict pour cette situation"},
                "motifs_a_confirmer": _MOTIFS,
                "informations_manquantes": {"type": "array", "description": "absent si rien ne manque", "items": {
                    "type": "object", "properties": {"champ": {"type": "string", "enum": list(KEYS)}, "question": _STRING},
                    "required": ["champ", "question"], "additionalProperties": False}},
            },
            "required": ["id", "libelle", "statut", "explication", "references", "a_confirmer"],
            "additionalProperties": False,
        },
        "Periode": {
            "type": "object",
            "properties": {"debut": _DATE, "fin": _DATE,
                           "taux_exoneration": {"type": "number", "minimum": 0, "maximum": 100},
                           "taux_exoneration_effectif": {"type": "number", "minimum": 0, "maximum": 100,
                                                         "description": "activité non sédentaire réalisant hors du "
                                                                        "bassin plus que le seuil de chiffre d'affaires "
                                                                        "du paramètre "
                                                                        "seuil_ca_hors_zone_non_sedentaire_pct"}},
            "required": ["debut", "fin", "taux_exoneration"],
            "additionalProperties": False,
        },
        "AnneeLocale": {
            "type": "object",
            "description": "Une année d'imposition ; les parts sont des pourcentages de la base",
            "properties": {"annee": {"type": "integer"},
                           "part_de_droit": {"type": ["number", "null"]},
                           "part_sur_deliberation": {"type": ["number", "null"],
                                                     "description": "absent (ou null) quand la délibération n'est pas "
                                                                    "connue"},
                           "phase": {"type": "string", "enum": ["exoneration", "abattement"]},
                           "cvae_supprimee": {"type": "boolean"}},
            "required": ["annee", "part_de_droit", "phase"],
            "additionalProperties": False,
        },
        "ImpotBenefices": {
            "type": "object",
            "properties": {**_EXONERATION_COMMON, "periodes": {"type": "array", "items": _ref("Periode")},
                           "fin_exoneration_totale": _DATE,
                           "part_bassin_pct": {"type": "number", "minimum": 0, "maximum": 100,
                                               "description": "activité non sédentaire au-delà du seuil : part du "
                                                              "chiffre d'affaires réalisée dans le bassin, seule "
                                                              "exonérée"}},
            "required": [*_COMMON_REQUIRED, "periodes"],
            "additionalProperties": False,
        },
        "Cfe": _local_exoneration({"premiere_annee": {"type": "integer"}}, "CFE (art. 1463 A et 1466 B)"),
        "Tfpb": _local_exoneration({"premiere_annee": {"type": "integer"},
                                    "proprietaire_immeuble": {"type": ["boolean", "null"]}}, "TFPB (art. 1383 F)"),
        "Cvae": _local_exoneration({"nulle_du_fait_du_chiffre_affaires": {"type": ["boolean", "null"]},
                                    "deliberation_exoneration_cfe": {"type": ["boolean", "null"]}},
                                   "CVAE (art. 1586 ter et 1586 nonies)"),
        "Demarche": {
            "type": "object",
            "properties": {"titre": _STRING, "description": _STRING,
                           "echeance": {"type": ["string", "null"], "format": "date"},
                           "references": _REFERENCES, "sources_complementaires": _COMPLEMENTAIRES,
                           "a_confirmer": {"type": "boolean", "description": "modalités non vérifiées"},
                           "id": _STRING,
                           "passee": {"type": ["boolean", "null"],
                                      "description": "échéance antérieure à date_verification (null : non datée)"},
                           "destinataire": {"type": "string", "enum": ["entreprise", "proprietaire"]},
                           "rattrapage": {"type": ["string", "null"],
                                          "description": "ce qui peut encore être fait, quand l'échéance est passée"},
                           "prochaine_echeance": {"type": ["string", "null"], "format": "date",
                                                  "description": "échéance passée rattrapable pour les années "
                                                                 "suivantes : nouvelle date limite"}},
            "required": ["titre", "description", "echeance", "references", "a_confirmer"],
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
            "description": "Le verdict du moteur (README, « The JSON contract ») : identique à la sortie de "
                           "`bud-checker check`.",
            "properties": {
                "format": {"type": "integer", "const": FORMAT,
                           "description": "forme du verdict (2 : sources écrites une fois et citées par identifiant)"},
                "statut": {"type": "string", "enum": list(LIBELLES_STATUT)},
                "libelle_statut": {"type": "string", "enum": list(LIBELLES_STATUT.values())},
                "resume": _STRING,
                "a_confirmer": {"type": "boolean",
                                "description": "un point incertain pourrait changer ce verdict (voir points_a_confirmer)"},
                "version_loi": _DATE,
                "version": {
                    "type": "object",
                    "properties": {"en_vigueur": _DATE, "explication": _STRING,
                                   "source": {**_NULL_STRING, "description": "l'article dans `sources`"},
                                   "texte_modificateur": {**_NULL_STRING, "description": "la loi dans `sources`"},
                                   "confiance": {"type": "string", "enum": ["V", "S", "U"]}},
                    "required": ["en_vigueur", "explication", "source", "texte_modificateur", "confiance"],
                    "additionalProperties": False,
                },
                "regles_version": _STRING,
                "situation": _ref("SituationNormalisee"),
                "commune": {"anyOf": [{"type": "null"}, {
                    "type": "object",
                    "properties": {"insee": _STRING, "nom": _STRING, "departement": _STRING,
                                   "epci": {"type": ["string", "null"], "description": "code SIREN de l'intercommunalité"},
                                   "epci_nom": {"type": ["string", "null"], "description": "nom de l'intercommunalité"},
                                   "code_saisi_ancien": {"type": "boolean"}, "bud": {"type": "boolean"},
                                   "liste": _NULL_STRING, "classee_depuis": {"type": ["string", "null"], "format": "date"},
                                   "confiance_liste": _NULL_STRING},
                    "required": ["insee", "nom", "departement", "epci", "epci_nom", "code_saisi_ancien", "bud", "liste",
                                 "classee_depuis", "confiance_liste"],
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
                "demarches": {"type": "array", "items": _ref("Demarche")},
                "date_verification": {"type": ["string", "null"], "format": "date"},
                "avertissements": {"type": "array", "items": {
                    "type": "object",
                    "description": "Point à vérifier dans la saisie elle-même (par exemple un code postal saisi comme "
                                   "code INSEE).",
                    "properties": {"code": _STRING, "message": _STRING, "code_saisi": _NULL_STRING,
                                   "communes": {"type": "array", "items": {
                                       "type": "object",
                                       "properties": {"insee": _STRING, "nom": _STRING, "bud": {"type": "boolean"}},
                                       "required": ["insee", "nom", "bud"],
                                       "additionalProperties": False}}},
                    "required": ["code", "message"], "additionalProperties": False}},
                "informations_manquantes": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"champ": {"type": "string", "enum": list(KEYS)}, "question": _STRING,
                                   "conditions": {"type": "array", "items": {"type": "string", "enum": list(CONDITION_IDS)}}},
                    "required": ["champ", "question", "conditions"], "additionalProperties": False}},
                "points_a_confirmer": {"type": "array", "description": "les seuls points incertains qui pourraient "
                                       "changer ce verdict : quoi, auprès de qui, pourquoi", "items": {
                    "type": "object", "properties": {"objet": {**_STRING, "description": "la condition ou "
                                                               "l'exonération, dont `motifs_a_confirmer` dit pourquoi"},
                                                     "quoi": _STRING, "aupres_de": _STRING},
                    "required": ["objet", "quoi", "aupres_de"], "additionalProperties": False}},
                "limites": {**_STRINGS, "description": "les limites générales de l'outil, une seule fois"},
                "certitude": {"type": "array", "description": "notes de recherche pour les experts, par condition "
                              "ou exonération", "items": {
                    "type": "object", "properties": {"objet": _STRING, "notes": _STRINGS},
                    "required": ["objet", "notes"], "additionalProperties": False}},
                "sources": {"type": "object", "additionalProperties": _ref("Source"),
                            "description": "chaque source citée, une seule fois, par identifiant"},
                "avertissement": _STRING,
                "economies": {"anyOf": [{"type": "null"}, _ref("Economies")]},
            },
            "required": ["format", "statut", "libelle_statut", "resume", "a_confirmer", "version_loi", "version",
                         "regles_version", "situation", "commune", "conditions", "exonerations", "demarches",
                         "informations_manquantes", "points_a_confirmer", "limites", "certitude", "sources",
                         "avertissement"],
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
