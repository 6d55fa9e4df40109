"""Chaos: many conversations, redelivered and shuffled events, and workers that die mid-write.

2,000 generated events across 50 conversations go through the real path (signed POST, webhook
function, FIFO queue, ingest function). 30% are delivered again, some in a later POST (which
the queue deduplicates) and some as if Facebook retried after the queue's five-minute window
(which only the ingest's idempotence can catch). Every POST's order is shuffled. 5% of
processing attempts die at a random DynamoDB call, before or after it took effect.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from inbox.facebook.events import split_notification
from inbox.models import MESSAGE_PREFIX, Message, MessageOverlay, conversation_pk
from inbox.queries.messages import list_messages
from pynamodb.connection.base import Connection

from tests.ingest.helpers import dead_letters, drain, load_function, post_webhook
from tests.ingest.view import OWNER, A, messenger

SEED = 20261203
CONVERSATIONS = 50
EVENTS = 2000
REDELIVERED = 0.30
FAILING_ATTEMPTS = 0.05
OTHER_APP = 263902037430900


class Crash(Exception):
    """A worker dying mid-record: the queue will deliver the record again."""


@dataclass
class Expected:
    inbound: set[str] = field(default_factory=set)
    outbound: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    read: int = 0
    reaction: dict[str, tuple[int, str | None]] = field(default_factory=dict)


def generate(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Expected]]:
    """Events in Facebook's shape and what the inbox must hold after them."""
    psids = [f"{3000000000000000 + n}" for n in range(CONVERSATIONS)]
    clock = {psid: 1767600000000 + n * 7 for n, psid in enumerate(psids)}
    expected: dict[str, Expected] = defaultdict(Expected)
    events = []
    for n in range(EVENTS):
        psid = rng.choice(psids)
        clock[psid] += rng.randint(1_000, 60_000)
        at = clock[psid]
        want = expected[messenger(A, psid)]
        kind = rng.choices(["in", "echo", "delivery", "read", "reaction"],
                           weights=[50, 20, 12, 10, 8])[0]
        contact, page = {"id": psid}, {"id": A}
        if kind == "in":
            mid = f"m_CHAOS-{n}"
            want.inbound.add(mid)
            events.append({"sender": contact, "recipient": page, "timestamp": at,
                           "message": {"mid": mid, "text": f"question {n}"}})
        elif kind == "echo":
            mid = f"m_CHAOS-{n}"
            want.outbound[mid] = at
            events.append({"sender": page, "recipient": contact, "timestamp": at,
                           "message": {"is_echo": True, "app_id": OTHER_APP, "mid": mid,
                                       "text": f"answer {n}"}})
        elif kind in ("delivery", "read"):
            watermark = at - rng.randint(0, 120_000)
            if kind == "delivery":
                want.delivered = max(want.delivered, watermark)
            else:
                want.read = max(want.read, watermark)
            events.append({"sender": contact, "recipient": page, "timestamp": at,
                           kind: {"watermark": watermark}})
        elif want.outbound:
            mid = rng.choice(sorted(want.outbound))
            react = rng.random() < 0.7
            want.reaction[mid] = max(want.reaction.get(mid, (0, None)),
                                     (at, "like" if react else None))
            body = {"action": "react" if react else "unreact", "mid": mid}
            if react:
                body.update(reaction="like", emoji="\U0001f44d")
            events.append({"sender": contact, "recipient": page, "timestamp": at,
                           "reaction": body})
    return events, expected


def notification(events: list[dict[str, Any]], entry_time: int) -> bytes:
    entries = [{"id": A, "time": entry_time, "messaging": [event]} for event in events]
    return json.dumps({"object": "page", "entry": entries}).encode()


class CrashingWorkers:
    """Makes a share of processing attempts die at one of their DynamoDB calls."""

    def __init__(self, rng: random.Random, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rng = rng
        self.plan: tuple[int, bool] | None = None
        self.calls = 0
        self.crashes = 0
        real_call = Connection._make_api_call
        workers = self

        def call(connection: Connection, operation: str, kwargs: dict) -> dict:
            workers.calls += 1
            if workers.plan and workers.calls == workers.plan[0] and not workers.plan[1]:
                workers.crash()
            answer = real_call(connection, operation, kwargs)
            if workers.plan and workers.calls == workers.plan[0] and workers.plan[1]:
                workers.crash()
            return answer

        monkeypatch.setattr(Connection, "_make_api_call", call)
        ingest = load_function("ingest")
        real_handler = ingest.record_handler

        def record_handler(record: Any) -> str:
            workers.calls = 0
            dies = workers.rng.random() < FAILING_ATTEMPTS
            # Die at the n-th call, before it reaches DynamoDB or after it took effect.
            workers.plan = (workers.rng.randint(1, 6), workers.rng.random() < 0.5) if dies \
                else None
            outcome = real_handler(record)
            if workers.plan:
                workers.crash()  # it made fewer calls than planned: die before the ack
            return outcome

        monkeypatch.setattr(ingest, "record_handler", record_handler)

    def crash(self) -> None:
        self.plan = None
        self.crashes += 1
        raise Crash("worker died")


def redeliver_past_the_queue_window(env: dict[str, str], raw: bytes) -> None:
    """A Facebook retry hours later: same event, but SQS no longer remembers its id."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    for n, item in enumerate(split_notification(raw)):
        sqs.send_message(QueueUrl=env["EVENTS_QUEUE_URL"], MessageBody=item.body,
                         MessageGroupId=item.group_id,
                         MessageDeduplicationId=f"{item.deduplication_id[:60]}-late-{n}")


@pytest.mark.usefixtures("pages")
def test_chaos_every_message_once_with_its_final_status(aws, monkeypatch):
    rng = random.Random(SEED)
    events, expected = generate(rng)
    deliveries = list(events) + rng.sample(events, int(len(events) * REDELIVERED))
    rng.shuffle(deliveries)
    workers = CrashingWorkers(rng, monkeypatch)
    ingest = load_function("ingest")

    for start in range(0, len(deliveries), 5):
        raw = notification(deliveries[start:start + 5], 1767700000000 + start)
        if start % 2:
            redeliver_past_the_queue_window(aws, raw)
        else:
            assert post_webhook(raw)["statusCode"] == 200
        if start % 200 == 0:
            drain(aws, max_rounds=1000)
    drain(aws, max_rounds=1000)
    monkeypatch.setattr(ingest, "record_handler", ingest.record_handler)

    assert workers.crashes > 50
    assert dead_letters(aws) == 0
    for conversation_id, want in expected.items():
        stored = list(Message.query(conversation_pk(conversation_id),
                                    Message.sk.startswith(MESSAGE_PREFIX)))
        mids = [m.facebook_id for m in stored]
        assert len(mids) == len(set(mids)), f"duplicates in {conversation_id}"
        assert set(mids) == want.inbound | set(want.outbound), conversation_id

        shown = {m.facebook_id: m for m in _all_messages(conversation_id)}
        for mid, at in want.outbound.items():
            status = ("read" if at <= want.read else
                      "delivered" if at <= want.delivered else "sent")
            assert shown[mid].status == status, (conversation_id, mid)
        for mid, (_, reaction) in want.reaction.items():
            overlay = MessageOverlay.get(conversation_pk(conversation_id), f"FX#{mid}")
            assert overlay.reaction == reaction, (conversation_id, mid)


def _all_messages(conversation_id: str) -> list[Any]:
    items, cursor = [], None
    while True:
        page = list_messages(OWNER, conversation_id, limit=100, cursor=cursor)
        items.extend(page.items)
        if page.next is None:
            return items
        cursor = page.next
