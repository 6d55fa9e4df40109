"""AWS cost per million inbound messages, implied by the measured counts at list prices.

Prices are us-east-1 list prices from AWS-NOTES §6.5 unless a line says otherwise; free tiers
are left out, so the figure is what a stack past them pays. "Message" means one queued
webhook event of the sample mix, the unit every ingest figure is counted in.
"""

from __future__ import annotations

import math
from typing import Any

from tests.bench.registry import Figures, Row, Section, measurement

MILLION = 1_000_000

LAMBDA_REQUEST_USD = 0.20 / MILLION
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
SQS_FIFO_REQUEST_USD = 0.50 / MILLION
DYNAMODB_WRU_USD = 0.625 / MILLION
DYNAMODB_RRU_USD = 0.125 / MILLION
# Not in AWS-NOTES §6.5 either: custom events on a bus, $1.00 per million entries (64 KB each).
EVENTBRIDGE_ENTRY_USD = 1.00 / MILLION
# Not in AWS-NOTES §6.5: Secrets Manager's list price, $0.05 per 10,000 API calls.
SECRETS_CALL_USD = 0.05 / 10_000

# Secrets are cached for five minutes per warm container (inbox/secrets.py): the webhook
# reads the app secret, ingest reads it and one page token per connected page. At a million
# messages a month, one warm container per function is assumed.
SECRET_CACHE_MINUTES = 5
MINUTES_PER_MONTH = 30 * 24 * 60
CONNECTED_PAGES = 2


def _function_settings() -> dict[str, dict[str, Any]]:
    from infra.cfn_yaml import load_template

    template = load_template()
    default_memory = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    found = {}
    for name in ("WebhookFunction", "IngestFunction"):
        properties = template["Resources"][name]["Properties"]
        batch = 1
        for source in (properties.get("Events") or {}).values():
            if source.get("Type") == "SQS":
                batch = source["Properties"].get("BatchSize", 10)
        found[name] = {"memory_mb": properties.get("MemorySize", default_memory),
                       "batch_size": batch}
    return found


def _gb_seconds(invocations: float, ms: float, memory_mb: int) -> float:
    # Lambda bills duration in whole milliseconds per invocation.
    return invocations * math.ceil(ms) / 1000 * memory_mb / 1024


# It reads the ingest figures; "imports" only makes it print last, as the sum of the rest.
@measurement("cost", after=("ingest", "imports"))
def measure_cost(figures: Figures) -> Section:
    functions = _function_settings()
    webhook_mb = functions["WebhookFunction"]["memory_mb"]
    ingest_mb = functions["IngestFunction"]["memory_mb"]
    batch = functions["IngestFunction"]["batch_size"]
    events = figures["bench_events"]

    posts = MILLION * figures["bench_posts"] / events
    ingest_invocations = MILLION / batch
    webhook_gbs = _gb_seconds(posts, figures["webhook_ms_per_post"], webhook_mb)
    ingest_gbs = _gb_seconds(ingest_invocations, batch * figures["ingest_ms_per_event"],
                             ingest_mb)
    sends = MILLION * figures["sqs_send_batches"] / events
    secret_calls = (1 + 1 + CONNECTED_PAGES) * MINUTES_PER_MONTH / SECRET_CACHE_MINUTES

    lines: list[tuple[str, str, float]] = [
        ("Lambda requests, webhook", f"{posts:,.0f} POSTs", posts * LAMBDA_REQUEST_USD),
        ("Lambda requests, ingest", f"{ingest_invocations:,.0f} batches of {batch}",
         ingest_invocations * LAMBDA_REQUEST_USD),
        ("Lambda arm64 duration, webhook",
         f"{webhook_gbs:,.0f} GB-s ({webhook_mb} MB)", webhook_gbs * LAMBDA_ARM64_GB_SECOND_USD),
        ("Lambda arm64 duration, ingest",
         f"{ingest_gbs:,.0f} GB-s ({ingest_mb} MB)", ingest_gbs * LAMBDA_ARM64_GB_SECOND_USD),
        ("Function URL", "no charge beyond Lambda", 0.0),
        ("SQS FIFO", f"{sends:,.0f} send batches + {ingest_invocations:,.0f} receives + "
         f"{ingest_invocations:,.0f} deletes",
         (sends + 2 * ingest_invocations) * SQS_FIFO_REQUEST_USD),
        ("DynamoDB writes, on demand",
         f"{figures['write_units_per_event'] * MILLION:,.0f} WRU",
         figures["write_units_per_event"] * MILLION * DYNAMODB_WRU_USD),
        ("DynamoDB reads, on demand",
         f"{figures['read_units_per_event'] * MILLION:,.0f} RRU",
         figures["read_units_per_event"] * MILLION * DYNAMODB_RRU_USD),
        ("EventBridge PutEvents",
         f"{figures['domain_events_per_event'] * MILLION:,.0f} entries",
         figures["domain_events_per_event"] * MILLION * EVENTBRIDGE_ENTRY_USD),
        ("Secrets Manager, cached 5 min", f"{secret_calls:,.0f} calls a month",
         secret_calls * SECRETS_CALL_USD),
    ]
    total = sum(usd for _, _, usd in lines)
    return Section(
        title="AWS cost per million inbound messages (us-east-1 list prices, no free tier)",
        rows=[Row("total", round(total, 2), "USD", "cost_per_million_usd")],
        table=(("line", "basis", "USD"),
               [(label, basis, round(usd, 4)) for label, basis, usd in lines]),
        notes=[
            "Durations are the local medians above, not Lambda's: real SQS, DynamoDB and "
            "EventBridge calls take milliseconds each in-region, so measure in the account.",
            f"Ingest runs in full batches of {batch} (a busy queue); a quiet one runs smaller "
            "batches and pays more requests per message. The queue's empty polls are a fixed "
            "cost, not a per-message one, and are left out.",
            "Secrets Manager assumes a million messages a month on one warm container per "
            f"function and {CONNECTED_PAGES} connected pages; its $0.40 per secret a month is "
            "fixed and left out.",
            "CloudWatch Logs are excluded; they often cost more than all of the above: cap "
            "retention and log levels.",
        ],
        extra={"cost_lines_usd": {label: round(usd, 6) for label, _, usd in lines}},
    )
