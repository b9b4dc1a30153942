"""The command-line interface (cli/, beside ui/: no Qt, no database layer). Calls the same services as the GUI.

Every failure prints one plain line on stderr and exits non-zero; no traceback,
no patient text, no key. Passwords come from standard input, never arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

import core
from core.errors import LanternError, ValidationError

EXIT_OK, EXIT_PROBLEM, EXIT_BAD_INPUT, EXIT_UNEXPECTED = 0, 1, 2, 3


PROG = "lantern"  # the console script (pyproject.toml); `python main.py` takes the same arguments
DEMO_NEEDS_ADMIN = ("demo adds to an existing store as one of its administrators: give --user with an "
                    "administrator's username (default: admin) and that account's password on standard input.")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one plain line, not argparse's usage dump; `prog` is the command typed
        raise ValidationError(f"{message} (try: {self.prog} --help)")


def _read_password(stdin: TextIO, what: str = "password") -> str:
    line = stdin.readline()
    if not line:
        raise ValidationError(f"No {what} on standard input. Type it and press Enter, or pipe it in (one line).")
    return line.rstrip("\r\n")


def _incident_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= count <= 1_000_000:
        raise argparse.ArgumentTypeError("choose between 0 and 1,000,000 incidents")
    return count


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Lantern: sexual-safety incident recording for wards.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--self-test", action="store_true", help="check this installation works, then exit")
    parser.add_argument("--store", help="open the app on this store folder")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("init", help="create a new store")
    p.add_argument("--store", required=True)
    p.add_argument("--org", required=True, help="organisation ODS code")
    p.add_argument("--ward", action="append", required=True, help="ward name (repeat for more)")
    p.add_argument("--admin", required=True, help="username of the first administrator")
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.add_argument("--recovery-key-file", help="also write the recovery key to this file")

    p = sub.add_parser("demo", help="create a demo store with synthetic incidents, or add to one")
    p.add_argument("--store", required=True)
    p.add_argument("--incidents", type=_incident_count, default=200)
    p.add_argument("--user", default="admin",
                   help="an administrator of an existing store, to add incidents as (default: admin)")
    p.add_argument("--password-stdin", action="store_true", required=True)
    p.add_argument("--seed", type=int, default=2018)

    for name in ("check", "backup"):
        p = sub.add_parser(name, help="check a store's integrity" if name == "check" else "make a verified backup")
        p.add_argument("--store", required=True)
        p.add_argument("--user", required=True)
        p.add_argument("--password-stdin", action="store_true", required=True)
        if name == "backup":
            p.add_argument("--out", required=True)

    p = sub.add_parser("restore", help="restore a backup into a new store folder")
    p.add_argument("--from", dest="source", required=True)
    p.add_argument("--store", required=True)

    p = sub.add_parser("recover", help="reset an account's password with the recovery key (read from stdin)")
    p.add_argument("--store", required=True)
    p.add_argument("--user", required=True)

    p = sub.add_parser("approve", help="approve a request for content access with the recovery key (read from "
                                       "stdin), while there is no safeguarding lead to approve it")
    p.add_argument("--store", required=True)
    p.add_argument("--request", type=int, required=True, help="the request number the admin screen showed")

    p = sub.add_parser("passwd", help="change your own password (current, then new, on standard input, "
                                      "one line each)")
    p.add_argument("--store", required=True)
    p.add_argument("--user", required=True)

    p = sub.add_parser("rules", help="safeguarding rules tools")
    rules_sub = p.add_subparsers(dest="rules_command", parser_class=_Parser)
    rc = rules_sub.add_parser("check", help="print the actions an incident (JSON) would create")
    rc.add_argument("file")
    rc.add_argument("--override", help="a trust-local rules override file to apply")

    p = sub.add_parser("report", help="figures for a board report")
    report_sub = p.add_subparsers(dest="report_command", parser_class=_Parser)
    rs = report_sub.add_parser("summary", help="print the dashboard figures (same as the GUI dashboard)")
    rs.add_argument("--store", required=True)
    rs.add_argument("--user", required=True)
    rs.add_argument("--password-stdin", action="store_true", required=True)
    rs.add_argument("--ward", help="one ward by name (default: every ward you may see)")
    rs.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (default: 12 months ago)")
    rs.add_argument("--to", dest="date_to", help="last day, YYYY-MM-DD (default: today)")
    rs.add_argument("--format", choices=["json"], required=True)

    from cli.exports import add_export_parser
    from cli.server import add_server_parsers

    add_export_parser(sub)
    add_server_parsers(sub, _Parser)
    return parser


def run(argv: list[str], stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr,
        *, qt_check=None) -> int:
    """Run one CLI command. Returns the exit code. `qt_check` is the self-test's Qt check (main.py passes it)."""
    try:
        args = build_parser().parse_args(argv)
        if args.version:
            print(f"Lantern {core.__version__}", file=stdout)
            return EXIT_OK
        if args.self_test:
            from core.selftest import run_self_test

            return EXIT_OK if run_self_test(stdout, qt_check) == 0 else EXIT_PROBLEM
        return _dispatch(args, stdin, stdout, stderr)
    except LanternError as err:
        print(f"lantern: {err.message}", file=stderr)
        return EXIT_BAD_INPUT if isinstance(err, ValidationError) else EXIT_PROBLEM
    except KeyboardInterrupt:
        print("lantern: stopped.", file=stderr)
        return EXIT_PROBLEM
    except BrokenPipeError:  # the reader (e.g. `| head`) went away; nothing to report
        return EXIT_OK
    except Exception as err:  # noqa: BLE001 - the last line of defence: no traceback, no text of the error
        from core.logs import log_unexpected

        log_unexpected(err)
        print(f"lantern: an unexpected problem stopped this command ({type(err).__name__}). "
              "Nothing half-written was kept. The log has details for IT.", file=stderr)
        return EXIT_UNEXPECTED


