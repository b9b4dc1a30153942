"""The embedded store's schema, migrations and append-only audit trail, on a real PostgreSQL server (issue 16)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from core.db import migrate
from core.db.models import Base


def _compare(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def test_migrations_reach_head_and_match_the_models(pg_engine):
    migrate.upgrade(pg_engine)
    assert migrate.current_revision(pg_engine) == migrate.head_revision()
    assert _compare(pg_engine) == []


def test_every_migration_goes_down_and_up_again(pg_engine):
    migrate.upgrade(pg_engine)
    cfg = migrate._config()
    with pg_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with pg_engine.connect() as conn:
        left = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                 "AND tablename <> 'alembic_version'")).scalar()
    assert left == 0
    migrate.upgrade(pg_engine)
    assert _compare(pg_engine) == []


def _audit_row(conn, event_id: int) -> None:
    conn.execute(text("INSERT INTO audit_events (id, at, username, action, entity_type, entity_id, outcome, "
                      "workstation, detail, prev_hash, hash) VALUES (:id, '2026-11-30T08:00:00+00:00', 'admin', "
                      "'test', '', '', 'ok', 'pc', '{}', :prev, :hash)"),
                 {"id": event_id, "prev": "0" * 64, "hash": f"{event_id:064d}"})


@pytest.mark.parametrize("change", ["UPDATE audit_events SET outcome = 'edited'", "DELETE FROM audit_events",
                                   "TRUNCATE audit_events"])
def test_the_server_refuses_every_change_to_an_audit_event(pg_engine, change):
    migrate.upgrade(pg_engine)
    with pg_engine.begin() as conn:
        _audit_row(conn, 1)
    with pytest.raises(sa_exc.DBAPIError, match="append-only"):
        with pg_engine.begin() as conn:
            conn.execute(text(change))
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT outcome FROM audit_events")).scalars().all() == ["ok"]


# Every taxonomy code list, and the column its codes are stored in.
CODE_COLUMNS = {
    "person_types": ("people_involved", "person_type"), "person_roles": ("people_involved", "role"),
    "sexes": ("people_involved", "sex"), "age_bands": ("people_involved", "age_band"),
    "police_wishes": ("people_involved", "police_wishes"), "harm_physical": ("people_involved", "harm_physical"),
    "harm_psychological": ("people_involved", "harm_psychological"), "locations": ("incidents", "location"),
    "shifts": ("incidents", "shift"), "incident_types": ("incident_types", "code"),
    "service_types": ("wards", "service_type"),
}


@pytest.mark.parametrize("section", sorted(CODE_COLUMNS))
def test_every_taxonomy_code_fits_its_column(section):
    """SQLite ignores a VARCHAR's length and PostgreSQL enforces it: `bank_or_agency` (14 characters) did not fit
    the old 12-character person_type column (migration 0012 widens it)."""
    from core.taxonomy import load_taxonomy

    table, column = CODE_COLUMNS[section]
    width = Base.metadata.tables[table].c[column].type.length
    too_long = [code for code in load_taxonomy().codes(section) if len(code) > width]
    assert too_long == [], f"{table}.{column} holds {width} characters"


def test_the_longest_person_type_is_stored_on_the_server(pg_engine):
    from sqlalchemy.orm import Session

    from core.db.models import Incident, PersonInvolved, User, Ward
    from core.taxonomy import load_taxonomy

    migrate.upgrade(pg_engine)
    longest = max(load_taxonomy().codes("person_types"), key=len)
    with Session(pg_engine) as session:
        session.add(Ward(id=1, name="Oak Ward"))
        session.add(User(id="u1", username="nurse", role="nurse", created_at="2026-11-30T08:00:00+00:00"))
        session.flush()
        session.add(Incident(id="i1", reference="R1", ward_id=1, reporter_id="u1",
                             created_at="2026-11-30T08:00:00+00:00", updated_at="2026-11-30T08:00:00+00:00"))
        session.flush()
        session.add(PersonInvolved(incident_id="i1", role="affected", person_type=longest,
                                   sex=max(load_taxonomy().codes("sexes"), key=len)))
        session.commit()
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT person_type FROM people_involved")).scalar() == longest
