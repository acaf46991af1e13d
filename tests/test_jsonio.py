"""The JSON writer of the API and the storage (bud_checker/web/jsonio.py): orjson's fast path for verdicts, and
the same text as the standard library for what that path refuses (non-string keys, integers beyond 64 bits)."""

import datetime as dt
import json

import pytest

from bud_checker.engine.verdict import evaluate
from bud_checker.web.jsonio import dumps


def _stdlib(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


@pytest.mark.parametrize("value", [
    {1: "clé entière", "b": 2},
    {"montant": 10**30},
    {"date": dt.date(2026, 12, 31), "ensemble": ("a", "b")},
    {"texte": "Éligible\u00a0: « oui »"},
])
def test_what_the_fast_path_refuses_is_still_written(value):
    assert json.loads(dumps(value)) == json.loads(_stdlib(value))


def test_a_verdict_is_written_as_the_standard_library_writes_it():
    verdict = evaluate({"date_creation": "2024-03-14", "commune_insee": "59178", "activite": "commerciale",
                        "effectif": 3}).to_dict()
    assert dumps(verdict) == _stdlib(verdict)
