"""Hardening of the web application: security headers, proxy trust, rate limits of the public doors, the
production secret, no debug page. `init_security(app)` is called at the end of `create_app`.

Headers, on every response:
    Content-Security-Policy   no inline script or style anywhere (templates carry none), nothing from another
                              origin, no framing (frame-ancestors 'none'), no <base>, forms post here only
    X-Content-Type-Options    nosniff
    X-Frame-Options           DENY (what frame-ancestors says, for older browsers)
    Referrer-Policy           same-origin: a saved check's address is its only key, never sent to the legal
                              sites its pages link to
    Permissions-Policy        no camera, microphone, geolocation, payment, USB
    Cross-Origin-Opener-Policy  same-origin
    Strict-Transport-Security only on a request that came over HTTPS (directly, or through a trusted proxy)

Proxy: X-Forwarded-For/-Proto/-Host/-Port are honoured only when BUD_TRUST_PROXY=N (N >= 1, the number of
proxies in front of the application, usually 1); otherwise anyone could claim to be another client (and dodge
the rate limits) or claim HTTPS.

Rate limits (Flask-Limiter, the limiter the advisers' workspace created for the sign-in limits, so one storage):
per client address, on POST /api/v1/verifications, on the other public API routes, and on the public form's
POST /verifier. Defaults below; BUD_RATE_LIMIT_API, BUD_RATE_LIMIT_API_READ and BUD_RATE_LIMIT_FORM change them
("" or "0" turns one off; with BUD_ENV=test they are off unless set, as the tests post hundreds of times from
one address). Storage: RATELIMIT_STORAGE_URI, memory:// (per gunicorn worker) by default, redis://host:6379/0
to share the counts between workers and machines. A storage that fails does not fail requests: the limiter
falls back to memory and logs it. Over the limit: 429 with Retry-After, JSON `{"erreur": ...}` under /api/,
a French page elsewhere.

Secrets: with BUD_ENV=production (the default), SECRET_KEY must come from the environment: `require_secret_key`
(called by wsgi.py and by `bud-checker serve`) refuses to start otherwise. BUD_ENV=local (what scripts/serve
sets when BUD_ENV is unset) accepts the key generated once into instance/secret_key, for a machine of one's own.

Debug: Flask's debugger and tracebacks are never shown, whatever FLASK_DEBUG says, unless BUD_ENV=development.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from flask import Flask, render_template, request
from werkzeug.exceptions import TooManyRequests

from .advisers.auth import per_worker

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
log = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; object-src 'none'")
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
}

# Per client address. A person filling in the form posts about 7 times per check; an office behind one address
# holds several people. The API's creations are writes to the database: the door to protect most.
DEFAULT_LIMITS = {
    "PUBLIC_API_RATE_LIMIT": ("BUD_RATE_LIMIT_API", "60 per minute;1000 per hour"),
    "PUBLIC_API_READ_RATE_LIMIT": ("BUD_RATE_LIMIT_API_READ", "300 per minute"),
    "PUBLIC_FORM_RATE_LIMIT": ("BUD_RATE_LIMIT_FORM", "120 per minute;2000 per hour"),
}
RATE_LIMIT_MESSAGE = "Trop de requêtes depuis votre adresse : patientez une minute avant de réessayer."

PRODUCTION_LIKE = ("production", "local")
SECRET_MISSING = ("Erreur : SECRET_KEY n'est pas défini. En production (BUD_ENV=production, le défaut), la clé qui "
                  "signe les sessions doit venir de l'environnement, identique sur tous les processus et toutes "
                  "les machines : par exemple export SECRET_KEY=\"$(python3 -c 'import secrets; "
                  "print(secrets.token_urlsafe(48))')\". Pour un essai sur votre machine, scripts/serve démarre "
                  "en mode local (BUD_ENV=local), où une clé générée dans instance/secret_key suffit.")


MIN_SECRET_BYTES = 32
SECRET_SHORT = ("Erreur : SECRET_KEY est trop courte ({length} octets) : en production, la clé qui signe les sessions "
                "doit compter au moins {minimum} octets, tirés au hasard : par exemple "
                "export SECRET_KEY=\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')\".")
HOSTS_MISSING = ("Erreur : BUD_HOSTS n'est pas défini. En production, indiquez le ou les noms sous lesquels le site "
                 "est servi, séparés par des virgules, par exemple "
                 "export BUD_HOSTS=bud.cci-exemple.fr,www.bud.cci-exemple.fr "
                 "(un point devant un nom admet ses sous-domaines : .cci-exemple.fr). Une requête adressée à un autre "
                 "nom d'hôte reçoit une erreur 400, et aucune adresse absolue n'est construite à partir d'un nom non "
                 "admis.")


class MissingSecretKey(RuntimeError):
    """BUD_ENV=production without SECRET_KEY (or BUD_HOSTS) in the environment, or with a key too short."""


def allowed_hosts(environ: Mapping[str, str] | None = None) -> list[str]:
    """BUD_HOSTS as a list («bud.example.fr, .example.fr» -> ["bud.example.fr", ".example.fr"])."""
    environ = os.environ if environ is None else environ
    return [name.strip().lower() for name in (environ.get("BUD_HOSTS") or "").split(",") if name.strip()]


def secret_key_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """The French message saying why the application must not start in production, or None: no SECRET_KEY, one
    shorter than 32 bytes, or no BUD_HOSTS."""
    environ = os.environ if environ is None else environ
    env = (environ.get("BUD_ENV") or "production").strip().lower() or "production"
    if env != "production":
        return None
    key = environ.get("SECRET_KEY") or ""
    if not key.strip():
        return SECRET_MISSING
    length = len(key.strip().encode("utf-8"))
    if length < MIN_SECRET_BYTES:
        return SECRET_SHORT.format(length=length, minimum=MIN_SECRET_BYTES)
    if not allowed_hosts(environ):
        return HOSTS_MISSING
    return None


def require_secret_key(environ: Mapping[str, str] | None = None) -> None:
    """Refuse to start in production without a real SECRET_KEY from the environment (raises MissingSecretKey,
    which makes gunicorn stop with a non-zero status rather than respawn workers forever)."""
    problem = secret_key_problem(environ)
    if problem:
        sys.stderr.write(problem + "\n")
        sys.stderr.flush()
        raise MissingSecretKey(problem)


def trusted_proxies(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    raw = (environ.get("BUD_TRUST_PROXY") or "0").strip()
    try:
        count = int(raw)
    except ValueError:
        raise RuntimeError(f"BUD_TRUST_PROXY : « {raw} » n'est pas admis ; attendu 0 (aucun proxy) ou le nombre de "
                           "proxys devant l'application (1 le plus souvent).") from None
    if not 0 <= count <= 5:
        raise RuntimeError(f"BUD_TRUST_PROXY : {count} n'est pas admis ; attendu de 0 à 5.")
    return count


# --- host names -------------------------------------------------------------------------------------------------

HOST_REFUSED_PAGE = ("<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Nom d'hôte non admis — "
                     "Vérificateur BUD</title></head><body><h1>Nom d'hôte non admis</h1><p>Ce site ne répond pas "
                     "sous ce nom. Vérifiez l'adresse saisie.</p></body></html>\n").encode("utf-8")
HOST_REFUSED_JSON = ('{"erreur":{"champ":"Host","message":"Nom d\'hôte non admis : ce site ne répond pas sous ce '
                     'nom."}}\n').encode("utf-8")


class HostCheck:
    """WSGI middleware: 400 in French for a Host outside BUD_HOSTS (werkzeug's host_is_trusted: exact names, a
    leading dot for subdomains, the port ignored)."""

    def __init__(self, wsgi_app: WSGIApplication, hosts: list[str]) -> None:
        self.wsgi_app = wsgi_app
        self.hosts = hosts

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        from werkzeug.sansio.utils import host_is_trusted

        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
        if host_is_trusted(host, self.hosts):
            return self.wsgi_app(environ, start_response)
        log.warning("request refused: Host not in BUD_HOSTS")
        api = (environ.get("PATH_INFO") or "").startswith("/api/")
        body = HOST_REFUSED_JSON if api else HOST_REFUSED_PAGE
        start_response("400 Bad Request", [
            ("Content-Type", "application/json" if api else "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
            *HEADERS.items()])
        return [body]


# --- headers ------------------------------------------------------------------------------------------------

_HEADERS_LOWER = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def _headers(response):  # Flask hook
    # What the response does not set itself (setdefault, one name at a time, scanned the headers six times).
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for lowered, name, value in _HEADERS_LOWER:
        if lowered not in present:
            headers.add(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


# --- input ----------------------------------------------------------------------------------------------------

UPLOAD_ENDPOINTS = {"conseillers.lot_nouveau", "conseillers_api.create_batch"}


def _without_nul(values):
    from werkzeug.datastructures import ImmutableMultiDict

    return ImmutableMultiDict([(key.replace("\x00", ""), value.replace("\x00", "") if isinstance(value, str) else value)
                               for key, value in values.items(multi=True)])


def _strip_nul() -> None:
    """No legitimate text holds a NUL character (U+0000), and PostgreSQL text columns refuse it: it is removed from
    query strings and from ordinary forms before any view reads them (JSON bodies: see json_body.read_json_body).
    Multipart forms too, except the file uploads (UPLOAD_ENDPOINTS), which set their own size limit before
    reading their body and clean what they read (file name, CSV lines) themselves."""
    if "\x00" in request.query_string.decode("latin-1") or "%00" in request.query_string.decode("latin-1"):
        request.args = _without_nul(request.args)
    form_types = ["application/x-www-form-urlencoded"]
    if request.endpoint not in UPLOAD_ENDPOINTS:  # those set their own size limit before reading the body
        form_types.append("multipart/form-data")
    if request.mimetype in form_types and request.method in ("POST", "PUT", "PATCH"):
        form = request.form
        if any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in form.items(multi=True)):
            request.form = _without_nul(form)


# --- rate limits --------------------------------------------------------------------------------------------

def _limit_setting(app: Flask, key: str) -> str:
    env_name, default = DEFAULT_LIMITS[key]
    if key not in app.config:
        value = os.environ.get(env_name)
        if value is None:
            value = "" if app.config.get("BUD_ENV") == "test" else default
        app.config[key] = value
    value = (app.config[key] or "").strip()
    return "" if value in ("0", "off", "non") else value


def _limit_views(app: Flask) -> None:
    limiter = app.extensions.get("bud_limiter")
    if limiter is None:  # pragma: no cover - the advisers' workspace creates it
        from .advisers.auth import make_limiter

        limiter = make_limiter(app)
        app.extensions["bud_limiter"] = limiter
    doors = {
        "PUBLIC_API_RATE_LIMIT": [("api.create_verification", ["POST"])],
        "PUBLIC_API_READ_RATE_LIMIT": [("api.get_verification", ["GET"]), ("api.communes", ["GET"])],
        "PUBLIC_FORM_RATE_LIMIT": [("public.verifier", ["POST"])],
    }
    for key, endpoints in doors.items():
        limit = _limit_setting(app, key)
        if not limit:
            continue
        for endpoint, methods in endpoints:
            view = app.view_functions[endpoint]
            app.view_functions[endpoint] = limiter.limit(lambda limit=limit: per_worker(app, limit), methods=methods,
                                                         error_message=RATE_LIMIT_MESSAGE, scope=key)(view)


def _too_many(error: TooManyRequests):  # Flask error handler
    from .errors import api_error, wants_json

    message = error.description if isinstance(error.description, str) and error.description else RATE_LIMIT_MESSAGE
    if not message[:1].isupper():  # Flask-Limiter's own description is the limit ("10 per 1 minute")
        message = RATE_LIMIT_MESSAGE
    from .advisers.auth import security_event

    security_event("rate_limited", endpoint=request.endpoint)
    # Retry-After: set by Flask-Limiter's own header injection (RATELIMIT_HEADERS_ENABLED), from the limit's window.
    if wants_json():
        return api_error(429, message, "limite")
    return render_template("errors/error.html", status=429, title="Trop de requêtes", message=message), 429


# --- the whole --------------------------------------------------------------------------------------------------

def init_security(app: Flask) -> None:
    env = app.config.get("BUD_ENV")
    if env != "development":
        # Never Werkzeug's debugger nor a traceback in a response, whatever FLASK_DEBUG says.
        app.debug = False
        app.config["DEBUG"] = False
    hosts = app.config.get("BUD_HOSTS")
    hosts = allowed_hosts() if hosts is None else ([h.strip().lower() for h in hosts.split(",") if h.strip()]
                                                  if isinstance(hosts, str) else list(hosts))
    app.config["BUD_HOSTS"] = hosts
    if hosts:
        # A request whose Host (or, behind a trusted proxy, X-Forwarded-Host) is not one of these is refused
        # before Flask sees it: no URL is ever built from it.
        app.wsgi_app = HostCheck(app.wsgi_app, hosts)
    proxies = app.config.get("BUD_TRUST_PROXY")
    if proxies is None:
        proxies = trusted_proxies()
        app.config["BUD_TRUST_PROXY"] = proxies
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
    _log_to_the_server(app)
    app.after_request(_headers)
    app.before_request(_strip_nul)
    app.register_error_handler(429, _too_many)
    _limit_views(app)


def _log_to_the_server(app: Flask) -> None:
    """Security events (bud_checker.security, INFO) and Flask-Limiter's warnings (its storage failing, then
    recovering) go where Flask's own log goes (gunicorn's error log), not into the void."""
    from flask.logging import default_handler

    for name, level in (("bud_checker.security", logging.INFO), ("flask-limiter", logging.WARNING)):
        logger = logging.getLogger(name)
        if default_handler not in logger.handlers:
            logger.addHandler(default_handler)
        if logger.level == logging.NOTSET or logger.level > level:
            logger.setLevel(level)


def describe(app: Flask) -> dict[str, Any]:
    """The effective security settings, for tests and for the log line of `serve`."""
    return {
        "env": app.config.get("BUD_ENV"),
        "debug": app.debug,
        "trusted_proxies": app.config.get("BUD_TRUST_PROXY"),
        "rate_limit_storage": app.config.get("RATELIMIT_STORAGE_URI"),
        "limits": {key: app.config.get(key) for key in DEFAULT_LIMITS},
    }
