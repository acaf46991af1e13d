"""Schemathesis fuzzes the API from its own OpenAPI document (/api/v1/openapi.json), in-process (WSGI).

Every response must be documented: status code, content type, headers and body schema, and no request may
cause a server error. Both valid and invalid requests are generated.

Two input checks are left out on purpose: the API accepts exactly what the engine accepts, like
`bud-checker check` (the contract), and the engine also tolerates textual forms the schema does not list
(«oui», «1 000», an empty string for «je ne sais pas»), so `negative_data_rejection` would flag them; and an
INSEE code that matches the documented pattern may still name no commune (422), which
`positive_data_acceptance` cannot know. tests/test_api.py covers the valid side with real communes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from bud_checker.web import create_app
from bud_checker.web.commands import upgrade_database

# Schemathesis loads the schema when the module is collected, so the application is built here, on its own
# migrated SQLite database (the session fixtures are not available at collection time).
_DIRECTORY = Path(tempfile.mkdtemp(prefix="bud-schemathesis-"))
_CONFIG = {"DATABASE_URL": f"sqlite:///{_DIRECTORY / 'api.sqlite3'}", "BUD_ENV": "test", "SECRET_KEY": "schemathesis"}
upgrade_database(_CONFIG)
APP = create_app(_CONFIG)

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
BATCHES = "/conseillers/lots"


@schema.parametrize()
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_matches_its_openapi_document(case):
    """Without a session, the advisers' batch operations answer 401 (400 for a write without CSRF token)."""
    case.call_and_validate(excluded_checks=[negative_data_rejection, positive_data_acceptance])


def _signed_in_headers() -> dict[str, str]:
    """A session cookie and its CSRF token for an adviser of the schemathesis application's own database."""
    from advisers_helpers import PASSWORD, AdviserClient, make_adviser, make_org

    _, organisation = make_org(APP, "CCI Schemathesis")
    adviser = AdviserClient(APP, make_adviser(APP, organisation))
    return {"Cookie": f"session={adviser.client.get_cookie('session').value}", "X-CSRFToken": adviser.form_token()}


_SIGNED_IN: dict[str, str] = {}


@schema.include(path_regex=f"^{BATCHES}").parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_batch_operations_of_a_signed_in_adviser_match_the_document(case):
    """Signed in, with the session's CSRF token: the real answers (202 with `etat` and `progression`, 404, 409,
    413, 415, 422...) as documented."""
    if not _SIGNED_IN:
        _SIGNED_IN.update(_signed_in_headers())
    case.call_and_validate(headers=dict(_SIGNED_IN),
                           excluded_checks=[negative_data_rejection, positive_data_acceptance])


def test_the_document_describes_every_route_of_the_api_blueprint():
    documented = set(schema.raw_schema["paths"])
    served = {rule.rule.removeprefix("/api/v1") for rule in APP.url_map.iter_rules()
              if rule.endpoint.startswith("api.")}
    served = {path.replace("<verification_id>", "{id}").replace("<catalogue_id>", "{id}") for path in served}
    assert served == {path for path in documented if not path.startswith("/conseillers/")}
    batches = {rule.rule.removeprefix("/api/v1").replace("<batch_id>", "{id}") for rule in APP.url_map.iter_rules()
               if rule.endpoint.startswith("conseillers_api.") and "/lots" in rule.rule}
    assert batches == {path for path in documented if path.startswith(BATCHES)}


def test_every_operation_that_touches_the_database_documents_its_503_with_retry_after():
    for path, operations in schema.raw_schema["paths"].items():
        for method, operation in operations.items():
            answers = operation["responses"]
            if path in ("/communes", "/openapi.json"):  # the commune reference and the document: no database
                assert "503" not in answers, (method, path)
                continue
            assert "503" in answers, (method, path)
            assert answers["503"]["headers"]["Retry-After"]["required"] is True
