"""`gunicorn wsgi:app` from the checkout: the same application as bud_checker.web.wsgi (what `serve` runs)."""

from bud_checker.web.wsgi import app

__all__ = ["app"]