def _dispatch(args, stdin, stdout, stderr) -> int:
    """Run the command named; each imports only what it uses (an export never loads the backup code)."""
    handler = _COMMANDS.get(args.command)
    if args.command == "rules" and args.rules_command != "check" or (
            args.command == "report" and args.report_command != "summary"):
        handler = None
    if handler is None:
        raise ValidationError("Name a command: init, demo, check, backup, restore, recover, approve, passwd, rules "
                              f"check, report summary, export, server or migrate-store. Run '{PROG} --help' for the "
                              "list.")
    return handler(args, stdin, stdout, stderr)


def _init(args, stdin, stdout, _stderr) -> int:
    from core.services import accounts

    password = _read_password(stdin)
    store, _actor, recovery_key = accounts.init_store(
        Path(args.store), ods_code=args.org, wards=args.ward, admin_username=args.admin, admin_password=password)
    store.close()
    if args.recovery_key_file:
        from core.fs import atomic_write

        atomic_write(Path(args.recovery_key_file), (recovery_key + "\n").encode(), private=True)
    print(f"Created the store in {args.store}.", file=stdout)
    print("RECOVERY KEY (shown once; print it and lock it away; it can reset any password):", file=stdout)
    print(f"    {recovery_key}", file=stdout)
    return EXIT_OK


def _restore(args, _stdin, stdout, _stderr) -> int:
    from core.services import maintenance

    manifest = maintenance.restore_store(Path(args.source), Path(args.store))
    print(f"Restored {manifest['incidents']} incidents into {args.store}. "
          "It opens with the same passwords; run 'check' on it now.", file=stdout)
    return EXIT_OK


def _recover(args, stdin, stdout, _stderr) -> int:
    from core.services import accounts

    recovery_key = _read_password(stdin, "recovery key")
    temp = accounts.reset_password_with_recovery(Path(args.store), recovery_key, args.user)
    print(f"Temporary password for {args.user}: {temp}", file=stdout)
    print("It must be changed at the next sign-in.", file=stdout)
    return EXIT_OK


def _approve(args, stdin, stdout, _stderr) -> int:
    from core.services import accounts

    temp = accounts.approve_with_recovery_key(Path(args.store), _read_password(stdin, "recovery key"), args.request)
    print(f"Request {args.request} approved. Temporary password: {temp}", file=stdout)
    print("Give it to the person privately; they must change it when they first sign in.", file=stdout)
    return EXIT_OK


def _rules(args, _stdin, stdout, stderr) -> int:
    from cli.rules import rules_check

    return rules_check(args.file, stdout, stderr, override_path=args.override)


def _export(args, stdin, stdout, stderr) -> int:
    from cli.exports import run_export

    return run_export(args, _read_password(stdin), stdout, stderr)


