"""Shared fixtures: real PostgreSQL and S3 servers for the team-store tests (one per session).

The servers start only when a test asks for them and are stopped by PID at the end of the
session.  They never skip: a machine without the PostgreSQL server package or moto fails these
tests (``make test`` installs both, see the Makefile's ``system-deps`` target).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.team_servers import (
    PG_PASSWORD,
    PgServer,
    S3Server,
    pg_create_database,
    start_postgres,
    start_s3,
    stop_postgres,
    stop_s3,
)

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A PostgreSQL cluster on 127.0.0.1 (password auth; the password is in PGPASSWORD)."""
    server = start_postgres()
    try:
        yield server
    finally:
        stop_postgres(server)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on 127.0.0.1."""
    server = start_s3()
    try:
        yield server
    finally:
        stop_s3(server)


@pytest.fixture
def pg_url(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh empty database on the session's server; PGPASSWORD set for the test."""
    monkeypatch.setenv("PGPASSWORD", PG_PASSWORD)
    return pg_create_database(pg_server, f"t{os.getpid()}_{next(_names)}")


@pytest.fixture
def s3_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the session's S3 server; the AWS variables point at it."""
    import boto3

    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    bucket = f"bucket-{os.getpid()}-{next(_names)}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return f"s3://{bucket}/team"
