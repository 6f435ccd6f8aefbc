"""indexes for the syndicated-copy and alerted-value lookups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index("ix_article_alike", ["title_key", "publisher", "published"])
        batch_op.drop_index("ix_article_title_key")  # the new index starts with it
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index("ix_alert_watch_kind", ["watch", "kind"])


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_watch_kind")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index("ix_article_title_key", ["title_key"])
        batch_op.drop_index("ix_article_alike")
