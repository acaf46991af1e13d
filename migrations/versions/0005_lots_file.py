"""Batches on the task queue: state, progress, attempts and failure reason; results written once done.

Revision ID: 0005_lots_file
Revises: 0004_suppressions
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_lots_file"
down_revision = "0004_suppressions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lots", schema=None) as batch_op:
        # Batches stored before were checked within the request: they are done.
        batch_op.add_column(sa.Column("etat", sa.String(length=20), nullable=False, server_default="termine"))
        batch_op.add_column(sa.Column("lignes_faites", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("lignes_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tentatives", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("raison_echec", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("maj_le", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("termine_le", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("classer_dossiers", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column("synthese", existing_type=sa.JSON(), nullable=True)
        batch_op.alter_column("resultats_csv", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.alter_column("resultats_xlsx", existing_type=sa.LargeBinary(), nullable=True)
        batch_op.create_index("ix_lots_etat", ["etat"], unique=False)


def downgrade():
    op.execute("DELETE FROM lots WHERE etat <> 'termine'")
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_index("ix_lots_etat")
        batch_op.alter_column("resultats_xlsx", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("resultats_csv", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.alter_column("synthese", existing_type=sa.JSON(), nullable=False)
        for column in ("classer_dossiers", "termine_le", "maj_le", "raison_echec", "tentatives", "lignes_total",
                       "lignes_faites", "etat"):
            batch_op.drop_column(column)
