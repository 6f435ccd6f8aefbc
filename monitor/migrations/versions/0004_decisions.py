"""decisions on alerts: alert.decision (accepted | dismissed), and the decision table that
keeps who decided what, when and from where

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # autogenerate writes sqlmodel.sql.sqltypes.AutoString() without importing it
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("watch", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("claim", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("via", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_watch"), ["watch"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("decision")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("decision")
