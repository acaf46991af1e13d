"""The public blueprint: the form, the verdict pages, the rules and the commune suggestions."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from . import results, routes  # noqa: E402,F401 - registers the views on the blueprint
