"""The benchmark's registry: named measurements, the figures they report, and targets.

A measurement is a function registered with `@measurement(name)`, in a `bench_*.py` module of
this package; `run.py` finds the modules, runs each measurement once, after the ones it names
in `after` (whose figures it may read, or which should print first), prints its section and
merges its figures into the one JSON object that `BENCH_JSON` receives. Later work adds a
module; nothing here or in `run.py` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Figures = dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One printed line; with `key`, its value is also a top-level figure of the JSON."""

    label: str
    value: float | int | str
    unit: str = ""
    key: str | None = None


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    # Column headers and rows of a table printed under the figures (a per-kind breakdown).
    table: tuple[tuple[str, ...], list[tuple[Any, ...]]] | None = None
    notes: list[str] = field(default_factory=list)
    # Figures for the JSON only (nested breakdowns), merged beside the rows' keys.
    extra: Figures = field(default_factory=dict)

    def figures(self) -> Figures:
        found: Figures = {row.key: row.value for row in self.rows if row.key}
        found.update(self.extra)
        return found


@dataclass(frozen=True)
class Measurement:
    name: str
    run: Callable[[Figures], Section]
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """A limit a figure must keep: `value <= limit`, or `value < limit` when `strict`."""

    key: str
    limit: float
    strict: bool
    label: str

    def holds(self, value: float) -> bool:
        return value < self.limit if self.strict else value <= self.limit


MEASUREMENTS: dict[str, Measurement] = {}
TARGETS: list[Target] = []


def measurement(name: str, *, after: tuple[str, ...] = ()) -> Callable[
    [Callable[[Figures], Section]], Callable[[Figures], Section]
]:
    """Register `run(figures so far) -> Section` under `name`, to run after `after`."""

    def register(run: Callable[[Figures], Section]) -> Callable[[Figures], Section]:
        assert name not in MEASUREMENTS, f"measurement {name} registered twice"
        MEASUREMENTS[name] = Measurement(name, run, after)
        return run

    return register


def target(key: str, limit: float, label: str, *, strict: bool = False) -> None:
    TARGETS.append(Target(key, limit, strict, label))


def in_order() -> list[Measurement]:
    """Measurements with each one after those it names; otherwise in registration order."""
    ordered: list[Measurement] = []
    done: set[str] = set()
    pending = list(MEASUREMENTS.values())
    while pending:
        ready = [m for m in pending if set(m.after) <= done]
        if not ready:
            missing = {name for m in pending for name in m.after} - set(MEASUREMENTS)
            raise RuntimeError(f"measurements wait on unknown or circular names: {missing}")
        for item in ready:
            ordered.append(item)
            done.add(item.name)
            pending.remove(item)
    return ordered
