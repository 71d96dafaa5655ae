"""Command templates: how ``{config}`` and ``{index}`` get into a command, safely.

The rule (documented in docs/execution.md):

* **argv form** — a template with no shell syntax is split like a shell line and run
  directly.  ``{config}`` is replaced by the config path inside its own argv element
  (``app --config {config}`` or ``--config={config}``); the path is never seen by a shell, so a
  directory called ``$(touch PWNED)`` is just a name.  A placeholder inside a larger element
  that holds spaces or shell syntax (``sh -c "cat {config}"``: a script for a nested shell)
  is refused: the path would be re-parsed as code there.
* **shell form** — a template with pipes, redirections, ``&&``, ``;``, ``$VAR``, globs or
  backticks (or ``shell=True``) runs under ``/bin/sh -c``.  The path is passed in the
  environment variable ``CONFIGLAB_CONFIG`` and ``{config}`` becomes a reference to it that
  is right for where it stands: ``"$CONFIGLAB_CONFIG"`` outside quotes, ``${CONFIGLAB_CONFIG}``
  inside double quotes, ``'"$CONFIGLAB_CONFIG"'`` inside single quotes.  The shell never
  parses the path's characters as code.  A placeholder in a quoted script handed to a nested
  shell (``sh -c "cat '{config}'"``) is refused, as in the argv form.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Final

from configlab.errors import ExecutionError

#: Environment variable holding the path of the config file of a run.
CONFIG_ENV: Final = "CONFIGLAB_CONFIG"
#: Characters that make a template need a shell (a ``{`` other than a placeholder, too).
_SHELL_SYNTAX = re.compile(r"[|&;<>()$`*?\[\]~\n\\]|\{(?!config\}|index\})")
#: Text around a placeholder inside one argv element that stays a plain word.
_PLAIN = re.compile(r"[\w@%+=:,./-]*")
#: A nested shell given a script with ``-c``.
_NESTED_SHELL = re.compile(
    r"(?:^|[\s;&|(])(?:\S*/)?(?:sh|bash|dash|zsh|ksh|ash)\s+(?:-\w+\s+)*-\w*c"
)
_PLACEHOLDER = "{config}"


def needs_shell(template: str) -> bool:
    """Whether ``template`` uses shell syntax (and so runs under ``/bin/sh -c``)."""
    return _SHELL_SYNTAX.search(template) is not None


def _shell_contexts(script: str) -> list[str]:
    """The quoting context (``"plain"``, ``"double"``, ``"single"``) of each ``{config}``.

    Command substitutions (``$(...)`` and backticks) start a fresh unquoted context, as in the
    shell.
    """
    contexts: list[str] = []
    stack = ["plain"]
    i = 0
    while i < len(script):
        state = stack[-1]
        if script.startswith(_PLACEHOLDER, i):
            contexts.append("single" if state == "single" else
                            "double" if state == "double" else "plain")
            i += len(_PLACEHOLDER)
            continue
        char = script[i]
        if state == "single":
            if char == "'":
                stack.pop()
        elif char == "\\":
            i += 1
        elif state == "double" and char == '"':
            stack.pop()
        elif script.startswith("$(", i):
            stack.append("subst")
            i += 1
        elif char == "`":
            if state == "backtick":
                stack.pop()
            else:
                stack.append("backtick")
        elif state == "subst" and char == ")":
            stack.pop()
        elif state != "double" and char == "'":
            stack.append("single")
        elif state != "double" and char == '"':
            stack.append("double")
        i += 1
    return contexts


_REFERENCE = {
    "plain": f'"${CONFIG_ENV}"',
    "double": f"${{{CONFIG_ENV}}}",
    "single": f"'\"${CONFIG_ENV}\"'",
}


@dataclass(frozen=True)
class CommandTemplate:
    """A command with ``{config}`` (the config path) and ``{index}`` (the run number) holes.

    Args:
        template: the command line.
        shell: True runs it under ``/bin/sh -c``; False never does; None (default) decides
            from the template's syntax (see the module docstring for the rules).
    """

    template: str
    shell: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.template, str) or not self.template.strip():
            raise ExecutionError("a command template must be a non-empty string")
        if self.uses_shell:
            self._check_nested(self.template)
            _shell_contexts(self.template)
            return
        try:
            parts = shlex.split(self.template)
        except ValueError as error:
            raise ExecutionError(f"command template {self.template!r}: {error}") from None
        if not parts:
            raise ExecutionError(f"command template {self.template!r} has no command")
        for part in parts:
            if _PLACEHOLDER in part:
                rest = part.replace(_PLACEHOLDER, "")
                if _PLAIN.fullmatch(rest) is None:
                    raise ExecutionError(
                        f"command template {self.template!r}: {{config}} inside the argument "
                        f"{part!r} would be read as code by whatever parses that argument; "
                        f"give {{config}} as its own argument, or read the path from "
                        f"${CONFIG_ENV} (e.g. sh -c 'cat \"${CONFIG_ENV}\"')"
                    )

    @classmethod
    def from_argv(cls, args: list[str] | tuple[str, ...]) -> CommandTemplate:
        """A template run directly from an argv list (``exec -- app --config {config}``)."""
        return cls(shlex.join(args), shell=False)

    @property
    def uses_shell(self) -> bool:
        """Whether the command runs under ``/bin/sh -c``."""
        return needs_shell(self.template) if self.shell is None else self.shell

    def _check_nested(self, script: str) -> None:
        nested = _NESTED_SHELL.search(script)
        if nested is None:
            return
        contexts = _shell_contexts(script[nested.end():])
        if any(context != "plain" for context in contexts):
            raise ExecutionError(
                f"command template {self.template!r}: {{config}} inside a quoted script for a "
                f"nested shell would be parsed as code; use \"${CONFIG_ENV}\" in that script "
                f"instead (the variable holds the config path)"
            )

    def argv(self, config_path: str, index: int = 0) -> list[str] | str:
        """The command for one run: a list (run directly) or a string for ``/bin/sh -c``.

        In the shell form the path itself is not in the string: the caller puts it in the
        environment as ``CONFIGLAB_CONFIG`` (:meth:`environment`).
        """
        if self.uses_shell:
            contexts = iter(_shell_contexts(self.template))
            pieces = self.template.split(_PLACEHOLDER)
            script = pieces[0]
            for piece in pieces[1:]:
                script += _REFERENCE[next(contexts)] + piece
            return script.replace("{index}", str(index))
        return [
            part.replace(_PLACEHOLDER, config_path).replace("{index}", str(index))
            for part in shlex.split(self.template)
        ]

    @staticmethod
    def environment(config_path: str) -> dict[str, str]:
        """The variables a run of the command needs (``CONFIGLAB_CONFIG``)."""
        return {CONFIG_ENV: config_path}
