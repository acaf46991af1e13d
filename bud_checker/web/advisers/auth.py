"""Signing in: argon2 password hashes, Flask-Login, the sign-in rate limit and the session cookie flags.

- Passwords are hashed with argon2id (argon2-cffi; RFC 9106 low-memory profile, cheaper parameters when
  BUD_ENV=test). A hash made with weaker parameters is upgraded at the next successful sign-in.
- The session remembers `Adviser.auth_id`, not the database id: changing the password draws a new one, which
  ends every other session of that adviser. A deactivated adviser's sessions end at once too.
- A session lasts at most ADVISER_SESSION_HOURS (default 12) after sign-in, whatever the activity.
- Failed sign-ins are rate-limited (Flask-Limiter) per client address and per e-mail address: by default
  10 per minute and 50 per hour per address, 5 per minute and 20 per hour per e-mail address. Storage is in
  memory (one count per gunicorn worker) unless RATELIMIT_STORAGE_URI names another (e.g. redis://...).
- The session cookie is HttpOnly and SameSite=Lax (the web app's settings) and Secure whenever the request
  came over HTTPS, and for any signed-in adviser when BUD_ENV=production (BUD_COOKIE_SECURE=0 turns that
  off, for a production server reached over plain HTTP on a private network; =1 makes every cookie Secure).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import time
from typing import Any, Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from ..extensions import db
from .models import Adviser

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
LOGIN_TIME_KEY = "conseiller_connecte_le"
SESSION_ID_KEY = "conseiller_session"
LAST_SEEN_EVERY = 300  # seconds: how often a session's last_seen_at is written

_HASHERS = {
    "production": PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY),
    # Tests sign in hundreds of times: same algorithm, far cheaper parameters.
    "test": PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
}


def _hasher() -> PasswordHasher:
    try:
        env = current_app.config.get("BUD_ENV")
    except RuntimeError:  # no application context (e.g. a script)
        env = None
    return _HASHERS["test"] if env == "test" else _HASHERS["production"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password_rules(password: str, email: str | None = None) -> str | None:
    """A French message saying what is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Le mot de passe doit compter au plus {MAX_PASSWORD_LENGTH} caractères."
    if email and password.strip().lower() == email.strip().lower():
        return "Le mot de passe ne doit pas être l'adresse électronique."
    if len(set(password)) < 4:
        return "Le mot de passe est trop simple : variez les caractères."
    if _common(password, email):
        return ("Ce mot de passe figure parmi les plus courants ou se devine trop vite (un mot du dictionnaire, une "
                "suite de chiffres, un prénom suivi d'une année...) : choisissez une phrase de passe de plusieurs "
                "mots, par exemple « quatre mots sans rapport entre eux ».")
    return None


MIN_STRENGTH = 3  # zxcvbn's score: 3 = about 10^8 guesses or more, «safely unguessable» online


def _common(password: str, email: str | None) -> bool:
    """True when the password is in zxcvbn's list of 30,000 common passwords, or is scored below MIN_STRENGTH by
    zxcvbn (dictionary words, keyboard walks, dates, repeats, l33t, the e-mail address's parts)."""
    from zxcvbn import zxcvbn

    if password.lower() in _common_passwords():
        return True
    hints = [part for part in re.split(r"[@._+-]", (email or "").lower()) if len(part) > 2]
    return zxcvbn(password[:100], user_inputs=hints)["score"] < MIN_STRENGTH


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


# A hash of a random password, checked when the e-mail address is unknown so that the answer takes as long.
_DUMMY_HASHES: dict[str, str] = {}


