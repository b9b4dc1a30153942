"""Accounts on the server are managed through narrow functions, never by giving anyone the power to make roles
(issue 16 item 2). PostgreSQL only; nothing on SQLite.

Each function runs as the schema owner (who may create roles) and checks its caller itself:

- `lantern_decide_request(request, approve, verifier)`: separation of duties, as core/services/access_requests.py
  on the embedded store. An active safeguarding lead decides a pending request about someone else's account;
  the schema owner (the person who set the server up, the recovery key holder's counterpart) only while there
  is no active lead. Approval gives the account's login role the requested role's group, and only that, and the
  new temporary password; refusal switches a new account off. The administrator who asked never holds a
  password that opens a content account.
- `lantern_set_admin_login(user, verifier)`: an administrator gives another administrator account its login
  (administrators read no content, so no approval is needed, as on the embedded store).
- `lantern_set_my_password(verifier)`: every account changes its own password, which ends its temporary one.
- `lantern_switch_off(user)`: an administrator stops an account signing in.

A password reaches the server only as a SCRAM-SHA-256 verifier computed on the PC (libpq's
PQencryptPasswordConn), never in plain text, so no server log or statement ever holds one; a plain-text password
is refused. The password policy (length, zxcvbn) is therefore checked by the app before the verifier is made.
tests/pg/test_pg_accounts.py drives every function from plain connections.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COMMON = """LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS"""
NOW = """to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""

