"""S3 and Lambda cost per inbound image kept: the media job of sample 05, measured and priced.

One image of IMAGE_BYTES is served by the sandbox; the message is ingested, then its media job
runs once under the capacity meter (request units and every AWS call counted) and a few times
bare (time). Prices are us-east-1 list prices; free tiers are left out.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from typing import Any

from tests.bench.bench_ingest import REGION, _environment, _provision
from tests.bench.meter import CapacityMeter
from tests.bench.registry import Figures, Row, Section, measurement
from tests.ingest.helpers import LambdaContext, drain, load_function, post_webhook, sample

MILLION = 1_000_000
IMAGE_BYTES = 200 * 1024  # a typical Messenger photo
TIMED_RUNS = 5

LAMBDA_REQUEST_USD = 0.20 / MILLION
LAMBDA_ARM64_GB_SECOND_USD = 0.0000133334
SQS_STANDARD_REQUEST_USD = 0.40 / MILLION
DYNAMODB_WRU_USD = 0.625 / MILLION
DYNAMODB_RRU_USD = 0.125 / MILLION
EVENTBRIDGE_ENTRY_USD = 1.00 / MILLION
# Not in AWS-NOTES §6.5: S3 Standard list prices, us-east-1.
S3_PUT_USD = 0.005 / 1000
S3_GET_USD = 0.0004 / 1000
S3_GB_MONTH_USD = 0.023


def _media_memory_mb() -> int:
    from infra.cfn_yaml import load_template

    template = load_template()
    default = template["Globals"]["Function"].get("MemorySize", 128)
    return int(template["Resources"]["MediaFunction"]["Properties"].get("MemorySize", default))


def _job_record(env: dict[str, str]) -> dict[str, Any]:
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    (message,) = sqs.receive_message(QueueUrl=env["MEDIA_QUEUE_URL"], AttributeNames=["All"],
                                     MaxNumberOfMessages=1)["Messages"]
    sqs.delete_message(QueueUrl=env["MEDIA_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"])
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": message["Attributes"],
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench-media",
            "awsRegion": REGION}


def _reset_attachment(body: str) -> None:
    import json

    from inbox.models import Message

    job = json.loads(body)
    message = Message.get(f"CONV#{job['conversation_id']}", job["message_sk"])
    for attachment in message.attachments:
        attachment.media_status = "pending"
    message.save()


@measurement("media", after=("cost",))
def measure_media(_: Figures) -> Section:
    import boto3
    from moto import mock_aws

    from infra.local.sandbox import create_sandbox, default_pages, sandbox_of, start_sandbox
    from tests.conftest import APP_SECRET, PAGE_A, PAGE_B

    media = load_function("media")
    with _environment(), mock_aws():
        app = create_sandbox(app_secret=APP_SECRET, pages=default_pages([PAGE_A, PAGE_B]))
        base_url, stop = start_sandbox(app)
        try:
            env = _provision("bench-media", base_url)
            os.environ["MEDIA_ALLOWED_HOSTS"] = "127.0.0.1"
            from inbox import settings

            settings.reload_settings()
            sandbox_of(app).host_media("photo.jpg", os.urandom(IMAGE_BYTES), "image/jpeg")
            raw = sample("05-attachment-image.json").replace(
                b"https:\\/\\/scontent.example.invalid\\/v\\/sample-photo-0005.jpg",
                (base_url.replace("/", "\\/") + "\\/_sandbox\\/media\\/photo.jpg").encode())
            post_webhook(raw)
            drain(env)
            record = _job_record(env)

            meter = CapacityMeter(boto3.client("dynamodb", region_name=REGION))
            with meter.installed(), meter.tally() as tally:
                answer = media.handler({"Records": [record]}, LambdaContext())
            assert answer["batchItemFailures"] == [], answer
            calls = dict(meter.calls)

            timings = []
            for _ in range(TIMED_RUNS):
                _reset_attachment(record["body"])
                started = time.perf_counter()
                media.handler({"Records": [record]}, LambdaContext())
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            stop()

    memory_mb = _media_memory_mb()
    ms = statistics.median(timings)
    gb_seconds = math.ceil(ms) / 1000 * memory_mb / 1024
    s3_puts = sum(n for (service, op), n in calls.items() if service == "s3" and op == "PutObject")
    events = sum(n for (service, op), n in calls.items() if op == "PutEvents")
    lines = [
        ("Lambda request", "1 job per invocation (a quiet queue)", LAMBDA_REQUEST_USD),
        ("Lambda arm64 duration", f"{ms:.1f} ms at {memory_mb} MB",
         gb_seconds * LAMBDA_ARM64_GB_SECOND_USD),
        ("SQS standard", "send + receive + delete", 3 * SQS_STANDARD_REQUEST_USD),
        ("S3 PUT", f"{s3_puts} PutObject", s3_puts * S3_PUT_USD),
        ("S3 storage, first month", f"{IMAGE_BYTES / 1024:.0f} KB",
         IMAGE_BYTES / 1024**3 * S3_GB_MONTH_USD),
        ("DynamoDB", f"{tally.read_units:g} RRU + {tally.write_units:g} WRU",
         tally.read_units * DYNAMODB_RRU_USD + tally.write_units * DYNAMODB_WRU_USD),
        ("EventBridge", f"{events} PutEvents entry", events * EVENTBRIDGE_ENTRY_USD),
    ]
    total = sum(usd for _, _, usd in lines)
    return Section(
        title="S3 and Lambda cost per inbound image kept (us-east-1 list prices, no free tier)",
        rows=[
            Row("media job duration (local median)", round(ms, 1), "ms", "media_ms_per_image"),
            Row("cost per image", round(total, 8), "USD", "media_cost_per_image_usd"),
            Row("cost per million images", round(total * MILLION, 2), "USD",
                "media_cost_per_million_images_usd"),
        ],
        table=(("line", "basis", "USD per million images"),
               [(label, basis, round(usd * MILLION, 2)) for label, basis, usd in lines]),
        notes=[
            "Each view in the inbox is one S3 GET through a signed link: "
            f"${S3_GET_USD * MILLION:.2f} per million views, plus data transfer out.",
            "Storage grows by the image size each month it is kept; retention bounds it.",
            "The duration is local (sandbox on loopback, moto S3); a Facebook CDN fetch in "
            "region takes longer, so measure in the account.",
        ],
        extra={"media_cost_lines_usd": {label: round(usd, 10) for label, _, usd in lines}},
    )
