"""The JSON body of an API request, decoded once for the public and the advisers' APIs: an error response
(415, 400, 422) in French naming the field instead of an exception."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from .errors import api_error


def read_json_body() -> tuple[Any, Any]:
    """The decoded JSON body, or an error response."""
    if not request.is_json:
        received = request.mimetype or "aucun"
        return None, api_error(415, f"Type de contenu « {received} » non admis : envoyez la situation en JSON avec "
                                    "l'en-tête Content-Type: application/json.", "Content-Type")
    raw = request.get_data(cache=False)  # raises 413 beyond MAX_CONTENT_LENGTH
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, api_error(400, "Le corps n'est pas encodé en UTF-8.", "situation")
    if not text.strip():
        return None, api_error(400, "Corps vide : envoyez la situation en JSON, par exemple "
                                    "{\"date_creation\": \"2019-05-14\", \"commune_insee\": \"59178\"}.", "situation")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return None, api_error(400, f"JSON invalide (ligne {error.lineno}, colonne {error.colno}) : {error.msg}.",
                               "situation")
    except RecursionError:
        return None, api_error(400, "JSON invalide : imbrication trop profonde.", "situation")
    if isinstance(data, dict) and "\\u0000" in text:  # a NUL character: no text holds one, and PostgreSQL text columns refuse it
        champ = field_with_nul(data)
        if champ is not None:
            return None, api_error(422, "Caractère nul (\\u0000) non admis.", champ)
    return data, None


def field_with_nul(value: Any, key: str = "situation") -> str | None:
    """The top-level key whose value holds a NUL character, or None (keys are checked by each door's validation)."""
    if isinstance(value, str):
        return key if "\x00" in value else None
    if isinstance(value, dict):
        for name, item in value.items():
            found = field_with_nul(item, name if key == "situation" else key)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            found = field_with_nul(item, key)
            if found is not None:
                return found
    return None
