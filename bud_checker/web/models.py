"""Database models (SQLAlchemy 2.0 typed mappings).

A `Verification` is one check as it was computed: the situation given, the verdict returned (the JSON
contract, stored whole), the rules version that produced it and the date. Pages and the API render the
stored verdict and never evaluate it again, so a saved check reads the same after the rules change.
Nothing identifies a person: no name, e-mail address or postal address is stored.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .extensions import db

ID_BYTES = 18  # secrets.token_urlsafe(18): 24 URL-safe characters, 144 random bits
ID_PATTERN = r"[A-Za-z0-9_-]{22,64}"


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class CheckRecord:
    """What every saved check holds, public or in an adviser's case file (mixin; each has its own table)."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The input as received (null = «je ne sais pas»), and the verdict as returned (Verdict.to_dict()).
    situation: Mapped[dict[str, Any]] = mapped_column(JSON)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    statut: Mapped[str] = mapped_column(String(20), index=True)
    regles_version: Mapped[str] = mapped_column(String(64), index=True)


class Verification(CheckRecord, db.Model):
    __tablename__ = "verifications"

    # Which door created it: «formulaire» (public web form) or «api».
    canal: Mapped[str] = mapped_column(String(20), default="formulaire")

    def __repr__(self) -> str:
        return f"<Verification {self.id} {self.statut} {self.created_at:%Y-%m-%d}>"


class CatalogueRegles(db.Model):
    """A rules catalogue (engine/catalogue.py), stored once per id when a check first uses it: saved checks
    cite sources, limits and notes by id, and still show those of the rules they were made with after the
    rules change."""

    __tablename__ = "catalogues_regles"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    regles_version: Mapped[str] = mapped_column(String(64), index=True)
    contenu: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
