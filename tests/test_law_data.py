"""rules/ is complete and auditable: every value dated, referenced and tagged; no legal literal in code."""

import datetime as dt
import re
from pathlib import Path

import pytest

from bud_checker.engine.law import RulesError, current_rules, load_rules

ENGINE = Path(__file__).resolve().parent.parent / "bud_checker" / "engine"


def test_every_parameter_value_is_dated_referenced_and_tagged():
    rules = current_rules()
    assert len(rules.parametres) >= 20
    for parameter in rules.parametres.values():
        assert parameter.libelle
        for value in parameter.valeurs:
            assert isinstance(value.depuis, dt.date), parameter.id
            assert value.confiance in {"V", "S", "U"}, parameter.id
            assert value.citations, parameter.id
            for ref in value.references():
                assert ref.texte and ref.url.startswith("http"), parameter.id


def test_values_are_in_date_order_and_lookups_follow_them():
    rules = current_rules()
    fin = rules.param("fin_periode_creation")
    assert [v.depuis for v in fin.valeurs] == sorted(v.depuis for v in fin.valeurs)
    assert fin.at(dt.date(2017, 12, 31)) is None
    assert fin.at(dt.date(2020, 12, 30)).valeur == dt.date(2020, 12, 31)
    assert fin.at(dt.date(2020, 12, 31)).valeur == dt.date(2022, 12, 31)
    assert fin.at(dt.date(2022, 1, 1)).valeur == dt.date(2023, 12, 31)
    assert fin.at(dt.date(2023, 12, 31)).valeur == dt.date(2026, 12, 31)


def test_versions_of_the_article():
    rules = current_rules()
    dates = [v.en_vigueur.isoformat() for v in rules.versions]
    assert dates == ["2018-01-01", "2018-06-23", "2019-01-01", "2020-04-01", "2020-12-31", "2022-01-01",
                     "2023-12-31", "2024-07-01"]
    assert rules.version_at(dt.date(2019, 5, 14)).en_vigueur == dt.date(2019, 1, 1)
    assert rules.version_at(dt.date(2017, 1, 1)).en_vigueur == dt.date(2018, 1, 1)


def test_every_condition_is_described_with_sources():
    rules = current_rules()
    assert list(rules.conditions) == ["periode_creation", "commune_zone", "activite", "creation_nouvelle",
                                      "taille_pme", "capital", "implantation", "clause_embauche"]
    for condition in rules.conditions.values():
        assert condition.citations and condition.resume and condition.confiance in {"V", "S", "U"}


def test_commune_lists_match_the_official_counts():
    rules = current_rules()
    rows = list(rules.communes_bud.values())
    assert len(rows) == 159
    by_dept = {"59": 0, "62": 0}
    for row in rows:
        by_dept[row.departement] += 1
    assert by_dept == {"59": 81, "62": 78}  # préfecture de région, 3 May 2019
    assert sum(1 for r in rows if r.liste.id == "limitrophe_2019") == 9
    assert sum(1 for r in rows if r.confiance.id == "non_sourcee") == 75
    # BUD.md: [S] is law; only the communes no readable source names are «à confirmer».
    assert all(r.confiance.a_confirmer == (r.confiance.id == "non_sourcee") for r in rows)


def test_every_bud_commune_exists_in_the_national_reference():
    from bud_checker.communes import load_reference

    reference = load_reference()
    for row in current_rules().communes_bud.values():
        commune = reference.get(row.insee)
        assert commune is not None and commune.insee == row.insee, row.insee


YEAR = re.compile(r"(?<![\w.])(19|20)\d\d(?![\w])")


# situation.py (input sanity bounds, examples in messages) and fr.py (formatting) hold no legal rule.
LEGAL_MODULES = sorted(p for p in ENGINE.glob("*.py") if p.name not in {"situation.py", "fr.py"})


@pytest.mark.parametrize("path", LEGAL_MODULES, ids=lambda p: p.name)
def test_no_legal_date_or_threshold_is_a_literal_in_the_engine(path):
    """Years, legal thresholds and rates live in rules/, never in the engine's code."""
    code = "\n".join(line.split("#")[0] for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.strip().startswith(("#", '"', "'")))
    code = re.sub(r'"""[\s\S]*?"""', "", code)
    offenders = [m.group(0) for m in YEAR.finditer(code)]
    assert not offenders, f"year literals in {path.name}: {offenders}"
    for literal in ("152500", "500000", "50000000", "43000000", "250", " 23", "0.15", "15 %"):
        assert literal not in code.replace("_", ""), f"{literal!r} in {path.name}"


def test_a_broken_rules_directory_is_refused(tmp_path):
    import shutil

    source = current_rules().directory
    shutil.copytree(source, tmp_path / "rules", ignore=shutil.ignore_patterns("communes_france.json.gz"))
    broken = tmp_path / "rules" / "parameters" / "taille_et_capital.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("ref: rgec_annexe_1", "ref: inconnue"), encoding="utf-8")
    with pytest.raises(RulesError, match="référence inconnue"):
        load_rules(tmp_path / "rules")
