"""Schemathesis against the OpenAPI document with the public rate limits on and set low, so that refusals for too
many requests (429, Retry-After) are generated too and checked against the document like every other answer.
The main schemathesis run (limits off) is tests/test_openapi_schemathesis.py."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from bud_checker.web import create_app
from bud_checker.web.commands import upgrade_database

_DIRECTORY = Path(tempfile.mkdtemp(prefix="bud-schemathesis-limits-"))
_CONFIG = {"DATABASE_URL": f"sqlite:///{_DIRECTORY / 'api.sqlite3'}", "BUD_ENV": "test", "SECRET_KEY": "limits",
           "PUBLIC_API_RATE_LIMIT": "10 per minute", "PUBLIC_API_READ_RATE_LIMIT": "10 per minute"}
upgrade_database(_CONFIG)
APP = create_app(_CONFIG)
SEEN: set[int] = set()

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_rate_limited_api_matches_its_openapi_document(case):
    response = case.call_and_validate(excluded_checks=[negative_data_rejection, positive_data_acceptance])
    SEEN.add(response.status_code)


def test_429_answers_were_generated_and_checked():
    if not SEEN:  # e.g. pytest-xdist ran the generated cases in another process
        pytest.skip("the generated cases ran in another process")
    assert 429 in SEEN, SEEN
