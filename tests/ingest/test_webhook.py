"""The webhook function: Facebook's verify challenge, the signature, and what it refuses."""

from __future__ import annotations

import boto3
import pytest

from tests.conftest import VERIFY_TOKEN
from tests.ingest.helpers import (
    LambdaContext,
    dead_letters,
    drain,
    function_url_event,
    load_function,
    post_webhook,
    sample,
)
from tests.ingest.view import conversation_ids

pytestmark = pytest.mark.usefixtures("pages")


def queued(env: dict[str, str]) -> int:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attributes = sqs.get_queue_attributes(QueueUrl=env["EVENTS_QUEUE_URL"],
                                          AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def challenge(query: dict[str, str]) -> dict:
    webhook = load_function("webhook")
    return webhook.handler(function_url_event("GET", query=query), LambdaContext())


def test_verify_challenge_is_echoed_with_the_right_token(aws):
    answer = challenge({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                        "hub.challenge": "1158201444"})

    assert (answer["statusCode"], answer["body"]) == (200, "1158201444")


def test_verify_challenge_with_a_wrong_token_is_refused(aws):
    answer = challenge({"hub.mode": "subscribe", "hub.verify_token": "guess",
                        "hub.challenge": "1158201444"})

    assert answer["statusCode"] == 403
    assert "1158201444" not in answer["body"]


def test_signed_batch_is_queued_one_event_per_message_and_answered_at_once(aws):
    answer = post_webhook(sample("26-batch-two-pages-out-of-order.json"))

    assert (answer["statusCode"], answer["body"]) == (200, "EVENT_RECEIVED")
    assert queued(aws) == 7
    assert conversation_ids() == set()


def test_wrong_signature_gets_401_and_stores_nothing(aws):
    answer = post_webhook(sample("01-text-plain.json"), sign_with="not-the-app-secret")
    drain(aws)

    assert answer["statusCode"] == 401
    assert queued(aws) == 0
    assert conversation_ids() == set()


def test_missing_signature_gets_401(aws):
    answer = post_webhook(sample("01-text-plain.json"), sign_with=None)

    assert answer["statusCode"] == 401
    assert queued(aws) == 0


def test_body_changed_after_signing_gets_401(aws):
    raw = sample("01-text-plain.json")
    webhook = load_function("webhook")
    from tests.ingest.helpers import signature

    tampered = raw.replace(b"Friday", b"Sunday")
    event = function_url_event("POST", tampered, {"x-hub-signature-256": signature(raw)})
    answer = webhook.handler(event, LambdaContext())

    assert answer["statusCode"] == 401


def test_signature_is_checked_on_the_raw_escaped_bytes(aws):
    # Facebook signs the escaped form (\u00e4, \/); re-serialising the JSON would break it.
    raw = sample("24-standby-message.json")
    assert b"\\u0645" in raw

    assert post_webhook(raw)["statusCode"] == 200


@pytest.mark.parametrize("raw", [
    b"not json at all",
    b'{"object": "user", "entry": []}',
    b'{"object": "page", "entry": {"id": "1"}}',
    b'{"object": "page", "entry": [{"time": 1}]}',
    b"[1, 2, 3]",
    # Signed, but its entries are not Facebook's shape: the split cannot even find the events.
    b'{"object": "page", "entry": [{"id": "1", "messaging": 5}]}',
    b'{"object": "page", "entry": [{"id": "1", "messaging": "x"}]}',
    b'{"object": "page", "entry": [{"id": "1", "messaging": {"a": 1}}]}',
    b'{"object": "page", "entry": [{"id": {"a": 1}, "messaging": []}]}',
    b'{"object": "page", "entry": [{"id": "1", "changes": "abc"}]}',
])
def test_malformed_body_gets_400_and_stores_nothing(aws, raw):
    answer = post_webhook(raw)

    assert answer["statusCode"] == 400
    assert queued(aws) == 0


@pytest.mark.parametrize("bad_event", [
    '{"sender": 5}',
    "5",
    '{"sender": {"id": "x"}, "recipient": {"id": "1"}}',
    '{"sender": {"id": "2"}, "recipient": [1]}',
    '{"sender": {"id": "2 3"}, "recipient": {"id": "1"}}',
])
def test_an_unreadable_event_is_quarantined_and_its_batch_goes_on(aws, bad_event):
    good = sample("01-text-plain.json").decode()
    batch = good.replace('"messaging":[', f'"messaging":[{bad_event}, ', 1)
    assert batch != good

    assert post_webhook(batch.encode())["statusCode"] == 200
    drain(aws)

    assert len(conversation_ids()) == 1
    assert dead_letters(aws) == 1


def test_a_retried_delivery_is_deduplicated_by_the_queue(aws):
    post_webhook(sample("27-duplicate-first-delivery.json"))
    post_webhook(sample("28-duplicate-second-delivery.json"))

    # Same event, later entry time: one queue message (FIFO deduplication by event).
    assert queued(aws) == 1
