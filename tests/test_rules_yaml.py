"""The expert rule tests of rules/tests/*.yaml: each case is a pytest item of its own, collected by the hook of
the root conftest.py; here, what the collection as a whole must hold."""

import pytest

from bud_checker.rule_tests import load_cases, run_case

CASES = load_cases()


def test_there_are_expert_cases_for_every_condition():
    named = set()
    for case in CASES:
        named.update((case.attendu.get("conditions") or {}).keys())
    assert named == {"periode_creation", "commune_zone", "activite", "creation_nouvelle", "taille_pme", "capital",
                     "implantation", "clause_embauche"}


def test_every_case_is_collected_by_pytest(request):
    names = {item.name for item in request.session.items if item.__class__.__name__ == "RuleItem"}
    if names:  # the whole suite is running (not this file alone)
        assert names == {case.nom for case in CASES}


def test_a_wrong_expectation_is_reported():
    """The runner itself can fail: a deliberately wrong expectation yields differences."""
    case = CASES[0]
    wrong = type(case)(case.fichier, case.titre, case.nom, case.situation,
                       {**case.attendu,
                        "statut": "eligible" if case.attendu.get("statut") != "eligible" else "non_eligible"})
    assert run_case(wrong)
