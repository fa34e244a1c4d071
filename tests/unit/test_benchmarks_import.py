"""Every benchmark module imports: `make bench-*` is run by hand, so a rename elsewhere would otherwise break one
silently (bench-latency did, importing a name benchmarks.quality no longer had)."""

import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("module", sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "__init__"))
def test_the_benchmark_module_imports(module):
    importlib.import_module(f"benchmarks.{module}")
