"""Issue 8 item 8: the law calendar. The creation window closes on the last date rules/ knows; a later creation
is not eligible «en l'état du droit» and to confirm (the finance bill may extend it); and a new dated version is
one data change (docs/nouvelle-version-du-droit.md), shown here on a copy of rules/."""

import datetime as dt
import shutil

import pytest
import yaml

from bud_checker.engine.law import current_rules, load_rules
from bud_checker.engine.verdict import evaluate

BASE = {"commune_insee": "59178", "activite": "commerciale", "origine": "creation_pure", "effectif": 3,
        "chiffre_affaires": 200000, "capital_detenu_par_societes_pct": 0, "siege_et_moyens_dans_zone": True,
        "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 1}


def _end() -> dt.date:
    return current_rules().param("fin_periode_creation").last().valeur


def test_a_creation_after_the_last_known_end_is_not_eligible_and_to_confirm():
    day_after = _end() + dt.timedelta(days=1)
    verdict = evaluate({**BASE, "date_creation": day_after.isoformat()}).to_dict()
    periode = verdict["conditions"][0]
    assert verdict["statut"] == "non_eligible"
    assert periode["statut"] == "non_remplie" and periode["a_confirmer"]
    assert "loi de finances pour 2027" in periode["explication"]
    assert verdict["resume"].startswith("Non éligible en l'état du droit, à confirmer\u00a0: prorogation du régime "
                                        "par la loi de finances pour 2027")
    assert verdict["a_confirmer"] is True


def test_a_creation_planned_in_the_last_month_is_told_the_deadline():
    last_month = _end().replace(day=1)
    verdict = evaluate({**BASE, "date_creation": last_month.isoformat()}).to_dict()
    periode = verdict["conditions"][0]
    assert verdict["statut"] == "eligible" and not periode.get("a_confirmer")
    assert "la période se termine le 31 décembre 2026" in periode["explication"]
    earlier = evaluate({**BASE, "date_creation": "2024-03-14"}).to_dict()
    assert "se termine" not in earlier["conditions"][0]["explication"]


def _extended_rules(tmp_path, new_end: dt.date, in_force: dt.date, next_text: str):
    """A copy of rules/ with one more dated version, written as a tax expert would (one data change)."""
    target = tmp_path / "rules"
    shutil.copytree(current_rules().directory, target)
    refs_path = target / "references.yaml"
    refs = yaml.safe_load(refs_path.read_text(encoding="utf-8"))
    refs["lf_2027_bud"] = {"texte": "Loi de finances pour 2027, article prorogeant le régime (exemple de test)",
                           "url": "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000000000000", "confiance": "V"}
    refs_path.write_text(yaml.safe_dump(refs, allow_unicode=True, sort_keys=False), encoding="utf-8")
    versions_path = target / "versions.yaml"
    versions = yaml.safe_load(versions_path.read_text(encoding="utf-8"))
    versions["versions"].append({"en_vigueur": in_force, "texte_modificateur": "lf_2027_bud", "confiance": "V",
                                 "modification": "Période de création prorogée jusqu'au 31 décembre 2029."})
    versions_path.write_text(yaml.safe_dump(versions, allow_unicode=True, sort_keys=False), encoding="utf-8")
    params_path = target / "parameters" / "periode_creation.yaml"
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    citation = [{"ref": "cgi_44_sexdecies", "precision": "I, 1er alinéa"}, {"ref": "lf_2027_bud"}]
    for key in ("fin_periode_creation", "fin_periode_creation_etablissement"):
        params[key]["valeurs"].append({"depuis": in_force, "valeur": new_end, "confiance": "V", "references": citation})
    params["texte_attendu_prorogation"]["valeurs"].append(
        {"depuis": in_force, "valeur": next_text, "confiance": "U", "references": citation[:1]})
    params_path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_rules(target)


def test_a_new_dated_version_is_one_data_change_and_the_verdicts_follow_it(tmp_path):
    rules = _extended_rules(tmp_path, dt.date(2029, 12, 31), dt.date(2026, 12, 31), "la loi de finances pour 2030")
    assert rules.empreinte != current_rules().empreinte
    created = {**BASE, "date_creation": "2027-06-01"}
    assert evaluate(created).statut == "non_eligible"  # the installed rules
    verdict = evaluate(created, rules).to_dict()        # the rules with the extension
    assert verdict["statut"] == "eligible", verdict["resume"]
    assert verdict["version_loi"] == "2026-12-31"
    assert verdict["version"]["texte_modificateur"] == "lf_2027_bud"
    from bud_checker.engine.catalogue import catalogue
    from bud_checker.engine.contract import read

    assert "lf_2027_bud" in read(verdict, catalogue(rules))["sources"]
    assert "31 décembre 2029" in verdict["conditions"][0]["explication"].replace("\u00a0", " ")
    assert verdict["exonerations"]["cfe"]["applicable"] is True  # the establishment window follows too
    assert verdict["exonerations"]["impot_benefices"]["fin_exoneration_totale"] == "2029-05-31"
    later = evaluate({**BASE, "date_creation": "2030-01-02"}, rules).to_dict()
    assert later["statut"] == "non_eligible" and later["conditions"][0].get("a_confirmer")
    assert "loi de finances pour 2030" in later["conditions"][0]["explication"]
    # Verdicts of earlier creations do not move.
    before = {**BASE, "date_creation": "2024-03-14"}
    assert evaluate(before, rules).to_dict()["exonerations"] == evaluate(before).to_dict()["exonerations"]


@pytest.mark.parametrize("day, statut", [("2026-12-31", "eligible"), ("2027-01-01", "non_eligible")])
def test_the_installed_calendar(day, statut):
    assert evaluate({**BASE, "date_creation": day}).statut == statut
