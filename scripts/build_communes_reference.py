#!/usr/bin/env python3
"""Build the national reference of French communes used by ``bud_checker.communes``.

The data come from the npm package ``@etalab/decoupage-administratif`` (data under
the Licence Ouverte / Open Licence 2.0 by Etalab, derived from the INSEE Code
officiel géographique, the DGCL EPCI list and the La Poste postal code base).

The package is obtained with ``npm pack`` in a temporary directory (or read from a
tarball given with ``--tarball``); nothing is installed and no JavaScript is run.
The output ``rules/communes/communes_france.json.gz`` is deterministic: records are
sorted, JSON is compact with sorted keys and the gzip header has ``mtime=0``. The
only date written is the generation date (a day, not a time), which can be pinned
with ``--date`` or the ``SOURCE_DATE_EPOCH`` environment variable. Each element of
the three lists (commune rows, arrondissements, communes déléguées/associées) is on
a line of its own: the loader parses the commune rows a slice of lines at a time
instead of building the whole document in memory.

Usage::

    python scripts/build_communes_reference.py            # npm pack + write the file
    python scripts/build_communes_reference.py --tarball etalab-decoupage-administratif-6.0.0.tgz
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
VERSION = "6.0.0"
FORMAT_VERSION = 1
LICENCE = "Licence Ouverte / Open Licence version 2.0 (Etalab)"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
PRODUCER = "Etalab / data.gouv.fr, d'après le COG de l'INSEE, la DGCL et La Poste"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "rules" / "communes" / "communes_france.json.gz"

CURRENT = "commune-actuelle"
DELEGATED = "commune-deleguee"
ASSOCIATED = "commune-associee"
ARRONDISSEMENT = "arrondissement-municipal"
KNOWN_TYPES = {CURRENT, DELEGATED, ASSOCIATED, ARRONDISSEMENT}
COMMUNE_COLUMNS = (
    "insee",
    "nom",
    "departement",
    "codes_postaux",
    "epci",
    "epci_nom",
    "anciens_codes",
    "population",
)
# Lists written one element per line (the loader reads "communes" a slice of lines at a time).
ONE_PER_LINE = ("arrondissements_municipaux", "communes", "communes_deleguees_associees")


def npm_pack(workdir: Path, package: str, version: str) -> Path:
    """Download the package tarball with ``npm pack`` into ``workdir``."""
    spec = f"{package}@{version}"
    try:
        proc = subprocess.run(
            ["npm", "pack", spec, "--json", "--silent"],
            cwd=workdir,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        sys.exit("npm est introuvable : installez Node.js/npm ou utilisez --tarball.")
    except subprocess.CalledProcessError as exc:
        sys.exit(f"échec de « npm pack {spec} » :\n{exc.stderr}")
    try:
        filename = json.loads(proc.stdout)[0]["filename"]
    except (ValueError, LookupError, TypeError):
        tarballs = sorted(workdir.glob("*.tgz"))
        if len(tarballs) != 1:
            sys.exit(f"archive introuvable après « npm pack {spec} »")
        return tarballs[0]
    # npm >= 9 reports the scoped name with "@" and "/" replaced.
    path = workdir / filename.replace("@", "").replace("/", "-")
    if not path.exists():
        path = workdir / filename
    return path


def read_package(tarball: Path) -> tuple[dict[str, Any], list[dict], list[dict], str]:
    """Return (package.json, communes.json, epci.json, sha512 integrity) from a tarball."""
    raw = tarball.read_bytes()
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(raw).digest()).decode("ascii")
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:

        def load(name: str) -> Any:
            member = tar.getmember(f"package/{name}")
            handle = tar.extractfile(member)
            if handle is None:
                raise SystemExit(f"{name} absent de l'archive {tarball}")
            return json.load(handle)

        return load("package.json"), load("data/communes.json"), load("data/epci.json"), integrity


def build(communes_raw: list[dict], epci_raw: list[dict]) -> dict[str, Any]:
    """Turn the package data into the reference structure (without the header)."""
    unknown = {c.get("type") for c in communes_raw} - KNOWN_TYPES
    if unknown:
        raise SystemExit(f"types de commune inattendus : {sorted(map(str, unknown))}")

    current = {c["code"]: c for c in communes_raw if c["type"] == CURRENT}
    if len(current) != sum(1 for c in communes_raw if c["type"] == CURRENT):
        raise SystemExit("codes INSEE de communes actuelles en double")

    # EPCI membership: the commune records carry no EPCI, epci.json lists members.
    epci_of: dict[str, tuple[str, str]] = {}
    for epci in epci_raw:
        for member in epci.get("membres", []):
            code = member["code"]
            if code in epci_of and epci_of[code][0] != epci["code"]:
                raise SystemExit(f"commune {code} membre de plusieurs EPCI")
            epci_of[code] = (epci["code"], epci["nom"])

    # Former codes: the current status of a commune déléguée/associée (its chef-lieu) is
    # authoritative; the package's anciensCodes are history and may, in a few cases,
    # still list a code that has since moved to another commune (e.g. 55273, 60455).
    former: dict[str, set[str]] = {code: set() for code in current}
    owner: dict[str, str] = {}
    secondary: list[dict[str, Any]] = []
    arrondissements: list[dict[str, Any]] = []
    for c in communes_raw:
        kind = c["type"]
        if kind in (DELEGATED, ASSOCIATED):
            parent = c["chefLieu"]
            if parent not in current:
                raise SystemExit(f"{c['code']} ({c['nom']}) : chef-lieu {parent} inconnu")
            if c["code"] != parent:
                if owner.get(c["code"], parent) != parent:
                    raise SystemExit(f"{c['code']} rattaché à {owner[c['code']]} et {parent}")
                owner[c["code"]] = parent
                former[parent].add(c["code"])
            secondary.append({"insee": c["code"], "nom": c["nom"], "type": kind, "commune": parent})
        elif kind == ARRONDISSEMENT:
            parent = c["commune"]
            if parent not in current:
                raise SystemExit(f"{c['code']} ({c['nom']}) : commune {parent} inconnue")
            record = {
                "insee": c["code"],
                "nom": c["nom"],
                "commune": parent,
                "codes_postaux": sorted(set(c.get("codesPostaux", []))),
            }
            if c.get("population") is not None:
                record["population"] = c["population"]
            arrondissements.append(record)

    # Then the package's anciensCodes, for codes not already owned by another commune.
    for code in sorted(current):
        for old in sorted(set(current[code].get("anciensCodes", []))):
            if old in current:
                raise SystemExit(f"ancien code {old} de {code} est aussi un code actuel")
            if owner.setdefault(old, code) != code:
                print(
                    f"avertissement : ancien code {old} listé par {code} mais rattaché à {owner[old]}",
                    file=sys.stderr,
                )
                continue
            former[code].add(old)
    arr_codes = {a["insee"] for a in arrondissements}
    clash = arr_codes & (set(current) | set(owner))
    if clash:
        raise SystemExit(f"codes d'arrondissement en conflit : {sorted(clash)}")

    # Current communes are stored as rows (one list per commune, fields in
    # COMMUNE_COLUMNS order): the file stays small and parses about twice as fast
    # as one object per commune, which matters for the loader's start-up time.
    # Rows come in search ranking order, population descending then INSEE code,
    # so that the loader does not have to sort them.
    communes = []
    for code in sorted(current, key=lambda code: (-(current[code].get("population") or 0), code)):
        c = current[code]
        epci_code, epci_name = epci_of.get(code, (None, None))
        record: dict[str, Any] = {
            "insee": code,
            "nom": c["nom"],
            "departement": c["departement"],
            "codes_postaux": sorted(set(c.get("codesPostaux", []))),
            "epci": epci_code,
            "epci_nom": epci_name,
            "anciens_codes": sorted(former[code]),
            "population": c.get("population"),
        }
        communes.append([record[column] for column in COMMUNE_COLUMNS])

    return {
        "commune_columns": list(COMMUNE_COLUMNS),
        "communes": communes,
        "arrondissements_municipaux": sorted(arrondissements, key=lambda r: r["insee"]),
        "communes_deleguees_associees": sorted(secondary, key=lambda r: (r["insee"], r["type"], r["commune"])),
    }


def generation_date(cli_date: str | None) -> str:
    if cli_date:
        return dt.date.fromisoformat(cli_date).isoformat()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date().isoformat()
    return dt.datetime.now(tz=dt.timezone.utc).date().isoformat()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def render_json(data: dict[str, Any]) -> str:
    """Compact JSON with sorted keys, except that each element of the lists of
    ``ONE_PER_LINE`` is on a line of its own: ``"communes":[\\n[...],\\n[...]\\n]``.
    JSON strings hold no raw line feed, so a line is always one whole element."""
    members = []
    for key in sorted(data):
        value = data[key]
        if key in ONE_PER_LINE:
            text = "[\n" + ",\n".join(map(_dumps, value)) + "\n]"
        else:
            text = _dumps(value)
        members.append(_dumps(key) + ":" + text)
    text = "{" + ",".join(members) + "}\n"
    if json.loads(text) != data:  # pragma: no cover - a guard on the layout above
        raise SystemExit("le JSON écrit ne relit pas les mêmes données")
    return text


def write_gzip_json(data: dict[str, Any], output: Path) -> int:
    payload = render_json(data).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(output)
    return len(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Génère rules/communes/communes_france.json.gz")
    parser.add_argument("--tarball", type=Path, help="archive npm déjà téléchargée (sinon : npm pack)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="fichier à écrire")
    parser.add_argument("--version", default=VERSION, help=f"version du paquet (défaut : {VERSION})")
    parser.add_argument("--date", help="date de génération AAAA-MM-JJ (défaut : SOURCE_DATE_EPOCH ou aujourd'hui)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="communes-") as tmp:
        tarball = args.tarball or npm_pack(Path(tmp), PACKAGE, args.version)
        package_json, communes_raw, epci_raw, integrity = read_package(tarball)

    if package_json.get("name") != PACKAGE or package_json.get("version") != args.version:
        raise SystemExit(
            f"archive inattendue : {package_json.get('name')}@{package_json.get('version')}"
            f" au lieu de {PACKAGE}@{args.version}"
        )

    data = build(communes_raw, epci_raw)
    data["format_version"] = FORMAT_VERSION
    data["commune_order"] = "population décroissante, puis code INSEE"
    data["generated_on"] = generation_date(args.date)
    data["source"] = {
        "package": PACKAGE,
        "version": args.version,
        "integrity": integrity,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "producer": PRODUCER,
    }
    raw_size = write_gzip_json(data, args.output)
    print(
        f"{args.output} : {len(data['communes'])} communes, "
        f"{len(data['arrondissements_municipaux'])} arrondissements municipaux, "
        f"{len(data['communes_deleguees_associees'])} communes déléguées/associées, "
        f"{sum(len(row[COMMUNE_COLUMNS.index('anciens_codes')]) for row in data['communes'])} anciens codes ; "
        f"{raw_size} octets JSON, {args.output.stat().st_size} octets gzip"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
