"""``directive`` (redis.conf, sshd_config) and ``nginx`` codecs, and ambiguous extensions.

Real files from Debian packages: /etc/redis/redis.conf (redis-server) and /etc/nginx/nginx.conf,
/etc/nginx/sites-available/default (nginx-common); ``make system-deps`` installs them.  The
written redis.conf is checked by the application itself: a real redis-server started on
127.0.0.1 on a free port, answered over its socket and stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from configlab import formats
from configlab.errors import FormatError

REDIS_CONF = Path("/etc/redis/redis.conf")
NGINX_CONFS = (Path("/etc/nginx/nginx.conf"), Path("/etc/nginx/sites-available/default"))
needs_redis = pytest.mark.skipif(
    not REDIS_CONF.is_file() or shutil.which("redis-server") is None,
    reason="Debian redis-server not installed (make system-deps)")
needs_nginx = pytest.mark.skipif(not NGINX_CONFS[0].is_file(),
                                 reason="Debian nginx-common not installed (make system-deps)")

SSHD = """\
# sshd_config excerpt
Port 22
PermitRootLogin prohibit-password
AcceptEnv LANG LC_*
AcceptEnv XMODIFIERS
Banner "/etc/issue net"
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def test_directive_mapping_repeated_directives_and_quoting() -> None:
    tree = formats.loads(SSHD, "directive")
    assert tree == {
        "Port": 22, "PermitRootLogin": "prohibit-password",
        "AcceptEnv": ["LANG LC_*", "XMODIFIERS"], "Banner": '"/etc/issue net"',
        "Subsystem": "sftp /usr/lib/openssh/sftp-server",
    }
    assert formats.loads(formats.dumps(tree, "directive"), "directive") == tree
    written = formats.dumps({"logfile": "", "save": ["3600 1", "300 100"], "appendonly": "yes",
                             "note": "it's", "ratio": 0.5}, "directive")
    assert written.splitlines() == ['logfile ""', "save 3600 1", "save 300 100",
                                    "appendonly yes", "note \"it's\"", "ratio 0.5"]
    assert formats.loads('x "a \\"b\\""\n', "directive") == {"x": '"a \\"b\\""'}
    assert formats.loads("x 1\n", "directive", typed=False) == {"x": "1"}


@pytest.mark.parametrize(("text", "message"), [
    ('x "open\n', "unterminated"), ('x "a"b\n', "closing quote"), ("=x 1\n", "directive name"),
])
def test_directive_parse_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(FormatError, match=message) as caught:
        formats.loads(text, "directive", source="app.conf")
    assert "app.conf:1" in str(caught.value)


@pytest.mark.parametrize("tree", [{"a": {"b": 1}}, {"a": None}, {"a": True}, {"a": [[1]]},
                                  {"a b": 1}, {"a": float("nan")}, {"a": [{"b": 1}]}])
def test_directive_refuses_what_it_cannot_write(tree: dict[str, object]) -> None:
    with pytest.raises(FormatError, match="cannot write directive"):
        formats.dumps(tree, "directive")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ping(port: int, deadline: float) -> bytes:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(64)
        except OSError:
            time.sleep(0.05)
    raise AssertionError("redis-server did not answer")


@needs_redis
def test_real_redis_conf_round_trips_and_redis_accepts_the_written_file(tmp_path: Path) -> None:
    tree = formats.load(REDIS_CONF)  # .conf: the content says directive
    assert tree["port"] == 6379 and tree["daemonize"] == "yes" and tree["databases"] == 16
    assert formats.loads(formats.dumps(tree, "directive"), "directive") == tree
    port = _free_port()
    tree.update({"port": port, "daemonize": "no", "supervised": "no", "dir": str(tmp_path),
                 "pidfile": str(tmp_path / "redis.pid"), "logfile": "", "bind": "127.0.0.1",
                 "unixsocket": str(tmp_path / "redis.sock")})
    target = tmp_path / "redis.conf"
    formats.dump(tree, target, fmt="directive")
    assert 'logfile ""' in target.read_text()
    server = subprocess.Popen(["redis-server", str(target)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert _ping(port, time.monotonic() + 20).startswith(b"+PONG")
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


@needs_nginx
@pytest.mark.parametrize("path", NGINX_CONFS, ids=lambda p: p.name)
def test_real_nginx_configs_round_trip(path: Path) -> None:
    tree = formats.load(path, fmt="nginx")
    assert tree
    assert formats.loads(formats.dumps(tree, "nginx"), "nginx") == tree


def test_nginx_blocks_with_arguments_and_repeats() -> None:
    text = ("events { worker_connections 768; }\nhttp {\n  server {\n    listen 80;\n"
            "    location /api { proxy_pass http://127.0.0.1:9000; }\n"
            "    location / { try_files $uri =404; }\n  }\n  server { listen 8080; }\n}\n")
    tree = formats.loads(text, "nginx")
    assert tree["http"]["server"][0]["location /api"] == {"proxy_pass": "http://127.0.0.1:9000"}
    assert tree["http"]["server"][1] == {"listen": 8080}
    assert formats.loads(formats.dumps(tree, "nginx"), "nginx") == tree
    with pytest.raises(FormatError, match="invalid nginx config"):
        formats.loads("http {\n", "nginx", source="x.conf")
    for bad in ({"a": None}, {"a": [[1]]}, {"": "{"}, {"a": "{"}):
        with pytest.raises(FormatError, match="cannot write nginx"):
            formats.dumps(bad, "nginx")


def test_ambiguous_extensions_need_content_or_format(tmp_path: Path) -> None:
    cases = {"a.cfg": ("[s]\nk = v\n", {"s": {"k": "v"}}),
             "b.conf": ("port 6379\nsave 3600 1\n", {"port": 6379, "save": "3600 1"}),
             "c.conf": ("user x;\nevents { worker_connections 1; }\n",
                        {"user": "x", "events": {"worker_connections": 1}}),
             "d.conf": ("k = v\n", {"k": "v"})}
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        assert formats.load(tmp_path / name) == expected, name
    (tmp_path / "e.conf").write_text("weird =\nfoo bar\n")
    with pytest.raises(FormatError, match="pass the format"):
        formats.load(tmp_path / "e.conf")
    with pytest.raises(FormatError, match="pass the format"):
        formats.detect_format("app.conf")
    assert formats.load(tmp_path / "e.conf", fmt="directive") == {"weird": "=", "foo": "bar"}
    formats.dump({"port": 1}, tmp_path / "out.conf", fmt="directive")
    assert (tmp_path / "out.conf").read_text() == "port 1\n"
