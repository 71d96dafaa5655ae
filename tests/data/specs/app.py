"""A tiny application under test: reads a YAML/JSON config file and behaves accordingly.

Usage: python app.py CONFIG_FILE
- fault "hang": sleeps for a minute (the verifier must kill it on timeout)
- fault "crash": raises RuntimeError (uncaught: traceback on stderr, exit status 1)
- cache enabled with size > 32: prints "cache too large" on stderr and exits 3
- otherwise prints "ok <mode>" and exits 0
"""

import json
import sys
import time

import yaml


def main() -> int:
    path = sys.argv[1]
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    config = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    fault = config.get("fault", "none")
    if fault == "hang":
        time.sleep(60)
    if fault == "crash":
        raise RuntimeError("boom")
    cache = config.get("cache", {})
    if cache.get("enabled") and cache.get("size", 0) > 32:
        print("cache too large", file=sys.stderr)
        return 3
    print(f"ok {config.get('mode', 'fast')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
