"""No patient text and no key material in logs, exception messages or CLI output (SEC-20)."""

from __future__ import annotations

import io
import logging
import logging.handlers

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from cli.main import run
from core.db.store import unit_of_work
from core.errors import LanternError
from core.logs import LOGGER_NAME, log_dir, log_unexpected, setup_logging
from core.services import accounts, incidents, maintenance
from tests.core.helpers_common import draft

MARKER = "LEAK-MARKER-5529"
WRONG = "wrong-guess LEAK-PW-0071"


@pytest.fixture
def own_log_file():
    """This test's log file: a file handler an earlier test added (for its own folder) is set aside."""
    logger = logging.getLogger(LOGGER_NAME)
    earlier = [h for h in logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
    for handler in earlier:
        logger.removeHandler(handler)
    yield
    for handler in [h for h in logger.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]:
        logger.removeHandler(handler)
        handler.close()
    for handler in earlier:
        logger.addHandler(handler)


def test_no_marker_or_key_in_logs_errors_or_stderr(fresh, caplog, tmp_path, password, own_log_file):
    log_file = setup_logging(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool", "alembic", "lantern"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[LanternError] = []

    def expect_error(call):
        with pytest.raises(LanternError) as err:
            call()
        errors.append(err.value)

    expect_error(lambda: accounts.sign_in(fresh.folder, "nurse", WRONG))
    store, nurse = accounts.sign_in(fresh.folder, "nurse", password)
    fresh.extra.append(store)
    keys = {s.key.hex() for s in (store, fresh.store) if hasattr(s, "key")}  # a server store holds no key
    detail = incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"], description=f"about {MARKER}",
                                                        local_ref=MARKER[:12]))
    incidents.submit(store, nurse, detail.incident_id)
    incidents.get_incident(store, fresh.actors["manager"], detail.incident_id)
    # Errors whose inputs carry the marker.
    expect_error(lambda: incidents.create_draft(store, nurse, draft(fresh.wards["Oak Ward"],
                                                                    local_ref=MARKER * 5)))
    expect_error(lambda: incidents.update_incident(store, fresh.actors["manager"], detail.incident_id,
                                                   draft(fresh.wards["Oak Ward"], description=MARKER), reason=""))

    def duplicate_reference():
        with unit_of_work(store) as session:
            session.execute(text("INSERT INTO settings(key, value) VALUES (:k, :v)"), {"k": "dup", "v": MARKER})
            session.execute(text("INSERT INTO settings(key, value) VALUES (:k, :v)"), {"k": "dup", "v": MARKER})
            session.commit()

    expect_error(duplicate_reference)
    expect_error(lambda: maintenance.backup_store(store, nurse, tmp_path / "b"))
    try:
        raise RuntimeError(f"boom {MARKER} {next(iter(keys), password)}")
    except RuntimeError as err:
        log_unexpected(err)
    # The CLI: a wrong password, then a damaged-store failure.
    err_stream = io.StringIO()
    run(["check", "--store", str(fresh.folder), "--user", "nurse", "--password-stdin"],
        stdin=io.StringIO(WRONG + "\n"), stdout=io.StringIO(), stderr=err_stream)
    store.close()
    fresh.store.close()

    log_text = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    file_text = "".join(p.read_text(errors="replace") for p in log_dir().glob("*.log*"))
    assert log_file.parent == log_dir() and file_text  # the file logger really wrote something
    assert "unexpected error" in file_text
    # Even with every SQLAlchemy logger at DEBUG, the engine logs no statements and no result rows
    # (hide_parameters alone would still let rows through).
    assert logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.DEBUG)
    assert any(r.name.startswith("sqlalchemy.pool") for r in caplog.records)  # capture really was on
    assert not [(r.name, r.getMessage()[:200]) for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    haystacks = {"caplog": log_text, "log file": file_text, "stderr": err_stream.getvalue(),
                 "errors": "\n".join(f"{e!s} {e!r} {getattr(e, 'field_errors', '')}" for e in errors)}
    assert len(errors) == 5
    for where, haystack in haystacks.items():
        assert MARKER not in haystack, where
        assert MARKER[:12] not in haystack, where
        assert "LEAK-PW" not in haystack, where
        assert password not in haystack, where
        for key in keys:
            assert key not in haystack and key.upper() not in haystack, where


def test_sqlalchemy_errors_hide_bound_parameters(fresh):
    with pytest.raises(sa_exc.IntegrityError) as err:
        with fresh.store.engine.begin() as conn:
            conn.execute(text("INSERT INTO settings(key, value) VALUES ('k', :v)"), {"v": MARKER})
            conn.execute(text("INSERT INTO settings(key, value) VALUES ('k', :v)"), {"v": MARKER})
    assert MARKER not in str(err.value)
    assert "parameters hidden" in str(err.value)
    assert fresh.store.engine.hide_parameters


def test_engine_url_and_reprs_hold_no_key(fresh, password):
    """Neither the key (an embedded store) nor the password (a server store's login) is in a repr or a URL."""
    store = fresh.store.as_actor(fresh.actors["nurse"]) if hasattr(fresh.store, "as_actor") else fresh.store
    secrets = [store.key.hex(), password] if hasattr(store, "key") else [password]
    for obj in (store.engine.url, store.engine, getattr(store, "key", None), store):
        for secret in secrets:
            assert secret not in repr(obj) and secret not in str(obj)
