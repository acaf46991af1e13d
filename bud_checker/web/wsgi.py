"""WSGI entry point for gunicorn (`gunicorn bud_checker.web.wsgi:app`); `bud-checker serve` runs it.

With BUD_ENV=production (the default), refuses to start without SECRET_KEY in the environment (security.py)."""

from . import create_app
from .security import require_secret_key

require_secret_key()
app = create_app()
