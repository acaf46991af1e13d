"""WSGI entry point for gunicorn (`gunicorn wsgi:app`); `bud-checker serve` runs it."""

from bud_checker.web import create_app

app = create_app()
