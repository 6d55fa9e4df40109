"""Media tests: samples whose CDN links point at the sandbox, and the media queue drained."""

from __future__ import annotations

import re
from typing import Any

import boto3

from tests.ingest.helpers import LambdaContext, drain, load_function, post_webhook, sample

_CDN_LINK = re.compile(rb"https:\\/\\/([a-z.]+\.invalid)\\/")


def sandbox_sample(name: str, sandbox: Any) -> bytes:
    """A webhook sample whose attachment links are served by the sandbox, under their host."""
    base = sandbox.base_url.replace("/", "\\/").encode()
    return _CDN_LINK.sub(lambda m: base + b"\\/_sandbox\\/media\\/" + m.group(1) + b"\\/",
                         sample(name))


def media_path(url: str) -> str:
    """The sandbox path of a rewritten link, as `stop_serving_media` and `fail_media` take it."""
    return url.split("/_sandbox/media/", 1)[1].split("?", 1)[0]


def ingest(env: dict[str, str], raw: bytes) -> None:
    answer = post_webhook(raw)
    assert answer["statusCode"] == 200, answer
    drain(env)


def drain_media(env: dict[str, str], *, max_rounds: int = 20) -> list[dict[str, Any]]:
    """Feed the media queue to the media function until empty; failures come back at once."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    media = load_function("media")
    answers = []
    for _ in range(max_rounds):
        received = sqs.receive_message(QueueUrl=env["MEDIA_QUEUE_URL"], MaxNumberOfMessages=5,
                                       AttributeNames=["All"], WaitTimeSeconds=0)
        messages = received.get("Messages", [])
        if not messages:
            return answers
        event = {"Records": [_record(m) for m in messages]}
        answer = media.handler(event, LambdaContext())
        answers.append(answer)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=env["MEDIA_QUEUE_URL"],
                                              ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=env["MEDIA_QUEUE_URL"],
                                   ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the media queue did not drain")


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inbox-test-media-queue",
        "awsRegion": "us-east-1",
    }
