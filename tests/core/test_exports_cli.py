"""`python main.py export ...` on a real encrypted store: every kind, redaction by default, the plaintext
notice, progress on stderr, and one plain line on stderr (no file) for every failure."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree
from pypdf import PdfReader

from cli import exports as export_cli
from cli.main import run
from core.dto import IncidentDraft, PersonDraft
from core.exports import nrls_xml
from core.services import exports, incidents
from tests.conftest import PASSWORD

MARKER = "MARKER-5520-CLI"
NHS_NUMBER = "999 000 0018"  # passes the modulus-11 check; in the 999 test range, never issued


def cli(args, stdin_text=PASSWORD + "\n"):
    out, err = io.StringIO(), io.StringIO()
    code = run(args, stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_failure(code, err):
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lantern: ") and "Traceback" not in err, err


@pytest.fixture
def world(make_store, tmp_path):
    """Oak Ward: two submitted incidents (one with an NHS number in its text). Elm Ward: one."""
    store, actors, _recovery, wards = make_store()
    nurse, lead = actors["nurse"], actors["lead"]
    refs = []
    for ward, actor in ((wards["Oak Ward"], nurse), (wards["Oak Ward"], nurse), (wards["Elm Ward"], lead)):
        draft = IncidentDraft(
            ward_id=ward, types=("SS-SA",), occurred_at=datetime.now(UTC) - timedelta(hours=3), location="lounge",
            description=f"{MARKER} gave {NHS_NUMBER} as theirs.", immediate_actions="Separated.",
            people=(PersonDraft(role="affected", person_type="patient", local_ref="AB-1", age_years=40,
                                harm_physical="none", harm_psychological="low"),
                    PersonDraft(role="alleged_perpetrator", person_type="patient", local_ref="CD-2")))
        created = incidents.create_draft(store, actor, draft)
        refs.append(incidents.submit(store, actor, created.incident_id).reference)
    store.close()
    out = tmp_path / "out"
    out.mkdir()
    return store.folder, out, refs


def base(kind, folder, user, out, *extra):
    return ["export", kind, "--store", str(folder), "--user", user, "--password-stdin", "--out", str(out), *extra]


def test_kinds_match_the_service():
    assert set(export_cli.KINDS) == set(exports.KINDS)


def test_manager_exports_their_ward_redacted_by_default(world):
    folder, out, refs = world
    code, stdout, stderr = cli(base("nrls-xml", folder, "manager", out / "oak.xml"))
    assert code == 0, stderr
    root = etree.fromstring((out / "oak.xml").read_bytes())
    assert nrls_xml.schema().validate(root)
    assert {el.text for el in root.iter("{*}TRUSTINCIDENTID")} == set(refs[:2])
    data = (out / "oak.xml").read_text()
    assert NHS_NUMBER not in data and "[removed: an NHS number]" in data and MARKER in data
    assert "Exported 2 incidents" in stdout and "2 found, 2 removed" in stdout
    assert "NOT ENCRYPTED" in stdout and "not encrypted" in stdout.split("NOT ENCRYPTED")[1]
    assert stderr == "" and NHS_NUMBER not in stdout and MARKER not in stdout


def test_omit_free_text_ward_and_period(world):
    folder, out, refs = world
    today = datetime.now(UTC).date()
    code, stdout, stderr = cli(base("nrls-csv", folder, "lead", out / "elm.csv", "--ward", "elm ward",
                                    "--from", (today - timedelta(days=7)).isoformat(), "--to",
                                    (today + timedelta(days=1)).isoformat(), "--omit-free-text"))
    assert code == 0, stderr
    data = (out / "elm.csv").read_text(encoding="utf-8-sig")
    assert refs[2] in data and refs[0] not in data and MARKER not in data
    assert "Free text was left out." in stdout


def test_lfpse_with_progress_on_stderr(world):
    folder, out, _refs = world
    code, stdout, stderr = cli(base("lfpse-json", folder, "lead", out / "all.json", "--redact-all", "--progress"))
    assert code == 0
    assert len(json.loads((out / "all.json").read_text())["entry"]) == 3
    assert "Reading the records…" in stderr and "Saving the file…" in stderr
    assert "Exported 3 incidents" in stdout


def test_pdfs(world):
    folder, out, refs = world
    today = datetime.now(UTC).date()
    code, _stdout, stderr = cli(base("pdf-ward", folder, "manager", out / "w.pdf", "--ward", "Oak Ward",
                                     "--from", (today - timedelta(days=30)).isoformat(), "--to", today.isoformat()))
    assert code == 0, stderr
    text = " ".join(p.extract_text() for p in PdfReader(out / "w.pdf").pages)
    assert "OFFICIAL-SENSITIVE" in text and "Oak Ward" in text
    code, stdout, stderr = cli(base("pdf-incident", folder, "lead", out / "i.pdf", "--incident", refs[2].lower()))
    assert code == 0, stderr
    text = " ".join(p.extract_text() for p in PdfReader(out / "i.pdf").pages)
    assert refs[2] in text and NHS_NUMBER not in " ".join(text.split())
    assert "Exported 1 incident as One incident" in stdout


@pytest.mark.parametrize(("user", "extra", "expected"), [
    ("nurse", [], "does not allow"),
    ("manager", ["--ward", "Elm Ward"], "not one of yours"),
    ("manager", ["--ward", "Birch Ward"], "no ward called"),
    ("lead", ["--from", "31/03/2026"], "not a date like"),
    ("lead", ["--from", "2026-03-31", "--to", "2026-03-01"], "after its end"),
    ("lead", ["--redact-all", "--omit-free-text"], "not allowed with"),
    ("lead", ["--incident", "LAN-2026-00001"], "only for pdf-incident"),
])
def test_failures_are_one_plain_line_and_write_nothing(world, user, extra, expected):
    folder, out, _refs = world
    code, stdout, stderr = cli(base("nrls-xml", folder, user, out / "x.xml", *extra))
    assert_one_line_failure(code, stderr)
    assert expected in stderr and list(out.iterdir()) == []


@pytest.mark.parametrize(("kind", "extra", "expected"), [
    ("pdf-ward", ["--ward", "Oak Ward", "--to", "2026-03-31"], "needs both --from and --to, or neither"),
    ("pdf-incident", [], "needs --incident"),
    ("pdf-incident", ["--incident", "LAN-1999-99999"], "no incident LAN-1999-99999"),
])
def test_pdf_arguments(world, kind, extra, expected):
    folder, out, _refs = world
    code, _stdout, stderr = cli(base(kind, folder, "lead", out / "x.pdf", *extra))
    assert_one_line_failure(code, stderr)
    assert expected in stderr and list(out.iterdir()) == []


def test_wrong_password_and_missing_folder(world):
    folder, out, _refs = world
    code, _stdout, stderr = cli(base("nrls-xml", folder, "lead", out / "x.xml"), stdin_text="wrong\n")
    assert_one_line_failure(code, stderr)
    code, _stdout, stderr = cli(base("nrls-xml", folder, "lead", out / "missing" / "x.xml"))
    assert_one_line_failure(code, stderr)
    assert "does not exist" in stderr
    code, _stdout, stderr = cli(base("nrls-xml", folder, "lead", out / "x.xml"), stdin_text="")
    assert_one_line_failure(code, stderr)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("org", ["RXX0001", "R-X", "RX", "RXXÉ"])
def test_init_refuses_an_ods_code_the_nrls_export_could_not_carry(tmp_path, org):
    folder = tmp_path / "store"
    code, out, err = cli(["init", "--store", str(folder), "--org", org, "--ward", "Oak Ward", "--admin", "admin",
                          "--password-stdin"])
    assert_one_line_failure(code, err)
    assert "ODS code is 3 to 6 letters and digits" in err and not out
    assert not folder.exists() or not any(folder.iterdir())
