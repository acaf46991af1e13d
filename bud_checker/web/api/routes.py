"""JSON API v1: create and read verifications, search communes, the OpenAPI document.

Errors are JSON `{"erreur": {"champ": ..., "message": ...}}` with a French message: 400 (unreadable body or
parameter), 404, 413 (body over MAX_CONTENT_LENGTH), 415 (not application/json), 422 (invalid situation).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, url_for

from ...engine.contract import upgrade
from ...engine.situation import SituationError
from ..catalogues import find_catalogue
from ..errors import api_error
from ..json_body import read_json_body
from ..models import Verification
from ...commune_search import search_communes
from ..services import find_verification, record_verification
from . import bp
from .openapi import openapi_document

MAX_QUERY_LENGTH = 100
MAX_LIMIT = 50


def verification_body(verification: Verification) -> dict[str, Any]:
    return {
        "id": verification.id,
        "url": url_for("api.get_verification", verification_id=verification.id, _external=True),
        "page": url_for("public.verification", verification_id=verification.id, _external=True),
        "cree_le": verification.created_at.isoformat().replace("+00:00", "Z"),
        "regles_version": verification.regles_version,
        "situation": verification.situation,
        "verdict": upgrade(verification.verdict),  # a check saved in an earlier shape reads in the current one
    }


@bp.post("/verifications")
def create_verification():
    data, error = read_json_body()
    if error is not None:
        return error
    if not isinstance(data, dict):
        return api_error(422, "Attendu un objet JSON (clé : valeur), par exemple "
                              "{\"date_creation\": \"2019-05-14\", \"commune_insee\": \"59178\"}.", "situation")
    try:
        verification = record_verification(data, canal="api")
    except SituationError as problem:
        return api_error(422, problem.message, problem.champ)
    body = verification_body(verification)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["url"]
    return response


@bp.get("/verifications/<verification_id>")
def get_verification(verification_id: str):
    verification = find_verification(verification_id)
    if verification is None:
        return api_error(404, "Aucune vérification n'est enregistrée sous cet identifiant.", "id")
    return jsonify(verification_body(verification))


@bp.get("/regles/<catalogue_id>")
def rules_catalogue(catalogue_id: str):
    """The rules catalogue a verdict links to (`regles`): never changes once made, so it may be cached."""
    found = find_catalogue(catalogue_id)
    if found is None:
        return api_error(404, "Aucun catalogue des règles n'est enregistré sous cet identifiant.", "id")
    response = jsonify(found)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/communes")
def communes():
    query = request.args.get("q")
    if query is None or not query.strip():
        return api_error(400, "Paramètre q obligatoire : un nom, un code postal ou un code INSEE de commune.", "q")
    if len(query) > MAX_QUERY_LENGTH:
        return api_error(400, f"Paramètre q trop long : au plus {MAX_QUERY_LENGTH} caractères.", "q")
    raw_limit = request.args.get("limite", "10")
    try:
        limit = int(raw_limit)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return api_error(400, f"Paramètre limite : attendu un nombre entier de 1 à {MAX_LIMIT}.", "limite")
    return jsonify({"communes": search_communes(query, limit)})


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
