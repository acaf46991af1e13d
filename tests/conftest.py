"""Shared fixtures. Browser and PostgreSQL tests skip when their service is absent, unless
BUD_REQUIRE_ALL=1 (set by scripts/test and CI), where a missing service is a failure."""

from __future__ import annotations

import os

import pytest

REQUIRE_ALL = os.environ.get("BUD_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (BUD_REQUIRE_ALL=1: every service must be available)")
    pytest.skip(reason)


@pytest.fixture
def douai_commerce() -> dict:
    """The reference case: a commercial company created on 2019-05-14 in Douai, every answer given."""
    return {
        "date_creation": "2019-05-14",
        "commune_insee": "59178",
        "activite": "commerciale",
        "origine": "creation_pure",
        "effectif": 3,
        "chiffre_affaires": 180000,
        "total_bilan": 90000,
        "capital_detenu_par_societes_pct": 0,
        "siege_et_moyens_dans_zone": True,
        "non_sedentaire": False,
        "salaries_eligibles": 2,
        "salaries_eligibles_residents_bud": 2,
        "embauches_eligibles": 2,
        "embauches_eligibles_residents_bud": 2,
        "deliberation_exoneration_cfe": False,
        "proprietaire_immeuble": False,
    }
