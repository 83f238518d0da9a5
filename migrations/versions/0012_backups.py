"""backup history

Revision ID: 0012_backups
Revises: 0011_restore
Create Date: 2026-11-28 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_backups'
down_revision = '0011_restore'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('backup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('destinations', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('drill_at', sa.DateTime(), nullable=True),
    sa.Column('drill_ok', sa.Boolean(), nullable=True),
    sa.Column('drill_result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('backup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_started_at'), ['started_at'], unique=False)


def downgrade():
    with op.batch_alter_table('backup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_started_at'))

    op.drop_table('backup')
