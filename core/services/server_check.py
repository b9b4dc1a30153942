"""`lantern server check`: is a trust's server still as Lantern set it up? (core layer; issue 16 item 8).

Run with the schema owner's role (it reads the catalogue and every table). Each check is reported by name,
passed or failed, in plain words; none changes anything:

- schema: the migrations are at Lantern's head;
- row_security: row-level security is on for every incident content table, with its policies;
- protective_triggers: the audit trail's (and the moved stores' archive's) triggers exist and are enabled;
- privileges: no group role reads what it should not (the administrator no incident content, PUBLIC nothing);
- audit_chain and moved_stores: the live trail and every moved ward store's old trail verify;
- dashboard_summaries: every incident's summary columns match its record;
- sign_in_delay: the server slows repeated wrong passwords (the `auth_delay` module: the trust's setting).
"""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core.db import audit, migrate
from core.db.models import AuditEvent, StoreMove
from core.db.queries.incidents import stale_summaries
from core.db.server import make_server_engine
from core.dto import CheckResult

CONTENT = ("incidents", "people_involved", "incident_types", "safeguarding_actions", "incident_versions",
           "export_latest", "form_drafts")
TRIGGERS = {"audit_events": ("audit_events_no_update", "audit_events_no_delete", "audit_events_no_truncate",
                             "audit_events_chain"),
            "audit_archive": ("audit_archive_no_change",), "store_moves": ("store_moves_no_change",),
            "users": ("users_login_role",)}


def _schema(session) -> CheckResult:
    current = migrate.current_revision(session.get_bind())
    ok = current == migrate.head_revision()
    return CheckResult("schema", ok, f"at revision {current}" if ok else
                       f"at revision {current}, Lantern needs {migrate.head_revision()}: run lantern server upgrade, then check again")


def _row_security(session) -> CheckResult:
    rows = dict(session.execute(text("SELECT c.relname, c.relrowsecurity AND EXISTS (SELECT 1 FROM pg_policy p "
                                     "WHERE p.polrelid = c.oid) FROM pg_class c JOIN pg_namespace n ON "
                                     "n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname = ANY(:t)"),
                                {"t": list(CONTENT)}).all())
    off = [t for t in CONTENT if not rows.get(t)]
    return CheckResult("row_security", not off, "on for every incident content table" if not off else
                       "row-level security is off or has no policy on: " + ", ".join(off))


def _triggers(session) -> CheckResult:
    found = {(r[0], r[1]) for r in session.execute(text(
        "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND t.tgenabled = 'O'"))}
    missing = [f"{name} on {table}" for table, names in TRIGGERS.items() for name in names
               if (table, name) not in found]
    return CheckResult("protective_triggers", not missing, "all present and enabled" if not missing else
                       "missing or disabled: " + ", ".join(missing))


def _privileges(session) -> CheckResult:
    wrong = [f"{who} may read {table}" for table in CONTENT for who in ("lantern_administrator", "public")
             if session.scalar(text("SELECT has_table_privilege(:who, :t, 'SELECT')"), {"who": who, "t": table})]
    return CheckResult("privileges", not wrong, "the administrator and PUBLIC read no incident content"
                       if not wrong else "; ".join(wrong))


def _chains(session) -> list[CheckResult]:
    problems = audit.verify_chain(session)
    count = session.scalar(select(func.count()).select_from(AuditEvent))
    moved = []
    for move in session.scalars(select(StoreMove)):
        moved += audit.verify_archive(session, move.store_id, {"id": move.old_head_id, "hash": move.old_head_hash})
    stores = session.scalar(select(func.count()).select_from(StoreMove))
    return [CheckResult("audit_chain", not problems, f"{count} events, chain intact" if not problems
                        else "; ".join(problems[:5])),
            CheckResult("moved_stores", not moved, f"{stores} moved ward store(s), every old trail intact"
                        if not moved else "; ".join(moved[:5]))]


def _delay(session) -> CheckResult:
    loaded = "auth_delay" in (session.scalar(text("SHOW shared_preload_libraries")) or "")
    return CheckResult("sign_in_delay", loaded, "the server slows repeated wrong passwords (auth_delay)" if loaded
                       else "add auth_delay to shared_preload_libraries (auth_delay.milliseconds = 2000 or more), so "
                            "the server slows password guessing (see the admin guide)")


def check_server(location: str, *, owner: str, owner_password: str, ca_file: str = "") -> list[CheckResult]:
    engine = make_server_engine(location, username=owner, password=owner_password, ca_file=ca_file)
    try:
        with Session(engine) as session:
            schema = _schema(session)
            if not schema.ok:  # the other checks read the schema this version knows: upgrade first
                return [schema]
            stale = stale_summaries(session)
            return [schema, _row_security(session), _triggers(session), _privileges(session),
                    *_chains(session),
                    CheckResult("dashboard_summaries", not stale, "every incident's summary matches its record"
                                if not stale else f"{stale} incident(s) would be miscounted on the dashboard"),
                    _delay(session)]
    finally:
        engine.dispose()
