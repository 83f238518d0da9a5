"""client card: the notes timeline of a contact (contact_note)

Revision ID: 0020_ux_card
Revises: 0019_ux_charts
Create Date: 2026-11-30 07:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0020_ux_card'
down_revision = '0019_ux_charts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contact_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deletion_id', sa.String(length=36), nullable=True),
    sa.Column('deleted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['deleted_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_note_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_note_deletion_id'), ['deletion_id'], unique=False)
        batch_op.create_index('ix_contact_note_company_contact', ['company_id', 'contact_id', 'created_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_note', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_note_company_contact')
        batch_op.drop_index(batch_op.f('ix_contact_note_deletion_id'))
        batch_op.drop_index(batch_op.f('ix_contact_note_company_id'))
    op.drop_table('contact_note')
