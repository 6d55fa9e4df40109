"""Drive ingestion as production does: signed POST → webhook function → SQS → ingest function."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.conftest import APP_SECRET, ROOT

# The handbook's shared/ lies beside the checkout, here and in CI.
SAMPLES = ROOT.parent / "shared" / "facebook" / "webhooks"


def load_function(name: str) -> ModuleType:
    """Import functions/<name>/app.py as Lambda does: a module of its own."""
    module_name = f"function_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "functions" / name / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    function_name = "test"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def signature(raw: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def function_url_event(method: str, raw: bytes = b"", headers: dict[str, str] | None = None,
                       query: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": "/webhooks/facebook",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "queryStringParameters": query,
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": {"http": {"method": method, "path": "/webhooks/facebook"}},
        "body": raw.decode("utf-8"),
        "isBase64Encoded": False,
    }


def post_webhook(raw: bytes, *, sign_with: str | None = APP_SECRET) -> dict[str, Any]:
    headers = {"x-hub-signature-256": signature(raw, sign_with)} if sign_with else {}
    webhook = load_function("webhook")
    return webhook.handler(function_url_event("POST", raw, headers), LambdaContext())


def queue_url(env: dict[str, str], name: str = "EVENTS_QUEUE_URL") -> str:
    return env[name]


def drain(env: dict[str, str], *, max_rounds: int = 200) -> list[dict[str, Any]]:
    """Feed the queue to the ingest function until it is empty, like the event source mapping.

    Failed records are made visible again at once, so retries and the dead-letter redrive
    happen within the test.
    """
    sqs = boto3.client("sqs", region_name="us-east-1")
    ingest = load_function("ingest")
    answers = []
    for _ in range(max_rounds):
        received = sqs.receive_message(QueueUrl=env["EVENTS_QUEUE_URL"], MaxNumberOfMessages=10,
                                       AttributeNames=["All"], WaitTimeSeconds=0)
        messages = received.get("Messages", [])
        if not messages:
            return answers
        event = {"Records": [_record(m, env) for m in messages]}
        try:
            answer = ingest.handler(event, LambdaContext())
        except BatchProcessingError:
            # Every record failed: Lambda treats the raised error as the whole batch failed.
            answer = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]}
                                            for m in messages]}
        answers.append(answer)
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=env["EVENTS_QUEUE_URL"],
                                              ReceiptHandle=message["ReceiptHandle"],
                                              VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=env["EVENTS_QUEUE_URL"],
                                   ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue did not drain")


def _record(message: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inbox-test-events.fifo",
        "awsRegion": "us-east-1",
    }


def replay(env: dict[str, str], *names: str) -> None:
    for name in names:
        answer = post_webhook(sample(name))
        assert answer["statusCode"] == 200, (name, answer)
        drain(env)


def dead_letters(env: dict[str, str]) -> int:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=env["DEAD_LETTER_QUEUE_URL"],
                                          AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def json_body(raw: bytes) -> Any:
    return json.loads(raw)
