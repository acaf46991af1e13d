"""Rules catalogues stored once per id (verdict format 3 cites sources, limits and notes by id).

Saved checks of formats 1 and 2 are left as they are: every reader upgrades them (engine/contract.py), and
they keep their own sources and limits (their inline catalogue).

Revision ID: 0007_catalogues_regles
Revises: 0006_sessions_conseillers
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_catalogues_regles"
down_revision = "0006_sessions_conseillers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("catalogues_regles",
    sa.Column("id", sa.String(length=80), nullable=False),
    sa.Column("regles_version", sa.String(length=64), nullable=False),
    sa.Column("contenu", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogues_regles"))
    )
    with op.batch_alter_table("catalogues_regles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalogues_regles_regles_version"), ["regles_version"], unique=False)


def downgrade():
    with op.batch_alter_table("catalogues_regles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalogues_regles_regles_version"))
    op.drop_table("catalogues_regles")
