"""``postgresql`` codec: PostgreSQL's postgresql.conf, read and written as the server reads it.

tests/data/formats/postgresql.conf is Debian's /etc/postgresql/15/main/postgresql.conf
(package ``postgresql-15``, PostgreSQL licence).  The written file is checked by PostgreSQL
itself: a cluster is initdb'ed into a temporary directory, started on 127.0.0.1 on a free port
with ``config_file`` pointing at the file configlab wrote (a generated config over the Debian
file), asked with ``SHOW`` what it runs with, and stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab import formats
from configlab.cli import cli
from configlab.errors import FormatError
from configlab.execution._suite_run import load_suite
from configlab.formats import _postgresql
from configlab.generation import generate
from configlab.space import Space
from tests.paths import DATA_DIR
from tests.team_servers import _as_postgres, _stop_pid, free_port, pg_bindir

DEBIAN_CONF = DATA_DIR / "formats" / "postgresql.conf"


def test_debian_postgresql_conf_loads_typed_and_round_trips(tmp_path: Path) -> None:
    tree = formats.load(DEBIAN_CONF)  # by its name
    assert tree["port"] == 5432 and tree["max_connections"] == 100
    assert tree["data_directory"] == "/var/lib/postgresql/15/main"
    assert tree["log_line_prefix"] == "%m [%p] %q%u@%d "  # trailing blank kept, comment not
    assert tree["shared_buffers"] == "128MB" and tree["ssl"] == "off"
    assert tree["include_dir"] == "conf.d"
    text = formats.dumps(tree, "postgresql")
    assert formats.loads(text, "postgresql") == tree
    assert "shared_buffers = '128MB'\n" in text and "port = 5432\n" in text
    # any other .conf name: the content says PostgreSQL (it used to read as INI, comments and
    # quotes inside the values)
    copy = tmp_path / "main.conf"
    copy.write_bytes(DEBIAN_CONF.read_bytes())
    assert formats.load(copy) == tree
    written = tmp_path / "written.conf"
    formats.dump(tree, written, "postgresql")
    assert formats.load(written) == tree  # configlab's own output sniffs as PostgreSQL too
    assert formats.detect_format("conf/postgresql.auto.conf") == "postgresql"
    assert formats.loads(text, "postgres", typed=False)["port"] == "5432"


def test_postgresql_syntax_as_the_server_reads_it() -> None:
    text = (
        "# comment line\n"
        "port 5433   # no '=' is fine\n"
        "Work_Mem=4MB\n"
        "search_path = '\"$user\", public'\n"
        "note = 'it''s \\'quoted\\'\\n\\101\\tend'  # escapes\n"
        "ratio = 0.9\n"
        "big = 1.0e+16\n"
        "hex = 0x1F\n"
        "jit = true\n"
        "fsync = off\n"
        "temp = -0\n"
        "empty = ''\n"
        "auto_explain.log_min_duration = '3s'\n"
        "include 'a.conf'\n"
        "work_mem = 8MB\n"
        "include 'b.conf'\r\n"
        "path = var/lib:x/y\n"
    )
    tree = formats.loads(text, "postgresql")
    assert tree == {
        "port": 5433, "search_path": '"$user", public', "note": "it's 'quoted'\nA\tend",
        "ratio": 0.9, "big": 1e16, "hex": "0x1F", "jit": True, "fsync": "off", "temp": "-0",
        "empty": "", "auto_explain.log_min_duration": "3s", "include": ["a.conf", "b.conf"],
        "work_mem": "8MB", "path": "var/lib:x/y",
    }
    # the later work_mem wins (case-insensitively) and takes its later place; a repeated
    # include key is one list, at the place of its last line
    assert list(tree)[-3:] == ["work_mem", "include", "path"]
    written = formats.dumps(tree, "postgresql")
    assert written.splitlines()[:4] == ["port = 5433", "search_path = '\"$user\", public'",
                                        "note = 'it''s ''quoted''\\nA\tend'", "ratio = 0.9"]
    assert "big = 1.0e+16" in written and "jit = true" in written and "fsync = off" in written
    assert "work_mem = '8MB'\ninclude = 'a.conf'\ninclude = 'b.conf'\n" in written
    assert formats.loads(written, "postgresql") == tree
    assert formats.loads("jit = true\nport = 1\n", "postgresql", typed=False) == {
        "jit": "true", "port": "1"}
    assert formats.dumps({"s": "true", "n": "5432", "w": "on"}, "postgresql") == (
        "s = 'true'\nn = '5432'\nw = on\n")
    huge = "9" * 5000  # more digits than Python converts: kept as its text
    assert formats.loads(f"x = {huge}\n", "postgresql") == {"x": huge}


_PIECES = st.sampled_from([
    "port", "a.b", "a.b.c", "x-y", "\u00e9", "5", "-1.5e3", "0x1F", "1e3", ".", "5min", "'a''b'",
    "'a\\'", "''", "=", " ", "\t", "\r", "#c", " #c", "/p", "a:b/c", "'", "\\", "on", "+.5",
    "\u00a0", "\x0b",
])


def _split(split: Any, line: str) -> Any:
    try:
        return split(line, None, 1)
    except FormatError as error:
        return str(error)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_PIECES, max_size=6))
def test_one_regex_fast_path_agrees_with_the_token_scanner(pieces: list[str]) -> None:
    # the whole-line regex must accept and split exactly what the longest-match scanner does
    line = "".join(pieces)
    assert _split(_postgresql._split_line, line) == _split(_postgresql._slow_split, line)


@pytest.mark.parametrize(("text", "message"), [
    ("port = 5432 5433\n", "more than one value"),
    ("data_directory = /var/lib\n", "syntax error at '/'"),
    ("x = 'open\n", "unterminated quoted value"),
    ("x =\n", "no value"),
    ("= 1\n", "must start with a parameter name"),
    ("a.b.c = 1\n", "must start with a parameter name"),
    ("[section]\nx = 1\n", "must start with a parameter name"),
    ("x = 'a\\0b'\n", "would cut"),
    ("x = '\\377'\n", "invalid UTF-8"),
])
def test_postgresql_parse_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as caught:
        formats.loads("# header\n" + text, "postgresql", source="pg.conf")
    assert "pg.conf:2" in str(caught.value)


@pytest.mark.parametrize(("tree", "message"), [
    ({"a": {"b": 1}}, "nested mapping"), ({"a": None}, "null"), ({"a": [1, 2]}, "is a list"),
    ({"a b": 1}, "not a parameter name"), ({"": 1}, "not a parameter name"),
    ({"a.b.c": 1}, "not a parameter name"), ({"Port": 1, "port": 2}, "case-insensitive"),
    ({"a": float("inf")}, "no spelling"), ({"a": "x\x00"}, "NUL"),
    ({"include": [1, 2]}, "file names"), ({"include": ["only"]}, "would not read back"),
])
def test_postgresql_refuses_what_it_cannot_write(tree: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message) as caught:
        formats.dumps(tree, "postgresql")
    assert "cannot write postgresql" in str(caught.value)


@pytest.mark.parametrize(("text", "fmt"), [
    ("port = 5432  # comment\nmax_connections = 100\n", "postgresql"),
    ("data_directory = '/var/lib/x'\n", "postgresql"),
    ("k = v\nn = 1\n", "ini"),  # no quotes, no comments: INI as before
    ("url = http://x#frag\n", "ini"),  # '#' glued to the value is no PostgreSQL comment
    ("[mysqld]\nport = 3306  # comment\n", "ini"),  # sections: never PostgreSQL
    ("color = #fff\n", "ini"),
    # no '=' anywhere: directive (PostgreSQL's '=' is optional, but redis.conf never has one)
    ("port 5432  # comment\nbind localhost\n", "directive"),
    ("k = v\nport 5432  # comment\n", "postgresql"),  # not INI ('port 5432'): PostgreSQL
    ("k = v\nport 5432\n", None),  # neither clearly: ask for --format
])
def test_sniffing_tells_postgresql_from_ini(text: str, fmt: str | None) -> None:
    assert formats.sniff_format(text) == fmt


def _space() -> Space:
    return Space.from_dict({"parameters": {
        "shared_buffers": {"type": "choice", "values": ["24MB", "40MB"]},
        "max_connections": {"type": "choice", "values": [23, 37]},
        "work_mem": {"type": "choice", "values": ["3MB", "6MB"]},
        "log_min_messages": {"type": "choice", "values": ["notice", "error"]},
    }})


def _psql_show(bindir: Path, port: int, names: list[str]) -> list[str]:
    argv = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "-At", "-v", "ON_ERROR_STOP=1"]
    for name in names:
        argv += ["-c", f"SHOW {name}"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Path, Path]]:
    """``(bindir, base)``: a cluster initdb'ed into ``base/data`` (not started)."""
    try:
        bindir = pg_bindir()
    except RuntimeError as error:
        pytest.skip(str(error))
    # not tmp_path: the postgres user must reach it, and pytest's base directory is private
    base = Path(tempfile.mkdtemp(prefix="configlab-pgconf-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(base, "postgres", "postgres")
        made = subprocess.run(
            _as_postgres([str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
            capture_output=True, text=True, check=False)
        assert made.returncode == 0, made.stderr
        yield bindir, base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _give_to_postgres(*paths: Path) -> None:
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


def _postgres_reads(cluster: tuple[Path, Path], lines: str, name: str) -> tuple[int, str]:
    """``postgres -C name`` on a file of ``lines``: PostgreSQL's own reading, no server."""
    bindir, base = cluster
    data = base / "data"
    target = base / "probe.conf"
    target.write_text(f"data_directory = '{data}'\nhba_file = '{data}/pg_hba.conf'\n"
                      f"ident_file = '{data}/pg_ident.conf'\n{lines}", encoding="utf-8")
    _give_to_postgres(target)
    done = subprocess.run(
        _as_postgres([str(bindir / "postgres"), "-c", f"config_file={target}", "-C", name]),
        capture_output=True, check=False, timeout=30)  # bytes: a '\r' in a value stays
    return done.returncode, (done.stdout if done.returncode == 0 else done.stderr).decode()


#: Values as written in a file: configlab must read what PostgreSQL reads.
_READ_ALIKE = [r"'a''b\\c\nd\te\101\x'", "'%m [%p] %q%u@%d '", "plain", "'it''s'", "''",
               r"'\''", "x/y:z-1.2", "'\u00e9 \u00fc'", "'# no comment'", "'a''''b'"]
#: Lines PostgreSQL refuses: configlab refuses them too (FormatError, with the line).
_REFUSED_ALIKE = ["pg_catalog.english", "1 2", "/var/lib", "'open", "1e3", "'a'b", "a b",
                  "= x", "'a' 'b'", "x=y"]


@pytest.mark.parametrize("value", _READ_ALIKE)
def test_configlab_reads_values_as_postgresql_does(cluster: tuple[Path, Path],
                                                   value: str) -> None:
    line = f"log_line_prefix = {value}\t\t# a comment\n"
    ours = formats.loads(line, "postgresql")["log_line_prefix"]
    code, shown = _postgres_reads(cluster, line, "log_line_prefix")
    assert code == 0, shown
    assert shown == f"{ours}\n"


@pytest.mark.parametrize("value", _REFUSED_ALIKE)
def test_configlab_refuses_what_postgresql_refuses(cluster: tuple[Path, Path],
                                                   value: str) -> None:
    line = f"log_line_prefix = {value}\n"
    with pytest.raises(FormatError, match=":1:"):
        formats.loads(line, "postgresql", source="probe.conf")
    code, shown = _postgres_reads(cluster, line, "log_line_prefix")
    assert code != 0 and "syntax error" in shown, shown


@pytest.mark.parametrize("value", ["a'b\\c\nd\te\r", "%m [%p] %q%u@%d ", "", "\\", "true",
                                   "# not a comment", "5432", "\u00fc/\u00e4 x", "''"])
def test_postgresql_reads_what_configlab_wrote(cluster: tuple[Path, Path], value: str) -> None:
    written = formats.dumps({"log_line_prefix": value}, "postgresql")
    code, shown = _postgres_reads(cluster, written, "log_line_prefix")
    assert code == 0, shown
    assert shown == f"{value}\n"


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("random_page_cost", 1.5e16, "1.5e+16"), ("random_page_cost", 0.25, "0.25"),
    ("jit", False, "off"), ("jit", True, "on"), ("max_connections", 7, "7"),
    ("work_mem", "3MB", "3072"), ("synchronous_commit", "local", "local"),  # -C: kB
])
def test_postgresql_takes_the_numbers_and_bools_configlab_wrote(
        cluster: tuple[Path, Path], name: str, value: Any, shown: str) -> None:
    written = formats.dumps({name: value}, "postgresql")
    assert formats.loads(written, "postgresql") == {name: value}
    assert _postgres_reads(cluster, written, name) == (0, f"{shown}\n")


def test_real_postgresql_starts_with_a_generated_config_configlab_wrote(
        cluster: tuple[Path, Path]) -> None:
    bindir, base = cluster
    datadir = base / "data"
    port = free_port()
    debian = formats.load(DEBIAN_CONF)
    debian.update({
        "data_directory": str(datadir), "hba_file": str(datadir / "pg_hba.conf"),
        "ident_file": str(datadir / "pg_ident.conf"), "port": port,
        "external_pid_file": str(base / "external.pid"), "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(base), "fsync": False,
    })
    # Debian's include_dir 'conf.d' is kept and read by the server, relative to the file
    (base / "conf.d").mkdir(exist_ok=True)
    (base / "conf.d" / "10-test.conf").write_text("statement_timeout = '7s'\n")
    config = next(generate(_space(), "covering", seed=3, base=debian))
    target = base / "postgresql.conf"
    formats.dump(config, target)  # by its name
    assert formats.load(target) == config
    _give_to_postgres(base / "conf.d", base / "conf.d" / "10-test.conf", target)
    log = base / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            _as_postgres([str(bindir / "postgres"), "-c", f"config_file={target}"]),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p",
                              str(port), "-q"], check=False).returncode != 0:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "PostgreSQL did not start"
            time.sleep(0.05)
        names = ["shared_buffers", "max_connections", "work_mem", "log_min_messages",
                 "port", "fsync", "statement_timeout", "log_line_prefix"]
        shown = _psql_show(bindir, port, names)
        assert shown == [str(config[name]) for name in names[:5]] + [
            "off", "7s", "%m [%p] %q%u@%d "]
    finally:
        _stop_pid(server.pid, signal.SIGINT)


