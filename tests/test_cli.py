"""The bud-checker command line, run as a user would (a subprocess of the installed entry point)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = [sys.executable, "-m", "bud_checker.cli"]


def run(*args, stdin=None):
    return subprocess.run([*BIN, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_check_douai_from_stdin(douai_commerce):
    result = run("check", "-", stdin=json.dumps(douai_commerce))
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["statut"] == "eligible"
    assert verdict["exonerations"]["impot_benefices"]["fin_exoneration_totale"] == "2021-04-30"


def test_check_lille_from_file(tmp_path, douai_commerce):
    path = tmp_path / "lille.json"
    path.write_text(json.dumps({**douai_commerce, "commune_insee": "59350"}), encoding="utf-8")
    result = run("check", str(path))
    assert result.returncode == 0
    verdict = json.loads(result.stdout)
    assert verdict["statut"] == "non_eligible"
    assert [c["id"] for c in verdict["conditions"] if c["statut"] == "non_remplie"] == ["commune_zone"]


@pytest.mark.parametrize("payload, field", [
    ('{"date_creation": "2019-02-30"}', "date_creation"),
    ('{"date_creation": "2019-05-14", "commune_insee": "99999"}', "commune_insee"),
    ('{"date_creation": "2019-05-14", "effectif": -1}', "effectif"),
    ('{"date_creation": "2019-05-14", "capital_detenu_par_societes_pct": 101}', "capital_detenu_par_societes_pct"),
    ('{"date_creation": "2019-05-14", "activite": "banque"}', "activite"),
    ('{"date_creation": "2019-05-14", "inconnue": 1}', "inconnue"),
    ('{"date_creation": ', "situation"),
    ('[1, 2]', "situation"),
    ('"2019-05-14"', "situation"),
])
def test_bad_input_exit_2_with_one_french_line(payload, field):
    result = run("check", "-", stdin=payload)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Erreur\u00a0: {field}\u00a0:")
    assert "Traceback" not in result.stderr


def test_missing_file_and_bad_encoding(tmp_path):
    result = run("check", str(tmp_path / "absent.json"))
    assert result.returncode == 2 and "introuvable" in result.stderr
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"date_creation": "2019-05-14", "activite": "é"}'.encode("latin-1"))
    result = run("check", str(latin))
    assert result.returncode == 2 and "UTF-8" in result.stderr


def test_usage_error_is_french_and_exit_2():
    result = run("nimporte")
    assert result.returncode == 2
    assert "erreur d'utilisation" in result.stderr


@pytest.mark.parametrize("query, expected", [
    ("Douai", "59178  Douai"),
    ("douai", "59178  Douai"),
    ("LIEVIN", "62510  Liévin"),
    ("59500", "59178  Douai"),
    ("59178", "59178  Douai"),
    ("roeulx", "59504  Rœulx"),
])
def test_communes_search(query, expected):
    result = run("communes", query)
    assert result.returncode == 0
    assert expected in result.stdout


def test_communes_says_since_when_and_confidence():
    out = run("communes", "La Bassée").stdout
    assert "59051  La Bassée" in out and "BUD depuis le 1er janvier 2019" in out and "limitrophe_2019" in out
    out = run("communes", "Lens", "--json").stdout
    lens = next(row for row in json.loads(out) if row["insee"] == "62498")
    assert lens["bud"] is True and "à confirmer" in lens["statut"]
    out = run("communes", "Lille").stdout
    assert "59350  Lille" in out and "hors BUD" in out


@pytest.mark.parametrize("query", ["lievn", "bully", "st amand", "douai", "59500", "lille"])
def test_communes_ranks_like_the_site(query):
    """The same ranked, typo-tolerant search as /api/v1/communes and the form's suggestions (the basin's communes
    first, exact prefix then population): the same communes in the same order, with their BUD status."""
    from bud_checker.commune_search import search_communes

    rows = json.loads(run("communes", query, "--limit", "6", "--json").stdout)
    site = search_communes(query, 6)
    assert [r["insee"] for r in rows] == [c["insee"] for c in site]
    assert [(r["bud"], r["classement"], r["approchee"]) for r in rows] == [
        (c["bud"], c["classement"], c["approchee"]) for c in site]


def test_communes_tolerates_typos_and_puts_the_basin_first():
    out = run("communes", "lievn").stdout.splitlines()
    assert out[0].startswith("62510  Liévin (62") and "[nom approché]" in out[0] and "classée en BUD" in out[0]
    out = run("communes", "bully").stdout.splitlines()
    assert out[0].startswith("62186  Bully-les-Mines (62") and "classée en BUD" in out[0]
    assert any(line.startswith("69032  Bully (69") and line.endswith(": hors BUD") for line in out[1:])
    out = run("communes", "st", "amand").stdout.splitlines()
    assert out[0].startswith("59526  Saint-Amand-les-Eaux (59")


def test_communes_needs_no_web_module():
    """The command runs from the engine alone: nothing of bud_checker.web (nor Flask) is imported."""
    code = ("import sys, runpy; sys.argv = ['bud-checker', 'communes', 'lievn'];\n"
            "try:\n    runpy.run_module('bud_checker.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "assert not [m for m in sys.modules if m.startswith(('bud_checker.web', 'flask'))], sys.modules")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Liévin" in result.stdout


def test_communes_unknown_query():
    result = run("communes", "zzzzqqq")
    assert result.returncode == 1
    assert "Aucune commune" in result.stdout


def test_test_rules_runs_the_expert_suite():
    result = run("test-rules")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")


def test_test_rules_reports_a_failing_case(tmp_path):
    case = tmp_path / "faux.yaml"
    case.write_text("titre: faux\ncas:\n  - nom: Lille éligible ?\n    situation: {date_creation: 2019-05-14, "
                    "commune_insee: '59350'}\n    attendu: {statut: eligible}\n", encoding="utf-8")
    result = run("test-rules", str(case))
    assert result.returncode == 1
    assert "ÉCHEC" in result.stdout and "0 passed, 1 failed" in result.stdout
    assert run("test-rules", str(tmp_path / "absent.yaml")).returncode == 2
