"""The batches of the advisers' API (/api/v1/conseillers/lots) and the answers of a database outage, in the OpenAPI
document of openapi.py.

A batch is accepted at once (202) and checked by a worker of the task queue (web/queue.py): its `etat` goes
`en_attente` -> `en_cours` -> `termine`, or `echec` with `raison_echec`, a French sentence; `progression` counts
the lines done out of the lines in all. The routes are those of web/advisers/api.py; they need the session cookie
of the workspace, and the writes its CSRF token in `X-CSRFToken` (from GET /conseillers/session).

Every operation that reads or writes the database answers 503 with `Retry-After` while it cannot be reached
(web/errors.py, `unavailable_response`).
"""

from __future__ import annotations

from typing import Any

ETATS = ("en_attente", "en_cours", "termine", "echec")
STATUTS_LIGNE = ("eligible", "non_eligible", "indetermine", "erreur")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ERREUR = {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}
_URI = {"type": "string", "format": "uri"}
_NULL_URI = {"type": ["string", "null"], "format": "uri"}
_TIME = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}


def error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": _ERREUR}


# The database cannot be reached (stopped, restarting, failing over): nothing was written, try again later.
UNAVAILABLE = {
    "description": "Base de données momentanément injoignable : rien n'a été enregistré ; réessayer après "
                   "`Retry-After` secondes",
    "content": _ERREUR,
    "headers": {"Retry-After": {"description": "secondes à attendre avant de réessayer", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}},
}

_SIGNED_OUT = error_response("Connexion requise : aucune session de l'espace conseillers, ou une session fermée")
_NOT_FOUND = error_response("Aucun lot de votre organisation sous cet identifiant (un lot d'une autre "
                            "organisation n'est jamais révélé)")
_CSRF = error_response("Jeton CSRF absent ou périmé (en-tête `X-CSRFToken`, donné par GET /conseillers/session)")
_ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 64}}]
_SECURITY = [{"session": []}]


def batch_schemas() -> dict[str, Any]:
    return {
        "Lot": {
            "type": "object",
            "description": "Un lot de situations envoyé en fichier (CSV ou XLSX) et vérifié par un processus de la "
                           "file de tâches, pas dans la requête : suivre `etat` et `progression` à `url`.",
            "properties": {
                "id": {"type": "string"},
                "url": {**_URI, "description": "adresse du lot dans l'API (à relire pour suivre son état)"},
                "page": {**_URI, "description": "page du lot dans l'espace conseillers"},
                "nom_fichier": {"type": "string"},
                "cree_le": _TIME,
                "par": {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"},
                                                         "nom": {"type": ["string", "null"]}},
                        "required": ["id", "email", "nom"], "additionalProperties": False},
                "regles_version": {"type": "string"},
                "etat": {"type": "string", "enum": list(ETATS),
                         "description": "en_attente : dans la file ; en_cours : un processus vérifie ses lignes ; "
                                        "termine : synthèse et fichiers de résultats prêts ; echec : voir "
                                        "raison_echec (un processus arrêté en cours de lot est relancé, puis le lot "
                                        "passe en échec après plusieurs tentatives, jamais en cours indéfiniment)"},
                "progression": {"$ref": "#/components/schemas/Progression"},
                "raison_echec": {"type": ["string", "null"],
                                 "description": "pourquoi le lot a échoué, en une phrase en français (null sauf en "
                                                "échec)"},
                "termine_le": {"type": ["string", "null"], "format": "date-time"},
                "synthese": {"anyOf": [{"type": "null"}, {"$ref": "#/components/schemas/SyntheseLot"}],
                             "description": "null tant que le lot n'est pas terminé"},
                "resultats_csv": {**_NULL_URI, "description": "fichier de résultats CSV (null tant que le lot n'est "
                                                               "pas terminé)"},
                "resultats_xlsx": {**_NULL_URI, "description": "fichier de résultats Excel (null tant que le lot "
                                                                "n'est pas terminé)"},
            },
            "required": ["id", "url", "page", "nom_fichier", "cree_le", "par", "regles_version", "etat",
                         "progression", "raison_echec", "termine_le", "synthese", "resultats_csv", "resultats_xlsx"],
            "additionalProperties": False,
        },
        "Progression": {
            "type": "object",
            "description": "Lignes vérifiées sur les lignes du fichier (mis à jour au fil de la vérification).",
            "properties": {
                "lignes_faites": {**_COUNT, "description": "lignes déjà vérifiées"},
                "lignes_total": {"type": ["integer", "null"], "minimum": 0,
                                 "description": "lignes de situations du fichier (null tant qu'il n'est pas lu)"},
                "pourcentage": {"type": "integer", "minimum": 0, "maximum": 100,
                                "description": "100 seulement une fois le lot terminé"},
            },
            "required": ["lignes_faites", "lignes_total", "pourcentage"],
            "additionalProperties": False,
        },
        "SyntheseLot": {
            "type": "object",
            "description": "Ce que le lot a donné : les lignes par statut, les colonnes comprises, les premières "
                           "lignes en erreur, et le classement en dossiers s'il a été demandé.",
            "properties": {
                "lignes": _COUNT, **dict.fromkeys(STATUTS_LIGNE, _COUNT),
                "texte": {"type": "string", "description": "la synthèse en une phrase"},
                "format": {"type": "string", "enum": ["csv", "xlsx"]},
                "feuille": {"type": ["string", "null"]},
                "encodage": {"type": ["string", "null"]},
                "separateur": {"type": ["string", "null"]},
                "colonnes_reconnues": {"type": "object", "additionalProperties": {"type": "string"}},
                "colonnes_reprises": {"type": "array", "items": {"type": "string"}},
                "conditions_non_remplies": {"type": "object", "additionalProperties": _COUNT},
                "regles_version": {"type": "string"},
                "date": {"type": "string"},
                "erreurs": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"ligne": {"type": "integer"}, "champ": {"type": ["string", "null"]},
                                   "libelle": {"type": ["string", "null"]}, "message": {"type": ["string", "null"]}},
                    "required": ["ligne", "champ", "message"]}},
                "dossiers": {"type": "object",
                             "description": "le classement des lignes dans les dossiers (si demandé)"},
            },
            "required": ["lignes", *STATUTS_LIGNE, "erreurs"],
        },
    }


