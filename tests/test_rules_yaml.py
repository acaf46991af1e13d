"""The expert rule tests of rules/tests/*.yaml, one pytest case each."""

import pytest

from bud_checker.rule_tests import load_cases, run_case

CASES = load_cases()


def test_there_are_expert_cases_for_every_condition():
    named = set()
    for case in CASES:
        named.update((case.attendu.get("conditions") or {}).keys())
    assert named == {"periode_creation", "commune_zone", "activite", "creation_nouvelle", "taille_pme", "capital",
                     "implantation", "clause_embauche"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_expert_case(case):
    assert run_case(case) == []


def test_a_wrong_expectation_is_reported():
    """The runner itself can fail: a deliberately wrong expectation yields differences."""
    case = CASES[0]
    wrong = type(case)(case.fichier, case.titre, case.nom, case.situation,
                       {**case.attendu, "statut": "eligible" if case.attendu.get("statut") != "eligible" else "non_eligible"})
    assert run_case(wrong)
