"""Benchmark targets: each is printed with its verdict, and a missed one fails `make bench`.

Targets live here and in the benchmarks that call ``expect``, never in timed unit tests (`make test`
leaves tests/bench out unless --run-bench is given).
"""


def expect(label, value, target, *, at_most=True, unit=""):
    """Print ``label``'s figure against its target and fail the benchmark when it is missed."""
    met = value <= target if at_most else value >= target
    sign = "<=" if at_most else ">="
    print(f"TARGET {label}: {value:,.2f}{unit} (target {sign} {target:,}{unit}) {'met' if met else 'MISSED'}")
    assert met, f"benchmark target missed: {label} {value:,.2f}{unit}, target {sign} {target:,}{unit}"
