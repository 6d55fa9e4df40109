"""`make dev` end to end on free loopback ports: sandbox → webhook → queue → ingest → API."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.dev import RunningStack
from infra.local.replay import replay
from tests.local.stack import OWNER_PASSWORD as PASSWORD
from tests.local.stack import PAGE_A, PAGE_B, local_stack

# The handbook's shared/ lies beside the checkout, here and in CI.
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "facebook" / "webhooks"


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    with local_stack() as running:
        yield running


@pytest.fixture(scope="module")
def token(stack: RunningStack) -> str:
    answer = requests.post(
        f"{stack.settings.base_url}/api/auth/login",
        timeout=10,
        json={"email": "owner@example.com", "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return body.get("id_token") or body["access_token"]


def test_the_sandbox_pages_are_connected_through_the_graph_api(
    stack: RunningStack, token: str
) -> None:
    pages = requests.get(
        f"{stack.settings.base_url}/api/pages",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]

    assert sorted(page["id"] for page in pages) == [PAGE_A, PAGE_B]
    assert stack.sandbox.pages[PAGE_A].subscribed_fields


def test_openapi_and_the_verify_challenge_answer(stack: RunningStack) -> None:
    base = stack.settings.base_url

    openapi = requests.get(f"{base}/api/openapi.json", timeout=10)
    challenge = requests.get(
        f"{base}/webhooks/facebook",
        timeout=10,
        params={"hub.mode": "subscribe", "hub.verify_token": "dev-token", "hub.challenge": "77"},
    )

    assert openapi.status_code == 200 and "paths" in openapi.json()
    assert (challenge.status_code, challenge.text) == (200, "77")


def test_a_message_from_the_sandbox_becomes_a_conversation(stack: RunningStack, token: str) -> None:
    sent = stack.sandbox.send_message(page_id=PAGE_A, psid="2000000000000004", text="Hello")
    stack.runner.drain(timeout=20)

    conversations = requests.get(
        f"{stack.settings.base_url}/api/conversations",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    ).json()["items"]

    assert sent["statuses"] == [200]
    (conversation,) = [c for c in conversations if c["id"].endswith("_2000000000000004")]
    # The name came from the sandbox's User Profile API.
    assert conversation["contact_name"] == "Robin Moreau"
    assert any(call["path"] == "/2000000000000004" for call in stack.sandbox.calls)


def test_a_wrong_signature_is_refused(stack: RunningStack) -> None:
    raw = b'{"object":"page","entry":[]}'
    wrong = hmac.new(b"another-secret", raw, hashlib.sha256).hexdigest()

    answer = requests.post(
        f"{stack.settings.base_url}/webhooks/facebook",
        data=raw,
        timeout=10,
        headers={"X-Hub-Signature-256": f"sha256={wrong}", "Content-Type": "application/json"},
    )

    assert answer.status_code == 401


def test_replay_posts_samples_signed(stack: RunningStack) -> None:
    sample = SAMPLES / "01-text-plain.json"
    if not sample.exists():
        pytest.skip("the shared samples are not on this machine")

    statuses = replay([str(sample)], base_url=stack.settings.base_url, app_secret="dev-secret")

    assert statuses == [200]


def test_an_inbound_image_is_still_shown_after_the_sandbox_stops_serving_it(
    stack: RunningStack, token: str
) -> None:
    base = stack.settings.base_url
    image_url = stack.sandbox.media_url("photos/local-cat.jpg")
    original = requests.get(image_url, timeout=10).content
    stack.sandbox.send_message(page_id=PAGE_A, psid="2000000000000002", image_url=image_url)
    stack.runner.drain(timeout=20)
    stack.media_runner.drain(timeout=20)

    stopped = requests.post(f"{base}/_sandbox/media-control/stop", timeout=10,
                            json={"path": "photos/local-cat.jpg"})
    conversation = f"m{PAGE_A}_2000000000000002"
    messages = requests.get(f"{base}/api/conversations/{conversation}/messages", timeout=10,
                            headers={"Authorization": f"Bearer {token}"}).json()["items"]

    assert stopped.status_code == 200
    assert requests.get(image_url, timeout=10).status_code == 404
    (attachment,) = [a for m in messages for a in m["attachments"]
                     if a["original_url"] == image_url]
    assert attachment["media_status"] == "stored"
    shown = requests.get(attachment["url"], timeout=10)
    assert (shown.status_code, shown.content) == (200, original)
    assert shown.headers["Content-Type"] == "image/jpeg"


def test_the_data_deletion_callback_answers_on_the_local_stack(stack: RunningStack) -> None:
    import base64
    import json

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    payload = encode(json.dumps({"algorithm": "HMAC-SHA256", "user_id": "2500000000009999"})
                     .encode())
    good = hmac.new(b"dev-secret", payload.encode(), hashlib.sha256).digest()
    forged = hmac.new(b"not-the-secret", payload.encode(), hashlib.sha256).digest()
    url = f"{stack.settings.base_url}/webhooks/facebook/data-deletion"

    refused = requests.post(url, timeout=10,
                            data={"signed_request": f"{encode(forged)}.{payload}"})
    accepted = requests.post(url, timeout=10,
                             data={"signed_request": f"{encode(good)}.{payload}"})

    assert refused.status_code == 401
    assert accepted.status_code == 200, accepted.text
    status = requests.get(accepted.json()["url"], timeout=10)
    assert status.status_code == 200
    assert status.json()["confirmation_code"] == accepted.json()["confirmation_code"]
    assert status.json()["status"] == "done"