FUNCTIONS = {
    # The caller's Lantern account (any state), or nothing for the schema owner.
    "lantern_caller()": f"""
    CREATE FUNCTION lantern_caller() RETURNS users {COMMON}
    $$ DECLARE found users;
    BEGIN
      SELECT * INTO found FROM users WHERE lantern_login_role(username) = session_user;
      RETURN found;
    END $$""",
    "lantern_check_verifier(text)": f"""
    CREATE FUNCTION lantern_check_verifier(verifier text) RETURNS void {COMMON}
    $$ BEGIN
      IF verifier IS NULL OR verifier NOT LIKE 'SCRAM-SHA-256$%' THEN
        RAISE EXCEPTION 'a password must reach the server as a SCRAM-SHA-256 verifier' USING ERRCODE = '22023';
      END IF;
    END $$""",
    # The login role of `target`, with exactly one group and a new password.
    "lantern_give_login(users, text)": f"""
    CREATE FUNCTION lantern_give_login(target users, verifier text) RETURNS void {COMMON}
    $$ DECLARE login name := lantern_login_role(target.username); grp text;
    BEGIN
      PERFORM lantern_check_verifier(verifier);
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = login) THEN
        EXECUTE format('CREATE ROLE %I LOGIN', login);
      END IF;
      FOREACH grp IN ARRAY ARRAY['lantern_nurse', 'lantern_ward_manager', 'lantern_safeguarding_lead',
                                 'lantern_administrator'] LOOP
        EXECUTE format('REVOKE %I FROM %I', grp, login);
      END LOOP;
      EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', login, verifier);
      EXECUTE format('GRANT %I TO %I', 'lantern_' || target.role, login);
      EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), login);
    END $$""",
    "lantern_decide_request(integer, boolean, text)": f"""
    CREATE FUNCTION lantern_decide_request(request integer, approve boolean, verifier text) RETURNS void {COMMON}
    $$ DECLARE me users := lantern_caller(); req access_requests; target users;
    BEGIN
      IF me.id IS NOT NULL THEN
        IF me.role <> 'safeguarding_lead' OR NOT me.active OR me.access_pending OR me.must_change_password
           OR NOT pg_has_role(session_user, 'lantern_safeguarding_lead', 'MEMBER') THEN
          RAISE EXCEPTION 'only an active safeguarding lead decides requests for access'
            USING ERRCODE = '42501';
        END IF;
      ELSIF session_user <> (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'users'::regclass) THEN
        RAISE EXCEPTION 'only a safeguarding lead or the schema owner decides requests' USING ERRCODE = '42501';
      ELSIF EXISTS (SELECT 1 FROM users WHERE role = 'safeguarding_lead' AND active AND NOT access_pending) THEN
        RAISE EXCEPTION 'there is an active safeguarding lead: they decide requests' USING ERRCODE = '42501';
      END IF;
      SELECT * INTO req FROM access_requests WHERE id = request AND status = 'pending' FOR UPDATE;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'that request is not waiting for approval' USING ERRCODE = 'P0002';
      END IF;
      IF req.user_id = me.id THEN
        RAISE EXCEPTION 'nobody decides a request about their own account' USING ERRCODE = '42501';
      END IF;
      SELECT * INTO target FROM users WHERE id = req.user_id FOR UPDATE;
      UPDATE access_requests SET status = CASE WHEN approve THEN 'approved' ELSE 'refused' END,
             decided_by = me.id, decided_at = {NOW} WHERE id = request;
      IF NOT approve THEN
        UPDATE users SET access_pending = false,
               active = active AND NOT (req.kind = 'grant_role' AND target.role = req.role)
         WHERE id = target.id;
        RETURN;
      END IF;
      UPDATE users SET role = req.role, must_change_password = true, access_pending = false WHERE id = target.id
        RETURNING * INTO target;
      PERFORM lantern_give_login(target, verifier);
    END $$""",
    "lantern_set_admin_login(varchar, text)": f"""
    CREATE FUNCTION lantern_set_admin_login(target_id varchar, verifier text) RETURNS void {COMMON}
    $$ DECLARE me users := lantern_caller(); target users;
    BEGIN
      IF me.id IS NULL OR me.role <> 'administrator' OR NOT me.active
         OR NOT pg_has_role(session_user, 'lantern_administrator', 'MEMBER') THEN
        RAISE EXCEPTION 'only an active administrator sets an administrator''s login' USING ERRCODE = '42501';
      END IF;
      SELECT * INTO target FROM users WHERE id = target_id FOR UPDATE;
      IF NOT FOUND OR target.role <> 'administrator' THEN
        RAISE EXCEPTION 'that account is not an administrator: its access needs approval' USING ERRCODE = '42501';
      END IF;
      UPDATE users SET must_change_password = true, active = true WHERE id = target.id RETURNING * INTO target;
      PERFORM lantern_give_login(target, verifier);
    END $$""",
    "lantern_set_my_password(text)": f"""
    CREATE FUNCTION lantern_set_my_password(verifier text) RETURNS void {COMMON}
    $$ DECLARE me users := lantern_caller();
    BEGIN
      IF me.id IS NULL OR NOT me.active THEN
        RAISE EXCEPTION 'this connection is not an active Lantern account' USING ERRCODE = '42501';
      END IF;
      PERFORM lantern_check_verifier(verifier);
      EXECUTE format('ALTER ROLE %I PASSWORD %L', session_user, verifier);
      UPDATE users SET must_change_password = false WHERE id = me.id;
    END $$""",
    "lantern_switch_off(varchar)": f"""
    CREATE FUNCTION lantern_switch_off(target_id varchar) RETURNS void {COMMON}
    $$ DECLARE me users := lantern_caller(); target users;
    BEGIN
      IF me.id IS NULL OR me.role <> 'administrator' OR NOT me.active
         OR NOT pg_has_role(session_user, 'lantern_administrator', 'MEMBER') THEN
        RAISE EXCEPTION 'only an active administrator switches accounts off' USING ERRCODE = '42501';
      END IF;
      UPDATE users SET active = false WHERE id = target_id RETURNING * INTO target;
      IF FOUND AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = lantern_login_role(target.username)) THEN
        EXECUTE format('ALTER ROLE %I NOLOGIN', lantern_login_role(target.username));
      END IF;
    END $$""",
}
CALLERS = {
    "lantern_decide_request(integer, boolean, text)": "lantern_safeguarding_lead",
    "lantern_set_admin_login(varchar, text)": "lantern_administrator",
    "lantern_switch_off(varchar)": "lantern_administrator",
    "lantern_set_my_password(text)": ("lantern_nurse, lantern_ward_manager, lantern_safeguarding_lead, "
                                      "lantern_administrator"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for signature, statement in FUNCTIONS.items():
        op.execute(statement)
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    for signature, groups in CALLERS.items():
        op.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {groups}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
