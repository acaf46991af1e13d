"""The advisers' workspace: organisations, advisers, case files, their checks, batches.

Revision ID: 0002_conseillers
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_conseillers"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('nom', name=op.f('uq_organisations_nom'))
    )
    op.create_table('conseillers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('auth_id', sa.String(length=64), nullable=False),
    sa.Column('actif', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_conseillers_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conseillers')),
    sa.UniqueConstraint('auth_id', name=op.f('uq_conseillers_auth_id')),
    sa.UniqueConstraint('email', name=op.f('uq_conseillers_email'))
    )
    with op.batch_alter_table('conseillers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conseillers_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('dossiers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('nom', sa.String(length=200), nullable=False),
    sa.Column('nom_recherche', sa.String(length=200), nullable=False),
    sa.Column('siren', sa.String(length=9), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['conseillers.id'], name=op.f('fk_dossiers_created_by_id_conseillers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_dossiers_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['conseillers.id'], name=op.f('fk_dossiers_updated_by_id_conseillers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    sa.UniqueConstraint('organisation_id', 'siren', name='uq_dossiers_organisation_id_siren')
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_nom_recherche'), ['nom_recherche'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_updated_at'), ['updated_at'], unique=False)

    op.create_table('lots',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('adviser_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('nom_fichier', sa.String(length=255), nullable=False),
    sa.Column('regles_version', sa.String(length=64), nullable=False),
    sa.Column('synthese', sa.JSON(), nullable=False),
    sa.Column('fichier_source', sa.LargeBinary(), nullable=False),
    sa.Column('resultats_csv', sa.LargeBinary(), nullable=False),
    sa.Column('resultats_xlsx', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['adviser_id'], ['conseillers.id'], name=op.f('fk_lots_adviser_id_conseillers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_lots_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lots'))
    )
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.create_index('ix_lots_organisation_id_created_at', ['organisation_id', 'created_at'], unique=False)

    op.create_table('dossier_verifications',
    sa.Column('dossier_id', sa.String(length=64), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('adviser_id', sa.Integer(), nullable=False),
    sa.Column('canal', sa.String(length=20), nullable=False),
    sa.Column('relance_de_id', sa.String(length=64), nullable=True),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('situation', sa.JSON(), nullable=False),
    sa.Column('verdict', sa.JSON(), nullable=False),
    sa.Column('statut', sa.String(length=20), nullable=False),
    sa.Column('regles_version', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['adviser_id'], ['conseillers.id'],
                            name=op.f('fk_dossier_verifications_adviser_id_conseillers')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_verifications_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_dossier_verifications_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['relance_de_id'], ['dossier_verifications.id'],
                            name=op.f('fk_dossier_verifications_relance_de_id_dossier_verifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_verifications'))
    )
    with op.batch_alter_table('dossier_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_verifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_verifications_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_verifications_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_verifications_regles_version'), ['regles_version'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_verifications_statut'), ['statut'], unique=False)


def downgrade():
    with op.batch_alter_table('dossier_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_verifications_statut'))
        batch_op.drop_index(batch_op.f('ix_dossier_verifications_regles_version'))
        batch_op.drop_index(batch_op.f('ix_dossier_verifications_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_dossier_verifications_dossier_id'))
        batch_op.drop_index(batch_op.f('ix_dossier_verifications_created_at'))

    op.drop_table('dossier_verifications')
    with op.batch_alter_table('lots', schema=None) as batch_op:
        batch_op.drop_index('ix_lots_organisation_id_created_at')

    op.drop_table('lots')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_updated_at'))
        batch_op.drop_index(batch_op.f('ix_dossiers_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_dossiers_nom_recherche'))

    op.drop_table('dossiers')
    with op.batch_alter_table('conseillers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conseillers_organisation_id'))

    op.drop_table('conseillers')
    op.drop_table('organisations')
