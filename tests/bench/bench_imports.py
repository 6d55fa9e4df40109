"""Import time of the webhook and ingest functions in a fresh interpreter, and a cold first call.

Each figure is the median of five new interpreters running `cold_probe.py`. The webhook's
first call is measured too, because it makes boto3 and its clients lazily: a small import
figure alone would hide that the first request pays for them. The probe talks to moto's
server on loopback, so it imports none of moto and pays real HTTP round trips (local ones).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.bench.registry import Figures, Row, Section, measurement, target
from tests.conftest import APP_SECRET, ROOT, VERIFY_TOKEN
from tests.ingest.helpers import SAMPLES, function_url_event, signature

RUNS = 5
PROBE = Path(__file__).resolve().parent / "cold_probe.py"

# Held on CPU time: on a shared machine the wall clock also counts other processes' turns on
# the cores, which is not the function's cost. Both are printed.
target("webhook_import_cpu_ms", 300, "webhook import, CPU ms in a fresh interpreter",
       strict=True)


def _probe(function: str, env: dict[str, str], request_file: str | None = None) -> dict[str, Any]:
    command = [sys.executable, str(PROBE), function, *([request_file] if request_file else [])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"cold probe of {function} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, Any]], name: str) -> float:
    return round(statistics.median(run[name] for run in runs), 1)


def _stack_environment(endpoint_url: str) -> dict[str, str]:
    from infra.local.resources import create_resources

    env = create_resources(region="us-east-1", endpoint_url=endpoint_url, app_secret=APP_SECRET,
                           verify_token=VERIFY_TOKEN, name_prefix="bench-cold")
    return {
        **os.environ,
        **env,
        "AWS_ENDPOINT_URL": endpoint_url,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


# After ingest only to print in reading order: it reads none of its figures.
@measurement("imports", after=("ingest",))
def measure_imports(_: Figures) -> Section:
    from infra.local.dev import start_moto

    # moto's server logs each request it answers; those lines would bury the figures.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server, endpoint_url = start_moto(port=0)
    try:
        env = _stack_environment(endpoint_url)
        raw = (SAMPLES / "01-text-plain.json").read_bytes()
        request = function_url_event("POST", raw, {"x-hub-signature-256": signature(raw)})
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(request, handle)
        try:
            webhook = [_probe("webhook", env, handle.name) for _ in range(RUNS)]
        finally:
            os.unlink(handle.name)
        ingest = [_probe("ingest", env) for _ in range(RUNS)]
    finally:
        server.stop()

    if any(run["status"] != 200 for run in webhook):
        raise RuntimeError("the cold webhook did not answer 200")
    eager_boto3 = [name for name, runs in (("webhook", webhook), ("ingest", ingest))
                   if any(run["boto3_loaded_at_import"] for run in runs)]
    return Section(
        title=f"Cold start, median of {RUNS} fresh interpreters (local, not Lambda)",
        rows=[
            Row("webhook import, wall clock", _median(webhook, "import_ms"), "ms",
                "webhook_import_ms"),
            Row("webhook import, CPU time", _median(webhook, "import_cpu_ms"), "ms",
                "webhook_import_cpu_ms"),
            Row("webhook first call (lazy boto3, clients, secret, SQS send)",
                _median(webhook, "first_call_ms"), "ms", "webhook_cold_first_call_ms"),
            Row("webhook second call", _median(webhook, "second_call_ms"), "ms",
                "webhook_warm_second_call_ms"),
            Row("ingest import, wall clock", _median(ingest, "import_ms"), "ms",
                "ingest_import_ms"),
            Row("ingest import, CPU time", _median(ingest, "import_cpu_ms"), "ms",
                "ingest_import_cpu_ms"),
        ],
        notes=[
            "Import is timed inside the interpreter, after its own start-up (Lambda's runtime "
            "start is not the function's to shrink); AWS calls go to moto's server on "
            "loopback. Wall clock grows when other processes share the cores; CPU time "
            "does not, and the target is held on it.",
            "boto3 is imported at module load by: "
            + (", ".join(eager_boto3) if eager_boto3 else "neither function")
            + "; the webhook's first call pays for it otherwise.",
        ],
        extra={"import_runs": {"webhook": webhook, "ingest": ingest}},
    )
