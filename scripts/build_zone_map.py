#!/usr/bin/env python3
"""Build the map of the BUD zone: bud_checker/web/zone_map.json, the outlines of the communes of Nord and
Pas-de-Calais as SVG paths, each with its class from the project's rules.

Input: the two GeoJSON files of ../shared/data/geo/ (IGN – Admin Express COG 2018 ; INSEE – COG 2018, Licence
Ouverte; one feature per commune of 2018, WGS 84 longitude/latitude). Output: a JSON document the web pages read
(bud_checker/web/zone.py); the application never reads shared/.

- Projection: equirectangular centred on the two departments, longitudes scaled by cos(latitude of the centre)
  (at this latitude and over 170 km, lengths are within 1 % of a conformal projection), north up.
- Simplification: every vertex is rounded to a grid (1 unit of the 1000-unit-wide map, about 180 m, for the
  large map; 3 units for the small one), then repeated vertices, vertices on a straight line and rings that
  collapse are dropped. Two neighbouring communes share their border vertices in the source, so rounding
  keeps them sharing it: no gap or overlap appears between communes.
- Classes: each commune of 2018 is classified with the engine (bud_checker.engine.zone.classify, its 2018
  code resolved to the current commune by the project's commune reference): its BUD list id (arrete_2018,
  limitrophe_2019, candidat_non_source: the Pas-de-Calais communes «à confirmer»), or «en_partie» (it absorbed
  a listed commune), «hors_zone_a_confirmer» (outside the lists, in an intercommunality whose list could not
  be read), «hors_zone».

    python scripts/build_zone_map.py            # rewrite bud_checker/web/zone_map.json
    python scripts/build_zone_map.py --check    # exit 1 if the committed file is not what the rules give

Run it again whenever the BUD lists in rules/communes/ change (tests/test_zone.py checks it).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GEO_DIR = ROOT.parent / "shared" / "data" / "geo"
GEO_FILES = ("communes-59-nord-2018.geojson", "communes-62-pas-de-calais-2018.geojson")
OUTPUT = ROOT / "bud_checker" / "web" / "zone_map.json"
WIDTH = 1000  # map units across; the height follows from the projection
MARGIN = 4
FINE = 20  # vertices are first put on a grid of 1/FINE map unit
# path key -> smallest triangle kept by the simplification (Visvalingam), in squared map units
SIMPLIFICATION = {"d": 1.0, "d_petite": 12}
FORMAT_VERSION = 1
SOURCE = "IGN – Admin Express COG 2018\u00a0; INSEE – COG 2018"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _rings(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    """Polygons (each a list of rings) of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"géométrie {geometry['type']} inattendue")


Point = tuple[int, int]


def _visvalingam(points: list[Point], min_area: float) -> list[Point]:
    """Visvalingam–Whyatt: repeatedly drop the inner vertex whose triangle with its neighbours is the smallest,
    while it is under ``min_area`` (twice the area, in squared fine units). The two ends are kept."""
    count = len(points)
    if count <= 2:
        return points
    prev = list(range(-1, count - 1))
    nxt = list(range(1, count + 1))
    alive = [True] * count

    def area(i: int) -> float:
        (ax, ay), (bx, by), (cx, cy) = points[prev[i]], points[i], points[nxt[i]]
        return abs((bx - ax) * (cy - ay) - (cx - ax) * (by - ay))

    heap = [(area(i), i) for i in range(1, count - 1)]
    heapq.heapify(heap)
    current = {i: a for a, i in heap}
    while heap:
        value, i = heapq.heappop(heap)
        if not alive[i] or current.get(i) != value:
            continue
        if value >= min_area:
            break
        alive[i] = False
        p, n = prev[i], nxt[i]
        nxt[p], prev[n] = n, p
        for j in (p, n):
            if 0 < j < count - 1 and alive[j]:
                current[j] = area(j)
                heapq.heappush(heap, (current[j], j))
    return [point for point, keep in zip(points, alive) if keep]


