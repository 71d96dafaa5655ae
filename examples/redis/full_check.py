"""Start a real redis-server under one configuration, exercise it, stop it by PID.

    python examples/redis/full_check.py CONFIG

CONFIG is a redis.conf (``configlab generate --format directive`` writes ``.conf`` files) used
as it is, or any other format configlab reads, converted to a redis.conf first.

Unlike check.py this keeps the config's own persistence settings (``save``, ``appendonly``).
Steps, the first failure wins and its message is Redis's own:
1. the server starts (else: the last line of its log, e.g. a refused directive);
2. ``SELECT 5`` ("ERR DB index is out of range" when databases <= 5);
3. 2,000 keys of 1 KiB in database 0, MSET 100 at a time ("OOM command not allowed ..." under
   a small maxmemory);
4. a restart with the same config keeps the keys ("data lost after restart" when neither RDB
   snapshots nor the append-only file persist them).
Exit 0 when every step passed, 1 otherwise.  The server listens on 127.0.0.1 on a free port;
data, log and pid file live in a temporary directory.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KEYS = 2000


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(port: int, *args: str, script: str | None = None) -> str:
    """Output of ``redis-cli`` (stdout and stderr) for one command or a piped script."""
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                          input=script, capture_output=True, text=True, timeout=120)
    return (done.stdout + done.stderr).strip()


def errors_of(output: str) -> list[str]:
    """The error replies among redis-cli output lines."""
    return [line for line in output.splitlines() if line.startswith(("ERR", "OOM", "(error)"))]


class Server:
    """One redis-server process under ``conf``, stopped by its PID."""

    def __init__(self, conf: Path, tmp: Path) -> None:
        self.port = free_port()
        self.log = tmp / "redis.log"
        self.proc = subprocess.Popen(
            ["redis-server", str(conf), "--port", str(self.port), "--bind", "127.0.0.1",
             "--daemonize", "no", "--supervised", "no", "--dir", str(tmp), "--pidfile", "",
             "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_ready(self) -> str | None:
        """None once the server answers PING (and has loaded its data), else why it did not."""
        for _ in range(600):
            if self.proc.poll() is not None:
                break
            if cli(self.port, "PING") == "PONG":
                return None
            time.sleep(0.05)
        if self.proc.poll() is None:
            return "redis-server did not answer PING in 30 s"
        lines = self.log.read_text(errors="replace").strip().splitlines() if self.log.exists() \
            else []
        stderr = self.proc.stderr.read() if self.proc.stderr else ""
        text = "\n".join([*lines, *stderr.strip().splitlines()])
        reason = [line for line in text.splitlines() if line.strip()]
        # Redis prints the refused directive on the lines before ">>> 'directive'"
        bad = [line for line in reason if "Bad directive" in line or ">>>" in line
               or "FATAL" in line or "rror" in line]
        return f"redis-server did not start: {' | '.join(bad[-3:] or reason[-1:])}"

    def stop(self) -> None:
        """SHUTDOWN (Redis saves when its config says so), else TERM by PID, never by name."""
        if self.proc.poll() is None:
            cli(self.port, "SHUTDOWN")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=30)


def run(conf: Path, tmp: Path) -> str | None:
    server = Server(conf, tmp)
    try:
        failure = server.wait_ready()
        if failure:
            return failure
        bad = errors_of(cli(server.port, script="SELECT 5\n"))
        if bad:
            return f"SELECT 5 failed: {bad[0]}"
        value = "x" * 1024
        # MSET in batches: few commands, so appendfsync=always costs 20 fsyncs, not 2,000
        script = "".join("MSET " + " ".join(f"key:{n} {value}" for n in range(b, b + 100)) + "\n"
                         for b in range(0, KEYS, 100))
        bad = errors_of(cli(server.port, script=script))
        if bad:
            return f"workload failed: {bad[0]} ({len(bad)} errors)"
    finally:
        server.stop()
    server = Server(conf, tmp)
    try:
        failure = server.wait_ready()
        if failure:
            return f"restart: {failure}"
        kept = int(cli(server.port, "DBSIZE") or 0)
        if kept < KEYS:
            return f"data lost after restart: {kept} of {KEYS} keys kept"
    finally:
        server.stop()
    return None


def main(config_path: str) -> int:
    with tempfile.TemporaryDirectory(prefix="redis-check-") as name:
        tmp = Path(name)
        conf = Path(config_path).resolve()
        if conf.suffix != ".conf":
            from configlab import formats  # only to convert other formats: a quicker start

            conf = tmp / "redis.conf"
            formats.dump(formats.load(config_path), conf, "directive")
        failure = run(conf, tmp)
    if failure:
        print(failure)
        return 1
    print(f"ok: {KEYS} keys written and kept across a restart")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
