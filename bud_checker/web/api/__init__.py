"""The JSON API, mounted under /api/v1 (see openapi.py for its OpenAPI 3 document)."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from . import routes  # noqa: E402,F401 - registers the views on the blueprint
