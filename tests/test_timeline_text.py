"""The timeline as text for small screens (presentation.timeline_lines)."""

from __future__ import annotations

from bud_checker.engine.verdict import evaluate
from bud_checker.web.presentation import build_timeline, timeline_lines


def test_runs_of_equal_shares_and_taxes_exempted_alike(douai_commerce):
    lines = timeline_lines(build_timeline(evaluate({**douai_commerce, "proprietaire_immeuble": True}).to_dict()))
    profit = lines[0]
    assert profit["label"] == "Impôt sur les bénéfices"
    assert profit["items"][0]["quand"] == "du 14 mai 2019 au 30 avril 2021"
    assert profit["items"][0]["part"] == "100\u00a0% exonéré"
    local = lines[1]
    assert local["label"] == "CFE, taxe foncière et CVAE"  # one list for taxes exempted alike
    assert [item["quand"] for item in local["items"]][:2] == ["de 2020 à 2026", "en 2027"]
    assert len(lines) == 2