def _results(extension: str, mimetype: str) -> dict[str, Any]:
    return {"get": {
        "operationId": f"lireResultatsLot{extension.capitalize()}",
        "summary": f"Télécharger le fichier de résultats ({extension.upper()}) d'un lot terminé",
        "security": _SECURITY,
        "parameters": _ID,
        "responses": {
            "200": {"description": "Le fichier de résultats", "content": {mimetype: {"schema": {
                "type": "string", "format": "binary"}}}},
            "401": _SIGNED_OUT, "404": _NOT_FOUND,
            "409": error_response("Le lot n'est pas encore terminé (ou a échoué) : pas de résultats"),
            "503": UNAVAILABLE,
        },
    }}


def batch_paths() -> dict[str, Any]:
    lot = {"application/json": {"schema": {"$ref": "#/components/schemas/Lot"}}}
    return {
        "/conseillers/lots": {
            "get": {
                "operationId": "listerLots",
                "summary": "Les lots de votre organisation, le plus récent d'abord",
                "security": _SECURITY,
                "responses": {
                    "200": {"description": "Les lots", "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"lots": {"type": "array",
                                                                  "items": {"$ref": "#/components/schemas/Lot"}}},
                        "required": ["lots"], "additionalProperties": False}}}},
                    "401": _SIGNED_OUT, "503": UNAVAILABLE,
                },
            },
            "post": {
                "operationId": "envoyerLot",
                "summary": "Envoyer un fichier de situations (CSV ou XLSX, une par ligne) à vérifier",
                "description": "Répond tout de suite (202) : le lot est vérifié par un processus de la file de tâches. "
                               "Suivre `etat` et `progression` à l'adresse `url` (en-tête `Location`) ; les fichiers "
                               "de résultats sont donnés une fois le lot terminé.",
                "security": _SECURITY,
                "parameters": [
                    {"name": "X-CSRFToken", "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "le jeton de GET /conseillers/session"},
                    {"name": "nom_fichier", "in": "query", "required": False,
                     "schema": {"type": "string", "maxLength": 255}, "description": "nom du fichier envoyé en corps"},
                    {"name": "dossiers", "in": "query", "required": False, "schema": {"type": "string",
                                                                                     "enum": ["0", "1"]},
                     "description": "1 : classer chaque ligne vérifiée dans le dossier de son client (SIREN, "
                                    "sinon nom)"},
                ],
                "requestBody": {"required": True, "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_MIME: {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {
                        "type": "object", "properties": {"fichier": {"type": "string", "format": "binary"}},
                        "required": ["fichier"]}},
                }},
                "responses": {
                    "202": {"description": "Lot accepté : en file d'attente (ou déjà vérifié)", "content": lot,
                            "headers": {"Location": {"description": "adresse du lot dans l'API",
                                                     "schema": _URI}}},
                    "400": error_response("Jeton CSRF absent ou périmé, ou champ `fichier` manquant"),
                    "401": _SIGNED_OUT,
                    "413": error_response("Fichier trop volumineux"),
                    "415": error_response("Type de contenu non admis (ni CSV, ni XLSX, ni multipart)"),
                    "422": error_response("Fichier illisible dans son ensemble (vide, sans en-tête, trop de lignes ou "
                                          "de colonnes…) : `champ` vaut « fichier »"),
                    "503": UNAVAILABLE,
                },
            },
        },
        "/conseillers/lots/{id}": {
            "get": {
                "operationId": "lireLot",
                "summary": "L'état d'un lot, sa progression, puis sa synthèse et ses premières lignes en erreur",
                "security": _SECURITY,
                "parameters": _ID,
                "responses": {"200": {"description": "Le lot", "content": lot}, "401": _SIGNED_OUT,
                              "404": _NOT_FOUND, "503": UNAVAILABLE},
            },
            "delete": {
                "operationId": "supprimerLot",
                "summary": "Supprimer un lot avec le fichier envoyé et ses résultats (les vérifications classées "
                           "dans des dossiers restent)",
                "security": _SECURITY,
                "parameters": [*_ID, {"name": "X-CSRFToken", "in": "header", "required": True,
                                      "schema": {"type": "string"}}],
                "responses": {"204": {"description": "Lot supprimé"}, "400": _CSRF, "401": _SIGNED_OUT,
                              "404": _NOT_FOUND, "503": UNAVAILABLE},
            },
        },
        "/conseillers/lots/{id}/resultats.csv": _results("csv", "text/csv"),
        "/conseillers/lots/{id}/resultats.xlsx": _results("xlsx", XLSX_MIME),
    }


SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "le cookie de session de l'espace conseillers (connexion sur /conseillers/connexion)"},
}
