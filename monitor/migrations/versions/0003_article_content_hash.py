"""article content hash, so that an item edited in place is read again; observation.why,
the reason a figure was tied to its claim, in words

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() without importing it
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("why", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_column("why")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_column("content_hash")
