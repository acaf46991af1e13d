"""The JSON body of an API request, decoded once for the public and the advisers' APIs: an error response
(415, 400, 413, 422) in French naming the field instead of an exception. Decoding is orjson's (jsonio)."""

from __future__ import annotations

from typing import Any

from flask import request

from .errors import api_error
from .jsonio import BodyError, loads_body


def read_json_body(whole: str = "situation") -> tuple[Any, Any]:
    """The decoded JSON body, or an error response (naming the field, or `whole` for the body as a whole)."""
    if not request.is_json:
        received = request.mimetype or "aucun"
        return None, api_error(415, f"Type de contenu « {received} » non admis : envoyez la situation en JSON avec "
                                    "l'en-tête Content-Type: application/json.", "Content-Type")
    raw = request.get_data(cache=False)  # raises 413 beyond MAX_CONTENT_LENGTH
    if not raw.strip():
        return None, api_error(400, "Corps vide : envoyez la situation en JSON, par exemple "
                                    "{\"date_creation\": \"2019-05-14\", \"commune_insee\": \"59178\"}.", "situation")
    try:
        return loads_body(raw, whole), None
    except BodyError as problem:
        return None, api_error(problem.status, problem.message, problem.champ)