class _Topology:
    """The rings of every commune cut into arcs between junctions (vertices where three or more communes, or
    the edge of the map, meet), so that an arc two communes share is simplified once, the same for both."""

    def __init__(self, rings: list[list[Point]]) -> None:
        neighbours: dict[Point, set[Point]] = {}
        for ring in rings:
            for a, b in zip(ring, ring[1:] + ring[:1]):
                neighbours.setdefault(a, set()).add(b)
                neighbours.setdefault(b, set()).add(a)
        self.junctions = {point for point, around in neighbours.items() if len(around) != 2}
        self.cache: dict[tuple[Point, ...], list[Point]] = {}

    def simplify(self, ring: list[Point], min_area: float) -> list[Point]:
        cuts = [i for i, point in enumerate(ring) if point in self.junctions]
        if not cuts:
            cuts = [ring.index(min(ring))]  # a ring no other touches at a junction: start at a fixed vertex
        start = cuts[0]
        ring = ring[start:] + ring[:start]
        cuts = [i - start for i in cuts] + [len(ring)]
        closed = ring + ring[:1]
        out: list[Point] = []
        for a, b in zip(cuts, cuts[1:]):
            arc = tuple(closed[a : b + 1])
            key = min(arc, arc[::-1])
            if (key, min_area) not in self.cache:
                self.cache[(key, min_area)] = _visvalingam(list(key), min_area)
            simplified = self.cache[(key, min_area)]
            if key != arc:
                simplified = simplified[::-1]
            out += simplified[:-1]
        return out


def _on_grid(ring: list[Point], fine: int) -> list[Point]:
    """Vertices in map units (rounded), without repeats nor vertices on a straight line; [] if it collapses."""
    points: list[Point] = []
    for x, y in ring:
        point = (round(x / fine), round(y / fine))
        if not points or points[-1] != point:
            points.append(point)
    while len(points) > 1 and points[0] == points[-1]:
        points.pop()
    changed = True
    while changed and len(points) >= 3:
        changed = False
        kept: list[Point] = []
        for i, (x, y) in enumerate(points):
            px, py = kept[-1] if kept else points[i - 1]
            nx, ny = points[(i + 1) % len(points)]
            if (x - px) * (ny - y) - (y - py) * (nx - x) == 0:
                changed = True
                continue
            kept.append((x, y))
        points = kept
    return points if len(points) >= 3 else []


def _path(rings: list[list[tuple[int, int]]]) -> str:
    """SVG path data, relative moves and lines between integer vertices."""
    parts = []
    last = (0, 0)
    for ring in rings:
        x, y = ring[0]
        parts.append(f"{'M' if not parts else 'm'}{x - last[0]} {y - last[1]}")
        steps = []
        for (ax, ay), (bx, by) in zip(ring, ring[1:]):
            steps.append(f"{bx - ax} {by - ay}")
        parts.append("l" + " ".join(steps) + "z")
        last = (x, y)
    return "".join(parts).replace(" -", "-")


def _area_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1]):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        xs, ys = zip(*ring)
        return 0.0, sum(xs) / len(xs), sum(ys) / len(ys)
    return abs(area) / 2, cx / (3 * area), cy / (3 * area)


def classify_codes(codes: list[str], rules: Any) -> dict[str, str]:
    """Class of each 2018 code, from the rules (see the module's docstring)."""
    from bud_checker.communes import load_reference
    from bud_checker.engine.zone import classify

    reference = load_reference()
    classes = {}
    for code in codes:
        listed = rules.communes_bud.get(code)
        commune = reference.get(code)
        if listed is not None:
            classes[code] = listed.liste.id
        elif commune is None:
            classes[code] = "hors_zone"
        else:
            classement = classify(commune, code, rules)
            if classement.bud is not None:
                classes[code] = classement.bud.liste.id
            elif classement.ancienne_commune_bud is not None:
                classes[code] = "en_partie"
            elif classement.epci_liste_incomplete:
                classes[code] = "hors_zone_a_confirmer"
            else:
                classes[code] = "hors_zone"
    return classes


