"""watch change log: gap-free, commit-ordered changes of slots and purchases (product 6)

- Triggers on trainer_slots (insert, delete) and purchases (insert, status or trainer update)
  write the change into watch_pending, in the changing transaction, whatever code path made it
  (a use case, book_trainer_sessions(), a lost candidate's subtransaction rolls them back too).
- A deferred constraint trigger runs watch_publish() when that transaction commits: it numbers
  the pending changes under the watch_state row lock (taken last, right before the commit; see
  docs/watch.md and docs/locking.md), moves them to watch_changes and sends a NOTIFY.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECORD_SLOTS = """
CREATE FUNCTION watch_record_slots() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO watch_pending (stream, change_type, subject_id, trainer_id, payload)
        SELECT 'schedule', CASE WHEN s.status = 'blocked' THEN 'SLOT_BLOCKED' ELSE 'SLOT_BOOKED' END,
               s.id, s.trainer_id, to_jsonb(s)
        FROM written_slots s ORDER BY s.start_minute;
    ELSE
        INSERT INTO watch_pending (stream, change_type, subject_id, trainer_id, payload)
        SELECT 'schedule', 'SLOT_RELEASED', s.id, s.trainer_id, to_jsonb(s)
        FROM removed_slots s ORDER BY s.start_minute;
    END IF;
    RETURN NULL;
END $$
"""

# Product 6: a purchase event is a change of status or trainer; a new purchase counts when it is
# ASSIGNED or WAITLISTED (INVALID_PURCHASE and SERVICE_NOT_AVAILABLE are answers, not changes).
_RECORD_PURCHASES = """
CREATE FUNCTION watch_record_purchases() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO watch_pending (stream, change_type, subject_id)
        SELECT 'purchase', 'PURCHASE_CHANGED', n.id FROM new_purchases n
        WHERE n.status IN ('ASSIGNED', 'WAITLISTED');
    ELSE
        INSERT INTO watch_pending (stream, change_type, subject_id)
        SELECT 'purchase', 'PURCHASE_CHANGED', n.id
        FROM new_purchases n JOIN old_purchases o ON o.id = n.id
        WHERE n.status IS DISTINCT FROM o.status OR n.trainer_id IS DISTINCT FROM o.trainer_id;
    END IF;
    RETURN NULL;
END $$
"""

# Runs at commit, once per pending row; the first run publishes them all (the transaction-local
# setting makes the others return at once). A purchase changed twice in one transaction is one
# event with its state at commit. The watch_state update is the lock that orders commits: it is
# taken here, after every other lock of the transaction, and held only while it commits.
_PUBLISH = """
CREATE FUNCTION watch_publish() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    published bigint;
BEGIN
    IF current_setting('booking.watch_published', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('booking.watch_published', 'yes', true);
    WITH pending AS (
        DELETE FROM watch_pending RETURNING *
    ), events AS (
        SELECT id, stream, change_type, trainer_id, NULL::uuid AS zone_id, payload
        FROM pending WHERE stream = 'schedule'
        UNION ALL
        SELECT * FROM (
            SELECT DISTINCT ON (p.subject_id) p.id, p.stream, p.change_type, NULL::uuid, pu.zone_id,
                   to_jsonb(pu)
            FROM pending p JOIN purchases pu ON pu.id = p.subject_id
            WHERE p.stream = 'purchase'
            ORDER BY p.subject_id, p.id
        ) purchase_events
    ), numbered AS (
        SELECT row_number() OVER (ORDER BY id) AS n, * FROM events
    ), counter AS (
        UPDATE watch_state SET position = position + (SELECT count(*) FROM events)
        WHERE EXISTS (SELECT 1 FROM events)
        RETURNING position - (SELECT count(*) FROM events) AS base
    )
    INSERT INTO watch_changes (position, stream, change_type, trainer_id, zone_id, payload, commit_time)
    SELECT counter.base + numbered.n, numbered.stream, numbered.change_type, numbered.trainer_id,
           numbered.zone_id, numbered.payload, clock_timestamp()
    FROM numbered CROSS JOIN counter;
    GET DIAGNOSTICS published = ROW_COUNT;
    IF published > 0 THEN
        PERFORM pg_notify('booking_watch', '');
    END IF;
    RETURN NULL;
END $$
"""

_TRIGGERS = (
    "CREATE TRIGGER watch_slots_inserted AFTER INSERT ON trainer_slots "
    "REFERENCING NEW TABLE AS written_slots FOR EACH STATEMENT EXECUTE FUNCTION watch_record_slots()",
    "CREATE TRIGGER watch_slots_deleted AFTER DELETE ON trainer_slots "
    "REFERENCING OLD TABLE AS removed_slots FOR EACH STATEMENT EXECUTE FUNCTION watch_record_slots()",
    "CREATE TRIGGER watch_purchases_inserted AFTER INSERT ON purchases "
    "REFERENCING NEW TABLE AS new_purchases FOR EACH STATEMENT EXECUTE FUNCTION watch_record_purchases()",
    "CREATE TRIGGER watch_purchases_updated AFTER UPDATE ON purchases "
    "REFERENCING OLD TABLE AS old_purchases NEW TABLE AS new_purchases "
    "FOR EACH STATEMENT EXECUTE FUNCTION watch_record_purchases()",
    "CREATE CONSTRAINT TRIGGER watch_publish_at_commit AFTER INSERT ON watch_pending "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION watch_publish()",
)


def upgrade() -> None:
    op.create_table(
        "watch_state",
        sa.Column("id", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("position", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("token_key", sa.Text(), nullable=False),
        sa.CheckConstraint("id", name=op.f("ck_watch_state_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_state")),
    )
    # 244 random bits from the server's strong random source (gen_random_uuid).
    op.execute(
        "INSERT INTO watch_state (token_key) "
        "VALUES (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))"
    )
    op.create_table(
        "watch_pending",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("change_type", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.UUID(), nullable=False),
        sa.Column("trainer_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_pending")),
    )
    op.create_table(
        "watch_changes",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("change_type", sa.Text(), nullable=False),
        sa.Column("trainer_id", sa.UUID(), nullable=True),
        sa.Column("zone_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("commit_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stream IN ('schedule', 'purchase')", name=op.f("ck_watch_changes_stream")),
        sa.CheckConstraint(
            "change_type IN ('SLOT_BOOKED', 'SLOT_BLOCKED', 'SLOT_RELEASED', 'PURCHASE_CHANGED')",
            name=op.f("ck_watch_changes_change_type"),
        ),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_watch_changes")),
    )
    op.create_index("ix_watch_changes_commit_time", "watch_changes", ["commit_time"])
    for statement in (_RECORD_SLOTS, _RECORD_PURCHASES, _PUBLISH, *_TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER watch_slots_inserted ON trainer_slots")
    op.execute("DROP TRIGGER watch_slots_deleted ON trainer_slots")
    op.execute("DROP TRIGGER watch_purchases_inserted ON purchases")
    op.execute("DROP TRIGGER watch_purchases_updated ON purchases")
    op.drop_table("watch_changes")
    op.drop_table("watch_pending")
    op.drop_table("watch_state")
    for function in ("watch_publish", "watch_record_purchases", "watch_record_slots"):
        op.execute(f"DROP FUNCTION {function}()")
