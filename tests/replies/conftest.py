# ruff: noqa: F811 (the API suite's fixtures are imported by name, then requested)
"""Replies: the API suite's stack, sandbox and personas, plus a contact who wrote to page A.

A conversation is made the way production makes it: the sandbox builds the person's signed
webhook, the webhook function queues it and the ingest function stores it. Graph calls are
then read from the sandbox's record, DynamoDB calls and published events from this suite's
own counters.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import (  # noqa: F401 (fixtures used by name)
    APP_SECRET,
    PAGE_A,
    api,
    facebook,
    make_page,
    personas,
    stack,
)

PSID = "2000000000000001"
CONVERSATION = f"m{PAGE_A}_{PSID}"
HOUR_MS = 3600 * 1000


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    from inbox.actions import inbound

    inbound.forget_cached_pages()
    yield
    inbound.forget_cached_pages()


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off waits, recorded rather than slept, so retries cost no test time."""
    from inbox.actions import graph_calls

    found: list[float] = []
    monkeypatch.setattr(graph_calls, "sleep", found.append)
    return found


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Domain events published during the test, in order."""
    from inbox import publish

    events: list[Any] = []
    monkeypatch.setattr(publish, "put_events", lambda batch: events.extend(batch))
    return events


@dataclass
class AwsCalls:
    """Every AWS API call made while recording, as (service, operation)."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    recording: bool = False

    def dynamodb(self, *operations: str) -> list[str]:
        return [op for service, op in self.calls
                if service == "dynamodb" and (not operations or op in operations)]

    def writes(self) -> list[str]:
        return self.dynamodb("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                             "TransactWriteItems")


@pytest.fixture
def aws_calls(monkeypatch: pytest.MonkeyPatch) -> AwsCalls:
    from botocore.client import BaseClient

    record = AwsCalls()
    original = BaseClient._make_api_call

    def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if record.recording:
            record.calls.append((client.meta.service_model.service_name, operation))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return record


def contact_writes(facebook: Any, stack: dict[str, str], *, text: str = "Do you ship?",
                   at_ms: int | None = None, psid: str = PSID) -> dict[str, Any]:
    """The person writes to page A; the message is ingested as production does."""
    from infra.local.sandbox import encode_like_facebook
    from tests.ingest.helpers import drain, post_webhook

    body = facebook.message_body(page_id=PAGE_A, psid=psid, text=text, timestamp_ms=at_ms)
    answer = post_webhook(encode_like_facebook(body), sign_with=APP_SECRET)
    assert answer["statusCode"] == 200, answer
    drain(stack)
    return body


def deliver_page_webhooks(facebook: Any, stack: dict[str, str]) -> int:
    """Post the echoes the sandbox kept (it has no webhook URL here) and ingest them."""
    from infra.local.sandbox import encode_like_facebook
    from tests.ingest.helpers import drain, post_webhook

    bodies = facebook.take_page_webhooks()
    for body in bodies:
        answer = post_webhook(encode_like_facebook(body), sign_with=APP_SECRET)
        assert answer["statusCode"] == 200, answer
    drain(stack)
    return len(bodies)


@pytest.fixture
def page_a(stack: dict[str, str], facebook: Any) -> str:
    """Page A connected with the token the sandbox issued for it."""
    from inbox import secrets

    from infra.local.sandbox import page_token_for

    make_page(PAGE_A, "Demo Shop")
    secrets.store_page_token(PAGE_A, page_token_for(PAGE_A))
    return PAGE_A


@pytest.fixture
def conversation(page_a: str, facebook: Any, stack: dict[str, str], personas: Any) -> str:
    """Alex wrote to page A a minute ago (an open window); the conversation is the agent's.

    Graph calls and page webhooks so far are forgotten.
    """
    contact_writes(facebook, stack, at_ms=now_ms() - 60_000)
    hand_to(personas["agent"].member_id)
    facebook.reset_calls()
    facebook.take_page_webhooks()
    return CONVERSATION


def hand_to(member_id: str, conversation_id: str = CONVERSATION) -> None:
    """Make the conversation the member's, whoever routing gave it to on arrival."""
    from inbox.models import CONVERSATION_SK, Conversation, conversation_pk, queue_key

    Conversation(conversation_pk(conversation_id), CONVERSATION_SK).update(actions=[
        Conversation.status.set("assigned"),
        Conversation.assignee_id.set(member_id),
        Conversation.gsi1pk.set(queue_key(PAGE_A, "assigned")),
    ])


def now_ms() -> int:
    return int(time.time() * 1000)


def send_calls(facebook: Any) -> list[dict[str, Any]]:
    """The Send API calls the sandbox received: (method, path, JSON body)."""
    return [{"method": c["method"], "path": f"/{c['version']}{c['path']}", "json": c["json"]}
            for c in facebook.calls]
