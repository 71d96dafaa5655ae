"""Secret redaction: the one rule set applied to everything configlab shows or exports.

Config *files* are kept byte-exact in the snapshot store (restoring them is the point of a
snapshot); what is *shown* (``snapshot show``/``list``, error messages) or *exported* (JUnit,
Markdown, CTRF, CSV, Allure, JSON lines, Parquet, bundle metadata, captured environment
variables) goes through :class:`RedactionRules`:

* a value whose *name* looks secret is replaced by :data:`REDACTED`.  A name is an environment
  variable name or a config key (the last segment of a dotted path); it looks secret when it
  contains one of :data:`SECRET_SUBSTRINGS` (``password``, ``passwd``, ``passphrase``, ``token``,
  ``secret``, ``credential``, ``apikey``, ``privatekey``, any case) or has one of
  :data:`SECRET_WORDS` as a whole word (``pass``, ``pwd``, ``auth``, ``key``, ``private``,
  ``pem``, ``cookie``, ``dsn`` ...; words split at ``.``, ``_``, ``-`` and camelCase) -- so
  ``DB_PASS``, ``db.password``, ``apiKey``, ``GH_AUTH``, ``TLS_PRIVATE_KEY``, ``CERT_PEM`` are
  secret and ``passport``, ``keyboard``, ``author`` are not;
* in every other string the password of a URL (``postgresql://user:secret@host/db``) becomes
  :data:`REDACTED`.

The rules are configurable: ``extra_words`` adds words, ``allow`` lists names (or globs) kept
unredacted, and ``enabled=False`` turns redaction off.  The process-wide rules come from the
environment (``CONFIGLAB_SECRET_WORDS``: comma-separated extra words; ``CONFIGLAB_ALLOW_SECRETS``:
comma-separated names or globs; ``CONFIGLAB_NO_REDACT=1``) and the ``configlab --no-redact``
option; :func:`using` sets them for a block.
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: What a redacted value is replaced by.
REDACTED = "***REDACTED***"

#: A name containing one of these (any case, anywhere) is secret.
SECRET_SUBSTRINGS: tuple[str, ...] = (
    "password", "passwd", "passphrase", "token", "secret", "credential", "apikey", "privatekey",
)
#: A name with one of these as a whole word (split at ``.``, ``_``, ``-``, camelCase) is secret.
SECRET_WORDS: frozenset[str] = frozenset({
    "pass", "pwd", "auth", "authorization", "bearer", "key", "private", "pem", "cookie", "dsn",
})

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
# scheme://user:password@host -- the password is everything between the first ':' after the
# user name and the last '@' before the host (passwords may contain '@' or ':').
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>[^\s/?#]*)@")


def _words(name: str) -> list[str]:
    return [word.lower() for word in _WORD_SPLIT.split(name) if word]


@dataclass(frozen=True)
class RedactionRules:
    """Which names are secret, which are allowed through, and whether to redact at all."""

    enabled: bool = True
    extra_words: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RedactionRules:
        """Rules from the ``CONFIGLAB_NO_REDACT``, ``CONFIGLAB_SECRET_WORDS`` and
        ``CONFIGLAB_ALLOW_SECRETS`` environment variables."""
        env = os.environ if environ is None else environ

        def items(name: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())

        return cls(
            enabled=env.get("CONFIGLAB_NO_REDACT", "").strip().lower() not in ("1", "true", "yes"),
            extra_words=tuple(word.lower() for word in items("CONFIGLAB_SECRET_WORDS")),
            allow=items("CONFIGLAB_ALLOW_SECRETS"),
        )

    def allowed(self, name: str) -> bool:
        """Whether ``name`` is explicitly allowed through (exact name or glob in ``allow``)."""
        return any(name == pattern or fnmatch.fnmatchcase(name, pattern) for pattern in self.allow)

    def is_secret_name(self, name: str) -> bool:
        """Whether a value named ``name`` (env variable or config key) is redacted."""
        if not self.enabled or self.allowed(name):
            return False
        lowered = name.lower()
        if any(part in lowered for part in SECRET_SUBSTRINGS):
            return True
        extra = self.extra_words
        return any(word in SECRET_WORDS or word in extra for word in _words(name))

    def text(self, text: str) -> str:
        """``text`` with the password of every URL in it redacted."""
        if not self.enabled or "://" not in text:
            return text
        return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{REDACTED}@", text)

    def value(self, name: str, value: Any) -> Any:
        """The value shown for ``name``: REDACTED when the name is secret, else :meth:`tree`."""
        if self.is_secret_name(name.rsplit(".", 1)[-1]) and not self.allowed(name):
            return self._mask(value)
        return self.tree(value, name)

    def tree(self, data: Any, prefix: str = "") -> Any:
        """A copy of ``data`` (nested dicts/lists/scalars) with secrets redacted.

        A scalar under a secret key is redacted (``allow`` may name the key or its dotted path
        from ``prefix``); every other string has URL passwords redacted.
        """
        if not self.enabled:
            return data
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, Mapping):
            out: dict[Any, Any] = {}
            for key, item in data.items():
                path = f"{prefix}.{key}" if prefix else str(key)
                secret = self.is_secret_name(str(key)) and not self.allowed(path)
                out[key] = self._mask(item) if secret else self.tree(item, path)
            return out
        if isinstance(data, (list, tuple)):
            return [self.tree(item, prefix) for item in data]
        return data

    def _mask(self, item: Any) -> Any:
        """A secret value: scalars (except null) become REDACTED, lists element by element."""
        if isinstance(item, Mapping):
            return self.tree(item)
        if isinstance(item, (list, tuple)):
            return [self._mask(element) for element in item]
        return item if item is None else REDACTED

    def flat(self, items: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """``(name, value)`` pairs with :meth:`value` applied to each."""
        return [(name, self.value(name, value)) for name, value in items]


_CURRENT: contextvars.ContextVar[RedactionRules | None] = contextvars.ContextVar(
    "configlab_redaction", default=None
)


def current() -> RedactionRules:
    """The rules in force: set by :func:`using`, else from the environment."""
    rules = _CURRENT.get()
    return RedactionRules.from_environment() if rules is None else rules


@contextlib.contextmanager
def using(rules: RedactionRules) -> Iterator[RedactionRules]:
    """Apply ``rules`` to everything shown or exported inside the ``with`` block."""
    token = _CURRENT.set(rules)
    try:
        yield rules
    finally:
        _CURRENT.reset(token)


def redact_tree(data: Any) -> Any:
    """``data`` with secrets redacted by the current rules (see :class:`RedactionRules.tree`)."""
    return current().tree(data)


def redact_text(text: str) -> str:
    """``text`` with URL passwords redacted by the current rules."""
    return current().text(text)


__all__ = [
    "REDACTED",
    "SECRET_SUBSTRINGS",
    "SECRET_WORDS",
    "RedactionRules",
    "current",
    "redact_text",
    "redact_tree",
    "using",
]
