"""The queue runner behaves like Lambda's SQS event source mapping with partial failures."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.queue_runner import QueueRunner

MAX_RECEIVES = 3


@pytest.fixture
def sqs() -> Iterator[Any]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queues(sqs: Any) -> dict[str, str]:
    dlq = sqs.create_queue(QueueName="events-dlq.fifo", Attributes={"FifoQueue": "true"})
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])
    redrive = {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": MAX_RECEIVES,
    }
    queue = sqs.create_queue(
        QueueName="events.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps(redrive),
        },
    )
    return {"queue": queue["QueueUrl"], "dlq": dlq["QueueUrl"]}


class Ingest:
    """A stand-in ingest handler: fails the records whose body says so, records what it saw."""

    def __init__(self, fail: set[str] = frozenset(), crash: bool = False) -> None:
        self.fail = set(fail)
        self.crash = crash
        self.events: list[dict[str, Any]] = []
        self.bodies: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        self.bodies.extend(r["body"] for r in event["Records"])
        assert context.function_name and context.get_remaining_time_in_millis() > 0
        if self.crash:
            raise RuntimeError("ingest crashed")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]}
                for r in event["Records"]
                if r["body"] in self.fail
            ]
        }


def send(sqs: Any, queue_url: str, body: str, group: str = "g1") -> None:
    sqs.send_message(
        QueueUrl=queue_url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body
    )


def runner(sqs: Any, queues: dict[str, str], ingest: Ingest) -> QueueRunner:
    return QueueRunner(handler=ingest, queue_url=queues["queue"], sqs=sqs, retry_delay_seconds=0)


def dlq_bodies(sqs: Any, queues: dict[str, str]) -> list[str]:
    answer = sqs.receive_message(QueueUrl=queues["dlq"], MaxNumberOfMessages=10)
    return [m["Body"] for m in answer.get("Messages", [])]


def test_records_arrive_in_lambdas_sqs_event_shape(sqs: Any, queues: dict[str, str]) -> None:
    ingest = Ingest()
    send(sqs, queues["queue"], "one", group="conv-1")

    runner(sqs, queues, ingest).drain(timeout=5)

    (record,) = ingest.events[0]["Records"]
    assert record["body"] == "one"
    assert record["eventSource"] == "aws:sqs" and record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"].endswith(":events.fifo")
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert record["attributes"]["MessageGroupId"] == "conv-1"
    assert record["attributes"]["MessageDeduplicationId"] == "one"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"] == {}


def test_batches_hold_at_most_ten_records(sqs: Any, queues: dict[str, str]) -> None:
    ingest = Ingest()
    for n in range(25):
        send(sqs, queues["queue"], f"m{n}", group=f"g{n}")

    runner(sqs, queues, ingest).drain(timeout=5)

    assert max(len(e["Records"]) for e in ingest.events) <= 10
    assert sorted(ingest.bodies) == sorted(f"m{n}" for n in range(25))


def test_successes_are_deleted_and_a_failure_is_retried(sqs: Any, queues: dict[str, str]) -> None:
    ingest = Ingest(fail={"flaky"})
    send(sqs, queues["queue"], "good", group="a")
    send(sqs, queues["queue"], "flaky", group="b")
    the_runner = runner(sqs, queues, ingest)

    the_runner.poll_once(wait_seconds=0)
    ingest.fail.clear()
    the_runner.drain(timeout=5)

    assert sorted(ingest.bodies) == ["flaky", "flaky", "good"]
    assert the_runner.pending() == 0
    assert dlq_bodies(sqs, queues) == []


def test_a_poison_record_reaches_the_dead_letter_queue_after_max_receives(
    sqs: Any, queues: dict[str, str]
) -> None:
    ingest = Ingest(fail={"poison"})
    send(sqs, queues["queue"], "poison", group="a")
    send(sqs, queues["queue"], "fine", group="b")

    runner(sqs, queues, ingest).drain(timeout=10)

    assert ingest.bodies.count("poison") == MAX_RECEIVES
    assert ingest.bodies.count("fine") == 1
    assert dlq_bodies(sqs, queues) == ["poison"]


def test_a_crashing_handler_fails_the_whole_batch(sqs: Any, queues: dict[str, str]) -> None:
    ingest = Ingest(crash=True)
    send(sqs, queues["queue"], "x", group="a")
    send(sqs, queues["queue"], "y", group="b")

    runner(sqs, queues, ingest).drain(timeout=10)

    assert sorted(dlq_bodies(sqs, queues)) == ["x", "y"]


def test_a_response_naming_an_unknown_record_fails_the_whole_batch(
    sqs: Any, queues: dict[str, str]
) -> None:
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}

    send(sqs, queues["queue"], "x")
    the_runner = QueueRunner(
        handler=handler, queue_url=queues["queue"], sqs=sqs, retry_delay_seconds=0
    )

    the_runner.poll_once(wait_seconds=0)

    assert the_runner.pending() == 1


def test_none_as_a_response_means_every_record_succeeded(sqs: Any, queues: dict[str, str]) -> None:
    send(sqs, queues["queue"], "x")
    the_runner = QueueRunner(
        handler=lambda event, context: None,
        queue_url=queues["queue"],
        sqs=sqs,
        retry_delay_seconds=0,
    )

    assert the_runner.drain(timeout=5) == 1
    assert the_runner.pending() == 0


def test_the_background_loop_processes_what_arrives(sqs: Any, queues: dict[str, str]) -> None:
    import time

    ingest = Ingest()
    the_runner = runner(sqs, queues, ingest)
    the_runner.wait_seconds = 0
    the_runner.start()
    try:
        send(sqs, queues["queue"], "late")
        deadline = time.monotonic() + 5
        while not ingest.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        the_runner.stop()

    assert ingest.bodies == ["late"]
