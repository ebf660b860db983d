"""Benchmarks run only with --run-bench (make bench): they print figures, they do not time tests."""

import pytest


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-bench"):
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make bench`")
    for item in items:
        if "tests/bench" in str(item.fspath):
            item.add_marker(skip)
