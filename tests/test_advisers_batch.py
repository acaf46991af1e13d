"""Batch checks in the workspace: a CSV of 1,000 situations uploaded through the page and the API, a CSV with
broken lines (bad dates, unknown communes, unreadable bytes), the stored batch downloaded again, limits."""

from __future__ import annotations

import csv
import io
import itertools

import pytest

from advisers_helpers import AdviserClient, adv_app, world
from conftest import page_text

HEADER = ["Dossier", "Date de création", "Code INSEE", "Activité", "Origine", "Effectif", "Chiffre d'affaires",
          "siege_et_moyens_dans_zone", "capital_detenu_par_societes_pct", "salaries_eligibles",
          "salaries_eligibles_residents_bud"]
# Douai, Lens, Liévin, Lille, Arras, Villeneuve-d'Ascq
COMMUNES = ["59178", "62498", "62510", "59350", "62041", "59650"]
ACTIVITES = ["Commerciale", "artisanale", "industrielle", "libérale", "commerciale"]
DATES = ["14/05/2019", "2018-03-01", "01/09/2020", "2017-06-15", "15/03/2021", "2022-01-10"]


def thousand_lines() -> bytes:
    """1,000 situations as Excel writes them in France: Windows-1252, «;», French headers, French dates."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    combos = itertools.cycle(itertools.product(DATES, COMMUNES, ACTIVITES))
    for index in range(1000):
        date, commune, activite = next(combos)
        writer.writerow([f"Client n° {index + 1}", date, commune, activite, "création pure" if index % 3 else "reprise",
                         2 + index % 40, 100000 + index * 10, "oui" if index % 4 else "", "0", "2", "1"])
    return out.getvalue().encode("cp1252")


BROKEN_LINES = [
    ("Bon 1", "14/05/2019", "59178", "commerciale", None),
    ("Date impossible", "30/02/2019", "59178", "commerciale", "date_creation"),
    ("Pas une date", "demain", "59178", "commerciale", "date_creation"),
    ("Commune inconnue", "14/05/2019", "Atlantis", "commerciale", "commune_insee"),
    ("Code inconnu", "14/05/2019", "99999", "commerciale", "commune_insee"),
    ("Bon 2", "2019-06-01", "Liévin", "artisanale", None),
    ("Activité inconnue", "14/05/2019", "59178", "magie", "activite"),
]


def broken_file() -> bytes:
    lines = ["client;date_creation;commune_insee;activite;effectif"]
    lines += [f"{name};{date};{commune};{activite};3" for name, date, commune, activite, _ in BROKEN_LINES]
    body = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    body += "Mauvais encodage;14/05/2019;59178;commerciale;3\r\n".encode("cp1252").replace(b"encodage", b"enc\x81dage")
    body += "Trop de colonnes;14/05/2019;59178;commerciale;3;4;5\r\n".encode()
    body += "Bon 3;01/01/2020;59178;industrielle;beaucoup\r\n".encode()
    return body


def read_csv(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


@pytest.fixture(scope="module")
def adviser(world):
    return AdviserClient(world.app, world.a1)


def test_upload_1000_situations_through_the_page(adviser):
    from openpyxl import load_workbook

    data = thousand_lines()
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "clients-2024.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 303, page_text(response.get_data(as_text=True))[:500]
    location = response.headers["Location"]
    page = page_text(adviser.get(location).get_data(as_text=True))
    assert "Lot « clients-2024.csv »" in page and "1 000 lignes" in page and "windows-1252" in page
    assert "Lignes en erreur" not in page
    batch_id = location.rsplit("/", 1)[1]
    rows = read_csv(adviser.get(f"/conseillers/lots/{batch_id}/resultats.csv").data)
    assert len(rows) == 1000
    assert [row["Ligne"] for row in rows[:3]] == ["2", "3", "4"]
    assert rows[0]["Dossier"] == "Client n° 1"
    assert {row["Statut"] for row in rows} == {"Éligible", "Non éligible", "À confirmer"}
    assert {row["statut"] for row in rows} == {"eligible", "non_eligible", "indetermine"}
    eligible = [row for row in rows if row["Statut"] == "Éligible"]
    assert all(row["Fin de l'exonération totale d'impôt sur les bénéfices"] for row in eligible)
    assert any("commune_zone" in row["conditions_non_remplies"] for row in rows)  # Lille is outside
    assert any("Implantation dans une commune classée" in row["Conditions non remplies"] for row in rows)
    assert all(row["Commune retenue"] and row["Code INSEE retenu"] for row in rows)
    response = adviser.get(f"/conseillers/lots/{batch_id}/resultats.xlsx")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=clients-2024-resultats.xlsx")
    workbook = load_workbook(io.BytesIO(response.data), read_only=True)
    assert workbook.sheetnames == ["Résultats", "Synthèse", "Légende"]
    assert sum(1 for _ in workbook["Résultats"].iter_rows(values_only=True)) == 1001
    summary = {row[0]: row[1] for row in workbook["Synthèse"].iter_rows(values_only=True) if len(row) > 1}
    assert summary["Total"] == 1000 and summary["Erreur"] == 0
    # The file as sent can be downloaded again, byte for byte.
    assert adviser.get(f"/conseillers/lots/{batch_id}/fichier-source").data == data


def test_broken_lines_each_get_their_reason_and_never_stop_the_others(adviser):
    response = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=casse.csv", data=broken_file(),
                                   headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    summary = body["synthese"]
    assert summary["lignes"] == 10 and summary["erreur"] == 8
    rows = read_csv(adviser.get(body["resultats_csv"]).data)
    assert len(rows) == 10
    by_name = {row["client"]: row for row in rows}
    for name, _, _, _, field in BROKEN_LINES:
        row = by_name[name]
        if field is None:
            assert row["statut"] in ("eligible", "non_eligible", "indetermine") and not row["Erreur"], name
        else:
            assert row["Statut"] == "Erreur" and row["erreur_champ"] == field and row["Erreur"], name
    assert "n'est pas une date qui existe" in by_name["Date impossible"]["Erreur"]
    assert "Atlantis" in by_name["Commune inconnue"]["Erreur"]
    unreadable = [row for row in rows if row["client"].startswith("Mauvais")][0]
    assert unreadable["Statut"] == "Erreur" and "illisibles" in unreadable["Erreur"]
    assert "colonnes" in by_name["Trop de colonnes"]["Erreur"]
    assert by_name["Bon 3"]["erreur_champ"] == "effectif" and by_name["Bon 3"]["Champ en erreur"] == "effectif salarié"
    # The page lists every bad line with its reason.
    page = page_text(adviser.get(body["page"]).get_data(as_text=True))
    assert "Lignes en erreur" in page and "8 en erreur" in page and "Atlantis" in page


def test_a_file_that_cannot_be_read_at_all_is_refused_with_a_reason(adviser):
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(b"nom;ville\nA;B\n"), "sans-date.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert "colonne de la date de création introuvable" in page_text(response.get_data(as_text=True))
    response = adviser.post("/conseillers/lots", {}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choisissez un fichier" in page_text(response.get_data(as_text=True))
    response = adviser.api("POST", "/api/v1/conseillers/lots", {"pas": "un csv"})
    assert response.status_code == 415


def test_at_most_10000_lines(adviser):
    from bud_checker.batch import MAX_LIGNES_WEB

    data = ("date_creation\n" + "2019-05-14\n" * (MAX_LIGNES_WEB + 1)).encode()
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "trop.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 422
    assert "la limite est de 10 000 par fichier" in page_text(response.get_data(as_text=True))


def test_size_limit_and_csrf(world, adviser):
    data = ("date_creation\n" + "2019-05-14\n" * 2000).encode()
    old = world.app.config["ADVISER_BATCH_MAX_BYTES"]
    world.app.config["ADVISER_BATCH_MAX_BYTES"] = 10_000
    try:
        response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "gros.csv")},
                                content_type="multipart/form-data")
        assert response.status_code == 413
    finally:
        world.app.config["ADVISER_BATCH_MAX_BYTES"] = old
    # Larger than the site-wide MAX_CONTENT_LENGTH (64 KiB), still accepted here.
    big = ("date_creation;commune_insee;activite\n" + "14/05/2019;59178;commerciale\n" * 3000).encode()
    assert len(big) > world.app.config["MAX_CONTENT_LENGTH"]
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(big), "grand.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    response = adviser.client.post("/conseillers/lots",
                                   data={"fichier": (io.BytesIO(b"date_creation\n2019-05-14\n"), "x.csv")},
                                   content_type="multipart/form-data")
    assert response.status_code == 400  # no CSRF token
    response = adviser.client.post("/api/v1/conseillers/lots", data=b"date_creation\n2019-05-14\n",
                                   headers={"Content-Type": "text/csv"})
    assert response.status_code == 400 and response.get_json()["erreur"]["champ"] == "csrf_token"


def test_batches_are_listed_with_who_and_when(world, adviser):
    # This test makes its own batches, so that it does not depend on the tests above having run.
    for name in ("liste-1.csv", "liste-2.csv"):
        response = adviser.client.post(f"/api/v1/conseillers/lots?nom_fichier={name}", data=broken_file(),
                                       headers={"Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
        assert response.status_code == 202, response.get_json()
    colleague = AdviserClient(world.app, world.a2)
    listing = colleague.get("/api/v1/conseillers/lots").get_json()["lots"]
    assert listing and all(b["par"]["email"] == world.a1 for b in listing)
    assert {"liste-1.csv", "liste-2.csv"} <= {b["nom_fichier"] for b in listing}
    page = page_text(colleague.get("/conseillers/lots").get_data(as_text=True))
    assert "liste-2.csv" in page and "Anne Artois" in page


def test_the_template_file_is_accepted_as_is(adviser):
    template = adviser.get("/conseillers/lots/modele.csv")
    assert template.status_code == 200 and template.mimetype == "text/csv"
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(template.data), "modele.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 303
    page = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "2 lignes" in page and "0 en erreur" in page


def test_an_xlsx_of_200_clients_through_the_page_and_the_api(adviser):
    from openpyxl import load_workbook

    from batch_helpers import client_workbook

    data = client_workbook(200)
    response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "clients.xlsx")},
                            content_type="multipart/form-data")
    assert response.status_code == 303, page_text(response.get_data(as_text=True))[:500]
    page = page_text(adviser.get(response.headers["Location"]).get_data(as_text=True))
    assert "200 lignes" in page and "classeur Excel, feuille « Clients »" in page
    batch_id = response.headers["Location"].rsplit("/", 1)[1]
    workbook = load_workbook(io.BytesIO(adviser.get(f"/conseillers/lots/{batch_id}/resultats.xlsx").data))
    sheet = workbook["Résultats"]
    assert sheet.max_row == 201 and sheet.auto_filter.ref and sheet.freeze_panes == "B2"
    source = adviser.get(f"/conseillers/lots/{batch_id}/fichier-source")
    assert source.data == data and source.mimetype.endswith("spreadsheetml.sheet")
    response = adviser.client.post("/api/v1/conseillers/lots?nom_fichier=clients.xlsx", data=data, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["synthese"]["lignes"] == 200 and response.get_json()["synthese"]["format"] == "xlsx"


def test_hostile_files_get_a_french_422_never_a_500(adviser):
    wide = (";".join(["date_creation"] + [f"c{i}" for i in range(20_000)]) + "\n14/05/2019\n").encode()
    long_line = ("date_creation;note\n14/05/2019;" + "x" * 100_000 + "\n").encode()
    for data in (wide, long_line, b"PK\x03\x04broken", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64):
        response = adviser.post("/conseillers/lots", {"fichier": (io.BytesIO(data), "x.csv")},
                                content_type="multipart/form-data")
        assert response.status_code == 422, response.status_code
        assert "Le fichier n'a pas pu être vérifié" in page_text(response.get_data(as_text=True))
        response = adviser.client.post("/api/v1/conseillers/lots", data=data, headers={
            "Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
        assert response.status_code == 422 and response.get_json()["erreur"]["champ"] == "fichier"


def test_the_size_limit_message_states_the_real_limit(adviser):
    data = b"date_creation\n" + b"14/05/2019\n" * (16 * 1024 * 1024 // 11 + 10)
    response = adviser.client.post("/api/v1/conseillers/lots", data=data, headers={
        "Content-Type": "text/csv", "X-CSRFToken": adviser.form_token()})
    assert response.status_code == 413
    assert "16\u00a0Mio" in response.get_json()["erreur"]["message"]
