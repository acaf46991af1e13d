"""A fixed, varied set of situations for the benchmarks (deterministic: same seed, same set)."""

from __future__ import annotations

import datetime as dt
import random

# Mostly communes of the basin (the tool's users), some outside it.
COMMUNES = ["59178", "62498", "62510", "59051", "59606", "62014", "59630", "59392", "62119", "59574", "59122",
            "62427", "59350", "62041", "62861", "75056"]
ACTIVITES = ["commerciale", "artisanale", "industrielle", "liberale", "agricole", "civile"]
ORIGINES = ["creation_pure"] * 12 + ["reprise", "transfert", "extension"]


def situations(count: int = 1000, seed: int = 2018) -> list[dict]:
    rng = random.Random(seed)
    start = dt.date(2017, 10, 1)
    out = []
    for _ in range(count):
        s: dict = {"date_creation": (start + dt.timedelta(days=rng.randrange(0, 3500))).isoformat()}

        def maybe(p: float = 0.92) -> bool:
            return rng.random() < p

        if maybe(0.97):
            s["commune_insee"] = rng.choice(COMMUNES)
        if maybe():
            s["activite"] = rng.choice(ACTIVITES[:3] * 6 + ACTIVITES[3:])
        if maybe():
            s["origine"] = rng.choice(ORIGINES)
        if maybe():
            s["effectif"] = rng.choice([0, 0, 1, 1, 2, 3, 5, 12, 40, 249, 250])
        if maybe():
            s["chiffre_affaires"] = rng.choice([0, 45_000, 150_000, 480_000, 2_500_000, 60_000_000])
        if maybe(0.5):
            s["total_bilan"] = rng.choice([20_000, 800_000, 50_000_000])
        if maybe():
            s["capital_detenu_par_societes_pct"] = rng.choice([0, 0, 0, 0, 10, 30, 50, 51, 100])
        if maybe():
            s["siege_et_moyens_dans_zone"] = rng.random() < 0.95
        if maybe(0.3):
            s["non_sedentaire"] = True
            if maybe(0.8):
                s["ca_hors_zone_pct"] = rng.choice([0, 10, 15, 20, 60])
        if maybe(0.8):
            total = rng.choice([0, 0, 1, 2, 4, 10])
            s["salaries_eligibles"] = total
            if total and maybe(0.9):
                s["salaries_eligibles_residents_bud"] = rng.randint(total // 3, total)
        if maybe(0.4):
            hires = rng.choice([0, 1, 3, 6])
            s["embauches_eligibles"] = hires
            if hires:
                s["embauches_eligibles_residents_bud"] = rng.randint(0, hires)
        if maybe(0.3):
            created = dt.date.fromisoformat(s["date_creation"]) + dt.timedelta(days=rng.randrange(0, 900))
            s["date_creation_etablissement"] = created.isoformat()
        if maybe(0.6):
            s["deliberation_exoneration_cfe"] = rng.random() < 0.3
        if maybe(0.3):
            s["deliberation_exoneration_tfpb"] = rng.random() < 0.3
        if maybe(0.4):
            s["proprietaire_immeuble"] = rng.random() < 0.4
        _consistent(s)
        out.append(s)
    return out


def _consistent(s: dict) -> None:
    """Keep the answers possible together, as the engine requires (check_consistency): the hires counted at the
    closing date are among the employees, who are part of the headcount."""
    if "salaries_eligibles" in s and "effectif" in s:
        s["effectif"] = max(s["effectif"], s["salaries_eligibles"])
    if "embauches_eligibles" in s:
        if "salaries_eligibles" in s:
            s["embauches_eligibles"] = min(s["embauches_eligibles"], s["salaries_eligibles"])
        if "effectif" in s:
            s["embauches_eligibles"] = min(s["embauches_eligibles"], s["effectif"])
        if "embauches_eligibles_residents_bud" in s:
            s["embauches_eligibles_residents_bud"] = min(s["embauches_eligibles_residents_bud"],
                                                         s["embauches_eligibles"])
            if "salaries_eligibles_residents_bud" in s:
                s["embauches_eligibles_residents_bud"] = min(s["embauches_eligibles_residents_bud"],
                                                             s["salaries_eligibles_residents_bud"])
