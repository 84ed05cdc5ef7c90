"""console_session: the web console's sign-ins, kept in the database so they survive a restart
and any replica honours them (only a hash of each session id is stored)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_key.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.create_index("ix_console_session_key_id", ["key_id"], unique=False)
        batch_op.create_index("ix_console_session_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_session", schema=None) as batch_op:
        batch_op.drop_index("ix_console_session_expires_at")
        batch_op.drop_index("ix_console_session_key_id")
    op.drop_table("console_session")
