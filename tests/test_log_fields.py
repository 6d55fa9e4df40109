"""Log calls never name a field the standard LogRecord owns.

`logging` raises KeyError ("Attempt to overwrite 'created' in LogRecord") when `extra` names
one of its own attributes, and only when the level is enabled, so such a key turns a request
that did its work into a 500 in production (INFO) while tests at a quieter level pass.
"""

from __future__ import annotations

import ast
import logging
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The attributes of a record made now, plus those the formatter or newer Pythons add.
RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def _extra_keys(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "extra" and isinstance(keyword.value, ast.Dict):
                found += [(node.lineno, key.value) for key in keyword.value.keys
                          if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    return found


def test_no_log_call_names_a_reserved_record_attribute():
    clashes = [f"{path.relative_to(ROOT)}:{line} {key!r}"
               for folder in ("shared", "functions", "infra")
               for path in sorted((ROOT / folder).rglob("*.py"))
               for line, key in _extra_keys(path) if key in RESERVED]

    assert clashes == []


def test_the_suite_logs_at_info_so_log_calls_run():
    # At WARNING the info calls are skipped before their record is made, which hid the
    # catalog's `created` key from every catalog test.
    assert os.environ["POWERTOOLS_LOG_LEVEL"] in ("DEBUG", "INFO")
