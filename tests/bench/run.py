"""`make bench`: run every registered measurement, print the figures, check the targets.

With `BENCH_JSON=FILE` the figures are also written to FILE as one JSON object. Exits 1 when
a target fails, so CI can hold the line.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

# The test environment (fake credentials, region, quiet logs) before anything imports boto3.
import tests.conftest  # noqa: F401
from tests.bench import registry

# The sandbox withholds some profiles on purpose, and ingest warns for each; those warnings
# would bury the figures. Errors still show.
os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"

WIDTH = 100


def load_measurements() -> None:
    package = Path(__file__).resolve().parent
    for module in sorted(pkgutil.iter_modules([str(package)]), key=lambda m: m.name):
        if module.name.startswith("bench_"):
            importlib.import_module(f"tests.bench.{module.name}")


def _format(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or abs(value) >= 1:
            return f"{value:,.2f}"
        return f"{value:.3g}"
    return str(value)


def print_section(section: registry.Section) -> None:
    print()
    print(section.title)
    print("-" * min(WIDTH, max(len(section.title), 40)))
    label_width = max((len(row.label) for row in section.rows), default=0)
    for row in section.rows:
        key = f"  [{row.key}]" if row.key else ""
        print(f"  {row.label:<{label_width}}  {_format(row.value):>12} {row.unit:<8}{key}")
    if section.table:
        headers, lines = section.table
        cells = [[_format(value) for value in line] for line in lines]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        print()
        print("  " + "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
        for line in cells:
            print("  " + "  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
    for note in section.notes:
        print(f"  * {note}")


def check_targets(figures: registry.Figures) -> tuple[bool, dict[str, Any]]:
    print()
    print("Targets (issue 2, Done when)")
    print("-" * 40)
    all_pass = True
    results = {}
    for target in registry.TARGETS:
        value = figures.get(target.key)
        passed = value is not None and target.holds(float(value))
        all_pass &= passed
        sign = "<" if target.strict else "<="
        ratio = f"{float(value) / target.limit:.0%} of limit" if value is not None else "missing"
        print(f"  {'PASS' if passed else 'FAIL'}  {target.label}: {_format(value)} "
              f"{sign} {_format(target.limit)}  ({ratio})")
        results[target.key] = {"value": value, "limit": target.limit,
                               "strict": target.strict, "pass": passed}
    return all_pass, results


def main() -> int:
    load_measurements()
    figures: registry.Figures = {}
    started = time.perf_counter()
    for item in registry.in_order():
        section = item.run(dict(figures))
        figures.update(section.figures())
        print_section(section)
        sys.stdout.flush()

    all_pass, targets = check_targets(figures)
    figures["targets"] = targets
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    print(f"\nbench took {figures['bench_seconds']} s")

    destination = os.environ.get("BENCH_JSON")
    if destination:
        Path(destination).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        print(f"figures written to {destination}")
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
