"""allocation_cancellations: the allocations this service cancelled (and only those it reopens)

An allocation the admin side cancelled stays cancelled; one that a cancellation here closed is
reopened when a later ASSIGNED purchase of the same student, trainer and course uses it again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 13:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_cancellations",
        sa.Column("allocation_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["trainer_allocations.id"],
            name=op.f("fk_allocation_cancellations_allocation_id_trainer_allocations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("allocation_id", name=op.f("pk_allocation_cancellations")),
    )


def downgrade() -> None:
    op.drop_table("allocation_cancellations")