def test_cli_generates_postgresql_conf_files(tmp_path: Path) -> None:
    inferred = tmp_path / "inferred.yaml"
    done = CliRunner().invoke(cli, ["space", "infer", str(DEBIAN_CONF), "-o", str(inferred)])
    assert done.exit_code == 0, done.output
    assert Space.load(inferred).param("port").kind == "int"  # not '5432\t\t\t\t# (change...'
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  work_mem: {type: choice, values: [4MB, 64MB]}\n"
                     "  jit: bool\n")
    out = tmp_path / "suite"
    done = CliRunner().invoke(cli, ["generate", "--space", str(space), "--base",
                                    str(DEBIAN_CONF), "--out", str(out), "--format",
                                    "postgresql"])
    assert done.exit_code == 0, done.output
    files = sorted(out.glob("config-*.conf"))
    assert files
    for path in files:
        config = formats.load(path)  # read back by content
        assert config["port"] == 5432 and config["work_mem"] in ("4MB", "64MB")
        assert isinstance(config["jit"], bool)


def test_a_generated_suite_is_read_back_in_the_format_it_was_written(tmp_path: Path) -> None:
    # 'random_page_cost = 1.0e+16' alone has no quote or comment: by content it reads as INI
    # (a string there); the suite's manifest says postgresql
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  random_page_cost: {type: choice, values: [1.0e+16, 4.0]}\n")
    out = tmp_path / "suite"
    done = CliRunner().invoke(cli, ["generate", "--space", str(space), "--out", str(out),
                                    "--format", "postgresql"])
    assert done.exit_code == 0, done.output
    assert formats.sniff_format((out / "config-0001.conf").read_text()) == "ini"
    items = load_suite(out)
    assert sorted(item.config["random_page_cost"] for item in items) == [4.0, 1e16]
    assert {item.fmt for item in items} == {"postgresql"}
