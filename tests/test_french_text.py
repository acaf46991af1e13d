"""Issue 8 items 2 and 9: every text of every expert case is written in French typography, with no internal key,
no capital after a colon and one term per notion; every reference link is on an official host."""

import re

import pytest

from bud_checker.engine.catalogue import catalogue
from bud_checker.engine.contract import read, resolve
from bud_checker.engine.law import current_rules, is_official_url
from bud_checker.engine.situation import SituationError
from bud_checker.engine.verdict import evaluate
from bud_checker.rule_tests import load_cases

CASES = [case for case in load_cases() if "erreur" not in case.attendu]

NBSP = "\u00a0\u202f"
SPACE_BEFORE = re.compile(r"[ ]([;:!?»])")          # an ordinary space before «;:!?» or before a closing guillemet
NO_SPACE_BEFORE = re.compile(rf"[^{NBSP}\s]([;!?])")  # «;», «!», «?» glued to the word before
COLON_GLUED = re.compile(rf"[^{NBSP}\s\d]:(?!//)")    # «:» glued to the word before (not in 10:30 or https://)
OPENING = re.compile(rf"«(?![{NBSP}])")
CLOSING = re.compile(rf"(?<![{NBSP}])»")
CAPITAL_AFTER_COLON = re.compile(rf":[{NBSP} ]+([A-ZÀÂÉÈÊÎÔÛÇ][a-zàâéèêëîïôûùç])")
INTERNAL_KEY = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
# One term per notion: the intercommunalité (never «EPCI»), the bassin urbain à dynamiser (never «BUD» in a sentence),
# the service des impôts des entreprises, named in full at least once where «SIE» is used.
FORBIDDEN_TERMS = (re.compile(r"\bEPCI\b"), re.compile(r"\bBUD\b"), re.compile(r"\bsous réserve des points\b"))
# Proper nouns that may follow a colon.
PROPER = {"Douai", "Lens", "Lille", "Denain", "Vimy", "Arras", "Paris", "Liévin", "Valenciennes", "Wahagnies"}


def _user_texts(verdict):
    yield "resume", verdict["resume"]
    for text in verdict["limites"]:
        yield "limites", text
    yield "version", verdict["version"]["explication"]
    for condition in verdict["conditions"]:
        yield condition["id"], condition["explication"]
        for motif in condition.get("motifs_a_confirmer", []):
            yield condition["id"], motif
        for info in condition.get("informations_manquantes", []):
            yield condition["id"], info["question"]
    for key, data in verdict["exonerations"].items():
        yield key, data["explication"]
        for motif in data.get("motifs_a_confirmer", []):
            yield key, motif
    for demarche in verdict["demarches"]:
        yield demarche["titre"], demarche["titre"]
        yield demarche["titre"], demarche["description"]
    for point in verdict["points_a_confirmer"]:
        yield point["objet"], point["quoi"]
    for entry in verdict["certitude"]:
        for note in entry["notes"]:
            yield entry["objet"], note
    for info in verdict["informations_manquantes"]:
        yield info["champ"], info["question"]
    for warning in verdict.get("avertissements") or []:
        yield warning.get("code", "avertissement"), warning.get("message", "")


def _problems(text: str) -> list[str]:
    problems = []
    for pattern, what in ((SPACE_BEFORE, "espace ordinaire avant la ponctuation (espace insécable attendue)"),
                          (NO_SPACE_BEFORE, "espace insécable manquante avant ; ! ?"),
                          (COLON_GLUED, "espace insécable manquante avant :"),
                          (OPENING, "espace insécable manquante après «"),
                          (CLOSING, "espace insécable manquante avant »"),
                          (INTERNAL_KEY, "clé interne dans un texte")):
        match = pattern.search(text)
        if match:
            problems.append(f"{what} : …{text[max(0, match.start() - 25):match.end() + 25]}…")
    for match in CAPITAL_AFTER_COLON.finditer(text):
        word = re.match(r"\w+", text[match.start(1):]).group(0)
        if word not in PROPER:
            problems.append(f"majuscule après un deux-points : …{text[max(0, match.start() - 25):match.end() + 25]}…")
    for pattern in FORBIDDEN_TERMS:
        if pattern.search(text):
            problems.append(f"terme à remplacer ({pattern.pattern}) : {text[:80]}…")
    return problems


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_text_of_every_expert_case_is_good_french(case):
    try:
        verdict = read(evaluate(case.situation).to_dict(), catalogue(current_rules()))  # as shown
    except SituationError:
        return
    problems = [f"{where} : {problem}" for where, text in _user_texts(verdict) for problem in _problems(text)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_reference_link_of_every_expert_case_is_official(case):
    try:
        verdict = read(evaluate(case.situation).to_dict(), catalogue(current_rules()))  # as shown
    except SituationError:
        return
    sources = verdict["sources"]
    items = [*verdict["conditions"], *verdict["exonerations"].values(), *verdict["demarches"]]
    for item in items:
        for ref in resolve(item["references"], sources):
            assert is_official_url(ref["url"]) and not ref["complementaire"], ref
        for ref in resolve(item.get("sources_complementaires"), sources):
            assert ref["complementaire"], ref  # a non-official source is always labelled as such
    for key in (verdict["version"]["source"], verdict["version"]["texte_modificateur"]):
        if key:
            assert is_official_url(sources[key]["url"]), sources[key]
    for source in sources.values():
        assert source.get("complementaire") or is_official_url(source["url"]), source


def test_the_checks_catch_bad_typography():
    assert _problems("Attention : un test")  # ordinary space
    assert _problems("Attention\u00a0: Un test")  # capital after a colon
    assert _problems("la « clause »")
    assert _problems("voir siege_et_moyens_dans_zone")
    assert _problems("la commune ou l'EPCI\u00a0: ok")
    assert not _problems("Attention\u00a0: un «\u00a0test\u00a0»\u202f; Douai\u202f?")


def test_an_unofficial_source_must_be_labelled_complementary(tmp_path):
    import shutil

    from bud_checker.engine.law import RulesError, current_rules, load_rules

    shutil.copytree(current_rules().directory, tmp_path / "rules",
                    ignore=shutil.ignore_patterns("communes_france.json.gz"))
    path = tmp_path / "rules" / "references.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('url: "https://entreprendre.service-public.fr/vosdroits/F34799"',
                                 'url: "https://bages66.fr/sp/professionnels/F34799"'), encoding="utf-8")
    with pytest.raises(RulesError, match="site officiel"):
        load_rules(tmp_path / "rules")
