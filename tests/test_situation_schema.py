"""rules/situation.yaml is the one description of the situation's fields: every door reads it, no label or
question is written a second time, and each condition reads exactly the fields that name it."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bud_checker.engine.conditions import CONDITION_IDS, CONDITIONS, Context
from bud_checker.engine.law import current_rules
from bud_checker.engine.schema import TYPES, UNITES, placeholders
from bud_checker.engine.situation import KEYS, SCHEMA, Situation, parse_situation
from bud_checker.engine.zone import classify
from bud_checker.rule_tests import load_cases

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [*sorted((ROOT / "bud_checker").rglob("*.py")), *sorted((ROOT / "templates").rglob("*.html"))]


def _templates(champ):
    yield "libelle", champ.libelle_modele
    yield "question", champ.question_modele
    if champ.intitule_modele:
        yield "intitule", champ.intitule_modele
    if champ.aide_modele:
        yield "aide", champ.aide_modele
    for name, text in champ.questions.items():
        yield f"questions.{name}", text
    for value, label in champ.choix.items():
        yield f"choix.{value}", label


def test_every_field_is_complete_and_consistent():
    rules = current_rules()
    steps = {etape.id for etape in SCHEMA.etapes}
    assert list(KEYS) == list(SCHEMA.champs) and "date_creation" in KEYS
    for champ in SCHEMA:
        where = champ.id
        assert champ.type in TYPES, where
        assert champ.libelle_modele and champ.question_modele.endswith("?"), where
        assert champ.etape is None or champ.etape in steps, where
        assert (champ.type == "choix") == bool(champ.choix), where
        assert not champ.alias_choix or set(champ.alias_choix.values()) <= set(champ.choix), where
        assert champ.unite is None or champ.unite in UNITES, where
        assert champ.unite is None or champ.numerique, where
        assert champ.min < champ.max and (champ.min >= 0 or champ.unite == "euros"), where
        assert not (champ.obligatoire and champ.je_ne_sais_pas), f"{where}: a required field has no «je ne sais pas»"
        assert set(champ.conditions) <= set(CONDITION_IDS), where
        assert set(champ.si) <= set(KEYS) - {champ.id}, where
        assert champ.au_plus is None or (SCHEMA[champ.au_plus].type == champ.type and champ.numerique), where
        assert champ.conditions or champ.echeanciers, f"{where}: read by nothing"
        for name, text in _templates(champ):
            extra = {"nom", "insee", "sujet"} if name.startswith("questions.") else set()
            unknown = placeholders(text) - set(rules.parametres) - extra
            assert not unknown, f"{where}.{name}: {unknown}"
            assert "{" not in champ.texte(text, dt.date(2019, 5, 14), rules, nom="X", insee="59178", sujet="Y")


def test_no_label_or_question_is_written_anywhere_else():
    """The texts of rules/situation.yaml (their literal parts of 25 characters or more) appear in no module
    and no template: every door reads them from the schema."""
    code = {path: path.read_text(encoding="utf-8") for path in SOURCES}
    for champ in SCHEMA:
        for name, text in _templates(champ):
            for part in re.split(r"\{[^}]*\}", text):
                part = part.strip()
                if len(part) < 25:
                    continue
                for path, source in code.items():
                    assert part not in source, f"{champ.id}.{name} is written again in {path.relative_to(ROOT)}"


def test_the_engine_asks_the_questions_of_the_schema():
    verdict = parse_situation({"date_creation": "2019-05-14"})
    from bud_checker.engine.verdict import evaluate

    asked = evaluate(verdict).to_dict()["informations_manquantes"]
    assert asked
    for item in asked:
        champ = SCHEMA[item["champ"]]
        if not champ.questions:  # a field with variants asks one of them, filled in by the engine
            assert item["question"] == champ.question(dt.date(2019, 5, 14))
    salaries = next(m for m in evaluate({"date_creation": "2019-05-14", "commune_insee": "59178", "effectif": 3})
                    .to_dict()["informations_manquantes"] if m["champ"] == "salaries_eligibles")
    months = current_rules().value("duree_minimale_cdd_mois", dt.date(2019, 5, 14)).valeur
    assert f"CDD d'au moins {months} mois" in salaries["question"]


class _Recording:
    """A situation that records which attributes a condition reads."""

    def __init__(self, situation):
        self._situation = situation
        self.read = set()

    def __getattr__(self, name):
        self.read.add(name)
        return getattr(self._situation, name)


def test_each_condition_reads_only_the_fields_that_name_it():
    """A condition is memoised on the fields whose `conditions` name it: reading another one would give stale
    results. The date of creation only selects the parameters in force (the epoch is part of the memo key)."""
    rules = current_rules()
    for case in load_cases():
        try:
            situation = parse_situation(case.situation)
        except ValueError:
            continue
        classement = classify(situation.commune, situation.commune_insee, rules) if situation.commune else None
        for condition_id, function in CONDITIONS:
            recording = _Recording(situation)
            # A recording stand-in for the situation: it notes each field the condition reads.
            ctx = Context(recording, rules, rules.version_at(situation.date_creation),  # type: ignore[arg-type]
                          classement, rules.epoch(situation.date_creation))
            function.__wrapped__(ctx)
            allowed = set(SCHEMA.read_by(condition_id)) | {"date_creation"}
            if "commune_insee" in allowed:
                allowed |= {"commune", "commune_code_ancien"}
            # Properties of the Situation derived from fields (the implantation shorthand).
            derived = {"siege_en_zone": {"siege_dans_zone", "siege_et_moyens_dans_zone"},
                       "activite_et_moyens_en_zone": {"activite_et_moyens_dans_zone", "siege_et_moyens_dans_zone",
                                                      "siege_dans_zone"}}
            allowed |= {name for name, fields in derived.items() if fields <= allowed}
            assert recording.read <= allowed, f"{condition_id} reads {recording.read - allowed} ({case.id})"


def test_the_forms_and_the_api_follow_the_schema():
    from bud_checker.web.api.openapi import openapi_document
    from bud_checker.web.public.forms import GROUPS, NSP, QUESTIONS, _fields_for

    properties = openapi_document()["components"]["schemas"]["Situation"]["properties"]
    assert list(properties) == list(KEYS)
    for champ in SCHEMA:
        prop = properties[champ.id]
        assert prop["description"].startswith(champ.libelle()), champ.id
        if champ.choix:
            assert [v for v in prop["enum"] if v is not None] == list(champ.choix)
        if champ.numerique:
            assert (prop["minimum"], prop["maximum"]) == (champ.min, champ.max)
    assert [k for g in GROUPS for k in g.keys] == [k for e in SCHEMA.etapes for k in SCHEMA.keys
                                                   if SCHEMA[k].etape == e.id]
    for key, question in QUESTIONS.items():
        fields = _fields_for(question, dt.date(2019, 5, 14))
        radio = fields.get(key)
        if question.kind in ("choice", "bool"):
            values = [c.value if hasattr(c, "value") else c[0] for c in radio.kwargs["choices"]]
            assert (NSP in values) == SCHEMA[key].je_ne_sais_pas, key


def test_a_help_text_mentions_je_ne_sais_pas_only_where_the_form_offers_it():
    from bud_checker.web.public.forms import QUESTIONS

    for key, question in QUESTIONS.items():
        text = (question.help_text(dt.date(2019, 5, 14)) or "").lower()
        if "je ne sais pas" in text:
            assert question.je_ne_sais_pas and question.kind not in ("date",), key


def test_epci_is_the_code_in_the_verdict_as_in_the_commune_search(client):
    from bud_checker.engine.verdict import evaluate

    commune = evaluate({"date_creation": "2019-05-14", "commune_insee": "59178"}).to_dict()["commune"]
    found = client.get("/api/v1/communes?q=59178").get_json()
    row = next(r for r in (found.get("communes") or found.get("resultats") or found) if r["insee"] == "59178")
    assert commune["epci"] == row["epci"] and commune["epci_nom"] == row["epci_nom"]
    assert commune["epci"].isdigit() and not commune["epci_nom"].isdigit()


def test_a_new_yes_no_field_is_one_yaml_entry(tmp_path):
    """docs/ajouter-un-champ.md: a field added to rules/situation.yaml is accepted by the engine, asked by the
    form and described by the API, without touching their code."""
    rules_copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_copy, ignore=shutil.ignore_patterns("tests"))
    schema = rules_copy / "situation.yaml"
    schema.write_text(schema.read_text(encoding="utf-8") + """
  locaux_en_zone_franche:
    etape: echeancier
    type: booleen
    libelle: "locaux situés en zone franche urbaine"
    question: "Les locaux sont-ils situés dans une zone franche urbaine ?"
    echeanciers: [cfe]
