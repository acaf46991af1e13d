"""The CCI advisers' workspace: accounts, private case files, batch checks and printable reports.

Pages under /conseillers (blueprint `conseillers`), JSON under /api/v1/conseillers (blueprint
`conseillers_api`); both need a signed-in adviser and only ever reach the adviser's own organisation.
`init_app(app)` is called by `create_app`.

CSRF: the pages' forms carry Flask-WTF's token. The JSON API is authenticated by the same session cookie, so
it is NOT exempt from CSRF protection (unlike the public, cookie-free API): every POST/PATCH must send the
token in an `X-CSRFToken` header. A script gets it from `GET /api/v1/conseillers/session`; a page from its
`<meta name="csrf-token">`. Another site can neither read the token nor send that header without a CORS
pre-flight, which this application never grants.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("conseillers", __name__)
api_bp = Blueprint("conseillers_api", __name__)

PAGES_PREFIX = "/conseillers"
API_PREFIX = "/api/v1/conseillers"


def init_app(app: Flask) -> None:
    from ..extensions import csrf
    from . import models  # noqa: F401 - registers the tables on the metadata
    from . import api, routes  # noqa: F401 - registers the views on the blueprints
    from .auth import cookie_settings, login_manager, make_limiter, rate_limited

    cookie_settings(app)
    app.config.setdefault("ADVISER_BATCH_MAX_BYTES", 16 * 1024 * 1024)
    login_manager.init_app(app)
    login_manager.unauthorized_handler(routes.unauthorized)
    app.register_blueprint(bp, url_prefix=PAGES_PREFIX)
    app.register_blueprint(api_bp, url_prefix=API_PREFIX)
    # The batch uploads are larger than MAX_CONTENT_LENGTH: their views raise the limit for themselves, then
    # check the CSRF token (the global check would read the body before they can).
    for endpoint in ("conseillers.lot_nouveau", "conseillers_api.create_batch"):
        csrf.exempt(app.view_functions[endpoint])
    limiter = make_limiter(app)
    app.extensions["bud_limiter"] = limiter
    rate_limited(app, limiter, "conseillers.connexion")
    rate_limited(app, limiter, "conseillers.mot_de_passe", per="conseiller")
