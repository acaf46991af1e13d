"""The web application: public checker pages and the JSON API, over the engine.

    from bud_checker.web import create_app
    app = create_app()                                   # configuration from the environment
    app = create_app({"DATABASE_URL": "sqlite://..."})   # tests: overrides on top of it
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from flask import Flask

from . import config as cfg
from .extensions import csrf, db, register_migrations
from .jsonio import OrjsonProvider, dumps_text, loads_stored

log = logging.getLogger(__name__)


class BudFlask(Flask):
    json_provider_class = OrjsonProvider  # jsonify and request.get_json through orjson


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = BudFlask(
        __name__,
        template_folder=str(cfg.TEMPLATES_DIR),
        static_folder="static",
        instance_path=str(cfg.INSTANCE_DIR),
        instance_relative_config=False,
    )
    app.config.from_mapping(cfg.from_environment())
    overrides = dict(config or {})
    if "DATABASE_URL" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = overrides.pop("DATABASE_URL")
    if "SQLALCHEMY_DATABASE_URI" in overrides:
        overrides["SQLALCHEMY_DATABASE_URI"] = cfg.normalize_database_url(overrides["SQLALCHEMY_DATABASE_URI"])
    app.config.update(overrides)
    if app.config["BUD_ENV"] == "test":
        app.config.setdefault("TESTING", True)
    if app.config["BUD_ENV"] == "test" and not (app.config.get("BUD_QUEUE_URL") or os.environ.get("BUD_QUEUE_URL")):
        from .queue import huey

        huey.immediate = True  # no worker in the tests' process: batches are checked within the request
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.instance_secret_key()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        cfg.private_sqlite_file(uri.removeprefix("sqlite:///"))  # instance/ 0700, the file 0600
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        engine_options.setdefault("pool_pre_ping", True)  # a connection lost in an outage is replaced, not used
    # JSON columns (situations, verdicts) written by orjson; rows written before by the standard library read too.
    engine_options.setdefault("json_serializer", dumps_text)
    engine_options.setdefault("json_deserializer", loads_stored)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options

    db.init_app(app)
    register_migrations(app)  # Flask-Migrate (Alembic) is imported only where migrations run: not in gunicorn's workers
    csrf.init_app(app)

    from . import models  # noqa: F401 - registers the tables on the metadata
    from .api import bp as api_bp
    from .public import bp as public_bp
    from .errors import register_error_handlers
    from .templating import register_template_helpers

    csrf.exempt(api_bp)  # a token-free JSON API: no cookie authenticates it, so there is nothing to forge
    app.register_blueprint(public_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from .advisers import init_app as init_advisers

    init_advisers(app)  # the advisers' workspace: /conseillers and /api/v1/conseillers
    register_error_handlers(app)
    register_template_helpers(app)

    from .security import init_security

    init_security(app)  # headers (CSP, HSTS over HTTPS...), proxy trust, public rate limits, no debug page

    if app.config.get("BUD_WARMUP"):
        warm_up()
    return app


def warm_up() -> None:
    """Load the rules and the national commune reference now rather than on the first request."""
    from ..communes import load_reference
    from ..engine.law import current_rules

    current_rules()
    load_reference()
    from . import queue  # noqa: F401 - huey (and the redis client it imports): at start-up, not on the first upload
