"""Replies on the local stack (`make dev` on free ports): API → Graph sandbox → echo webhook."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from infra.local.dev import RunningStack
from tests.local.stack import OWNER_PASSWORD as PASSWORD
from tests.local.stack import PAGE_A, PAGE_B, local_stack

PSID = "2000000000000005"


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with local_stack() as running:
        yield running


@pytest.fixture(scope="module")
def headers(local: RunningStack) -> dict[str, str]:
    answer = requests.post(f"{local.settings.base_url}/api/auth/login", timeout=10,
                           json={"email": "owner@example.com", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _messages(local: RunningStack, headers: dict[str, str], conversation: str) -> list[Any]:
    return requests.get(f"{local.settings.base_url}/api/conversations/{quote(conversation)}"
                        "/messages", headers=headers, timeout=10).json()["items"]


def _wait_for_echo(local: RunningStack, mid: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for delivery in list(local.sandbox.deliveries):
            event = (delivery["body"]["entry"][0].get("messaging") or [{}])[0]
            if event.get("message", {}).get("mid") == mid:
                local.runner.drain(timeout=20)
                return
        time.sleep(0.05)
    raise AssertionError("the sandbox did not deliver the echo")


def test_a_reply_reaches_the_sandbox_and_its_echo_adds_nothing(local, headers):
    local.sandbox.send_message(page_id=PAGE_A, psid=PSID, text="Do you ship to Spain?")
    local.runner.drain(timeout=20)
    conversation = f"m{PAGE_A}_{PSID}"

    answer = requests.post(
        f"{local.settings.base_url}/api/conversations/{conversation}/messages",
        headers=headers, timeout=20, json={"text": "Yes, in 3-5 days."})

    assert answer.status_code == 201, answer.text
    (item,) = answer.json()["items"]
    sent = local.sandbox.outbox[-1]
    assert (sent["recipient"], sent["message"]["text"], sent["messaging_type"]) == (
        {"id": PSID}, "Yes, in 3-5 days.", "RESPONSE")
    assert (item["status"], item["facebook_id"]) == ("sent", sent["mid"])

    _wait_for_echo(local, sent["mid"])

    messages = _messages(local, headers, conversation)
    assert [(m["direction"], m["text"], m["status"]) for m in messages] == [
        ("out", "Yes, in 3-5 days.", "sent"), ("in", "Do you ship to Spain?", "received")]
    assert messages[0]["id"] == item["id"]


def test_an_expired_token_flags_the_page_and_refuses_later_sends(local, headers):
    base = local.settings.base_url
    local.sandbox.send_message(page_id=PAGE_B, psid=PSID, text="Hello?")
    local.runner.drain(timeout=20)
    conversation = f"m{PAGE_B}_{PSID}"
    local.sandbox.expire_token(page_id=PAGE_B)

    failed = requests.post(f"{base}/api/conversations/{conversation}/messages",
                           headers=headers, timeout=20, json={"text": "Hi"}).json()
    calls_before = len(local.sandbox.calls)
    refused = requests.post(f"{base}/api/conversations/{conversation}/messages",
                            headers=headers, timeout=20, json={"text": "Hi again"})
    pages = requests.get(f"{base}/api/pages", headers=headers, timeout=10).json()["items"]

    assert failed["items"][0]["status"] == "failed"
    assert failed["items"][0]["error"]["graph_code"] == 190
    assert (refused.status_code, refused.json()["reason"]) == (409, "reconnect_needed")
    assert len(local.sandbox.calls) == calls_before
    assert {p["id"]: p["reconnect_needed"] for p in pages} == {PAGE_A: False, PAGE_B: True}
