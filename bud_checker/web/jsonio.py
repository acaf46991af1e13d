"""JSON in and out of the web application: orjson for speed, the standard library where orjson refuses.

- `dumps` / `dumps_text`: orjson (UTF-8, keys in insertion order, dates in ISO 8601). What orjson cannot write
  (an integer beyond 64 bits, a type it does not know) is written by the standard library instead.
- `loads_body(raw)`: a request body or the form's carried state, read with orjson; on a refusal the body is
  read again by the standard library only to say, in French, what is wrong and in which field: syntax errors
  with their line and column, nesting deeper than 1,024 levels, numbers too long or too large to be numbers
  (over 4,300 digits, or over 1.8e308), lone surrogates (``\\ud800``) and NUL characters. Raises `BodyError`.
- `loads_stored(text)`: a JSON column read back (orjson, or the standard library for the rows written before,
  which may hold NaN).

Flask's `app.json` is `OrjsonProvider` (`jsonify`, `request.get_json`), and SQLAlchemy's JSON columns use
`dumps_text` / `loads_stored` (create_app passes them as json_serializer / json_deserializer).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
from typing import TYPE_CHECKING, Any
import orjson
from flask.json.provider import JSONProvider

if TYPE_CHECKING:
    from flask import Response

# Verdicts and answers have string keys only: orjson's fast path first; OPT_NON_STR_KEYS (about 30 % slower on a
# verdict) only for a mapping that has other keys.
OPTIONS = orjson.OPT_NON_STR_KEYS
MAX_DEPTH = 1024  # orjson's own limit
MAX_NUMBER_DIGITS = 30  # far above any amount, count or percentage of a situation

_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """A body that cannot be read: `champ` names the field (or «situation», the body as a whole), `status` is 400
    for an unreadable document, 422 for a readable one holding a value no field admits."""

    def __init__(self, champ: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.champ, self.message, self.status = champ, message, status


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "__html__"):
        return str(value.__html__())
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default)
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(value, default=_default, option=OPTIONS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: exact, if slower
        return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def dumps_text(value: Any) -> str:
    return dumps(value).decode("utf-8")


def loads_stored(text: str | bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # rows written by the standard library may hold NaN or Infinity
        return json.loads(text)


# --- reading what a client sent ---------------------------------------------------------------------------------

_MESSAGES = (  # orjson's and the standard library's messages
    ("property name", "une clé doit être une chaîne entre guillemets doubles"),
    ("expecting value", "valeur attendue (nombre, chaîne entre guillemets doubles, true, false, null, objet ou "
                        "liste)"),
    ("delimiter", "séparateur attendu : une virgule entre deux éléments, un deux-points entre une clé et sa valeur"),
    ("unterminated string", "chaîne non fermée : il manque un guillemet double"),
    ("extra data", "des caractères suivent la fin du document"),
    ("unexpected end of data", "le document s'arrête avant la fin (accolade, crochet ou guillemet non fermé)"),
    ("eof while parsing", "le document s'arrête avant la fin (accolade, crochet ou guillemet non fermé)"),
    ("expected a string key", "une clé doit être une chaîne entre guillemets doubles"),
    ("expected a json value", "valeur attendue (nombre, chaîne entre guillemets doubles, true, false, null, objet ou "
                              "liste)"),
    ("trailing comma", "virgule en trop avant la fin d'un objet ou d'une liste"),
    ("trailing characters", "des caractères suivent la fin du document"),
    ("control character", "caractère de contrôle non admis dans une chaîne (échappez-le, par exemple \\n)"),
    ("expected ':'", "deux-points attendu entre une clé et sa valeur"),
    ("expected ','", "virgule attendue entre deux éléments"),
    ("invalid escape", "séquence d'échappement invalide dans une chaîne"),
    ("utf-8", "le corps n'est pas encodé en UTF-8"),
    ("empty", "le document est vide"),
)


def _french(message: str) -> str:
    lowered = message.lower()
    for needle, french in _MESSAGES:
        if needle in lowered:
            return french
    return "syntaxe incorrecte"


class _HugeNumber:
    """Stands for a number written with more digits than any field admits (never a Python int of that size)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _int(text: str) -> Any:
    digits = len(text.lstrip("-"))
    return _HugeNumber(digits) if digits > MAX_NUMBER_DIGITS else int(text)