def verify_password(adviser: Adviser | None, password: str) -> bool:
    """True if `password` is the adviser's (constant work whether or not the adviser exists)."""
    hasher = _hasher()
    if adviser is None:
        key = "test" if hasher is _HASHERS["test"] else "production"
        if key not in _DUMMY_HASHES:
            _DUMMY_HASHES[key] = hasher.hash(os.urandom(16).hex())
        try:
            hasher.verify(_DUMMY_HASHES[key], password)
        except VerificationError:
            pass
        return False
    try:
        hasher.verify(adviser.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(adviser.password_hash):
        adviser.password_hash = hasher.hash(password)
    return True


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


# --- Flask-Login --------------------------------------------------------------------------------------------

login_manager = LoginManager()
login_manager.login_view = "conseillers.connexion"
login_manager.login_message = "Connectez-vous pour accéder à l'espace conseillers."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_adviser(auth_id: str) -> Adviser | None:
    adviser = db.session.execute(db.select(Adviser).filter_by(auth_id=auth_id)).scalar_one_or_none()
    if adviser is None or not adviser.actif:
        return None
    started = session.get(LOGIN_TIME_KEY)
    hours = current_app.config.get("ADVISER_SESSION_HOURS", 12)
    if not isinstance(started, (int, float)) or time.time() - started > hours * 3600:
        return None
    # The session must still be open on the server: a copy of the cookie of an ended session signs no one in.
    from .models import AdviserSession

    session_id = session.get(SESSION_ID_KEY)
    record = db.session.get(AdviserSession, session_id) if isinstance(session_id, str) and session_id else None
    if record is None or record.ended_at is not None or record.adviser_id != adviser.id:
        return None
    now = utcnow()
    if (now - record.last_seen_at).total_seconds() > LAST_SEEN_EVERY:
        record.last_seen_at = now
        db.session.commit()
    return adviser


# --- server-side sessions -----------------------------------------------------------------------------------

def open_session(adviser: Adviser) -> None:
    """Sign `adviser` in on a fresh cookie session, recorded on the server."""
    from flask_login import login_user

    from .models import AdviserSession

    session.clear()  # a fresh session (and CSRF token)
    record = AdviserSession(adviser_id=adviser.id, created_at=utcnow(), last_seen_at=utcnow())
    db.session.add(record)
    db.session.flush()
    login_user(adviser)
    session[LOGIN_TIME_KEY] = time.time()
    session[SESSION_ID_KEY] = record.id


def end_current_session(reason: str = "deconnexion") -> None:
    from flask_login import logout_user

    from .models import AdviserSession

    session_id = session.get(SESSION_ID_KEY)
    record = db.session.get(AdviserSession, session_id) if isinstance(session_id, str) and session_id else None
    if record is not None and record.ended_at is None:
        record.ended_at, record.end_reason = utcnow(), reason
        security_event("session_ended", adviser=record.adviser_id, reason=reason, count=1)
    db.session.commit()
    logout_user()
    session.clear()


def end_sessions(adviser: Adviser, reason: str, keep: str | None = None) -> int:
    """End every open session of `adviser` (but `keep`); returns how many. The caller commits."""
    from sqlalchemy import update

    from .models import AdviserSession

    query = update(AdviserSession).where(AdviserSession.adviser_id == adviser.id, AdviserSession.ended_at.is_(None))
    if keep:
        query = query.where(AdviserSession.id != keep)
    count = db.session.execute(query.values(ended_at=utcnow(), end_reason=reason)).rowcount or 0
    if count:
        security_event("session_ended", adviser=adviser.id, reason=reason, count=count)
    return count


def open_sessions(adviser: Adviser) -> list[Any]:
    from sqlalchemy import select

    from .models import AdviserSession

    hours = current_app.config.get("ADVISER_SESSION_HOURS", 12)
    since = utcnow() - dt.timedelta(hours=hours)
    return list(db.session.execute(
        select(AdviserSession).where(AdviserSession.adviser_id == adviser.id, AdviserSession.ended_at.is_(None),
                                     AdviserSession.created_at > since)
        .order_by(AdviserSession.created_at.desc())).scalars())


# --- security events ------------------------------------------------------------------------------------------

security_log = logging.getLogger("bud_checker.security")


def security_event(event: str, **fields: Any) -> None:
    """One line on the `bud_checker.security` logger: the event and its fields (adviser ids, counts, reasons,
    endpoints; never a password, an e-mail address, a client address or a session identifier)."""
    details = " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
    security_log.info("%s %s", event, details)


# --- rate limit of sign-in ----------------------------------------------------------------------------------

DEFAULT_LOGIN_LIMIT_PER_ADDRESS = "10 per minute;50 per hour"
DEFAULT_LOGIN_LIMIT_PER_EMAIL = "5 per minute;20 per hour"
RATE_LIMIT_MESSAGE = ("Trop de tentatives de connexion infructueuses : patientez quelques minutes avant de "
                      "réessayer.")


def _email_key() -> str:
    """Failures are counted per e-mail address AND client address: someone failing elsewhere does not lock the
    owner out of their own address (the per-address limit still stops one address trying many e-mails)."""
    return "email:" + normalize_email(request.form.get("email", ""))[:254] + "|" + (get_remote_address() or "")


def _failed(response: Any) -> bool:
    """Only failed attempts count: a successful sign-in redirects (303)."""
    return response.status_code != 303


def _user_key() -> str:
    from flask_login import current_user

    return "conseiller:" + (current_user.get_id() if current_user.is_authenticated else "anonyme")


def rate_limited(app: Flask, limiter: Limiter, endpoint: str, *, per: str = "email") -> None:
    """Wrap the view of `endpoint` with the sign-in limits (POST only, failed attempts only): per client address,
    and per e-mail address typed (`per="email"`) or per signed-in adviser (`per="conseiller"`)."""
    view: Callable[..., Any] = app.view_functions[endpoint]
    view = limiter.limit(lambda: per_worker(app, app.config["ADVISER_LOGIN_LIMIT_PER_EMAIL"]),
                         key_func=_email_key if per == "email" else _user_key,
                         methods=["POST"], deduct_when=_failed, error_message=RATE_LIMIT_MESSAGE)(view)
    view = limiter.limit(lambda: per_worker(app, app.config["ADVISER_LOGIN_LIMIT_PER_ADDRESS"]),
                         key_func=get_remote_address,
                         methods=["POST"], deduct_when=_failed, error_message=RATE_LIMIT_MESSAGE)(view)
    app.view_functions[endpoint] = view


def web_workers(environ: dict[str, str] | None = None) -> int:
    """The number of gunicorn workers serving the site (BUD_WEB_WORKERS, set by `bud-checker serve`)."""
    environ = os.environ if environ is None else environ
    try:
        return max(1, int(environ.get("BUD_WEB_WORKERS", "1")))
    except ValueError:
        return 1


def per_worker(app: Flask, limits: str) -> str:
    """`limits` as each worker must count them. With a shared storage (redis://...) every worker counts the same
    requests: unchanged. With the in-memory storage each of the N gunicorn workers counts only the requests it
    served, so each allows 1/N of every amount (rounded up): about the configured limit for the site as a whole."""
    workers = app.config.get("BUD_WEB_WORKERS") or web_workers()
    storage = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if workers <= 1 or not storage.startswith("memory://") or not limits:
        return limits
    return re.sub(r"(\d+)(\s*(?:/|per\b))", lambda m: f"{-(-int(m.group(1)) // workers)}{m.group(2)}", limits)


class RouteLimiter(Limiter):
    """Flask-Limiter with the limits of its routes only (decorated views: the public API and form, the sign-in).

    Flask-Limiter also checks every request in a before_request hook, for default, application-wide and blueprint
    limits; this application sets none (`default_limits=[]`, no RATELIMIT_DEFAULT or RATELIMIT_APPLICATION), so
    that pass found nothing to count while costing, on every request, about what the hello-world application of
    benchmarks/ spends on a whole request. It is skipped unless such limits are configured; the decorated views
    are checked by their decorator, and the headers (Retry-After on 429) are still written after the request."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if in_middleware and not getattr(self, "_middleware_limits", True):
            return
        super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        self._middleware_limits = bool(app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")
                                       or app.config.get("RATELIMIT_META"))


def make_limiter(app: Flask) -> Limiter:
    """One limiter per application (tests create several), in memory unless RATELIMIT_STORAGE_URI says."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", os.environ.get("RATELIMIT_STORAGE_URI") or "memory://")
    # Flask-Limiter's own headers: X-RateLimit-* and, on a 429, Retry-After computed from the limit's window.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADER_RETRY_AFTER_VALUE", "delta-seconds")
    app.config.setdefault("ADVISER_LOGIN_LIMIT_PER_ADDRESS", DEFAULT_LOGIN_LIMIT_PER_ADDRESS)
    app.config.setdefault("ADVISER_LOGIN_LIMIT_PER_EMAIL", DEFAULT_LOGIN_LIMIT_PER_EMAIL)
    limiter = RouteLimiter(key_func=get_remote_address, default_limits=[])
    limiter.init_app(app)
    return limiter


# --- the session cookie -------------------------------------------------------------------------------------

class AdviserSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the Secure flag also set for HTTPS requests and for signed-in
    advisers in production (see the module docstring)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config.get("SESSION_COOKIE_SECURE"):
            return True
        try:
            if request.is_secure:
                return True
            return bool(app.config.get("ADVISER_COOKIE_SECURE")) and "_user_id" in session
        except RuntimeError:  # outside a request
            return False


def cookie_settings(app: Flask, environ: dict[str, str] | None = None) -> None:
    environ = os.environ if environ is None else environ
    flag = environ.get("BUD_COOKIE_SECURE")
    app.config.setdefault("ADVISER_COOKIE_SECURE",
                          flag == "1" if flag in ("0", "1") else app.config.get("BUD_ENV") in ("production", "local"))
    app.config.setdefault("ADVISER_SESSION_HOURS", 12)
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.session_interface = AdviserSessionInterface()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
