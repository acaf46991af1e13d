"""Batch checks: CSV in (any usual spreadsheet dialect), one verdict per line out, bad lines explained."""

import csv
import io
import json
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from bud_checker import evaluate
from bud_checker.batch import BatchError, run_batch, write_csv, write_xlsx

HEADER = "date_creation;commune_insee;activite;origine;effectif;chiffre_affaires;capital_detenu_par_societes_pct;" \
         "siege_et_moyens_dans_zone;salaries_eligibles;salaries_eligibles_residents_bud"


def rows(result):
    return list(result.rows())


def test_each_line_gets_the_engine_verdict():
    data = (HEADER + "\n2019-05-14;59178;commerciale;creation_pure;3;150000;0;true;2;1\n"
            "2019-05-14;59350;commerciale;creation_pure;3;150000;0;true;2;1\n").encode()
    result = run_batch(data)
    out = rows(result)
    assert [r["statut"] for r in out] == ["eligible", "non_eligible"]
    assert out[0]["fin_exoneration_totale"] == "2021-04-30"
    assert out[1]["conditions_non_remplies"] == "commune_zone"
    expected = evaluate({"date_creation": "2019-05-14", "commune_insee": "59178", "activite": "commerciale",
                         "origine": "creation_pure", "effectif": 3, "chiffre_affaires": 150000,
                         "capital_detenu_par_societes_pct": 0, "siege_et_moyens_dans_zone": True,
                         "salaries_eligibles": 2, "salaries_eligibles_residents_bud": 1},
                        date_verification=result.lines[0].verdict.date_verification)
    assert result.lines[0].verdict.date_verification is not None  # the batch passes the day it runs
    assert result.lines[0].verdict.to_dict() == expected.to_dict()


def test_identical_situations_are_evaluated_once_and_each_line_keeps_its_own_row(monkeypatch):
    import bud_checker.batch as batch

    calls = []
    real = batch.evaluate
    monkeypatch.setattr(batch, "evaluate", lambda situation, **kw: calls.append(situation) or real(situation, **kw))
    line = "2019-05-14;59178;commerciale;creation_pure;3;150000;0;true;2;1\n"
    data = ("nom;" + HEADER + "\n" + "".join(f"Client {n};{line}" for n in range(5))
            + "Autre;2019-05-14;59350;commerciale;creation_pure;3;150000;0;true;2;1\n").encode()
    out = rows(run_batch(data))
    assert len(calls) == 2  # five identical situations, then another one
    assert [r["ligne"] for r in out] == [2, 3, 4, 5, 6, 7] and [r["[nom]"] for r in out][:2] == ["Client 0", "Client 1"]
    assert [r["statut"] for r in out] == ["eligible"] * 5 + ["non_eligible"]
    assert all({k: v for k, v in r.items() if k not in ("ligne", "[nom]")} ==
               {k: v for k, v in out[0].items() if k not in ("ligne", "[nom]")} for r in out[:5])


def test_french_labels_windows_1252_comma_and_french_dates():
    text = ("Référence,Date de création,Code INSEE,Activité,Origine,Siège et moyens dans la zone\n"
            "client-1,14/05/2019,59178,Commerciale,Création pure,oui\n"
            "client-2,01/02/2018,La Bassée,artisanale,reprise,non\n")
    result = run_batch(text.encode("cp1252"))
    assert result.encoding == "windows-1252" and result.delimiter == ","
    assert result.columns == {"Date de création": "date_creation", "Code INSEE": "commune_insee",
                              "Activité": "activite", "Origine": "origine",
                              "Siège et moyens dans la zone": "siege_et_moyens_dans_zone"}
    out = rows(result)
    assert out[0]["[Référence]"] == "client-1" and out[0]["statut"] == "indetermine"
    assert result.lines[0].verdict.situation.date_creation.isoformat() == "2019-05-14"
    assert result.lines[1].verdict.situation.commune_insee == "59051"
    assert out[1]["statut"] == "non_eligible"
    # «non» to the shorthand alone does not decide the implantation: the activity may be non-sedentary.
    assert set(out[1]["conditions_non_remplies"].split(", ")) == {"periode_creation", "creation_nouvelle"}


