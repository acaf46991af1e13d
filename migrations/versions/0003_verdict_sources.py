"""Saved verdicts in the current shape: each source once, in a `sources` table cited by id (format 2).

The verdicts saved before (public checks and the advisers' checks) are rewritten by the pure function
`bud_checker.engine.contract.upgrade`, which keeps every word they said; readers also accept both shapes, so a
downgrade needs nothing.

Revision ID: 0003_verdict_sources
Revises: 0002_conseillers
Create Date: 2026-12-01
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003_verdict_sources"
down_revision = "0002_conseillers"
branch_labels = None
depends_on = None

_TABLES = ("verifications", "dossier_verifications")


def upgrade():
    from bud_checker.engine.contract import is_current, upgrade as upgrade_verdict

    bind = op.get_bind()
    for name in _TABLES:
        table = sa.table(name, sa.column("id", sa.String), sa.column("verdict", sa.JSON))
        rows = bind.execute(sa.select(table.c.id, table.c.verdict)).all()
        for row_id, verdict in rows:
            if isinstance(verdict, str):  # some drivers hand JSON back as text
                verdict = json.loads(verdict)
            if not isinstance(verdict, dict) or is_current(verdict):
                continue
            bind.execute(table.update().where(table.c.id == row_id).values(verdict=upgrade_verdict(verdict)))


def downgrade():
    pass  # shape 2 is read by the code of either revision's successors; nothing to undo
