"""The ``configlab_config`` fixture value: :class:`ConfigHandle`."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from configlab.errors import ConfiglabError
from configlab.integrations.monitor import drifted_files, file_fingerprint, fingerprint
from configlab.integrations.pytest.collect import ConfigCase
from configlab.tree import deep_copy, flatten, get_path, split_path

if TYPE_CHECKING:
    from configlab.space import Space

_ENV_UNSAFE = re.compile(r"[^0-9A-Za-z]+")


def _env_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        from configlab.results import canonical_json  # deferred: results loads numpy

        return canonical_json(value)
    return str(value)


class ConfigHandle(Mapping[str, Any]):
    """The config a configlab test runs with (the ``configlab_config`` fixture).

    Read it like a dict (``configlab_config["db"]["pool"]["size"]``, :meth:`get_path`,
    :meth:`as_dict`) and apply it the way the application reads it with :meth:`write` and
    :meth:`setenv`: everything they change is undone after the test.
    """

    def __init__(self, case: ConfigCase, snapshot_id: str) -> None:
        self._case = case
        self._snapshot_id = snapshot_id
        self._files: dict[Path, tuple[bytes | None, int | None]] = {}
        self._dirs: list[Path] = []
        self._env: dict[str, str | None] = {}
        self._env_set: dict[str, str | None] = {}
        self._start: dict[str, str | None] = {}

    # -- reading ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._case.config[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._case.config)

    def __len__(self) -> int:
        return len(self._case.config)

    def __repr__(self) -> str:
        return f"ConfigHandle({self.id!r}, {dict(self._case.config)!r})"

    @property
    def id(self) -> str:
        """The config's part of the test id (``cfg0003-journal_mode=WAL-...``)."""
        return self._case.id

    @property
    def snapshot_id(self) -> str:
        """Id of the snapshot holding this config (``pytest --configlab-replay <id>``)."""
        return self._snapshot_id

    @property
    def space(self) -> Space:
        """The space the config was generated from."""
        return self._case.space

    def as_dict(self) -> dict[str, Any]:
        """A deep copy of the nested config (a plain dict the test may modify)."""
        return deep_copy(dict(self._case.config))  # type: ignore[no-any-return]

    def flat(self) -> dict[str, Any]:
        """``{dotted.path: value}`` of every leaf (lists are leaves)."""
        return flatten(self._case.config)

    def get_path(self, path: str, default: Any = None) -> Any:
        """The value at dotted ``path`` (``default`` when absent)."""
        return get_path(self._case.config, path, default)

    # -- applying ---------------------------------------------------------------------------

    def write(self, path: str | os.PathLike[str], fmt: str | None = None, *,
              typed: bool = True) -> Path:
        """Write the config to ``path`` (format from the extension unless ``fmt`` is given).

        After the test the original file is restored byte for byte (and its mode), or
        removed if there was none, together with the directories created for it.  A file
        the test changes afterwards is reported as config drift.

        Raises:
            FormatError: the format cannot represent the config, or unknown extension.
            ConfiglabError: ``path`` is a directory.
        """
        from configlab import formats  # deferred: the codecs cost ~0.1 s of every pytest start
        target = Path(os.path.abspath(path))
        if target.is_dir():
            raise ConfiglabError(f"{target}: is a directory, cannot write the config there")
        if target not in self._files:
            if target.is_file():
                self._files[target] = (target.read_bytes(), target.stat().st_mode)
            else:
                self._files[target] = (None, None)
            missing = []
            parent = target.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for directory in reversed(missing):
                directory.mkdir()
                self._dirs.append(directory)
        formats.dump(self.as_dict(), target, fmt, typed=typed)
        self._start[str(target)] = file_fingerprint(target)
        return target

    def watch(self, path: str | os.PathLike[str]) -> None:
        """Fingerprint ``path`` now and again after the test: a change is reported as drift."""
        key = os.path.abspath(path)
        self._start.setdefault(key, file_fingerprint(key))

    def env(self, prefix: str = "APP_", *, separator: str = "_", upper: bool = True
            ) -> dict[str, str | None]:
        """The variables :meth:`setenv` would set: ``{NAME: value}`` (None: unset).

        ``db.pool.size`` becomes ``<prefix>DB_POOL_SIZE``; booleans are ``true``/``false``,
        null is the empty string, lists and maps are JSON; parameters of the space absent
        from the config are unset.
        """
        def name(path: str) -> str:
            segments = [_ENV_UNSAFE.sub("_", s) for s in split_path(path)]
            text = prefix + separator.join(segments)
            return text.upper() if upper else text

        wanted: dict[str, str | None] = {}
        for path, value in self.flat().items():
            wanted[name(path)] = _env_text(value)
        for param in self._case.space.parameters:
            wanted.setdefault(name(param.path), None)
        return wanted

    def setenv(self, prefix: str = "APP_", *, separator: str = "_", upper: bool = True
               ) -> dict[str, str | None]:
        """Set environment variables from the config's flattened paths (see :meth:`env`).

        Everything set or unset is restored after the test.  Returns the variables.
        """
        wanted = self.env(prefix, separator=separator, upper=upper)
        for var, value in wanted.items():
            if var not in self._env:
                self._env[var] = os.environ.get(var)
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
            self._env_set[var] = value
        return wanted

    def _finish(self) -> tuple[str, ...]:
        """Undo :meth:`write` and :meth:`setenv`; returns what drifted meanwhile."""
        drift = list(drifted_files(self._start, fingerprint(self._start)))
        drift += [f"env:{var}" for var, value in self._env_set.items()
                  if os.environ.get(var) != value]
        for var, old in self._env.items():
            if old is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = old
        for target, (data, mode) in reversed(list(self._files.items())):
            if data is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(data)
                if mode is not None:
                    os.chmod(target, mode)
        for directory in reversed(self._dirs):
            with contextlib.suppress(OSError):  # the test left something in it: keep it
                directory.rmdir()
        self._files.clear()
        self._dirs.clear()
        self._env.clear()
        return tuple(drift)
