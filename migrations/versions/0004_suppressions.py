"""Deletion and retention: the audit trail of deletions, and the batch a case file's check came from.

Revision ID: 0004_suppressions
Revises: 0003_verdict_sources
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_suppressions"
down_revision = "0003_verdict_sources"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("adviser_id", sa.Integer(), nullable=True),
        sa.Column("acteur", sa.String(length=254), nullable=False),
        sa.Column("nature", sa.String(length=20), nullable=False),
        sa.Column("dossiers", sa.Integer(), nullable=False),
        sa.Column("verifications", sa.Integer(), nullable=False),
        sa.Column("lots", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["adviser_id"], ["conseillers.id"],
                                name=op.f("fk_suppressions_adviser_id_conseillers")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_suppressions_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suppressions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_suppressions_organisation_id"), ["organisation_id"], unique=False)
    with op.batch_alter_table("dossier_verifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lot_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lot_ligne", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_dossier_verifications_lot_id"), ["lot_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_dossier_verifications_lot_id_lots"), "lots", ["lot_id"], ["id"])


def downgrade():
    with op.batch_alter_table("dossier_verifications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_dossier_verifications_lot_id_lots"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_dossier_verifications_lot_id"))
        batch_op.drop_column("lot_ligne")
        batch_op.drop_column("lot_id")
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_suppressions_created_at"))
    op.drop_table("suppressions")
