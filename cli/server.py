"""`lantern server init | upgrade | check | approve` and `lantern migrate-store`: a trust's PostgreSQL server from the command
line (cli layer; issue 16 items 7 and 8).

The server address names the database role to act as (postgresql://ROLE@HOST/DATABASE); its password, and any
Lantern password, come on standard input, one per line, never as arguments. Bad input is one plain line on
stderr (cli.main turns every LanternError into that), never a traceback.
"""

from __future__ import annotations

from typing import TextIO

from core.errors import ValidationError

EXIT_OK, EXIT_PROBLEM = 0, 1
STDIN_SERVER = "the password of the database role in --url"


def add_server_parsers(sub, parser_class) -> None:
    p = sub.add_parser("server", help="set up or check a trust's PostgreSQL server")
    server_sub = p.add_subparsers(dest="server_command", parser_class=parser_class)
    si = server_sub.add_parser("init", help="set up an empty database as a Lantern store (standard input: the "
                                            "role's password, then the new administrator's password)")
    si.add_argument("--url", required=True, help="postgresql://ROLE@HOST/DATABASE (a role that may create roles)")
    si.add_argument("--org", required=True, help="the trust's ODS code")
    si.add_argument("--ward", action="append", required=True, help="a ward's name (repeat for each ward)")
    si.add_argument("--admin", required=True, help="the first administrator's username")
    si.add_argument("--ca-file", default="", help="the trust's CA certificate (for a server on another computer)")
    si.add_argument("--password-stdin", action="store_true", required=True)
    su = server_sub.add_parser("upgrade", help="bring the server's Lantern schema up to this version's (standard "
                                               "input: the role's password)")
    su.add_argument("--url", required=True, help="postgresql://ROLE@HOST/DATABASE (the schema's owner)")
    su.add_argument("--ca-file", default="")
    su.add_argument("--password-stdin", action="store_true", required=True)
    sc = server_sub.add_parser("check", help="check the server's policies, triggers, privileges and audit trails")
    sc.add_argument("--url", required=True, help="postgresql://HOST/DATABASE")
    sc.add_argument("--user", required=True, help="the database role that owns the Lantern schema")
    sc.add_argument("--ca-file", default="")
    sc.add_argument("--password-stdin", action="store_true", required=True)
    sa = server_sub.add_parser("approve", help="approve a request for access while there is no safeguarding lead")
    sa.add_argument("--url", required=True, help="postgresql://ROLE@HOST/DATABASE (the schema's owner)")
    sa.add_argument("--request", type=int, required=True)
    sa.add_argument("--ca-file", default="")
    sa.add_argument("--password-stdin", action="store_true", required=True)
    m = sub.add_parser("migrate-store", help="move a ward's store into the trust's server (standard input: the "
                                             "ward store account's password, then the server role's)")
    m.add_argument("--from", dest="source", required=True, help="the ward store's folder")
    m.add_argument("--to", required=True, help="postgresql://ROLE@HOST/DATABASE (the schema's owner)")
    m.add_argument("--user", required=True, help="the ward store's safeguarding lead")
    m.add_argument("--ca-file", default="")
    m.add_argument("--password-stdin", action="store_true", required=True)


def _role_of(url: str) -> str:
    from core.services.server_setup import role_in

    return role_in(url)


def run_server(args, read_password, stdout: TextIO) -> int:
    from core.services import server_check, server_setup

    if args.command == "migrate-store":
        return _migrate(args, read_password, stdout)
    if args.server_command == "init":
        owner_password = read_password(STDIN_SERVER)
        server_setup.init_server(args.url, owner=_role_of(args.url), owner_password=owner_password, ods_code=args.org,
                                 wards=args.ward, admin_username=args.admin,
                                 admin_password=read_password("the new administrator's password"),
                                 ca_file=args.ca_file)
        print(f"Set up Lantern on the server, with {len(args.ward)} ward(s) and the administrator {args.admin}.",
              file=stdout)
        print("Encrypt the server's disks: PostgreSQL does not encrypt its files (see the admin guide).",
              file=stdout)
        return EXIT_OK
    if args.server_command == "upgrade":
        before, after = server_setup.upgrade_server(args.url, owner=_role_of(args.url),
                                                    owner_password=read_password(STDIN_SERVER), ca_file=args.ca_file)
        print(f"The server's Lantern schema is at revision {after}" + (" (it already was)." if before == after
              else f" (it was at {before})."), file=stdout)
        return EXIT_OK
    if args.server_command == "check":
        results = server_check.check_server(args.url, owner=args.user, owner_password=read_password(STDIN_SERVER),
                                            ca_file=args.ca_file)
        for r in results:
            print(f"{'ok  ' if r.ok else 'FAIL'} {r.name}: {r.detail}", file=stdout)
        return EXIT_OK if all(r.ok for r in results) else EXIT_PROBLEM
    if args.server_command == "approve":
        temp = server_setup.approve_as_owner(args.url, owner=_role_of(args.url),
                                             owner_password=read_password(STDIN_SERVER), request_id=args.request,
                                             ca_file=args.ca_file)
        print(f"Request {args.request} approved. Temporary password: {temp}", file=stdout)
        print("Give it to the person privately; they must change it when they first sign in.", file=stdout)
        return EXIT_OK
    raise ValidationError("Name a server command: init, check or approve (try: lantern server --help).")


def _migrate(args, read_password, stdout: TextIO) -> int:
    from pathlib import Path

    from core.services.store_move import move_store

    password = read_password("the ward store account's password")
    report = move_store(Path(args.source), args.user, password, to=args.to, owner=_role_of(args.to),
                        owner_password=read_password(STDIN_SERVER), ca_file=args.ca_file)
    print("Moved to the server. Counted in the ward store, then on the server:", file=stdout)
    for name, count in report.moved.items():
        print(f"  {name}: {count} / {report.on_server.get(name)}", file=stdout)
    for old, new in report.renamed.items():
        print(f"  The account {old} is now {new} on the server.", file=stdout)
    for old, new in report.new_references.items():
        print(f"  The incident {old} is now {new} (the server had used that reference).", file=stdout)
    if report.waiting_for_approval:
        print(f"  {len(report.waiting_for_approval)} account(s) can sign in once the server's safeguarding lead "
              "approves their password reset in Lantern.", file=stdout)
    return EXIT_OK if report.moved == report.on_server else EXIT_PROBLEM