def _server(args, stdin, stdout, _stderr) -> int:
    from cli.server import run_server

    return run_server(args, lambda what: _read_password(stdin, what), stdout)


def _with_password(command):
    """A command that reads one password line first."""
    return lambda args, stdin, stdout, _stderr: command(args, _read_password(stdin), stdout)


def _passwd_command(args, stdin, stdout, _stderr) -> int:
    return _passwd(args, _read_password(stdin, "current password"), _read_password(stdin, "new password"), stdout)


def _check_or_backup(args, password: str, stdout: TextIO) -> int:
    from core.services import accounts, engines, maintenance

    try:
        store, actor = accounts.sign_in(engines.location(args.store), args.user, password)
    except LanternError:
        if args.command == "check":  # the report's first line; the reason is printed once, on stderr
            print("FAIL open: the store could not be opened, so nothing else was checked.", file=stdout)
        raise
    try:
        if args.command == "check":
            results = maintenance.check_store(store, actor)
            for r in results:
                print(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.detail}", file=stdout)
            return EXIT_OK if all(r.ok for r in results) else EXIT_PROBLEM
        manifest = maintenance.backup_store(store, actor, Path(args.out))
        print(f"Backup written and verified: {args.out} ({manifest['incidents']} incidents).", file=stdout)
        return EXIT_OK
    finally:
        _sign_out(store, actor)


def _demo(args, password: str, stdout: TextIO) -> int:
    """A new store gets the demo wards and accounts; an existing one gets incidents added by `--user`."""
    from core.demo.seed import add_synthetic_incidents, create_or_fill_demo, is_store
    from core.errors import WrongPassword
    from core.services import accounts

    folder = Path(args.store)
    if not is_store(folder):
        print(create_or_fill_demo(folder, password, incidents=args.incidents, seed=args.seed), file=stdout)
        return EXIT_OK
    try:
        store, actor = accounts.sign_in(folder, args.user, password)
    except WrongPassword as err:
        raise WrongPassword(f"{err.message} {DEMO_NEEDS_ADMIN}") from None
    try:
        added = add_synthetic_incidents(store, actor, args.incidents, seed=args.seed)
    finally:
        _sign_out(store, actor)
    print(f"Opened the store in {folder} as {args.user} and added {added} synthetic incidents.", file=stdout)
    return EXIT_OK


def _passwd(args, old: str, new: str, stdout: TextIO) -> int:
    """Change one's own password (for example the temporary one `recover` printed) with the accounts service."""
    from core.services import accounts, engines

    store, actor = accounts.sign_in(engines.location(args.store), args.user, old)
    try:
        accounts.change_password(store, actor, old, new)
    finally:
        _sign_out(store, actor)
    print(f"Password changed for {args.user}. Use the new one from now on.", file=stdout)
    return EXIT_OK


def _sign_out(store, actor) -> None:
    from core.services import accounts

    if store.is_open:
        try:
            accounts.sign_out(store, actor)
        except LanternError:
            pass  # a damaged store may refuse the sign-out row; the result already stands


def _report_summary(args, password: str, stdout: TextIO) -> int:
    from core.services import accounts, engines, queue, reports

    date_from = reports.parse_day(args.date_from, "from")
    date_to = reports.parse_day(args.date_to, "to")
    store, actor = accounts.sign_in(engines.location(args.store), args.user, password)
    try:
        ward_id = None
        if args.ward:
            wards = {name.casefold(): ward for ward, name in queue.ward_choices(store, actor)}
            ward_id = wards.get(args.ward.strip().casefold())
            if ward_id is None:
                raise ValidationError({"ward": f"There is no ward called {args.ward!r} that you can see."})
        board = reports.dashboard(store, actor, ward_id=ward_id, date_from=date_from, date_to=date_to)
    finally:
        if store.is_open:
            accounts.sign_out(store, actor)
    print_json(board.to_json(), stdout)
    return EXIT_OK


def print_json(obj, stdout: TextIO) -> None:
    json.dump(obj, stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")


# After every command's function, so the table can name them.
_COMMANDS = {
    "init": _init, "demo": _with_password(_demo), "passwd": _passwd_command,
    "check": _with_password(_check_or_backup), "backup": _with_password(_check_or_backup), "restore": _restore,
    "recover": _recover, "approve": _approve, "rules": _rules, "report": _with_password(_report_summary),
    "export": _export, "server": _server, "migrate-store": _server,
}
