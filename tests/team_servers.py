"""Real PostgreSQL and S3 (moto) servers on 127.0.0.1 for the team-store tests and benchmark.

Both are started on free ports in temporary directories and stopped by PID (never by name).
PostgreSQL comes from Debian's ``postgresql`` package: ``initdb`` refuses to run as root, so when
the tests run as root the cluster is created and started as the ``postgres`` user (``runuser``),
with its data directory in a temporary directory owned by that user.  The server asks for a
password (scram-sha-256), so the tests exercise ``PGPASSWORD`` like a real team set-up.
The S3 server is ``moto_server`` (``moto[server]``), which honours ``If-None-Match`` and ranges.

A server that cannot start raises :class:`RuntimeError`: these tests must fail, never skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PG_USER = "configlab"
PG_PASSWORD = "team-store-secret"
PG_DB = "configlab"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_bindir() -> Path:
    """The directory of Debian's PostgreSQL server binaries (newest version installed)."""
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").is_file():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install the Debian package `postgresql`"
        " (`make system-deps`)"
    )


@dataclass
class PgServer:
    """A running PostgreSQL cluster."""

    port: int
    datadir: Path
    pid: int
    log: Path

    @property
    def url(self) -> str:
        """The store URL (no password: it comes from PGPASSWORD)."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{PG_DB}"


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def start_postgres() -> PgServer:
    """initdb + start a cluster on a free port; create the ``configlab`` role and database."""
    bindir = pg_bindir()
    base = Path(tempfile.mkdtemp(prefix="configlab-pg-"))
    datadir = base / "data"
    pwfile = base / "pw"
    pwfile.write_text(PG_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    pwfile.chmod(0o600)
    run = subprocess.run(
        _as_postgres([
            str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--pwfile", str(pwfile),
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
            "--no-sync", "--locale=C",
        ]),
        capture_output=True, text=True, check=False,
    )
    pwfile.unlink()
    if run.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {run.stderr.strip() or run.stdout.strip()}")
    port = free_port()
    log = base / "postgres.log"
    # fsync off: these servers hold throw-away test data; durability is PostgreSQL's business.
    options = [
        "-p", str(port), "-k", str(base), "-c", "listen_addresses=127.0.0.1",
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=200", "-c", "shared_buffers=64MB",
    ]
    with open(log, "wb") as out:
        if os.geteuid() == 0:
            shutil.chown(log, "postgres", "postgres")
        process = subprocess.Popen(
            _as_postgres([str(bindir / "postgres"), "-D", str(datadir), *options]),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    env = {**os.environ, "PGPASSWORD": PG_PASSWORD}
    deadline = time.monotonic() + 30
    while True:
        ready = subprocess.run(
            [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"],
            check=False,
        )
        if ready.returncode == 0:
            break
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_pid(process.pid)
            text = log.read_text(errors="replace")
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"PostgreSQL did not start: {text}")
        time.sleep(0.05)
    psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-q",
            "-v", "ON_ERROR_STOP=1"]
    made = subprocess.run(
        [*psql, "-c", f"CREATE ROLE {PG_USER} LOGIN PASSWORD '{PG_PASSWORD}'",
         "-c", f"CREATE DATABASE {PG_DB} OWNER {PG_USER}"],
        env=env, capture_output=True, text=True, check=False,
    )
    if made.returncode != 0:
        _stop_pid(process.pid, signal.SIGINT)
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"cannot create the test database: {made.stderr.strip()}")
    return PgServer(port, datadir, process.pid, log)


def pg_create_database(server: PgServer, name: str) -> str:
    """A new empty database on ``server``; returns its store URL."""
    bindir = pg_bindir()
    env = {**os.environ, "PGPASSWORD": PG_PASSWORD}
    made = subprocess.run(
        [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-q",
         "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name} OWNER {PG_USER}"],
        env=env, capture_output=True, text=True, check=False,
    )
    if made.returncode != 0:
        raise RuntimeError(f"cannot create database {name}: {made.stderr.strip()}")
    return f"postgresql://{PG_USER}@127.0.0.1:{server.port}/{name}"


def stop_postgres(server: PgServer) -> None:
    """Stop the cluster (SIGINT = fast shutdown, by PID) and remove its directory."""
    _stop_pid(server.pid, signal.SIGINT)
    shutil.rmtree(server.datadir.parent, ignore_errors=True)


@dataclass
class S3Server:
    """A running moto S3 server."""

    port: int
    pid: int
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables pointing at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def start_s3() -> S3Server:
    """Start ``moto_server`` on a free port and wait until it answers."""
    moto = Path(sys.executable).parent / "moto_server"
    if not moto.is_file():
        found = shutil.which("moto_server")
        if found is None:
            raise RuntimeError("moto_server not found: install the test extra (moto[server])")
        moto = Path(found)
    port = free_port()
    # the request log goes to a file: a pipe nobody reads fills up and stalls the server
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed by stop_s3
        prefix="configlab-moto-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                _stop_pid(process.pid)
                error = Path(log.name).read_text(errors="replace")[-2000:]
                os.unlink(log.name)
                raise RuntimeError(f"moto_server did not start: {error}") from None
            time.sleep(0.05)
    return S3Server(port, process.pid, Path(log.name))


def stop_s3(server: S3Server) -> None:
    """Stop the moto server by PID and remove its log."""
    _stop_pid(server.pid)
    server.log.unlink(missing_ok=True)


def _stop_pid(pid: int, sig: int = signal.SIGTERM) -> None:
    """Signal the process group led by ``pid`` and wait for it (SIGKILL after 10 s)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


@contextlib.contextmanager
def team_servers() -> Iterator[tuple[PgServer, S3Server]]:
    """Both servers for the duration of the block."""
    pg = start_postgres()
    try:
        s3 = start_s3()
        try:
            yield pg, s3
        finally:
            stop_s3(s3)
    finally:
        stop_postgres(pg)
