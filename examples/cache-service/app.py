"""A small cache service configured by one YAML file: `python app.py --config app.yaml`.

It serves a fixed set of requests through an optional LRU cache, backed by a connection pool,
and compresses the responses when asked. It checks its configuration the way real services do
(and has the limits real services have), so configlab's examples have something real to judge:

* exit 1 and "pool ... too small" on stderr when the pool has fewer connections than workers;
* an uncaught RuntimeError when the cache is enabled with a size below 2 MiB (a real bug: the
  eviction bookkeeping divides by the size in whole blocks of 2 MiB, which is then 0);
* otherwise exit 0, "ok" on stdout, with "MISS" or "HIT" for the last lookup, and the measured
  payload ratio written to the file named by $CONFIGLAB_METRICS when set.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib
from collections import OrderedDict

import yaml

REQUESTS = [f"/item/{number % 7}" for number in range(40)]


def serve(config: dict) -> int:
    server, db = config.get("server", {}), config.get("db", {})
    cache_conf, http = config.get("cache", {}), config.get("http", {})
    workers, pool = server.get("workers", 1), db.get("pool", {}).get("max", 1)
    if pool < workers:
        print(f"error: pool of {pool} connections too small for {workers} workers", file=sys.stderr)
        return 1
    size = cache_conf.get("size", 0) if cache_conf.get("enabled") else 0
    if size:
        blocks = size // 2
        if blocks == 0:
            raise RuntimeError(f"cache of {size} MiB has no eviction block")
    cache: OrderedDict[str, bytes] = OrderedDict()
    raw = compressed = 0
    status = "MISS"
    for path in REQUESTS:
        if path in cache:
            cache.move_to_end(path)
            body, status = cache[path], "HIT"
        else:
            body, status = (path * 50).encode(), "MISS"
            if size:
                cache[path] = body
                while len(cache) > size:
                    cache.popitem(last=False)
        sent = zlib.compress(body) if http.get("compression") == "gzip" else body
        raw, compressed = raw + len(body), compressed + len(sent)
    if os.environ.get("CONFIGLAB_METRICS"):
        with open(os.environ["CONFIGLAB_METRICS"], "w", encoding="utf-8") as out:
            json.dump({"payload_ratio": round(compressed / raw, 4)}, out)
    print(f"ok: {len(REQUESTS)} requests, last lookup {status}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="YAML config file")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as handle:
        return serve(yaml.safe_load(handle) or {})


if __name__ == "__main__":
    sys.exit(main())
