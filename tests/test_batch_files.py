"""Batch files an adviser can trust: XLSX in and out, the commune understood, French numbers and dates, no formula
injection, robust reading of broken files (issue 10 items 1 to 4)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from batch_helpers import HOSTILE, client_workbook, xlsx
from bud_checker.batch import (MAX_CARACTERES_LIGNE, MAX_COLONNES, BatchError, check_table, neutralise, read_table,
                               run_batch)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def by_line(result) -> dict[int, dict]:
    return {row["ligne"]: row for row in result.rows()}


# --- 1. input ------------------------------------------------------------------------------------------------

def test_an_xlsx_is_read_from_its_first_sheet_with_real_dates_and_numbers():
    data = xlsx([["Client", "Date de création", "Code INSEE", "Activité", "Effectif", "Chiffre d'affaires"],
                 ["A", dt.datetime(2019, 5, 14), 59178, "commerciale", 3, 150000.0],
                 ["B", "14/05/2019", "59178", "Commerciale", "3", "150 000 €"],
                 [None, None, None, None, None, None],
                 ["C", dt.date(2019, 5, 14), "Douai", "commerciale", 3.0, "150000,50"]])
    result = run_batch(data)
    assert result.format == "xlsx" and result.sheet == "Sheet"
    rows = by_line(result)
    assert sorted(rows) == [2, 3, 5]  # the empty row 4 is skipped, row numbers are the sheet's
    for row in rows.values():
        assert row["statut"] != "erreur", row
        assert row["commune_fr"] == "Douai" and row["date_creation_fr"] == dt.date(2019, 5, 14)
    assert result.lines[0].verdict.situation.chiffre_affaires == 150000
    assert result.lines[1].verdict.situation.chiffre_affaires == 150000
    assert result.lines[2].verdict.situation.chiffre_affaires == 150000.5


def test_an_xlsx_upload_never_answers_that_date_creation_is_missing():
    result = run_batch(client_workbook(20))
    assert len(result.lines) == 20 and result.columns["Date de création"] == "date_creation"


@pytest.mark.parametrize("written, expected", [
    ("120 000 €", 120000), ("120\u00a0000\u00a0€", 120000), ("120\u202f000 €", 120000), ("120000,50", 120000.5),
    ("120.000,50", 120000.5), ("120000", 120000), ("1 250,5", 1250.5), ("120000.5", 120000.5), ("12,5 %", 12.5),
])
def test_french_numbers(written, expected):
    column = "capital_detenu_par_societes_pct" if "%" in written else "chiffre_affaires"
    result = run_batch(f"date_creation;{column}\n14/05/2019;{written}\n".encode())
    line = result.lines[0]
    assert line.verdict is not None, line.erreur
    assert getattr(line.verdict.situation, column) == expected


def test_yes_no_answers_and_french_choice_labels():
    data = "Date de création;siege_et_moyens_dans_zone;Origine;Activité\n01/02/2020;Oui;Création pure;Libérale\n" \
           "01/02/2020;NON;reprise;artisanal\n"
    lines = run_batch(data.encode()).lines
    assert lines[0].verdict.situation.siege_et_moyens_dans_zone is True
    assert lines[0].verdict.situation.activite == "liberale"
    assert lines[1].verdict.situation.siege_et_moyens_dans_zone is False
    assert lines[1].verdict.situation.origine == "reprise"


def test_messages_quote_the_value_as_written():
    data = "date_creation;chiffre_affaires;activite\n31/02/2020;;\n14/05/2019;beaucoup €;\n14/05/2019;;magie\n" \
           "13/13/2020;;\n"
    rows = by_line(run_batch(data.encode()))
    assert "«\u00a031/02/2020\u00a0»" in rows[2]["erreur"] and "2020-02-31" not in rows[2]["erreur"]
    assert rows[2]["erreur_champ"] == "date_creation" and rows[2]["erreur_champ_fr"].startswith("date de création")
    assert "«\u00a0beaucoup €" in rows[3]["erreur"]
    assert "«\u00a0magie\u00a0»" in rows[4]["erreur"]
    bad = by_line(run_batch("date_creation;commune;effectif\n14/05/2019;Liévin;-3\n".encode()))[2]
    assert bad["statut"] == "erreur" and bad["erreur_champ"] == "effectif"
    assert bad["commune_fr"] == "Liévin" and bad["commune_insee_fr"] == "62510"  # still says which commune
    assert "«\u00a013/13/2020\u00a0»" in rows[5]["erreur"]


def test_a_commune_column_takes_a_name_a_postal_code_or_an_insee_code():
    data = ("client;date_creation;commune\n"
            "nom;14/05/2019;Liévin\n"          # a name
            "postal;14/05/2019;62800\n"        # Liévin's postal code (also the INSEE code of Souastre)
            "insee;14/05/2019;62498\n"         # Lens's INSEE code, no commune has it as postal code
            "ambigu;14/05/2019;62300\n"        # Lens and Éleu-dit-Leauwette, and Équihen-Plage's INSEE code
            "homonyme;14/05/2019;Saint-Amand\n"
            "departement;14/05/2019;Saint-Amand (62)\n"
            "inconnue;14/05/2019;Atlantis\n")
    rows = {row["[client]"]: row for row in run_batch(data.encode()).rows()}
    assert rows["nom"]["commune_fr"] == "Liévin" and rows["nom"]["commune_insee_fr"] == "62510"
    assert rows["postal"]["commune_fr"] == "Liévin" and "code postal" in rows["postal"]["avertissements_fr"]
    assert rows["insee"]["commune_fr"] == "Lens" and rows["insee"]["departement_fr"] == "62"
    ambiguous = rows["ambigu"]
    assert ambiguous["statut"] == "erreur" and ambiguous["erreur_champ"] == "commune"
    for name in ("Lens", "Éleu-dit-Leauwette", "Équihen-Plage"):
        assert name in ambiguous["erreur"]
    assert rows["homonyme"]["statut"] == "erreur" and rows["homonyme"]["erreur"].count("Saint-Amand (") == 2
    assert rows["departement"]["commune_fr"] == "Saint-Amand" and rows["departement"]["departement_fr"] == "62"
    assert rows["inconnue"]["statut"] == "erreur" and "«\u00a0Atlantis\u00a0»" in rows["inconnue"]["erreur"]


def test_an_insee_code_that_is_also_a_postal_code_is_read_as_insee_with_a_warning():
    rows = by_line(run_batch(b"date_creation;commune_insee\n14/05/2019;62300\n14/05/2019;62498\n"))
    assert rows[2]["commune_fr"] == "Équihen-Plage"
    assert "62300" in rows[2]["avertissements_fr"] and "Lens" in rows[2]["avertissements_fr"]
    assert rows[3]["commune_fr"] == "Lens" and not rows[3]["avertissements_fr"]


def test_a_formula_without_a_saved_value_in_a_situation_column_is_an_error_of_that_line():
    data = xlsx([["date_creation", "effectif"], ["=DATE(2019,5,14)", 3], [dt.datetime(2019, 5, 14), "=2+1"]])
    rows = by_line(run_batch(data))
    assert rows[2]["erreur_champ"] == "date_creation" and "formule" in rows[2]["erreur"]
    assert rows[3]["erreur_champ"] == "effectif" and "formule" in rows[3]["erreur"]


# --- 2. output -----------------------------------------------------------------------------------------------

def test_the_results_are_for_people_first_then_machine_codes():
    files = check_table(client_workbook(200))
    rows = csv_rows(files.csv)
    assert len(rows) == 200 and [r["Ligne"] for r in rows[:3]] == ["2", "3", "4"]
    header = list(rows[0])
    assert header[:4] == ["Ligne", "Raison sociale", "SIREN", "Notes"]
    assert header.index("Statut") < header.index("statut") and header[-1] == "regles_version"
    assert {r["Statut"] for r in rows} <= {"Éligible", "Non éligible", "À confirmer", "Erreur"}
    for row in rows:
        assert row["Commune retenue"] and row["Code INSEE retenu"] and row["Liste BUD"], row
        assert row["Date de création retenue"].count("/") == 2  # JJ/MM/AAAA for people
        assert row["date_creation"].count("-") == 2              # ISO for programs
        assert "_" not in row["Conditions non remplies"]         # French names, not codes
    failing = [r for r in rows if r["statut"] == "non_eligible"]
    assert failing and all(r["conditions_non_remplies"] and r["Conditions non remplies"] for r in failing)


def test_the_workbook_opens_ready_to_filter_with_dates_numbers_summary_and_legend():
    files = check_table(client_workbook(200))
    workbook = load_workbook(io.BytesIO(files.xlsx))
    assert workbook.sheetnames == ["Résultats", "Synthèse", "Légende"]
    sheet = workbook["Résultats"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}201"
    header = [c.value for c in sheet[1]]
    assert all(sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width >= 7 for i in range(len(header)))
    date_col = header.index("Date de création retenue") + 1
    cell = sheet.cell(2, date_col)
    assert isinstance(cell.value, dt.datetime) and cell.number_format == "DD/MM/YYYY"
    assert isinstance(sheet.cell(2, header.index("Ligne") + 1).value, int)
    cfe = [sheet.cell(r, header.index("Première année d'exonération de CFE") + 1).value for r in range(2, 202)]
    assert any(isinstance(v, int) for v in cfe)
    communes = [sheet.cell(r, header.index("Commune retenue") + 1).value for r in range(2, 202)]
    assert all(communes)
    synthese = list(workbook["Synthèse"].iter_rows(values_only=True))
    counts = {row[0]: row[1] for row in synthese if row and len(row) > 1}
    assert counts["Total"] == 200
    assert counts["Éligible"] + counts["Non éligible"] + counts["À confirmer"] + counts["Erreur"] == 200
    assert any(row[0] == "Condition non remplie" for row in synthese if row)
    legend = {row[0]: row[1] for row in workbook["Légende"].iter_rows(values_only=True) if row and len(row) > 1}
    assert legend["Version des règles"] == files.result.regles_version
    assert legend["Date de la vérification"]
    assert "Statut" in legend and "statut" in legend and "Raison sociale" in legend


# --- 3. formula injection ------------------------------------------------------------------------------------

def test_neutralise_follows_the_owasp_rule():
    for value in HOSTILE:
        assert neutralise(value) == "'" + value
    assert neutralise("Client 1") == "Client 1" and neutralise("") == ""


def _hostile_file() -> bytes:
    """Hostile values in every column: situation columns, copied columns and the header itself."""
    header = ["date_creation", "commune", "activite", "chiffre_affaires", "=HYPERLINK(\"http://x\")", "client"]
    rows = [header]
    for value in HOSTILE:
        rows.append([value, value, value, value, value, value])
        rows.append(["14/05/2019", "Douai", "commerciale", "100000", value, value])
    return xlsx(rows)


def test_no_cell_of_the_results_can_execute():
    for data in (_hostile_file(), "\n".join(";".join(f'"{v}"' for v in ["date_creation", "client", "-x", *HOSTILE])
                                             for _ in range(3)).encode()):
        files = check_table(data)
        text = files.csv.decode("utf-8").lstrip("\ufeff")
        for row in csv.reader(io.StringIO(text), delimiter=";"):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        workbook = load_workbook(io.BytesIO(files.xlsx))
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@", "\t", "\r")):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
        # The hostile values come back, as text, where they were copied.
        copied = [c.value for row in workbook["Résultats"].iter_rows() for c in row]
        assert any(isinstance(v, str) and v.startswith("=HYPERLINK") for v in copied)


# --- 4. robust reading ---------------------------------------------------------------------------------------

def test_an_unclosed_quote_puts_its_line_in_error_and_the_next_lines_are_read():
    data = ('client;date_creation;commune_insee\n'
            'A;14/05/2019;59178\n'
            'B;"14/05/2019;59178\n'
            'C;14/05/2019;59178\n'
            'D;14/05/2019;59178\n'
            '"E avec\nretour à la ligne";14/05/2019;59178\n'
            'F;14/05/2019;59178\n').encode()
    rows = by_line(run_batch(data))
    assert rows[3]["statut"] == "erreur" and "guillemet" in rows[3]["erreur"]
    assert all(rows[n]["statut"] != "erreur" for n in (2, 4, 5, 6, 8))
    assert rows[6]["[client]"] == "E avec\nretour à la ligne"  # a quoted line break without separator is kept
    assert sorted(rows) == [2, 3, 4, 5, 6, 8]


def test_an_unclosed_quote_on_the_last_lines_loses_nothing_silently():
    data = b'date_creation;commune_insee\n14/05/2019;59178\n"14/05/2019;59178\n14/05/2019;59178\n'
    rows = by_line(run_batch(data))
    assert rows[3]["statut"] == "erreur" and rows[4]["statut"] != "erreur"


def test_whole_file_limits_are_clear_french_errors():
    wide = ";".join(["date_creation"] + [f"c{i}" for i in range(20_000)]) + "\n14/05/2019\n"
    with pytest.raises(BatchError, match=f"au plus {MAX_COLONNES}"):
        read_table(wide.encode())
    long_line = "date_creation;note\n14/05/2019;" + "x" * (MAX_CARACTERES_LIGNE + 10) + "\n"
    with pytest.raises(BatchError, match="ligne 2\u00a0: .* caractères"):
        read_table(long_line.encode())
    with pytest.raises(BatchError, match="la limite est de 3"):
        run_batch(("date_creation\n" + "14/05/2019\n" * 4).encode(), max_lines=3)
    with pytest.raises(BatchError, match=r"\.xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(BatchError, match="endommagé"):
        read_table(b"PK\x03\x04 not really a zip")
    with pytest.raises(BatchError, match="colonne de la date de création introuvable"):
        run_batch(xlsx([["nom", "ville"], ["A", "Douai"]]))
    wide_xlsx = xlsx([["date_creation", *[f"c{i}" for i in range(MAX_COLONNES + 5)]], ["14/05/2019"]])
    with pytest.raises(BatchError, match=f"au plus {MAX_COLONNES}"):
        read_table(wide_xlsx)


def test_cli_reads_xlsx_and_refuses_a_bad_file_with_exit_2(tmp_path):
    source = tmp_path / "clients.xlsx"
    source.write_bytes(client_workbook(50))
    target, workbook = tmp_path / "out.csv", tmp_path / "out.xlsx"
    result = subprocess.run([sys.executable, "-m", "bud_checker.cli", "batch", str(source), str(target), "--xlsx",
                             str(workbook), "--sans-progression"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "50 lignes" in result.stderr
    assert len(csv_rows(target.read_bytes())) == 50
    assert load_workbook(workbook).sheetnames == ["Résultats", "Synthèse", "Légende"]
    wide = tmp_path / "large.csv"
    wide.write_text(";".join(["date_creation"] + [f"c{i}" for i in range(20_000)]) + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bud_checker.cli", "batch", str(wide), str(target)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "colonnes" in result.stderr and "Traceback" not in result.stderr


def test_a_sheet_whose_table_starts_lower_and_further_right_keeps_its_row_numbers():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "date_creation", "client"
    sheet["B4"], sheet["C4"] = dt.datetime(2019, 5, 14), "A"
    sheet["B7"], sheet["C7"] = "14/05/2019", "B"
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = run_batch(buffer.getvalue())
    assert [(line.ligne, line.extra["client"]) for line in result.lines] == [(4, "A"), (7, "B")]
    assert all(line.verdict is not None for line in result.lines)
