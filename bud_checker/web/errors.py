"""Error responses: JSON with the field and a French message under /api/, a French page elsewhere. Never a
bare 500: an unexpected exception is logged and answered with a clean 500 in the same format."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..batch import size_text
from ..engine.fr import typographie

log = logging.getLogger(__name__)

MESSAGES = {
    400: "Requête invalide.",
    404: "Cette page n'existe pas.",
    405: "Méthode HTTP non admise pour cette adresse.",
    413: "Requête trop volumineuse.",
    415: "Type de contenu non admis.",
    422: "Données invalides.",
    500: "Erreur interne : la requête n'a pas pu aboutir.",
    503: ("Service momentanément indisponible : la base de données ne répond pas. Rien de ce que vous aviez "
          "enregistré n'est perdu ; réessayez dans une minute."),
}
RETRY_AFTER_OUTAGE = 30  # seconds: a restarted database or a failover usually takes this long


def database_unavailable(error: BaseException) -> bool:
    """True for the errors of a database that cannot be reached (down, restarting, refusing connections, pool
    exhausted), as opposed to errors of the request itself (a constraint violated...)."""
    from sqlalchemy import exc

    if isinstance(error, (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError)):
        return True
    return isinstance(error, exc.DBAPIError) and bool(getattr(error, "connection_invalidated", False))


def unavailable_response():
    """503 in French with Retry-After: JSON under /api/, a page elsewhere (rendered as a visitor: the adviser who
    is signed in cannot be looked up while the database is down)."""
    from flask import g

    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone anyway
        pass
    headers = {"Retry-After": str(RETRY_AFTER_OUTAGE), "Cache-Control": "no-store"}
    if wants_json():
        return api_error(503, MESSAGES[503], "base_de_donnees", headers=headers)
    try:
        from flask_login import AnonymousUserMixin

        g._login_user = AnonymousUserMixin()
    except ImportError:  # pragma: no cover
        pass
    try:
        page = render_template("errors/error.html", status=503, title="Service momentanément indisponible",
                               message=MESSAGES[503])
    except Exception:  # noqa: BLE001 - never a raw page: a minimal French one
        page = ("<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>Service momentanément "
                f"indisponible</title><h1>Service momentanément indisponible</h1><p>{MESSAGES[503]}</p></html>")
    return page, 503, headers


def api_error(status: int, message: str, champ: str | None = None, headers: dict[str, str] | None = None):
    """The JSON error body of the API: {"erreur": {"champ": ..., "message": ...}}, the message in French typography
    (messages are written with ordinary spaces: `typographie` puts the non-breaking ones)."""
    response = jsonify({"erreur": {"champ": champ, "message": typographie(message)}})
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def capitalized(message: str) -> str:
    """A message that names its field in lower case («siren : le SIREN…»), as a sentence on its own."""
    return message[:1].upper() + message[1:]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = ("Le formulaire a expiré ou a été envoyé depuis une autre page. Rechargez la page puis "
                   "renvoyez-le.")
        if wants_json():
            return api_error(400, message, "csrf_token")
        return render_template("errors/error.html", status=400, title="Formulaire expiré", message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = MESSAGES.get(status, error.description or "Erreur.")
        if status == 413:
            limit = request.max_content_length or app.config.get("MAX_CONTENT_LENGTH") or 0
            message = f"Requête trop volumineuse : au plus {size_text(limit)}."
        if status == 405 and wants_json():
            allowed = ", ".join(sorted(error.valid_methods or [])) if hasattr(error, "valid_methods") else ""
            message = (f"Méthode {request.method} non admise pour cette adresse"
                       + (f" ; admises : {allowed}." if allowed else "."))
        if wants_json():
            headers = dict(error.get_headers())
            headers.pop("Content-Type", None)
            return api_error(status, message, headers={k: v for k, v in headers.items() if k.lower() == "allow"})
        title = {404: "Page introuvable", 405: "Méthode non admise", 413: "Requête trop volumineuse"}.get(
            status, "Erreur")
        response = render_template("errors/error.html", status=status, title=title, message=message)
        return response, status, {k: v for k, v in error.get_headers() if k.lower() == "allow"}

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            return http_error(error)
        if database_unavailable(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, type(error).__name__)
            return unavailable_response()
        log.exception("Unhandled exception on %s %s", request.method, request.path)
        if wants_json():
            return api_error(500, MESSAGES[500])
        return render_template("errors/error.html", status=500, title="Erreur interne",
                               message=MESSAGES[500]), 500

    # Keep Flask's own 500 path consistent too (e.g. errors raised while handling another error).
    app.register_error_handler(InternalServerError, http_error)
