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


# --- messages built in Python: API errors, pages' errors and notices, batch lines, the command line (issue 11
# item 7). They are written with ordinary spaces and shown through `typographie` at each door: here the answers
# themselves are read, and an ordinary space before « ; : ! ? » or inside « » fails.

SPACING = ((SPACE_BEFORE, "espace ordinaire avant la ponctuation (espace insécable attendue)"),
           (OPENING, "espace insécable manquante après «"), (CLOSING, "espace insécable manquante avant »"))


def _spacing(texts) -> list[str]:
    problems = []
    for where, text in texts:
        for pattern, what in SPACING:
            match = pattern.search(text or "")
            if match:
                problems.append(f"{where} : {what} : …{text[max(0, match.start() - 30):match.end() + 30]}…")
    return problems


def test_the_spacing_check_catches_a_plain_space():
    assert _spacing([("x", "Erreur : date")]) and _spacing([("x", "la « clause\u00a0»")])
    assert not _spacing([("x", "Erreur\u00a0: «\u00a0date\u00a0»\u202f; ok\u202f?")])


BAD_BODIES = [
    ("application/json", b""), ("application/json", b"{"), ("application/json", b"[1, 2]"),
    ("application/json", b'{"date_creation": "31/02/2019"}'), ("text/plain", b"date_creation=2019-05-14"),
    ("application/json", b'{"date_creation": "2019-05-14", "commune_insee": "99999"}'),
    ("application/json", b'{"date_creation": "2019-05-14", "effectif": -3}'),
    ("application/json", b'{"date_creation": "2019-05-14", "activite": "rien"}'),
    ("application/json", b'{"date_creation": "2019-05-14", "inconnue": 1}'),
    ("application/json", b'{"date_creation": "2019-05-14", "effectif": 1e400}'),
    ("application/json", b'{"date_creation": "2019-05-14", "effectif": 3, "salaries_eligibles": 9}'),
    ("application/json", b'{"date_creation": "\\ud800"}'), ("application/json", b"[" * 2000 + b"]" * 2000),
]


def test_every_json_error_of_the_api_is_in_french_typography(client):
    answers = [client.post("/api/v1/verifications", data=body, content_type=kind) for kind, body in BAD_BODIES]
    answers += [client.get("/api/v1/verifications/" + "A" * 24), client.get("/api/v1/communes"),
                client.get("/api/v1/communes?q=douai&limite=0"), client.delete("/api/v1/verifications"),
                client.post("/api/v1/verifications", data=b"x" * 70_000, content_type="application/json"),
                client.get("/api/v1/conseillers/lots")]
    assert {answer.status_code for answer in answers} >= {400, 401, 404, 405, 413, 415, 422}
    problems = _spacing((f"{answer.status_code} {answer.request.path}", answer.get_json()["erreur"]["message"])
                        for answer in answers)
    assert not problems, "\n".join(problems)


def test_the_messages_of_pages_and_the_notices_are_in_french_typography(app, client):
    """The errors, messages and notices (flash) a page shows, as given to its template."""
    from flask import message_flashed, template_rendered

    from advisers_helpers import AdviserClient, make_adviser, make_org, unique

    seen: list[tuple[str, str]] = []

    def rendered(sender, template, context, **extra):
        for key in ("message", "errors", "error_list"):
            value = context.get(key)
            values = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
            values = [item["message"] if isinstance(item, dict) else item for item in values]
            seen.extend((f"{template.name} {key}", str(text)) for text in values if text)

    def flashed(sender, message, category, **extra):
        seen.append((f"flash {category}", message))

    with template_rendered.connected_to(rendered, app), message_flashed.connected_to(flashed, app):
        client.get("/verifications/" + "A" * 24)  # 404 page
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
        client.post("/verifier", data={"csrf_token": token, "etat": "{", "action": "suivant"})
        client.post("/verifier", data={"csrf_token": token, "etat": "{}", "groupe": "creation",
                                       "cles": "date_creation", "date_creation": "31/02/2019"})
        _, organisation = make_org(app, unique("CCI Typo"))
        adviser = AdviserClient(app, make_adviser(app, organisation))
        adviser.post("/conseillers/dossiers/nouveau", {"nom": "", "siren": "123"})
        dossier = adviser.new_dossier(unique("Client : test"))
        adviser.post(f"/conseillers/dossiers/{dossier}/supprimer")
        adviser.post("/conseillers/deconnexion")
    assert {where.split()[0] for where, _ in seen} >= {"errors/error.html", "flash"}
    assert any(where.endswith(" errors") for where, _ in seen) and any("error_list" in w for w, _ in seen)
    problems = _spacing(seen)
    assert not problems, "\n".join(problems)


