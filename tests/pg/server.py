"""A throwaway PostgreSQL server for the tests, started and stopped by the tests themselves (issue 16, item 9).

Nothing is installed or started by hand: `bootstrap.py test` installs Debian's `postgresql` package where the
server is missing (with `CI=true`), and this module makes a fresh cluster in a temporary folder, listening on a
loopback port and a private socket folder, with SCRAM-SHA-256 password authentication for every connection.
As root (CI machines), the server runs as the `postgres` system account, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HOW_TO = ("PostgreSQL tests skipped: no PostgreSQL server programs (initdb, pg_ctl) were found. Install Debian's "
          "'postgresql' package, or run `CI=true python3 bootstrap.py test`, which installs it.")


def find_bindir() -> Path | None:
    """The newest installed server's bin folder (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    override = os.environ.get("LANTERN_PG_BINDIR")
    candidates = [override] if override else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ThrowawayServer:
    bindir: Path
    root: Path
    port: int
    superuser: str = "lantern_test_owner"
    password: str = ""
    options: str = ""

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def _run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres system account
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    @classmethod
    def start(cls, bindir: Path, *, tls: tuple[bytes, bytes] | None = None, settings: str = "") -> ThrowawayServer:
        """`tls`: the server's certificate and private key (PEM); the server then also accepts TLS connections.
        `settings`: more `-c name=value` server settings."""
        root = Path(tempfile.mkdtemp(prefix="lantern-pg-"))
        server = cls(bindir=bindir, root=root, port=_free_port(), password=secrets.token_urlsafe(18))
        server.socket_dir.mkdir()
        pwfile = root / "pw"
        pwfile.write_text(server.password)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(server.socket_dir, "postgres")
            shutil.chown(pwfile, "postgres")
        os.chmod(pwfile, 0o600)
        server._run(bindir / "initdb", "-D", server.data, "-U", server.superuser, "--pwfile", pwfile,
                    "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        pwfile.unlink()
        options = ""
        if tls:
            for name, pem in zip(("server.crt", "server.key"), tls, strict=True):
                path = server.data / name
                path.write_bytes(pem)
                os.chmod(path, 0o600)
                if os.geteuid() == 0:
                    shutil.chown(path, "postgres")
            options = "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key "
        options += settings + " " if settings else ""
        options += (f"-c port={server.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={server.socket_dir} -c fsync=off -c full_page_writes=off "
                   "-c synchronous_commit=off -c max_connections=200")
        server.options = options
        server.resume()
        return server

    def resume(self) -> None:
        """Start (or start again, after `pause`) on the same port with the same data."""
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-o", self.options, "-l", self.root / "server.log",
                  "-w", "-t", "60", "start")

    def pause(self) -> None:
        """Stop the server as a power cut or a network failure would look to the app; `resume` brings it back."""
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        try:
            self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
        for _ in range(20):
            try:
                shutil.rmtree(self.root)
                return
            except OSError:
                time.sleep(0.1)

    def url(self, database: str = "postgres", *, user: str | None = None) -> str:
        """A URL without a password (the password is always passed apart from the URL)."""
        return f"postgresql://{user or self.superuser}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        """A psycopg connection as the cluster's owner, autocommit (CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=self.superuser, password=self.password,
                               dbname=database, autocommit=True)
