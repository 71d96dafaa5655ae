"""The ``--store`` / ``--objects`` options shared by every command that opens a store.

``--store`` takes a directory (the embedded default, ``.configlab``) or a
``postgresql://user@host:port/db`` URL, else ``$CONFIGLAB_STORE``; ``--objects`` takes
``s3://bucket/prefix``, else ``$CONFIGLAB_OBJECTS``.  The command receives one resolved
:class:`configlab.storage.StoreLocation` as ``store_path``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from configlab import storage

F = TypeVar("F", bound=Callable[..., Any])

STORE_HELP = (
    "Store: a directory or postgresql://user@host:port/db (password from PGPASSWORD, ~/.pgpass"
    " or a service file) [default: $CONFIGLAB_STORE, else .configlab]."
)
OBJECTS_HELP = (
    "Where large objects live: s3://bucket/prefix (endpoint and credentials from the AWS"
    " variables, e.g. AWS_ENDPOINT_URL_S3) [default: $CONFIGLAB_OBJECTS, else beside the index]."
)


def store_options(func: F) -> F:
    """Add ``--store`` and ``--objects``; pass the resolved location as ``store_path``."""

    @click.option("--objects", "objects_url", default=None, metavar="URL", help=OBJECTS_HELP)
    @click.option("--store", "store_arg", default=None, metavar="DIR|URL", help=STORE_HELP)
    @functools.wraps(func)
    def wrapper(*args: Any, store_arg: str | None, objects_url: str | None,
                **kwargs: Any) -> Any:
        kwargs["store_path"] = storage.resolve(store_arg, objects_url)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


__all__ = ["OBJECTS_HELP", "STORE_HELP", "store_options"]
