"""A tiny application for the ``configlab ci`` tests: reads a JSON config, fails on a known bug.

Exit 0 when the service "starts"; exit 1 when the pool is 1 and the cache is off (the bug);
exit 3 (with a message) when ``mode`` is ``"strict"`` and ``retries`` is 0.
"""

import json
import sys


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "--config":
        print("usage: app.py --config FILE", file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as handle:
        config = json.load(handle)
    pool = config["db"]["pool"]
    cache = config["cache"]["enabled"]
    if pool == 1 and not cache:
        print(f"connection pool exhausted during warm-up (pool={pool}, cache off)",
              file=sys.stderr)
        return 1
    if config.get("mode") == "strict" and config.get("retries") == 0:
        print("strict mode needs at least one retry", file=sys.stderr)
        return 3
    print(f"ready (pool={pool}, cache={'on' if cache else 'off'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
