"""A stand-in for a Redis-like cache service, for the `configlab exec` examples.

Usage: python app.py --config FILE (JSON or YAML).  It "starts" (a short sleep), then:
* memory.policy noeviction with under 16 MB of maxmemory: the warm-up write is refused —
  ``OOM command not allowed when used memory > 'maxmemory'`` on stderr, exit 1;
* db.index above 15: ``ERR DB index is out of range`` on stderr, exit 1;
* otherwise ``ready`` on stdout, exit 0.
"""

import json
import sys
import time

import yaml


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "--config":
        print("usage: app.py --config FILE", file=sys.stderr)
        return 2
    with open(argv[2], encoding="utf-8") as handle:
        text = handle.read()
    config = json.loads(text) if argv[2].endswith(".json") else yaml.safe_load(text)
    time.sleep(0.05)
    memory = config.get("memory", {})
    if memory.get("policy") == "noeviction" and memory.get("maxmemory_mb", 0) < 16:
        print("OOM command not allowed when used memory > 'maxmemory'", file=sys.stderr)
        return 1
    if config.get("db", {}).get("index", 0) > 15:
        print("ERR DB index is out of range", file=sys.stderr)
        return 1
    print(f"ready (policy {memory.get('policy')}, persistence {config.get('persistence')})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
