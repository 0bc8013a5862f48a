"""waitlist promotion: triggers from directory and zone changes, leased event claims

- capacity_events gets causes for directory and zone changes, and `claimed_until`: a replica
  claims events for a while (a lease), promotes, then deletes them; a replica that dies keeps
  nothing, because the lease runs out and another one claims them again;
- waiting purchases are found by (zone, course), oldest first: an index for that.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAUSES_0003 = "('purchase_cancelled', 'session_rescheduled', 'trainer_substituted', 'time_unblocked')"
_CAUSES_0004 = (
    "('purchase_cancelled', 'session_rescheduled', 'trainer_substituted', 'time_unblocked', "
    "'trainer_changed', 'zone_changed')"
)


def upgrade() -> None:
    op.add_column("capacity_events", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint(op.f("ck_capacity_events_cause"), "capacity_events", type_="check")
    op.create_check_constraint(
        op.f("ck_capacity_events_cause"), "capacity_events", f"cause IN {_CAUSES_0004}"
    )
    op.create_index(
        "ix_purchases_waitlisted_zone_course",
        "purchases",
        ["zone_id", "course_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'WAITLISTED'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_purchases_waitlisted_zone_course",
        table_name="purchases",
        postgresql_where=sa.text("status = 'WAITLISTED'"),
    )
    op.execute("DELETE FROM capacity_events WHERE cause IN ('trainer_changed', 'zone_changed')")
    op.drop_constraint(op.f("ck_capacity_events_cause"), "capacity_events", type_="check")
    op.create_check_constraint(
        op.f("ck_capacity_events_cause"), "capacity_events", f"cause IN {_CAUSES_0003}"
    )
    op.drop_column("capacity_events", "claimed_until")
