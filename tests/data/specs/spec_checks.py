"""Predicates referenced by import path from the spec tests."""


def small_output(config, outcome):
    return len(outcome.stdout) < 100


def mentions_mode(config, outcome):
    return config.get("mode", "") in outcome.stdout


def broken(config, outcome):
    raise ZeroDivisionError("predicate bug")


not_callable = 3