""", encoding="utf-8")
    script = """
import json, sys
from bud_checker.engine.verdict import evaluate
from bud_checker.web.api.openapi import openapi_document
from bud_checker.web.public.forms import QUESTIONS, GROUPS_BY_ID
verdict = evaluate({"date_creation": "2019-05-14", "locaux_en_zone_franche": "oui"}).to_dict()
print(json.dumps({"situation": verdict["situation"],
                  "api": "locaux_en_zone_franche"
                         in openapi_document()["components"]["schemas"]["Situation"]["properties"],
                  "label": QUESTIONS["locaux_en_zone_franche"].label,
                  "step": "locaux_en_zone_franche" in GROUPS_BY_ID["echeancier"].keys}))
"""
    env = {**os.environ, "BUD_RULES_DIR": str(rules_copy)}
    shutil.copy(ROOT / "rules" / "communes" / "communes_france.json.gz", rules_copy / "communes")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["situation"]["locaux_en_zone_franche"] is True
    assert result["api"] and result["step"]
    assert result["label"] == "Locaux situés en zone franche urbaine"


def test_situation_is_the_generated_dataclass():
    situation = parse_situation({"date_creation": "2019-05-14", "effectif": 3})
    assert isinstance(situation, Situation)
    assert replace(situation, effectif=4).effectif == 4
    assert set(situation.to_dict()) == {"date_creation", "effectif"}
