"""A throwaway PostgreSQL cluster in a temporary folder, started by the test harness."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _bindir() -> str:
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if not cands:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return cands[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempPostgres:
    """initdb + pg_ctl start in a temp dir (as the postgres user when run as root)."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="crm-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.bindir = _bindir()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        """Create and start the cluster; return a SQLAlchemy URL (psycopg 3)."""
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "crm", "-E", "UTF8", "--locale=C.UTF-8")
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-w", "-l", os.path.join(self.dir, "log"), "start")
        for _ in range(50):
            try:
                subprocess.run(
                    ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "crm",
                     "-d", "postgres", "-c", "CREATE DATABASE klientela_test"],
                    check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                break
            except subprocess.CalledProcessError:
                time.sleep(0.1)
        return f"postgresql+psycopg://crm@127.0.0.1:{self.port}/klientela_test"

    def stop(self) -> None:
        """Stop the cluster and remove its folder."""
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


