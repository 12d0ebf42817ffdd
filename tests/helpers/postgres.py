"""A throwaway PostgreSQL server for the ledger tests: Debian's binaries
(the Makefile's tools step installs the ``postgresql`` package), a cluster
under a temporary folder on a free port of 127.0.0.1, stopped and removed at
the end.  initdb refuses to run as root, so as root the cluster belongs to
the ``postgres`` user (or ``nobody``) and its commands run as that user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(f"PostgreSQL's {name} is missing: run `make tools` (installs Debian's postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """One running cluster; ``database()`` gives a URL to a new, empty database."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="sseq-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        self._run(_bin("initdb"), "-D", self.data, "-U", "sseq", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8")
        self._run(_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                        f"-c max_connections=60", "start")
        self.url = f"postgresql://sseq@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        def demote():
            if self.user is not None:
                os.setgid(self.user.pw_gid)
                os.setuid(self.user.pw_uid)

        result = subprocess.run(argv, capture_output=True, preexec_fn=demote, cwd=self.folder, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.decode()[-2000:]}")

    def database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return f"postgresql://sseq@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(_bin("pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
