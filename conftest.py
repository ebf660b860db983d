"""Root conftest: command-line options shared by the suite."""


def pytest_addoption(parser):
    parser.addoption("--run-bench", action="store_true", default=False, help="run the benchmarks in tests/bench")
