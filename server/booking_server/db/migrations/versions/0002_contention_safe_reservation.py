"""contention-safe reservation, stored decisions, read-model drift by anti-join

- book_trainer_sessions(): one trainer's reservation for a purchase, all or nothing, with the
  load cap checked under the trainer's lock (docs/locking.md explains the order);
- purchase_decisions: the decision of each stored assignment, so a replay answers the same;
- purchase_sessions.synced_at goes: "unsynced" is now what the read model lacks (an anti-join).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The reservation of one candidate trainer, in one round trip.
#
# The BEGIN ... EXCEPTION block is a subtransaction: when the trainer turns out to be taken or
# at its cap, everything the block did is undone *and the trainer's key-row lock is released*,
# so a transaction that moves on to its next candidate holds no lock of the one it lost.
# That is what keeps the lock order free of cycles (docs/locking.md).
#
# Each statement of a PL/pgSQL function takes a new snapshot under READ COMMITTED, so the load
# count below, run after the lock is granted, sees every assignment committed by earlier
# holders of the lock. The exclusion constraint stays the guard against overlaps; the lock only
# makes writers of one trainer queue instead of racing.
#
# The civil minute is the SQL twin of domain.model.civil_minutes (minutes since 2000-01-01
# 00:00); tests/integration/test_slot_repository.py checks that the two agree.
BOOK_TRAINER_SESSIONS = """
CREATE FUNCTION book_trainer_sessions(
    p_trainer_id uuid, p_purchase_id uuid, p_session_ids uuid[], p_load_cap integer
) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_key bigint;
    v_load bigint;
BEGIN
    BEGIN
        INSERT INTO trainer_slot_keys (trainer_id) VALUES (p_trainer_id)
        ON CONFLICT (trainer_id) DO UPDATE SET trainer_id = EXCLUDED.trainer_id
        RETURNING trainer_key INTO v_key;

        IF p_load_cap > 0 THEN
            SELECT count(*) INTO v_load FROM purchases
            WHERE trainer_id = p_trainer_id AND status = 'ASSIGNED' AND id <> p_purchase_id;
            IF v_load >= p_load_cap THEN
                RAISE EXCEPTION USING ERRCODE = 'BK001', MESSAGE = 'load cap reached';
            END IF;
        END IF;

        INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,
                                   duration_minutes, status, purchase_id, session_id)
        SELECT p_trainer_id, v_key, ps.session_date, ps.session_time,
               (ps.session_date - DATE '2000-01-01') * 1440
                   + split_part(ps.session_time, ':', 1)::int * 60
                   + split_part(ps.session_time, ':', 2)::int,
               ps.duration_minutes, 'booked', ps.purchase_id, ps.id
        FROM purchase_sessions ps
        WHERE ps.purchase_id = p_purchase_id AND ps.id = ANY(p_session_ids)
        ORDER BY ps.session_number;
        RETURN 'booked';
    EXCEPTION
        WHEN exclusion_violation THEN
            RETURN 'taken';
        WHEN SQLSTATE 'BK001' THEN
            RETURN 'load_cap';
    END;
END;
$$
"""


def upgrade() -> None:
    op.execute(BOOK_TRAINER_SESSIONS)
    op.create_table(
        "purchase_decisions",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("fk_purchase_decisions_purchase_id_purchases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("purchase_id", name=op.f("pk_purchase_decisions")),
    )
    op.drop_index(
        "ix_purchase_sessions_unsynced",
        table_name="purchase_sessions",
        postgresql_where=sa.text("synced_at IS NULL"),
    )
    op.drop_column("purchase_sessions", "synced_at")


def downgrade() -> None:
    op.add_column(
        "purchase_sessions",
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_purchase_sessions_unsynced",
        "purchase_sessions",
        ["purchase_id"],
        unique=False,
        postgresql_where=sa.text("synced_at IS NULL"),
    )
    op.drop_table("purchase_decisions")
    op.execute("DROP FUNCTION book_trainer_sessions(uuid, uuid, uuid[], integer)")
