"""Run by bench_imports in a fresh interpreter: time one function's import, then its first calls.

Usage: `python cold_probe.py FUNCTION [REQUEST_JSON]`; prints one JSON object. It imports
nothing beyond the standard library before the clock starts, so the import figure holds all
that the function itself pulls in, as Lambda's init phase would. With a request, it calls the
handler twice: the first call pays for what the function loads lazily (boto3, its clients,
the secret), the second is warm.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class _Context:
    function_name = "cold-probe"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:cold-probe"
    aws_request_id = "cold-probe"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def main(name: str, request_file: str | None) -> dict[str, Any]:
    started, cpu_started = time.perf_counter(), time.process_time()
    # Lambda imports the handler module as `app` from the function's own directory.
    spec = importlib.util.spec_from_file_location("app", ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cpu_ms = (time.process_time() - cpu_started) * 1000
    figures: dict[str, Any] = {"import_ms": _ms_since(started),
                               "import_cpu_ms": round(cpu_ms, 2),
                               "boto3_loaded_at_import": "boto3" in sys.modules}
    if request_file is None:
        return figures

    request = json.loads(Path(request_file).read_text())
    for label in ("first_call_ms", "second_call_ms"):
        started = time.perf_counter()
        answer = module.handler(request, _Context())
        figures[label] = _ms_since(started)
        figures["status"] = answer["statusCode"]
    return figures


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)))
