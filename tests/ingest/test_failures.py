"""Bad input and failing neighbours: each loses nothing and blocks nothing else."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.ingest.helpers import dead_letters, drain, post_webhook, replay, sample
from tests.ingest.view import A, detail, messages, messenger

pytestmark = pytest.mark.usefixtures("pages")


def test_a_poison_event_goes_to_the_dead_letter_queue_alone(aws):
    poison = {"recipient": {"id": A}, "timestamp": 1767603600000,
              "message": {"mid": "m_POISON", "text": "no sender"}}
    good = {"sender": {"id": "2000000000000002"}, "recipient": {"id": A},
            "timestamp": 1767603601000, "message": {"mid": "m_GOOD", "text": "hello"}}
    raw = json.dumps({"object": "page", "entry": [
        {"id": A, "time": 1767603602000, "messaging": [poison]},
        {"id": A, "time": 1767603602000, "messaging": [good]},
    ]}).encode()

    assert post_webhook(raw)["statusCode"] == 200
    drain(aws)

    assert [m.facebook_id for m in messages(messenger(A, "2000000000000002"))] == ["m_GOOD"]
    assert dead_letters(aws) == 1
    sqs = boto3.client("sqs", region_name="us-east-1")
    [dead] = sqs.receive_message(QueueUrl=aws["DEAD_LETTER_QUEUE_URL"])["Messages"]
    assert json.loads(dead["Body"])["event"]["message"]["mid"] == "m_POISON"


def test_a_failing_conversation_does_not_hold_up_another(aws, monkeypatch):
    from tests.ingest.helpers import load_function

    ingest = load_function("ingest")
    real = ingest.record_handler
    attempts: list[str] = []

    def flaky(record):
        body = json.loads(record.body)
        if body["event"]["sender"]["id"] == "2000000000000001" and len(attempts) < 2:
            attempts.append(record.message_id)
            raise ConnectionError("DynamoDB unreachable")
        return real(record)

    monkeypatch.setattr(ingest, "record_handler", flaky)
    replay(aws, "01-text-plain.json", "05-attachment-image.json")

    assert len(attempts) == 2
    assert [m.facebook_id for m in messages(messenger(A, "2000000000000001"))] == [
        "m_SAMPLE-0001"]
    assert [m.facebook_id for m in messages(messenger(A, "2000000000000002"))] == [
        "m_SAMPLE-0005"]
    assert dead_letters(aws) == 0


def test_a_contact_facebook_will_not_name_gets_a_readable_fallback(aws):
    raw = sample("01-text-plain.json").replace(b"2000000000000001", b"2000000000000009")
    post_webhook(raw)
    drain(aws)

    contact = detail(messenger(A, "2000000000000009")).contact
    assert contact.name == "Facebook user 0009"


def test_an_expired_page_token_still_stores_the_message_and_flags_the_page(aws, sandbox):
    from inbox.models import PAGES_PK, Page

    sandbox.expire_token(page_id=A)

    replay(aws, "01-text-plain.json", "05-attachment-image.json")

    conversation = detail(messenger(A, "2000000000000001"))
    assert conversation.contact.name == "Facebook user 0001"
    assert [m.facebook_id for m in messages(conversation.id)] == ["m_SAMPLE-0001"]
    # The inbox shows `reconnect_needed` before anyone tries to reply; once flagged, the next
    # contact's look-up is not even tried.
    assert Page.get(PAGES_PK, A).reconnect_needed is True
    look_ups = [c for c in sandbox.calls if c["path"] in ("/2000000000000001",
                                                            "/2000000000000002")]
    assert [c["path"] for c in look_ups] == ["/2000000000000001"]


def test_a_graph_rate_limit_still_stores_the_message(aws, sandbox):
    sandbox.set_rate_limit(code=80006)

    replay(aws, "01-text-plain.json")

    assert detail(messenger(A, "2000000000000001")).contact.name == "Facebook user 0001"
    assert dead_letters(aws) == 0


def test_each_stored_change_is_published_once(aws):
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    capture = sqs.create_queue(QueueName="captured-events")["QueueUrl"]
    capture_arn = sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    events.put_rule(Name="all", EventBusName=aws["EVENT_BUS_NAME"],
                    EventPattern=json.dumps({"source": ["inbox"]}))
    events.put_targets(Rule="all", EventBusName=aws["EVENT_BUS_NAME"],
                       Targets=[{"Id": "capture", "Arn": capture_arn}])

    files = ["01-text-plain.json", "13-echo-our-app.json", "16-read.json",
             "17-reaction-react.json", "31-comment-add.json"]
    replay(aws, *files)
    replay(aws, *files)

    names = []
    while batch := sqs.receive_message(QueueUrl=capture, MaxNumberOfMessages=10).get(
            "Messages", []):
        for item in batch:
            names.append(json.loads(item["Body"])["detail-type"])
            sqs.delete_message(QueueUrl=capture, ReceiptHandle=item["ReceiptHandle"])
    assert sorted(names) == sorted([
        "contact.created", "conversation.created", "message.created",  # 01
        "message.created",  # 13
        "message.status_changed",  # 16
        "message.updated",  # 17
        "contact.created", "conversation.created", "message.created",  # 31
    ])
