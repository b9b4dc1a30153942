"""The `export` command of the command line (cli layer): parse, sign in, drive iter_export, report.

Unattended runs never stop to ask: identifier-like text is always redacted (`--redact-all`, the default),
or all free text is left out (`--omit-free-text`). The result ends with the notice that the file is not
encrypted. Failures reach cli.main, which prints one plain line on stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

from core.errors import LanternError, ValidationError
from core.exports.progress import Progress, drive

# The same as core.services.exports.KINDS (a test checks), named here so `--help` stays quick.
KINDS = ("nrls-xml", "nrls-csv", "lfpse-json", "pdf-ward", "pdf-incident")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date like 2026-03-31") from None


def add_export_parser(sub) -> None:
    """Add `export KIND ...` to the main parser's subcommands."""
    p = sub.add_parser("export", help="export incidents to a file (the file is NOT encrypted)",
                       description="Export incidents. Identifier-like text is redacted unless you leave "
                                   "free text out altogether. The file written is not encrypted.")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--store", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.add_argument("--ward", help="ward name (all your wards when left out; pdf-ward: your only ward)")
    p.add_argument("--from", dest="date_from", type=_day,
                   help="first day, e.g. 2026-01-01 (UK date; pdf-ward: the last complete month when left out)")
    p.add_argument("--to", dest="date_to", type=_day, help="last day, inclusive")
    p.add_argument("--incident", help="incident reference for pdf-incident, e.g. LAN-2026-00012")
    p.add_argument("--out", required=True, help="the file to write")
    privacy = p.add_mutually_exclusive_group()
    privacy.add_argument("--redact-all", action="store_true",
                         help="replace every identifier-like piece of text (the default)")
    privacy.add_argument("--omit-free-text", action="store_true", help="leave all free text out")
    p.add_argument("--progress", action="store_true", help="report each stage on standard error")


def run_export(args, password: str, stdout: TextIO, stderr: TextIO) -> int:
    """Sign in, export, sign out. Returns 0; problems are raised as LanternErrors."""
    from core.services import accounts, engines, exports

    _check_arguments(args)
    store, actor = accounts.sign_in(engines.location(args.store), args.user, password)
    try:
        chosen = _pdf_ward_defaults(args, store, actor) if args.kind == exports.PDF_WARD else ""
        ward_id = _ward_id(accounts.list_wards(store, actor), args.ward) if args.ward else None
        incident_id = (exports.incident_id_for_reference(store, actor, args.incident)
                       if args.kind == exports.PDF_INCIDENT else None)
        request = exports.ExportRequest(
            kind=args.kind, out_path=Path(args.out), ward_id=ward_id, date_from=args.date_from,
            date_to=args.date_to, incident_id=incident_id, include_free_text=not args.omit_free_text,
            redact_identifiers=True)
        last_stage = []

        def report(progress: Progress) -> None:
            if args.progress and progress.stage not in last_stage:
                last_stage.append(progress.stage)
                print(f"{progress.stage}…", file=stderr)

        result = drive(exports.iter_export(store, actor, request), report)
    finally:
        if store.is_open:
            try:
                accounts.sign_out(store, actor)
            except LanternError:
                pass  # the export and its record already stand
    if chosen:
        print(chosen, file=stdout)
    _print_result(result, exports.KIND_LABELS[result.kind], stdout)
    return 0


def _check_arguments(args) -> None:
    if args.kind == "pdf-ward" and bool(args.date_from) != bool(args.date_to):
        raise ValidationError("pdf-ward needs both --from and --to, or neither for the last complete month.")
    if args.kind == "pdf-incident" and not args.incident:
        raise ValidationError("pdf-incident needs --incident with the incident's reference.")
    if args.kind != "pdf-incident" and args.incident:
        raise ValidationError("--incident is only for pdf-incident.")


def last_complete_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _pdf_ward_defaults(args, store, actor) -> str:
    """pdf-ward without --ward: the user's only ward; without --from and --to: the last complete month.
    Returns the line saying what was chosen ("" when nothing was)."""
    from core.clock import LONDON, utcnow
    from core.services import queue

    chosen = []
    names = [] if args.ward else [name for _ward_id, name in queue.ward_choices(store, actor)]
    if len(names) > 1:
        raise ValidationError({"ward": f"pdf-ward needs --ward with one of your wards: {', '.join(names)}"})
    if len(names) == 1:
        args.ward = names[0]
        chosen.append(f"ward {args.ward} (your only ward)")
    if not args.date_from:
        args.date_from, args.date_to = last_complete_month(utcnow().astimezone(LONDON).date())
        chosen.append(f"{args.date_from.isoformat()} to {args.date_to.isoformat()} (the last complete month)")
    return f"Ward report for {' and '.join(chosen)}. Give --ward, --from and --to to choose others." if chosen else ""


def _ward_id(wards, name: str) -> int:
    for ward in wards:
        if ward.name.casefold() == name.strip().casefold():
            return ward.ward_id
    raise ValidationError(f"There is no ward called '{name.strip()}'. Wards: {', '.join(w.name for w in wards)}.")


def _print_result(result, kind_label: str, stdout: TextIO) -> None:
    count = f"{result.incident_count} incident{'s' if result.incident_count != 1 else ''}"
    print(f"Exported {count} as {kind_label} to {result.path} ({result.size_bytes:,} bytes).", file=stdout)
    print(f"SHA-256: {result.sha256}  (export batch {result.batch_id})", file=stdout)
    if not result.free_text_included:
        print("Free text was left out.", file=stdout)
    elif result.identifiers_found:
        print(f"Identifier-like text: {result.identifiers_found} found, "
              f"{result.identifiers_found - result.identifiers_kept} removed.", file=stdout)
    print(f"NOT ENCRYPTED: {result.notice}", file=stdout)
