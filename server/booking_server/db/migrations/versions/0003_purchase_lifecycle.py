"""purchase lifecycle: cancel, reschedule, substitute, unblock (product section 4)

- purchases.cancellation_reason;
- purchase_sessions.trainer_id (who holds each session) and rescheduled_from;
- book_trainer_sessions() also moves sessions: their old slots (another time, another trainer)
  are released under the new trainer's lock, in the same subtransaction;
- purchase_substitutions: each substitution's answer, so that a repeat answers the same;
- capacity_events: every change that frees trainer time, written in that change's transaction,
  for the waitlist promotion to react to.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One trainer takes a set of sessions of one purchase, all or nothing: a new purchase's sessions
# (assignment), one session at a new time (reschedule), or the rest of a course (substitution).
#
# The BEGIN ... EXCEPTION block is a subtransaction: when the trainer turns out to be taken or at
# its cap, everything the block did is undone (the old slots come back) *and the trainer's
# key-row lock is released*, so a transaction that moves on to its next candidate holds no lock
# of the one it lost. Old slots are deleted only once the new trainer's lock is held, and after
# that the transaction waits for no other trainer: docs/locking.md explains why this order
# cannot deadlock.
#
# Each statement of a PL/pgSQL function takes a new snapshot under READ COMMITTED, so the load
# count, run after the lock is granted, sees every assignment committed by earlier holders of
# the lock. The exclusion constraint stays the guard against overlaps.
#
# The civil minute is the SQL twin of domain.model.civil_minutes (minutes since 2000-01-01
# 00:00); tests/integration/test_slot_repository.py checks that the two agree.
BOOK_TRAINER_SESSIONS = """
CREATE OR REPLACE FUNCTION book_trainer_sessions(
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

        DELETE FROM trainer_slots WHERE session_id = ANY(p_session_ids);
        UPDATE purchase_sessions SET trainer_id = p_trainer_id, updated_at = now()
        WHERE purchase_id = p_purchase_id AND id = ANY(p_session_ids)
          AND trainer_id IS DISTINCT FROM p_trainer_id;

        INSERT INTO trainer_slots (trainer_id, trainer_key, slot_date, start_time, start_minute,
                                   duration_minutes, status, purchase_id, session_id)
        SELECT p_trainer_id, v_key, ps.session_date, ps.session_time,
               (ps.session_date - DATE '2000-01-01')::bigint * 1440
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
    op.add_column("purchases", sa.Column("cancellation_reason", sa.Text(), server_default="", nullable=False))
    op.add_column("purchase_sessions", sa.Column("trainer_id", sa.UUID(), nullable=True))
    op.add_column("purchase_sessions", sa.Column("rescheduled_from", sa.Text(), nullable=True))
    op.execute(
        "UPDATE purchase_sessions ps SET trainer_id = s.trainer_id FROM trainer_slots s WHERE s.session_id = ps.id"
    )
    op.create_check_constraint(
        op.f("ck_purchases_cancellation_reason_length"), "purchases", "length(cancellation_reason) <= 500"
    )
    op.create_table(
        "purchase_substitutions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("request_fingerprint", sa.Text(), nullable=False),
        sa.Column("trainer_id", sa.UUID(), nullable=False),
        sa.Column("moved_session_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("decision", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("fk_purchase_substitutions_purchase_id_purchases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_substitutions")),
    )
    op.create_index(
        "ix_purchase_substitutions_purchase_id_created_at",
        "purchase_substitutions",
        ["purchase_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "capacity_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("trainer_id", sa.UUID(), nullable=True),
        sa.Column("zone_id", sa.UUID(), nullable=True),
        sa.Column("course_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "cause IN ('purchase_cancelled', 'session_rescheduled', 'trainer_substituted', 'time_unblocked')",
            name=op.f("ck_capacity_events_cause"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_events")),
    )


def downgrade() -> None:
    # book_trainer_sessions() keeps its 0003 body: for sessions without slots (all 0002 knew)
    # it does what the 0002 body did.
    op.drop_table("capacity_events")
    op.drop_index("ix_purchase_substitutions_purchase_id_created_at", table_name="purchase_substitutions")
    op.drop_table("purchase_substitutions")
    op.drop_constraint(op.f("ck_purchases_cancellation_reason_length"), "purchases", type_="check")
    op.drop_column("purchase_sessions", "rescheduled_from")
    op.drop_column("purchase_sessions", "trainer_id")
    op.drop_column("purchases", "cancellation_reason")
