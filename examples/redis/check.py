"""Start a real redis-server under one configuration, run a small workload, stop it by PID.

    python examples/redis/check.py CONFIG        (CONFIG: any format configlab reads)

The config is written as a redis.conf (configlab's ``directive`` format) into a temporary
directory; the server listens on 127.0.0.1 on a free port, with its data, log and pid file in
that directory (command-line overrides, so the config file itself is what was generated).
Workload: write 2,000 keys of 1 KiB into database 2, then read one back. Exit 0 when the server
started and the workload succeeded; 1 with Redis's own error message otherwise.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from configlab import formats


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(port: int, *args: str) -> str:
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                          capture_output=True, text=True, timeout=30)
    return (done.stdout + done.stderr).strip()


def main(config_path: str) -> int:
    tree = formats.load(config_path)
    with tempfile.TemporaryDirectory(prefix="redis-check-") as tmp:
        conf = Path(tmp) / "redis.conf"
        formats.dump(tree, conf, "directive")
        port = free_port()
        server = subprocess.Popen(
            ["redis-server", str(conf), "--port", str(port), "--bind", "127.0.0.1",
             "--daemonize", "no", "--supervised", "no", "--dir", tmp, "--pidfile", "",
             "--logfile", str(Path(tmp) / "redis.log"), "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):
                if server.poll() is not None or cli(port, "PING") == "PONG":
                    break
                time.sleep(0.05)
            if server.poll() is not None:
                log = (Path(tmp) / "redis.log").read_text(errors="replace").strip().splitlines()
                print(f"redis-server did not start: {log[-1] if log else server.stderr}")
                return 1
            value = "x" * 1024
            script = "".join(f"SET key:{n} {value}\n" for n in range(2000))
            done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "-n", "2"],
                                  input=script, capture_output=True, text=True, timeout=60)
            errors = [line for line in (done.stdout + done.stderr).splitlines()
                      if line.startswith(("ERR", "OOM", "(error)"))]
            if errors:
                print(f"workload failed: {errors[0]} ({len(errors)} errors)")
                return 1
            info = dict(line.split(":", 1) for line in cli(port, "INFO", "memory").splitlines()
                        if ":" in line)
            print(f"ok: 2000 keys written, used_memory {info.get('used_memory_human', '?')}")
            return 0
        finally:
            server.terminate()  # by PID, never by name
            server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
