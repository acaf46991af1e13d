"""Initial schema: the saved checks of the public form and the API.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "verifications",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("situation", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("regles_version", sa.String(length=64), nullable=False),
        sa.Column("canal", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_verifications_regles_version"), ["regles_version"], unique=False)
        batch_op.create_index(batch_op.f("ix_verifications_statut"), ["statut"], unique=False)


def downgrade():
    with op.batch_alter_table("verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verifications_statut"))
        batch_op.drop_index(batch_op.f("ix_verifications_regles_version"))
        batch_op.drop_index(batch_op.f("ix_verifications_created_at"))
    op.drop_table("verifications")