def test_broken_lines_get_their_reason_and_never_stop_the_others():
    good = "2019-05-14;59178;commerciale;creation_pure;3;150000;0;oui;2;1"
    lines = [HEADER.encode(), good.encode(), b"2019-02-30;59178;commerciale", b"2019-05-14;99999;commerciale",
             b"2019-05-14;59178;lib\xe9rale", "2019-05-14;59178;libérale".encode(),
             b"2019-05-14;59178;commerciale;;;;;;;;;;;x", b"2019-05-14;59178;commerciale;creation_pure;-4",
             b"2019-05-14;59178;commerciale;creation_pure;3;150000;130",
             good.encode(), b"", b"2019-05-14;Saint-Amand;commerciale"]
    result = run_batch(b"\n".join(lines) + b"\n")
    out = {r["ligne"]: r for r in rows(result)}
    assert out[2]["statut"] == "eligible" and out[10]["statut"] == "eligible"
    assert out[3]["erreur_champ"] == "date_creation"
    assert out[4]["erreur_champ"] == "commune_insee"
    assert out[5]["statut"] == "non_eligible"  # a Windows-1252 line in a UTF-8 file is still read
    assert out[6]["statut"] == "non_eligible"
    assert out[7]["erreur_champ"] == "ligne" and "séparateurs" in out[7]["erreur"]
    assert out[8]["erreur_champ"] == "effectif"
    assert out[9]["erreur_champ"] == "capital_detenu_par_societes_pct"
    assert 11 not in out  # blank lines are skipped
    assert out[12]["erreur_champ"] == "commune_insee" and "plusieurs communes" in out[12]["erreur"]
    for row in out.values():
        assert row["statut"] != "erreur" or row["erreur"]
    assert result.summary()["erreur"] == 6


def test_whole_file_errors_are_french():
    with pytest.raises(BatchError, match="vide"):
        run_batch(b"  \n")
    with pytest.raises(BatchError, match="date_creation"):
        run_batch(b"nom;commune\na;59178\n")
    with pytest.raises(BatchError, match="limite est de 2"):
        run_batch((HEADER + "\n" + "2019-05-14;59178\n" * 3).encode(), max_lines=2)


def _thousand():
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(HEADER.split(";"))
    communes = ["59178", "59350", "62498", "59051", "59606"]
    for i in range(1000):
        writer.writerow([f"20{18 + i % 9}-{1 + i % 12:02d}-{1 + i % 28:02d}", communes[i % 5],
                         ["commerciale", "liberale", "artisanale"][i % 3], "creation_pure", i % 300, 100000 * (i % 7),
                         (i * 7) % 101, "oui" if i % 4 else "", i % 5, (i % 5) // 2])
    return buffer.getvalue().encode()


def test_a_thousand_lines_csv_and_xlsx(tmp_path):
    result = run_batch(_thousand())
    assert len(result.lines) == 1000
    summary = result.summary()
    assert summary["eligible"] + summary["non_eligible"] + summary["indetermine"] + summary["erreur"] == 1000
    assert summary["eligible"] > 0 and summary["non_eligible"] > 0 and summary["indetermine"] > 0
    text = io.StringIO()
    write_csv(result, text)
    parsed = list(csv.reader(io.StringIO(text.getvalue().lstrip("\ufeff")), delimiter=";"))
    assert len(parsed) == 1001 and parsed[0][0] == "Ligne"
    path = tmp_path / "out.xlsx"
    with path.open("wb") as handle:
        write_xlsx(result, handle)
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Résultats", "Synthèse", "Légende"]
    assert workbook["Résultats"].max_row == 1001
    synthese = {row[0]: row[1] for row in workbook["Synthèse"].iter_rows(values_only=True) if len(row) > 1}
    assert synthese["Total"] == 1000


def test_cli_batch(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(_thousand())
    target, xlsx = tmp_path / "out.csv", tmp_path / "out.xlsx"
    result = subprocess.run([sys.executable, "-m", "bud_checker.cli", "batch", str(source), str(target),
                             "--xlsx", str(xlsx)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "1000 lignes" in result.stderr and "Vérification" in result.stderr
    assert target.read_text(encoding="utf-8-sig").count("\n") == 1001
    assert xlsx.stat().st_size > 10_000
    missing = subprocess.run([sys.executable, "-m", "bud_checker.cli", "batch", str(tmp_path / "absent.csv"),
                              str(target)],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "introuvable" in missing.stderr


def test_worker_processes_give_the_same_rows():
    data = _thousand()
    header, body = data.split(b"\n", 1)
    big = header + b"\n" + body * 9  # 9,000 lines: enough to be spread over worker processes
    sequential = run_batch(big)
    parallel = run_batch(big, workers=2)
    assert [line.output() for line in parallel.lines] == [line.output() for line in sequential.lines]
    assert {**parallel.summary(), "date": None} == {**sequential.summary(), "date": None}
    assert all(line.verdict is None and line.precomputed for line in parallel.lines)
