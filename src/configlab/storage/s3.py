"""Objects on S3-compatible storage: the S3 implementation of the object-files seam.

``s3://bucket/prefix`` holds each object at ``<prefix>/objects/ab/cdef...`` (the same layout as a
local store's ``objects/`` directory), one zstd frame per SHA-256 of the uncompressed content.
Every write is a conditional ``PutObject`` with ``If-None-Match: *``: a second writer of the same
content gets ``412 Precondition Failed``, which is success (the object is the same bytes by
construction), and nothing is ever overwritten.  Content whose hash is not known yet (streamed
imports) is spooled to a local temporary file first and uploaded once it is hashed.

Endpoint, region and credentials come from boto3's standard sources, as boto3 and DVC users
expect: ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``), ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``~/.aws/config``, instance roles.  Errors surface as
:class:`OSError` (:class:`FileNotFoundError` for a missing object), as the seam requires.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

from configlab._internal.objectstore import SpooledObject, is_object_hash
from configlab.errors import SnapshotError

#: Attempts of a conditional write that meets a concurrent one (HTTP 409).
_CONFLICT_RETRIES = 5


def is_s3_url(text: str) -> bool:
    """Whether ``text`` names an S3 location (``s3://bucket[/prefix]``)."""
    return text.startswith("s3://")


def split_s3_url(url: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (prefix without surrounding slashes).

    Raises SnapshotError on anything else.
    """
    if not is_s3_url(url):
        raise SnapshotError(f"not an S3 URL: {url!r} (expected s3://bucket/prefix)")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise SnapshotError(f"S3 URL {url!r} names no bucket (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")


def _client() -> Any:
    """A boto3 S3 client configured from the standard AWS variables and files."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:  # pragma: no cover - boto3 is a dependency of the team extra
        raise SnapshotError(
            "S3 objects need boto3: pip install 'configlab[team]'"
        ) from error
    config = Config(retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32)
    return boto3.client("s3", config=config)


def s3_filesystem() -> Any:
    """An ``s3fs.S3FileSystem`` (fsspec) configured like the boto3 client: the endpoint from
    ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``), credentials from the standard sources.
    pyarrow writes Parquet datasets and DuckDB reads them through it."""
    try:
        import s3fs
    except ImportError as error:  # pragma: no cover - s3fs is a dependency of the team extra
        raise SnapshotError("s3:// Parquet needs s3fs: pip install 'configlab[team]'") from error
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    options = {"endpoint_url": endpoint} if endpoint else {}
    return s3fs.S3FileSystem(client_kwargs=options)


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _os_error(error: Exception, what: str) -> OSError:
    """An OSError for a botocore error (FileNotFoundError for a missing key)."""
    code = _error_code(error)
    if code in ("404", "NoSuchKey", "NotFound"):
        return FileNotFoundError(f"{what}: not found")
    return OSError(f"{what}: {code or type(error).__name__}: {error}")


class S3ObjectFiles:
    """The objects of a store at ``s3://bucket/prefix`` (see the module docstring)."""

    def __init__(self, url: str, client: Any = None) -> None:
        self.bucket, self.prefix = split_s3_url(url)
        base = f"{self.prefix}/" if self.prefix else ""
        self._keys = f"{base}objects/"
        self.location = f"s3://{self.bucket}/{self._keys}"
        self.probe_before_write = False  # If-None-Match makes a second write a cheap no-op
        self._given = client
        self._local = threading.local()

    @property
    def client(self) -> Any:
        """This process's client (boto3 clients do not survive a fork)."""
        if self._given is not None:
            return self._given
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.client = _client()
            local.pid = os.getpid()
        return local.client

    def key(self, digest: str) -> str:
        """The object key of ``digest``."""
        if not is_object_hash(digest):
            raise SnapshotError(f"malformed object hash {digest!r}")
        return f"{self._keys}{digest[:2]}/{digest[2:]}"

    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except (ClientError, BotoCoreError) as error:
            raise _os_error(error, f"s3://{self.bucket}/{what}") from None

    def exists(self, digest: str) -> bool:
        key = self.key(digest)
        try:
            self._call(key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except FileNotFoundError:
            return False
        return True

    def open(self, digest: str) -> IO[bytes]:
        key = self.key(digest)
        response = self._call(key, lambda: self.client.get_object(Bucket=self.bucket, Key=key))
        body: IO[bytes] = response["Body"]
        return body

    def put(self, digest: str, frame: bytes | IO[bytes]) -> None:
        key = self.key(digest)
        for attempt in range(_CONFLICT_RETRIES):
            if not isinstance(frame, bytes):
                frame.seek(0)
            try:
                self._call(
                    key,
                    lambda: self.client.put_object(
                        Bucket=self.bucket, Key=key, Body=frame, IfNoneMatch="*"
                    ),
                )
                return
            except OSError as error:
                message = str(error)
                if "PreconditionFailed" in message or ": 412" in message:
                    return  # someone stored the same content first
                if "ConditionalRequestConflict" not in message or attempt + 1 == _CONFLICT_RETRIES:
                    raise
                time.sleep(0.05 * (attempt + 1))  # a concurrent conditional write: try again

    def spool(self, write: Callable[[IO[bytes]], None]) -> SpooledObject:
        import tempfile  # here: 3 ms of `configlab run` start-up, which never spools to S3

        handle = tempfile.TemporaryFile()  # noqa: SIM115 - closed by publish/discard
        try:
            write(handle)
            handle.flush()
        except BaseException:
            handle.close()
            raise
        return _S3Spooled(self, handle)

    def hashes(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(self._keys, lambda: list(
            paginator.paginate(Bucket=self.bucket, Prefix=self._keys)
        ))
        for page in pages:
            for item in page.get("Contents", ()):
                rest = str(item["Key"])[len(self._keys) :]
                digest = rest.replace("/", "", 1) if rest[2:3] == "/" else ""
                if is_object_hash(digest):
                    yield digest

    def modified(self, digest: str) -> float:
        key = self.key(digest)
        head = self._call(key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        return float(head["LastModified"].timestamp())

    def delete(self, digest: str) -> None:
        key = self.key(digest)
        self._call(key, lambda: self.client.delete_object(Bucket=self.bucket, Key=key))


class _S3Spooled:
    """Content in a local temporary file, uploaded under its hash by :meth:`publish`."""

    def __init__(self, files: S3ObjectFiles, handle: IO[bytes]) -> None:
        self.files = files
        self.handle = handle

    def publish(self, digest: str) -> None:
        try:
            self.files.put(digest, self.handle)  # conditional: a no-op when it exists
        finally:
            self.handle.close()

    def discard(self) -> None:
        self.handle.close()


__all__ = ["S3ObjectFiles", "is_s3_url", "split_s3_url"]
