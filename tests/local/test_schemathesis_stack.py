"""schemathesis against the running local stack's own OpenAPI document, over HTTP, as each role.

The document is read from `make dev`'s `/api/openapi.json` and the requests go through its
gateway, so what is checked is what a brand's automation would meet. The owner invites an
admin, a supervisor and an agent (page A) and makes an API key; contacts write to both pages.
The callers take their turn from the one who can change least to the owner, so the destructive
operations a caller may draw (deactivating members, disconnecting pages, erasing contacts) come
after the others have been exercised. The in-process suite (`tests/permissions`) goes deeper
per caller; this one proves the deployed shape: gateway, handler and document together.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.local.dev import RunningStack
from tests.local.stack import OWNER_EMAIL, OWNER_PASSWORD, PAGE_A, PAGE_B, local_stack
from tests.permissions.test_schemathesis import exercise_every_operation

CALLERS = ("agent", "api_key", "supervisor", "admin", "owner")
CONTACTS = {PAGE_A: ("2000000000000021", "2000000000000022"), PAGE_B: ("2000000000000023",)}


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with local_stack() as running:
        yield running


def _sign_in(base: str, email: str, password: str) -> str:
    answer = requests.post(f"{base}/api/auth/login", timeout=15,
                           json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"]


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> Any:
    answer = requests.request(method, f"{base}{path}", json=body, timeout=15,
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


@pytest.fixture(scope="module")
def headers(local: RunningStack) -> dict[str, dict[str, str]]:
    from inbox import aws, settings

    base = local.settings.base_url
    owner = _sign_in(base, OWNER_EMAIL, OWNER_PASSWORD)
    signed: dict[str, dict[str, str]] = {"owner": {"Authorization": f"Bearer {owner}"}}
    for role in ("admin", "supervisor", "agent"):
        email, password = f"{role}@brand.example", f"{role.title()}-Password-2026"
        _call(base, owner, "POST", "/api/members", {
            "email": email, "role": role, "page_ids": [PAGE_A], "reception_limit": 5})
        # Cognito would email a temporary password; the test sets a permanent one it knows.
        aws.client("cognito-idp").admin_set_user_password(
            UserPoolId=settings.settings.user_pool_id, Username=email, Password=password,
            Permanent=True)
        signed[role] = {"Authorization": f"Bearer {_sign_in(base, email, password)}"}
    key = _call(base, owner, "POST", "/api/api-keys",
                {"name": "automation", "role": "supervisor", "page_ids": [PAGE_A]})
    signed["api_key"] = {"X-Api-Key": key["key"]}

    expected = sum(len(psids) for psids in CONTACTS.values())
    for page_id, psids in CONTACTS.items():
        for psid in psids:
            sent = requests.post(f"{base}/_sandbox/messages", timeout=15,
                                 json={"page_id": page_id, "psid": psid, "text": "Hello?"})
            assert sent.status_code < 300, sent.text
    deadline = time.monotonic() + 30
    while len(_call(base, owner, "GET", "/api/conversations")["items"]) < expected:
        assert time.monotonic() < deadline, "the sandbox's messages were not ingested"
        time.sleep(0.2)
    return signed


def _known_path_parameters(base: str, owner: dict[str, str]) -> dict[str, list[str]]:
    def items(path: str) -> list[dict[str, Any]]:
        return requests.get(f"{base}{path}", headers=owner, timeout=15).json()["items"]

    conversations = items("/api/conversations")
    return {
        "conversation_id": [c["id"] for c in conversations],
        "contact_id": [c["contact_id"] for c in conversations],
        "member_id": [m["id"] for m in items("/api/members")] + ["me"],
        "key_id": [k["id"] for k in items("/api/api-keys")],
        "page_id": [PAGE_A, PAGE_B],
    }


@pytest.mark.parametrize("caller", CALLERS)
def test_the_local_stack_answers_every_caller_by_its_document(
        local: RunningStack, headers: dict[str, dict[str, str]], caller: str) -> None:
    import schemathesis

    base = local.settings.base_url
    schema = schemathesis.openapi.from_url(f"{base}/api/openapi.json")
    known = _known_path_parameters(base, headers["owner"])
    session = requests.Session()

    exercise_every_operation(
        schema, known,
        lambda case: case.call(base_url=base, session=session, headers=headers[caller],
                               timeout=30),
        headers[caller])
