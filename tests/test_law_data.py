"""rules/ is complete and auditable: every value dated, referenced and tagged; no legal literal in code."""

import ast
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


ROOT = ENGINE.parent.parent
SOURCES = sorted((ROOT / "bud_checker").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.html"))
# A legal number written as words or figures in a sentence: it must be built from its parameter.
LEGAL_WORDS = re.compile(r"\b(moitié|tiers|quart)\b|\b\d+ (mois|ans|années|jours)\b|"
                         r"\b1er (janvier|février|mars|avril|mai|"
                         r"juin|juillet|août|septembre|octobre|novembre|décembre)\b|\b(premier|deuxième|second|"
                         r"troisième|dernier) jour ouvré|\b\d+(,\d+)? ?%(?!\})", re.IGNORECASE)
LEGAL_NUMBERS = {152500, 500000, 50000000, 43000000, 250, 23, 0.15, 15}
EXAMPLES = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")  # input examples in messages
# Literals that are not law, with the reason.
ALLOWED = {
    ("bud_checker/engine/situation.py", 1900), ("bud_checker/engine/situation.py", 2100),  # input sanity bounds
    ("bud_checker/engine/fr.py", 2000), ("bud_checker/web/rules_catalogue.py", 2000),  # a leap year, to name a day
    ("bud_checker/web/security.py", "2000"),  # a rate limit (configuration)
    ("bud_checker/batch.py", 2000),  # lines per task of a batch
    ("bud_checker/batch.py", "2003"), ("bud_checker/batch.py", "0 %"),  # «Excel 97-2003»; a cell's number format
    ("templates/_economies.html", "2000"),  # the SVG namespace
    ("templates/public/_timeline.html", "2000"),  # the SVG namespace
    ("bud_checker/web/zone_map.py", "2000"),  # the SVG namespace
    ("bud_checker/web/zone_map.py", "2018"),  # the vintage of the IGN/INSEE outlines (a data attribution)
}


def _strings_and_numbers(path: Path) -> tuple[list[str], list[float]]:
    """The texts and numbers a module or a template could show: string literals (not docstrings) and number
    literals of a module; the text of a template (not its comments)."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return [re.sub(r"\{#.*?#\}", "", source, flags=re.S)], []
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    texts, numbers = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str):
                texts.append(node.value)
            elif isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
                numbers.append(node.value)
    return texts, numbers


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_legal_number_is_written_in_code_or_templates(path):
    """Years, thresholds, rates, durations and legal days live in rules/: a sentence quoting one builds it from
    the parameter. Every module of bud_checker/ and every template is scanned (strings and numbers, not
    comments or docstrings)."""
    name = str(path.relative_to(ROOT))
    texts, numbers = _strings_and_numbers(path)
    offenders = []
    for text in texts:
        text = EXAMPLES.sub("", text)
        offenders += [m.group(0) for m in YEAR.finditer(text) if (name, m.group(0)) not in ALLOWED]
        offenders += [m.group(0) for m in LEGAL_WORDS.finditer(text) if (name, m.group(0)) not in ALLOWED]
    offenders += [n for n in numbers if (1900 <= n <= 2100 and n == int(n) and (name, n) not in ALLOWED)
                  or (n in LEGAL_NUMBERS and "engine" in name)]
    assert not offenders, f"legal literals in {name}: {offenders}"


def test_a_broken_rules_directory_is_refused(tmp_path):
    import shutil

    source = current_rules().directory
    shutil.copytree(source, tmp_path / "rules", ignore=shutil.ignore_patterns("communes_france.json.gz"))
    broken = tmp_path / "rules" / "parameters" / "taille_et_capital.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("ref: rgec_annexe_1", "ref: inconnue"),
                      encoding="utf-8")
    with pytest.raises(RulesError, match="référence inconnue"):
        load_rules(tmp_path / "rules")


def test_numbers_are_written_in_french_without_losing_decimals():
    from bud_checker.engine.fr import euros, nombre_fr, pct

    assert pct(0.375) == "0,375\u00a0%"  # Babel (CLDR fr): was rounded to «0,38 %» on /regles
    assert nombre_fr(12_500_000) == "12\u202f500\u202f000" and nombre_fr(37.5) == "37,5"
    assert euros(50_000_000) == "50\u202f000\u202f000\u00a0€"
