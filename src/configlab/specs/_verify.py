"""Verification: run the application under configs that satisfy each rule and judge every run.

:func:`verify` reads as its steps: resolve the runner and predicates, pick the configs each rule
is judged on (generated, given, or a SAT witness), save them as snapshots, run each distinct
config once, judge every rule on the outcomes, and record the checks as results.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from configlab.errors import ConfiglabError, SpecError
from configlab.generation import generate
from configlab.results import ResultStore
from configlab.snapshots import SnapshotStore
from configlab.specs._load import as_spec
from configlab.specs._model import (
    DEFAULT_COUNT,
    Outcome,
    Rule,
    Spec,
    config_json,
    resolve_predicate,
)
from configlab.specs._report import Check, RuleReport, VerificationReport
from configlab.specs._rulemodel import RuleModel
from configlab.specs._runners import (
    CommandRunner,
    PytestRunner,
    _check_timeout,
    call_with_timeout,
    run_all,
)
from configlab.specs._versions import opened_store, record_spec
from configlab.storage import StoreLocation

Runner = Callable[[Mapping[str, Any]], Any]


def _to_outcome(status: str, value: Any, duration: float) -> Outcome:
    if status == "timeout":
        return Outcome(
            outcome="error", error=f"timeout after {duration:.3g} s", duration_s=duration
        )
    if status == "raised":
        if isinstance(value, KeyboardInterrupt):  # pragma: no cover - let the user stop us
            raise value
        return Outcome.from_exception(value, duration)
    try:
        if isinstance(value, Outcome):
            outcome = value
        elif isinstance(value, Mapping):
            outcome = Outcome.from_dict(value)
        elif isinstance(value, bool):
            outcome = Outcome(outcome="pass" if value else "fail")
        elif isinstance(value, int):
            outcome = Outcome(exit_code=value)
        elif value is None:
            outcome = Outcome(outcome="pass")
        else:
            return Outcome(
                outcome="error",
                duration_s=duration,
                error=f"runner returned {type(value).__name__}, not an Outcome",
            )
    except SpecError as error:
        return Outcome(outcome="error", duration_s=duration, error=f"runner returned {error}")
    if outcome.duration_s is None:
        outcome = replace(outcome, duration_s=duration)
    return outcome


def _judge(
    rule: Rule,
    config: Mapping[str, Any],
    outcome: Outcome,
    predicates: Mapping[str, Callable[[Mapping[str, Any], Outcome], Any]],
) -> tuple[str, tuple[str, ...], str | None]:
    if outcome.error is not None:
        return "errored", (), outcome.error
    if outcome.outcome == "error" and not rule.expects_error:
        what = f"raised {outcome.exception}" if outcome.exception else "errored"
        detail = outcome.stderr.strip().splitlines()[-1] if outcome.stderr.strip() else ""
        if outcome.exception and detail.startswith(f"{outcome.exception}:"):
            detail = detail[len(outcome.exception) + 1 :].strip()
        return (
            "errored",
            (),
            f"application {what}"
            + (f": {detail}" if detail and detail != outcome.exception else ""),
        )
    failures: list[str] = []
    for expectation in rule.expect:
        try:
            problem = expectation.evaluate(config, outcome, predicates.get(expectation.value))
        except Exception as error:
            return (
                "errored",
                (),
                f"predicate {expectation.value} raised {type(error).__name__}: {error}",
            )
        if problem is not None:
            failures.append(problem)
    return ("violated" if failures else "held"), tuple(failures), None


def _as_runner(
    runner: Runner | str | CommandRunner | PytestRunner, timeout: float | None, fmt: str
) -> tuple[Runner, bool, str]:
    """(callable, handles its own timeout, description)."""
    if isinstance(runner, str):
        made = CommandRunner(runner, fmt=fmt, timeout=timeout)
        return made, True, repr(made)
    if isinstance(runner, CommandRunner | PytestRunner):
        if runner.timeout is None and timeout is not None:
            runner = _with_timeout(runner, timeout)
        return runner, True, repr(runner)
    if callable(runner):
        name = getattr(runner, "__qualname__", None) or type(runner).__name__
        module = getattr(runner, "__module__", "") or ""
        return runner, False, f"{module}:{name}" if module else str(name)
    raise SpecError(
        f"a runner must be a callable, a command template or a PytestRunner, "
        f"got {type(runner).__name__}"
    )


def _with_timeout(
    runner: CommandRunner | PytestRunner, timeout: float
) -> CommandRunner | PytestRunner:
    _check_timeout(timeout)
    clone = copy.copy(runner)
    clone.timeout = timeout
    return clone


def verify(
    spec: Spec | str | os.PathLike[str],
    runner: Runner | str | CommandRunner | PytestRunner,
    configs: Iterable[Mapping[str, Any]] | None = None,
    strategy: str = "covering",
    seed: int = 0,
    store: SnapshotStore | str | os.PathLike[str] | StoreLocation | None = None,
    workers: int | None = None,
    timeout: float | None = None,
    *,
    fmt: str = "yaml",
    progress: bool | None = None,
    max_per_rule: int | None = None,
    count: int | None = None,
    witnesses: int = 1,
) -> VerificationReport:
    """Run the application under configs that satisfy each rule and judge every run.

    Configs come from ``configs`` or, by default, ``configlab.generate(space, strategy, seed)``;
    a rule that no generated config satisfies gets a witness from the SAT model of the space
    plus its ``when``.  Each distinct config runs once (all rules that apply to it judge the same
    run).  ``runner``: a callable ``config -> Outcome`` (an exception it raises is the
    application's exception), a shell command template with ``{config}`` (config written in
    ``fmt``), or a :class:`CommandRunner` / :class:`PytestRunner`.  ``timeout`` (seconds)
    bounds every run; a run over it is errored.  ``workers`` runs in parallel (default: up to 4
    threads; 1 = sequential).  With ``store`` every config is saved as a snapshot (meta links
    spec, version, hash and rules) and the spec itself is recorded (:func:`record_spec`).
    The judged checks are also appended to the store's results table
    (:meth:`VerificationReport.to_results`).  ``progress`` shows a rich progress bar
    (default: when stderr is a terminal).
    ``max_per_rule`` caps the configs judged per rule; ``count`` caps the generated configs
    (default: all for ``covering``/``exhaustive``, :data:`DEFAULT_COUNT` for ``boundary`` and
    ``random``).  ``witnesses`` is how many distinct SAT witnesses a rule no generated config
    satisfies is judged on (default 1; each is searched with another seed, fewer when the
    space has fewer).
    """
    the_spec = as_spec(spec)
    if isinstance(witnesses, bool) or not isinstance(witnesses, int) or witnesses < 1:
        raise SpecError(f"witnesses must be a positive integer, got {witnesses!r}")
    _check_timeout(timeout)
    workers = _check_workers(workers, max_per_rule)
    run, own_timeout, runner_name = _as_runner(runner, timeout, fmt)
    predicates = _resolve_predicates(the_spec)
    candidates = _candidates(the_spec, configs, strategy, seed, count)
    chosen, notes = _choose_configs(the_spec, candidates, given=configs is not None, seed=seed,
                                    witnesses=witnesses)
    if max_per_rule:
        chosen = {rule_id: indexes[:max_per_rule] for rule_id, indexes in chosen.items()}
    to_run = sorted({i for indexes in chosen.values() for i in indexes})
    with opened_store(store) as opened:
        spec_snapshot: str | None = None
        snapshot_ids: dict[int, str] = {}
        if opened is not None:
            spec_snapshot = record_spec(opened, the_spec).id
            snapshot_ids = _save_configs(opened, the_spec, candidates, chosen, to_run, fmt)
        if progress is None:
            progress = sys.stderr.isatty()
        outcomes = _run_configs(
            run,
            candidates,
            to_run,
            timeout=None if own_timeout else timeout,
            workers=workers,
            progress=progress,
            label=f"verify {the_spec.label}",
        )
        report = VerificationReport(
            spec_name=the_spec.name,
            spec_version=the_spec.version,
            spec_hash=the_spec.digest(),
            rules=_rule_reports(
                the_spec, candidates, chosen, notes, outcomes, snapshot_ids, predicates
            ),
            spec_snapshot=spec_snapshot,
            runner=runner_name,
            strategy="given" if configs is not None else strategy,
            seed=seed,
        )
        if opened is not None:
            with ResultStore(opened.location) as results:
                results.record_many(report.to_results())
        return report


def _check_workers(workers: int | None, max_per_rule: int | None) -> int:
    """The worker count (default: up to 4 threads); SpecError on a bad count or per-rule cap."""
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SpecError(f"workers must be a positive integer, got {workers!r}")
    if max_per_rule is not None and (not isinstance(max_per_rule, int) or max_per_rule < 1):
        raise SpecError(f"max_per_rule must be a positive integer, got {max_per_rule!r}")
    return workers


def _resolve_predicates(
    spec: Spec,
) -> dict[str, Callable[[Mapping[str, Any], Outcome], Any]]:
    """Import every predicate the spec names once, before anything runs."""
    return {
        e.value: resolve_predicate(e.value)
        for r in spec.rules
        for e in r.expect
        if e.kind == "predicate"
    }


def _choose_configs(
    spec: Spec, candidates: list[dict[str, Any]], *, given: bool, seed: int, witnesses: int = 1
) -> tuple[dict[str, list[int]], dict[str, str]]:
    """The candidate indexes each rule is judged on, and a note per rule that needed one.

    A rule that no generated config satisfies gets a SAT witness (appended to ``candidates``);
    a rule no valid config satisfies is noted as dead.  Given configs are never extended.
    """
    space = spec.space
    keys = {config_json(c): i for i, c in reversed(list(enumerate(candidates)))}
    chosen: dict[str, list[int]] = {}
    notes: dict[str, str] = {}
    model: RuleModel | None = None
    try:
        for index, rule in enumerate(spec.rules):
            matching = [i for i, c in enumerate(candidates) if rule.applies(c, space)]
            if not matching and not given and space is not None:
                if model is None:
                    model = RuleModel(space, [r.condition for r in spec.rules])
                found = _witnesses(model, index, seed, witnesses)
                if not found:
                    notes[rule.id] = "dead: no valid config satisfies 'when'"
                else:
                    for witness in found:
                        key = config_json(witness)
                        if key not in keys:
                            keys[key] = len(candidates)
                            candidates.append(witness)
                        matching.append(keys[key])
                    used = "a SAT witness" if len(found) == 1 else f"{len(found)} SAT witnesses"
                    notes[rule.id] = f"no generated config satisfied 'when'; used {used}"
            elif not matching:
                notes[rule.id] = "no given config satisfies 'when'"
            chosen[rule.id] = matching
    finally:
        if model is not None:
            model.close()
    return chosen, notes


def _witnesses(model: RuleModel, index: int, seed: int, wanted: int) -> list[dict[str, Any]]:
    """Up to ``wanted`` distinct witness configs of rule ``index`` (one SAT search per seed;
    a few extra seeds are tried because two seeds may complete to the same config)."""
    found: dict[str, dict[str, Any]] = {}
    for attempt in range(wanted * 4 if wanted > 1 else 1):
        witness = model.witness([index], seed + attempt)
        if witness is None:
            break
        found.setdefault(config_json(witness), witness)
        if len(found) == wanted:
            break
    return list(found.values())


def _save_configs(
    store: SnapshotStore,
    spec: Spec,
    candidates: Sequence[Mapping[str, Any]],
    chosen: Mapping[str, list[int]],
    to_run: Sequence[int],
    fmt: str,
) -> dict[int, str]:
    """Save every config to run as a snapshot whose meta links the spec and its rules."""
    spec_hash = spec.digest()
    snapshot_ids: dict[int, str] = {}
    for i in to_run:
        rules_here = [r.id for r in spec.rules if i in chosen[r.id]]
        meta = {
            "kind": "spec-config",
            "spec_name": spec.name,
            "spec_version": spec.version,
            "spec_hash": spec_hash,
            "rules": rules_here,
        }
        try:
            saved = store.save_config(
                candidates[i],
                f"config.{_extension(fmt)}",
                fmt,
                meta=meta,
                tags=[f"spec-config:{spec.label}"],
            )
        except ConfiglabError as error:
            raise SpecError(f"config #{i} cannot be saved as {fmt}: {error}") from None
        snapshot_ids[i] = saved.id
    return snapshot_ids


def _run_configs(
    run: Runner,
    candidates: Sequence[Mapping[str, Any]],
    to_run: Sequence[int],
    *,
    timeout: float | None,
    workers: int,
    progress: bool,
    label: str,
) -> dict[int, Outcome]:
    """Run the application once per config in ``to_run``; the outcome of each, by index."""

    def task_for(i: int) -> Callable[[], Outcome]:
        def task() -> Outcome:
            status, value, duration = call_with_timeout(run, candidates[i], timeout)
            return _to_outcome(status, value, duration)

        return task

    outcomes = run_all(
        [task_for(i) for i in to_run], workers=workers, progress=progress, label=label
    )
    return dict(zip(to_run, outcomes, strict=True))


def _rule_reports(
    spec: Spec,
    candidates: Sequence[Mapping[str, Any]],
    chosen: Mapping[str, list[int]],
    notes: Mapping[str, str],
    outcomes: Mapping[int, Outcome],
    snapshot_ids: Mapping[int, str],
    predicates: Mapping[str, Callable[[Mapping[str, Any], Outcome], Any]],
) -> tuple[RuleReport, ...]:
    """Judge each rule on the outcomes of its configs."""
    reports = []
    for rule in spec.rules:
        checks = []
        for i in chosen[rule.id]:
            verdict, failures, problem = _judge(rule, candidates[i], outcomes[i], predicates)
            checks.append(
                Check(
                    rule.id,
                    i,
                    candidates[i],
                    verdict,
                    outcomes[i],
                    snapshot_ids.get(i),
                    failures,
                    problem,
                )
            )
        reports.append(
            RuleReport(rule.id, rule.description, rule.when, tuple(checks), notes.get(rule.id, ""))
        )
    return tuple(reports)


def _extension(fmt: str) -> str:
    return {"yml": "yaml", "dotenv": "env"}.get(fmt, fmt)


def _candidates(
    spec: Spec,
    configs: Iterable[Mapping[str, Any]] | None,
    strategy: str,
    seed: int,
    count: int | None,
) -> list[dict[str, Any]]:
    if configs is not None:
        if isinstance(configs, Mapping | str | bytes):
            raise SpecError("configs must be an iterable of config mappings")
        found = []
        for index, config in enumerate(configs):
            if not isinstance(config, Mapping):
                raise SpecError(f"config #{index} is not a mapping: {config!r}"[:200])
            found.append(dict(config))
        return found
    if spec.space is None:
        raise SpecError(f"spec {spec.label} has no space: pass configs= or give the spec a space")
    if count is None and strategy in ("boundary", "random"):
        count = DEFAULT_COUNT
    return [dict(c) for c in generate(spec.space, strategy=strategy, seed=seed, count=count)]
