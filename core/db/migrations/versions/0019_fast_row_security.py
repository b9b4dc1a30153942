"""Row-level security that costs little (issue 16 item 10). PostgreSQL only; nothing on SQLite.

Migration 0013's policies called a SECURITY DEFINER function for every row they checked, which the planner can
neither inline nor see through: measured on a 40,000-incident trust store, a ward manager's first page took
3.1 s with them and 26 ms without row-level security (tests/bench/test_bench_server.py). The same rule is now
written as plain SQL over four per-query values, each a scalar subquery that PostgreSQL works out once per
statement (an InitPlan): who is connected, their role, their wards, and the incidents that name them. The
planner then uses the ward and date indexes as it does for the app's own predicate. Child rows follow their
incident through an EXISTS on `incidents`, which applies the incidents' policy. The rule itself is unchanged;
tests/pg/test_pg_policies.py still compares it with core/services/visibility.py on random stores.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

CLINICAL = "lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead"
EVERYONE = CLINICAL + ", lantern_administrator"
CHILDREN = ("people_involved", "incident_types", "safeguarding_actions", "incident_versions", "export_latest")
DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS"
FUNCTIONS = {
    "lantern_my_role()": f"CREATE FUNCTION lantern_my_role() RETURNS varchar {DEFINER} $$ SELECT role FROM lantern_me() $$",
    "lantern_my_wards()": f"""CREATE FUNCTION lantern_my_wards() RETURNS integer[] {DEFINER}
        $$ SELECT coalesce(array_agg(ward_id), '{{}}') FROM user_wards WHERE user_id = (SELECT id FROM lantern_me()) $$""",
    "lantern_named_in()": f"""CREATE FUNCTION lantern_named_in() RETURNS varchar[] {DEFINER}
        $$ SELECT coalesce(array_agg(incident_id), '{{}}') FROM people_involved
           WHERE linked_user_id = (SELECT id FROM lantern_me()) $$""",
}
ROLE, ME = "(SELECT lantern_my_role())", "(SELECT lantern_my_id())"
ON_MY_WARD = f"({ROLE} = 'safeguarding_lead' OR ward_id = ANY (CAST((SELECT lantern_my_wards()) AS integer[])))"
READ = (f"{ROLE} IS NOT NULL AND NOT (id = ANY (CAST((SELECT lantern_named_in()) AS varchar[]))) AND ("
        f"(status <> 'draft' AND {ON_MY_WARD} AND (NOT restricted OR {ROLE} IN ('ward_manager', 'safeguarding_lead')))"
        f" OR reporter_id = {ME})")
FOLLOW = "EXISTS (SELECT 1 FROM incidents i WHERE i.id = incident_id)"
OLD_ROW = "lantern_may_read_row(id, ward_id, status, restricted, reporter_id)"


def _policies(read: str, add: str, change: str, follow: str) -> list[str]:
    statements = [
        "DROP POLICY IF EXISTS incidents_read ON incidents", "DROP POLICY IF EXISTS incidents_add ON incidents",
        "DROP POLICY IF EXISTS incidents_change ON incidents",
        f"CREATE POLICY incidents_read ON incidents FOR SELECT TO {CLINICAL} USING ({read})",
        f"CREATE POLICY incidents_add ON incidents FOR INSERT TO {CLINICAL} WITH CHECK ({add})",
        f"CREATE POLICY incidents_change ON incidents FOR UPDATE TO {CLINICAL} USING ({read}) WITH CHECK ({change})",
    ]
    for table in CHILDREN:
        statements += [f"DROP POLICY IF EXISTS {table}_follow ON {table}",
                       f"CREATE POLICY {table}_follow ON {table} FOR ALL TO {CLINICAL} USING ({follow}) "
                       f"WITH CHECK ({follow})"]
    return statements


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for signature, statement in FUNCTIONS.items():
        op.execute(statement)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {EVERYONE}")
    for statement in _policies(READ, f"reporter_id = {ME} AND {ON_MY_WARD} AND {READ}", f"{ON_MY_WARD} AND {READ}",
                               FOLLOW):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _policies(OLD_ROW, f"reporter_id = lantern_my_id() AND lantern_my_ward(ward_id) AND {OLD_ROW}",
                               f"lantern_my_ward(ward_id) AND {OLD_ROW}", "lantern_may_read(incident_id)"):
        op.execute(statement)
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
