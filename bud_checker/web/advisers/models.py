"""The advisers' workspace: organisations (CCI), advisers, case files, their checks and batch checks.

Everything an adviser sees belongs to one organisation, and every row here carries (or reaches through its
case file) that organisation: `services.py` never looks anything up without it.

A check made in a case file (`DossierVerification`) lives in its own table, not in the public
`verifications` table: the public pages and API cannot read it, whatever identifier they are given. Both
share the columns of `CheckRecord` (situation, verdict as returned, rules version, date).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import CheckRecord, UTCDateTime, new_id, utcnow


BATCH_STATES = ("en_attente", "en_cours", "termine", "echec")
BATCH_STATE_LABELS = {"en_attente": "en attente", "en_cours": "en cours", "termine": "terminé", "echec": "échec"}


def new_auth_id() -> str:
    """The identifier kept in the session cookie; changed with the password, which ends every other session."""
    return secrets.token_urlsafe(24)


class Organisation(db.Model):
    """A CCI (or any adviser organisation): the unit of isolation."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nom: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    advisers: Mapped[list[Adviser]] = relationship(back_populates="organisation", order_by="Adviser.email")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.nom!r}>"


class Adviser(UserMixin, db.Model):
    """A person who signs in. Created by the `bud-checker admin` command only (no open sign-up)."""

    __tablename__ = "conseillers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lowercased
    nom: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    auth_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_auth_id)
    actif: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship(back_populates="advisers", lazy="joined")

    def get_id(self) -> str:  # Flask-Login: what the session remembers
        return self.auth_id

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated adviser cannot sign in
        return bool(self.actif)

    @property
    def display_name(self) -> str:
        return self.nom or self.email

    def __repr__(self) -> str:
        return f"<Adviser {self.id} {self.email}>"


class AdviserSession(db.Model):
    """A signed-in session, kept on the server: the cookie names it (`SESSION_ID_KEY`), and a session ended here
    (sign-out, password change, deactivation, `bud-checker admin sessions --fermer`) no longer signs anyone in,
    even with a copy of the cookie."""

    __tablename__ = "sessions_conseillers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("conseillers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # «deconnexion», «mot_de_passe», «desactivation», «administration», «expiration».
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)

    adviser: Mapped[Adviser] = relationship()

    def __repr__(self) -> str:
        return f"<AdviserSession {self.id[:6]}… adviser {self.adviser_id}>"


class Dossier(db.Model):
    """A client company's case file: its identity, notes and checks over time."""

    __tablename__ = "dossiers"
    __table_args__ = (UniqueConstraint("organisation_id", "siren", name="uq_dossiers_organisation_id_siren"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    nom: Mapped[str] = mapped_column(String(200))
    nom_recherche: Mapped[str] = mapped_column(String(200), index=True)  # lowercase, no accents: for search
    siren: Mapped[str | None] = mapped_column(String(9))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("conseillers.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("conseillers.id"))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[Adviser] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[Adviser] = relationship(foreign_keys=[updated_by_id])
    verifications: Mapped[list[DossierVerification]] = relationship(
        back_populates="dossier", order_by="DossierVerification.created_at.desc()")

    def __repr__(self) -> str:
        return f"<Dossier {self.id} {self.nom!r}>"


class DossierVerification(CheckRecord, db.Model):
    """A check made in a case file: who ran it, when, under which rules (the audit trail of the case file)."""

    __tablename__ = "dossier_verifications"

    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossiers.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    adviser_id: Mapped[int] = mapped_column(ForeignKey("conseillers.id"))
    # «formulaire» (the page), «api», «lot» (a line of a batch) or «relance» (an earlier situation run again
    # under the rules of the day).
    canal: Mapped[str] = mapped_column(String(20), default="formulaire")
    relance_de_id: Mapped[str | None] = mapped_column(ForeignKey("dossier_verifications.id"))
    # The batch the check came from (canal «lot»); emptied when that batch is deleted, the check stays.
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("lots.id"), index=True)
    lot_ligne: Mapped[int | None] = mapped_column(Integer)

    dossier: Mapped[Dossier] = relationship(back_populates="verifications")
    adviser: Mapped[Adviser] = relationship(lazy="joined")
    relance_de: Mapped[DossierVerification | None] = relationship(remote_side="DossierVerification.id")
    lot: Mapped[Batch | None] = relationship()

    def __repr__(self) -> str:
        return f"<DossierVerification {self.id} {self.statut} {self.created_at:%Y-%m-%d}>"


class Batch(db.Model):
    """A CSV of situations checked in one go, kept with its result files so it can be downloaded again.

    Checked by a worker of the task queue (web/queue.py), not in the request: `etat` says where it stands
    (BATCH_STATES), `lignes_faites` / `lignes_total` how far it went, `raison_echec` why it failed (French).
    The summary and the result files exist once it is `termine`."""

    __tablename__ = "lots"
    __table_args__ = (Index("ix_lots_organisation_id_created_at", "organisation_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    adviser_id: Mapped[int] = mapped_column(ForeignKey("conseillers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    nom_fichier: Mapped[str] = mapped_column(String(255))
    regles_version: Mapped[str] = mapped_column(String(64))
    # batch.BatchResult.summary(), plus the first errors by line, as shown on the page (once termine).
    synthese: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The file as uploaded, and the two result files, zlib-compressed (the XLSX is stored as written).
    fichier_source: Mapped[bytes] = mapped_column(LargeBinary)
    resultats_csv: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    resultats_xlsx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    etat: Mapped[str] = mapped_column(String(20), default="en_attente", index=True)
    lignes_faites: Mapped[int] = mapped_column(Integer, default=0)
    lignes_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tentatives: Mapped[int] = mapped_column(Integer, default=0)
    raison_echec: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Written with every progress report: a batch «en_cours» whose worker stopped reporting was interrupted.
    maj_le: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    termine_le: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Asked at upload: file each checked line in its client's case file (services.file_lines), done by the worker.
    classer_dossiers: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def progression(self) -> dict[str, Any]:
        total = self.lignes_total
        done = self.lignes_faites or 0
        percent = 100 if self.etat == "termine" else (min(99, int(100 * done / total)) if total else 0)
        return {"lignes_faites": done, "lignes_total": total, "pourcentage": percent}

    @property
    def fini(self) -> bool:
        return self.etat in ("termine", "echec")

    adviser: Mapped[Adviser] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Batch {self.id} {self.nom_fichier!r}>"


class Deletion(db.Model):
    """The trace of a deletion (a case file, a batch, or a purge of old ones): who, when, what kind, how many.

    It never holds what was deleted (no name, SIREN, note, situation or file): only the counts."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The adviser who asked for it; None for `bud-checker admin purge`, named in `acteur`.
    adviser_id: Mapped[int | None] = mapped_column(ForeignKey("conseillers.id"))
    acteur: Mapped[str] = mapped_column(String(254))
    # «dossier» or «lot» (deleted by an adviser), «purge» (deleted by the retention command).
    nature: Mapped[str] = mapped_column(String(20))
    dossiers: Mapped[int] = mapped_column(Integer, default=0)
    verifications: Mapped[int] = mapped_column(Integer, default=0)
    lots: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Deletion {self.id} {self.nature} {self.created_at:%Y-%m-%d}>"
