"""Advisers' sessions kept on the server (sign-out ends them for good); SIREN stored as ASCII digits.

Revision ID: 0006_sessions_conseillers
Revises: 0005_lots_file
Create Date: 2026-12-01
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006_sessions_conseillers"
down_revision = "0005_lots_file"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("sessions_conseillers",
    sa.Column("id", sa.String(length=64), nullable=False),
    sa.Column("adviser_id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("end_reason", sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(["adviser_id"], ["conseillers.id"],
                            name=op.f("fk_sessions_conseillers_adviser_id_conseillers")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions_conseillers"))
    )
    with op.batch_alter_table("sessions_conseillers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sessions_conseillers_adviser_id"), ["adviser_id"], unique=False)

    # SIREN typed with other Unicode digits (full-width...) was stored as typed: store the ASCII digits, so that
    # the uniqueness per organisation holds whatever the digits. A SIREN that would then repeat another of the
    # same organisation is taken off the later case file (kept in its notes).
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, organisation_id, siren, notes FROM dossiers WHERE siren IS NOT NULL "
                                      "ORDER BY created_at")).fetchall()
    taken = {(org, siren) for _, org, siren, _ in rows if siren.isascii()}
    for identifier, org, siren, notes in rows:
        if siren.isascii():
            continue
        ascii_siren = "".join(str(unicodedata.digit(ch, 0)) if ch.isdigit() else ch for ch in siren)
        if (org, ascii_siren) in taken:
            connection.execute(sa.text("UPDATE dossiers SET siren = NULL, notes = :notes WHERE id = :id"),
                               {"id": identifier, "notes": (notes or "") + f"\n[SIREN {ascii_siren} retiré : celui "
                                                                         "d'un autre dossier de l'organisation]"})
        else:
            taken.add((org, ascii_siren))
            connection.execute(sa.text("UPDATE dossiers SET siren = :siren WHERE id = :id"),
                               {"id": identifier, "siren": ascii_siren})


def downgrade():
    with op.batch_alter_table("sessions_conseillers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sessions_conseillers_adviser_id"))
    op.drop_table("sessions_conseillers")
