"""Benchmarks: scripts that print figures, one JSON line each ({"metric", "value", "unit"}).

`make bench` runs `python -m tests.bench.run_all`, which runs every `bench_*.py` here in turn.
Nothing here is collected by pytest (no `test_` files): speed is measured, not asserted.
"""