def _float(text: str) -> Any:
    value = float(text)
    return _HugeNumber(len(text)) if value in (float("inf"), float("-inf")) else value


def _first_bad(value: Any, key: str, top: bool = True) -> tuple[str, str] | None:
    """(field, French message) of the first value no field admits: a huge number, a lone surrogate, a NUL. The
    field is the top-level key holding it (`key`, the whole document's name, for a value at the top)."""
    if isinstance(value, _HugeNumber):
        return key, ("nombre trop grand : au plus 15 chiffres (un montant en euros, un effectif ou un pourcentage)."
                     if value.digits <= 400 else f"nombre de {value.digits} chiffres : au plus 15 chiffres.")
    if isinstance(value, str):
        if "\x00" in value:
            return key, "caractère nul (\\u0000) non admis."
        if _SURROGATE.search(value):
            return key, ("caractère invalide (demi-paire de substitution UTF-16, par exemple \\ud800) : "
                         "corrigez le texte.")
        return None
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(name, str) and (_SURROGATE.search(name) or "\x00" in name):
                from ..engine.situation import shown  # the key as the engine's messages show it

                return (shown(name, 60) if top else key,
                        "clé invalide : caractère nul ou demi-paire de substitution UTF-16.")
            found = _first_bad(item, name if top else key, False)
            if found:
                return found
    elif isinstance(value, list):
        for item in value:
            found = _first_bad(item, key, False)
            if found:
                return found
    return None


def loads_body(raw: bytes | str, whole: str = "situation") -> Any:
    """The JSON document `raw`, or `BodyError` saying in French what is wrong and where (see the module)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        data = _explain(raw, error, whole)
    else:
        if b"\\u0000" in raw:  # NUL: no text holds one, and PostgreSQL text columns refuse it
            found = _first_bad(data, whole)
            if found:
                raise BodyError(found[0], found[1], 422)
        return data
    found = _first_bad(data, whole)
    if found:
        raise BodyError(found[0], found[1], 422)
    return data


def _explain(raw: bytes, error: orjson.JSONDecodeError, whole: str) -> Any:
    """orjson refused `raw`: read it with the standard library to name what is wrong. Returns the document when
    only the values are at fault (the caller then names the field), raises `BodyError` otherwise."""
    if "depth limit" in error.msg or "recursion" in error.msg:
        raise BodyError(whole, f"JSON invalide : imbrication trop profonde (au plus {MAX_DEPTH:,} niveaux)."
                        .replace(",", "\u202f"))
    try:
        text = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise BodyError(whole, "Le corps n'est pas encodé en UTF-8.") from None
    try:
        return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as detail:
        raise BodyError(whole, f"JSON invalide (ligne {detail.lineno}, colonne {detail.colno}) : "
                               f"{_french(detail.msg)}.") from None
    except RecursionError:
        raise BodyError(whole, f"JSON invalide : imbrication trop profonde (au plus {MAX_DEPTH:,} niveaux)."
                        .replace(",", "\u202f")) from None
    except ValueError:
        raise BodyError(whole, f"JSON invalide (ligne {error.lineno}, colonne {error.colno}) : "
                               f"{_french(error.msg)}.") from None


def _constant(name: str) -> float:
    return float(name)  # NaN, Infinity: not JSON, but read so that the field refusing them is named


class OrjsonProvider(JSONProvider):
    """Flask's JSON (jsonify, request.get_json) written and read by orjson."""

    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps_text(obj)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(dumps(obj) + b"\n", mimetype=self.mimetype)
