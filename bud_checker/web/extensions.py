"""Flask extensions, created unbound here and bound to the application in `create_app`.

Flask-Migrate, and with it Alembic (some 10 MB per process), is not imported by the application that gunicorn's
workers serve: it never migrates. `create_app` only registers stand-ins (`register_migrations`), and
`init_migrations` binds the real extension where migrations run: `bud-checker serve`/`db-upgrade` and the admin
commands (`commands.upgrade_database`), `flask db ...`, or any use of Flask-Migrate's functions in an application
context.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Explicit constraint names, so that Alembic migrations (batch mode on SQLite) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()

SQLITE_BUSY_TIMEOUT_MS = 5000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # SQLAlchemy hook
    """On every new SQLite connection: WAL journal (readers do not block the writer), a busy timeout instead of
    an immediate «database is locked», and enforced foreign keys. Other databases are left alone."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


# --- Flask-Migrate, bound when first used ---------------------------------------------------------------------

def init_migrations(app: Flask) -> Any:
    """Bind Flask-Migrate (importing it and Alembic now) to `app`, once; returns `app.extensions["migrate"]`."""
    current = app.extensions.get("migrate")
    if current is not None and not isinstance(current, _PendingMigrate):
        return current
    from flask_migrate import Migrate

    from .config import MIGRATIONS_DIR

    Migrate(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


def register_migrations(app: Flask) -> None:
    """What `create_app` does instead of binding Flask-Migrate: `app.extensions["migrate"]` and the `flask db`
    commands are stand-ins that bind it on first use."""
    app.extensions["migrate"] = _PendingMigrate(app)
    app.cli.add_command(_PendingDbCommands(app))


class _PendingMigrate:
    """In `app.extensions["migrate"]` until Flask-Migrate is used: the first attribute read (by Flask-Migrate's
    functions, or migrations/env.py) binds the real extension, which takes its place."""

    __slots__ = ("_app",)

    def __init__(self, app: Flask) -> None:
        self._app = app

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_app":  # copy, pickle...: nothing to bind for
            raise AttributeError(name)
        return getattr(init_migrations(self._app), name)


class _PendingDbCommands(click.Command):
    """`flask db ...`: Flask-Migrate's command group, imported only when the command runs."""

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Perform database migrations.")
        self._app = app

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        init_migrations(self._app)
        from flask_migrate.cli import db as db_commands

        # click then runs the command of the context returned: Flask-Migrate's group.
        return db_commands.make_context(info_name, args, parent=parent, **extra)