def build(geo_dir: Path, rules: Any) -> dict[str, Any]:
    features = []
    for name in GEO_FILES:
        with (geo_dir / name).open(encoding="utf-8") as handle:
            features += json.load(handle)["features"]
    lons = [p[0] for f in features for poly in _rings(f["geometry"]) for ring in poly for p in ring]
    lats = [p[1] for f in features for poly in _rings(f["geometry"]) for ring in poly for p in ring]
    lat0 = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(lat0))
    scale = (WIDTH - 2 * MARGIN) / ((max(lons) - min(lons)) * kx)
    height = math.ceil((max(lats) - min(lats)) * scale) + 2 * MARGIN
    west, north = min(lons), max(lats)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return MARGIN + (lon - west) * kx * scale, MARGIN + (north - lat) * scale

    classes = classify_codes([f["properties"]["code"] for f in features], rules)
    features.sort(key=lambda f: f["properties"]["code"])
    # Vertices on a fine integer grid (FINE per map unit): the same source vertex is the same point everywhere.
    projected = []
    for feature in features:
        polys = []
        for poly in _rings(feature["geometry"]):
            rings = []
            for ring in poly:
                points: list[Point] = []
                for lon, lat in ring:
                    x, y = project(lon, lat)
                    point = (round(x * FINE), round(y * FINE))
                    if not points or points[-1] != point:
                        points.append(point)
                while len(points) > 1 and points[0] == points[-1]:
                    points.pop()
                if len(points) >= 3:
                    rings.append(points)
            if rings:
                polys.append(rings)
        projected.append(polys)
    topology = _Topology([ring for polys in projected for poly in polys for ring in poly])
    communes = []
    for feature, polys in zip(features, projected):
        code, nom = feature["properties"]["code"], feature["properties"]["nom"]
        entry: dict[str, Any] = {"insee": code, "nom": nom, "classe": classes[code]}
        for key, min_area in SIMPLIFICATION.items():
            rings = []
            for poly in polys:
                for ring in poly:
                    simplified = _on_grid(topology.simplify(ring, min_area * FINE * FINE * 2), FINE)
                    if simplified:
                        rings.append(simplified)
            entry[key] = _path(rings)
        outer = [[(x / FINE, y / FINE) for x, y in poly[0]] for poly in polys]
        _, cx, cy = max(_area_centroid(ring) for ring in outer)  # the marker: centroid of the largest piece
        xs = [x for ring in outer for x, _ in ring]
        ys = [y for ring in outer for _, y in ring]
        entry["x"], entry["y"] = round(cx, 1), round(cy, 1)
        entry["bbox"] = [math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))]
        communes.append(entry)
    return {
        "format_version": FORMAT_VERSION,
        "source": SOURCE,
        "licence": "Licence Ouverte / Open Licence (Etalab)",
        "fichiers": list(GEO_FILES),
        "projection": (f"équirectangulaire, latitude de référence {lat0:.4f}°, "
                       f"{scale / 1000 * 111.32:.4f} unités par km"),
        "largeur": WIDTH,
        "hauteur": height,
        "simplification": SIMPLIFICATION,
        "communes": communes,
    }


def dumps(document: dict[str, Any]) -> str:
    """One commune a line, so that a change of the lists is a readable diff."""
    head = {k: v for k, v in document.items() if k != "communes"}
    lines = [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in document["communes"]]
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return text[:-1] + ',"communes":[\n' + ",\n".join(lines) + "\n]}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geo", type=Path, default=DEFAULT_GEO_DIR, help="directory of the two GeoJSON files")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with the output file instead of writing")
    args = parser.parse_args(argv)

    from bud_checker.engine.law import current_rules

    text = dumps(build(args.geo, current_rules()))
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'à jour' if same else 'à reconstruire (python scripts/build_zone_map.py)'}")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(text.encode()):,} octets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
