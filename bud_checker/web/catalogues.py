"""Rules catalogues for the doors: the current one from the engine, earlier ones from the database.

A verdict of format 3 cites its sources, limits, notes and statements by id in the catalogue of the rules it
was made with (its `regles` link, engine/catalogue.py). The catalogue of the rules in force is the engine's;
each one is stored once (table `catalogues_regles`) when a check that uses it is first saved, so that a saved
check still shows its own sources and notes after the rules change. `read_verdict` is what every page, report
and comparison reads: the verdict resolved against its catalogue (engine/contract.py, `read`).
"""

from __future__ import annotations

from typing import Any, Mapping

from flask import has_app_context
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..engine.catalogue import CATALOGUE_PATH, catalogue
from ..engine.contract import read
from ..engine.law import current_rules
from .extensions import db
from .models import CatalogueRegles, utcnow

_stored: set[tuple[int, str, str]] = set()  # (engine, database URL, catalogue id) known to be stored


def catalogue_ref(verdict: Mapping[str, Any]) -> str | None:
    """The id of the catalogue a verdict refers to (the end of its `regles` link)."""
    link = verdict.get("regles") if isinstance(verdict, Mapping) else None
    if not isinstance(link, str) or not link.startswith(CATALOGUE_PATH):
        return None
    return link[len(CATALOGUE_PATH):] or None


def current_catalogue() -> dict[str, Any]:
    return catalogue(current_rules())


def find_catalogue(catalogue_id: str) -> Mapping[str, Any] | None:
    """The catalogue `catalogue_id`: the engine's when it is the current one, else the stored one."""
    current = current_catalogue()
    if catalogue_id == current["id"]:
        return current
    if not has_app_context() or len(catalogue_id) > 80:
        return None
    found = db.session.get(CatalogueRegles, catalogue_id)
    return found.contenu if found is not None else None


def remember_current_catalogue() -> None:
    """Store the current catalogue once, in the caller's transaction (INSERT … ON CONFLICT DO NOTHING, so that
    two workers storing it at once do not fail): call it before adding a check that cites it."""
    current = current_catalogue()
    key = (id(db.engine), str(db.engine.url), current["id"])
    if key in _stored:
        return
    if db.session.get(CatalogueRegles, current["id"]) is None:
        values = {"id": current["id"], "regles_version": current["regles_version"], "contenu": current,
                  "created_at": utcnow()}
        dialect = db.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(insert(CatalogueRegles).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        return  # known as stored once a later call finds it (the caller's transaction may yet roll back)
    _stored.add(key)


def read_verdict(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """A saved verdict of any shape, resolved against its catalogue, ready to show (engine/contract.read)."""
    ref = catalogue_ref(verdict)
    found = find_catalogue(ref) if ref is not None else None
    if found is None and ref is not None and verdict.get("regles_version") == current_rules().empreinte:
        found = current_catalogue()  # not stored (a copied database): the same rules, in today's words
    return read(verdict, found)