def test_the_error_lines_and_summary_of_a_batch_are_in_french_typography():
    from bud_checker.batch import BatchError, check_table

    lines = ["date_creation;commune;activite;effectif;chiffre_affaires",
             "31/02/2019;Douai;commerciale;3;100000",         # no such day
             "14/05/2019;Nullepart;commerciale;3;100000",     # no such commune
             "14/05/2019;Saint;commerciale;3;100000",         # several communes
             "14/05/2019;59178;rien;3;100000",                # no such activity
             "14/05/2019;59178;commerciale;-3;100000",        # negative headcount
             "14/05/2019;59178;commerciale;3;=1+1",           # a formula
             "14/05/2019;59500;commerciale;3;100000;en trop",  # a postal code, and one value too many
             "14/05/2019;59178;commerciale;3;100000"]
    files = check_table("\n".join(lines).encode())
    texts = [("synthèse", files.summary["texte"])]
    for line in files.result.lines:
        row = line.output()
        texts += [(f"ligne {line.ligne} erreur", row.get("erreur")),
                  (f"ligne {line.ligne} avertissements", row.get("avertissements_fr"))]
    assert sum(1 for line in files.result.lines if line.erreur) >= 5
    for unreadable in (b"", b"nom;ville\nA;B\n", b"date_creation\n" + b"2019-05-14\n" * 3, "a;" * 300):
        try:
            check_table(unreadable if isinstance(unreadable, bytes) else unreadable.encode(), max_lines=2)
        except BatchError as error:
            texts.append(("fichier", str(error)))
    assert len([t for t in texts if t[0] == "fichier"]) >= 3
    problems = _spacing(texts)
    assert not problems, "\n".join(problems)


def test_the_messages_of_the_command_line_are_in_french_typography(tmp_path, capsys, monkeypatch):
    from bud_checker.cli import main

    (tmp_path / "bad.json").write_text('{"date_creation": "31/02/2019"}', encoding="utf-8")
    (tmp_path / "bad.csv").write_text("nom;ville\nA;B\n", encoding="utf-8")
    monkeypatch.setenv("BUD_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    runs = [["check", str(tmp_path / "bad.json")], ["check", str(tmp_path / "absent.json")],
            ["batch", str(tmp_path / "absent.csv"), str(tmp_path / "out.csv")],
            ["batch", str(tmp_path / "bad.csv"), str(tmp_path / "out.csv"), "--sans-progression"],
            ["communes", "xqzwkvv"], ["check", "--inconnue"], ["serve", "--port", "99999"], ["serve"]]
    texts = []
    for argv in runs:
        status = main(argv)
        out = capsys.readouterr()
        assert status != 0, argv
        texts += [(" ".join(argv) + " (stderr)", out.err), (" ".join(argv) + " (stdout)", out.out)]
    assert sum(1 for _, text in texts if "Erreur" in text or "erreur" in text) >= 6
    problems = _spacing(texts)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("answers, expected", [
    ({"salaries_eligibles": 2, "salaries_eligibles_residents_bud": 1}, "1 salarié sur 2 réside dans le bassin"),
    ({"salaries_eligibles": 4, "salaries_eligibles_residents_bud": 3}, "3 salariés sur 4 résident dans le bassin"),
    ({"salaries_eligibles": 4, "salaries_eligibles_residents_bud": 1, "embauches_eligibles": 3,
      "embauches_eligibles_residents_bud": 0}, "0 embauché sur 3 réside dans le bassin"),
])
def test_the_hiring_clause_counts_agree_with_their_number(answers, expected):
    """«1 salarié(s)» reads as a form letter: the words agree with the number (singular below 2)."""
    verdict = evaluate({"date_creation": "2024-03-14", "commune_insee": "59178", "activite": "commerciale",
                        "effectif": 6, **answers}).to_dict()
    texte = next(c["explication"] for c in verdict["conditions"] if c["id"] == "clause_embauche")
    assert expected in texte.replace("\u00a0", " ")
    assert "(s)" not in texte
