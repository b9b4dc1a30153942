"""References on a server come from a sequence per year (issue 16 item 4). PostgreSQL only; nothing on SQLite.

The counter row (migration 0007) is one row per year: on a server, every report held its lock from the moment it
took its number until it committed, so PCs sending at once queued behind each other. `lantern_next_number(year)`
takes the next value of the year's own sequence instead (made on first use, starting after what the counter row
had reached), which never waits for another transaction. A report that fails after taking a number leaves a gap
in the numbering; no number is ever used twice. `lantern_number_floor(year, n)` moves a year's sequence past n
(a moved ward store's references keep their numbers where free: core/services/store_move.py).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

CLINICAL = "lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead"
ENSURE = """
CREATE FUNCTION lantern_number_sequence(y integer) RETURNS text LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS
$$
DECLARE seq text := 'lantern_reference_' || y;
BEGIN
  IF to_regclass(seq) IS NULL THEN
    BEGIN
      EXECUTE format('CREATE SEQUENCE %I START %s', seq,
                     coalesce((SELECT last_number FROM reference_counters WHERE year = y), 0) + 1);
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      NULL;  -- another PC made it at the same moment
    END;
  END IF;
  RETURN seq;
END
$$"""
NEXT = """
CREATE FUNCTION lantern_next_number(y integer) RETURNS bigint LANGUAGE sql SECURITY DEFINER
SET search_path = public AS $$ SELECT nextval(lantern_number_sequence(y)) $$"""
FLOOR = """
CREATE FUNCTION lantern_number_floor(y integer, n bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS
$$
DECLARE seq text := lantern_number_sequence(y);
BEGIN
  PERFORM setval(seq, greatest(n, (SELECT last_value FROM pg_sequences WHERE sequencename = seq)));
END
$$"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in (ENSURE, NEXT, FLOOR):
        op.execute(statement)
    for signature in ("lantern_number_sequence(integer)", "lantern_next_number(integer)",
                      "lantern_number_floor(integer, bigint)"):
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION lantern_next_number(integer) TO {CLINICAL}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for signature in ("lantern_number_floor(integer, bigint)", "lantern_next_number(integer)",
                      "lantern_number_sequence(integer)"):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
