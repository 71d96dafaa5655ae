"""The pytest plugin under pytest-xdist with more workers than cores (store contention)."""

from __future__ import annotations

import pytest

from tests.integrations.test_pytest_plugin_xdist import _check, _run

pytest_plugins = ["pytester"]


@pytest.mark.slow
def test_eight_workers_on_a_larger_suite(pytester: pytest.Pytester) -> None:
    result, n_tests = _run(pytester, 8, 200)
    assert n_tests > 150
    _check(pytester, result, n_tests)
