"""An agent signed in on the local stack sees only what DESIGN "Who sees what" allows.

`make dev` on free ports, driven over HTTP as people would: the owner invites an agent allowed
on page A; the agent's first sign-in sets a new password; contacts write to pages A and B
through the sandbox; the owner takes one conversation of page A. The agent then lists,
filters and opens conversations and contacts, with isolation on and then off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from infra.local.dev import RunningStack
from tests.local.stack import OWNER_EMAIL, OWNER_PASSWORD, PAGE_A, PAGE_B, local_stack

AGENT_EMAIL = "agent.ann@example.com"
TEMPORARY, NEW_PASSWORD = "Welcome-Local-2026", "Ann-Own-Password-2026"
# Two contacts on page A (the owner takes the first), one on page B.
ON_A, OWNERS, ON_B = f"m{PAGE_A}_2000000000000011", f"m{PAGE_A}_2000000000000012", \
    f"m{PAGE_B}_2000000000000013"


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with local_stack() as running:
        yield running


class Client:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.base}{path}", json=body, timeout=15,
                                headers={"Authorization": f"Bearer {self.token}"})

    def ids(self, query: str = "") -> set[str]:
        answer = self.call("GET", f"/api/conversations{query}")
        assert answer.status_code == 200, answer.text
        return {item["id"] for item in answer.json()["items"]}


def _sign_in(base: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{base}/api/auth/login", timeout=15,
                         json={"email": email, "password": password})


@pytest.fixture(scope="module")
def world(local: RunningStack) -> dict[str, Client]:
    base = local.settings.base_url
    owner_login = _sign_in(base, OWNER_EMAIL, OWNER_PASSWORD)
    assert owner_login.status_code == 200, owner_login.text
    owner = Client(base, owner_login.json()["id_token"])

    invited = owner.call("POST", "/api/members", {
        "email": AGENT_EMAIL, "role": "agent", "page_ids": [PAGE_A], "reception_limit": 3})
    assert invited.status_code == 200, invited.text

    # Cognito would email a first password; `make dev` gives every invitation the one its
    # banner prints.
    first = _sign_in(base, AGENT_EMAIL, TEMPORARY)
    assert (first.status_code, first.json()["code"]) == (403, "password_change_required")
    tokens = requests.post(f"{base}/api/auth/new-password", timeout=15, json={
        "email": AGENT_EMAIL, "session": first.json()["session"],
        "new_password": NEW_PASSWORD})
    assert tokens.status_code == 200, tokens.text
    agent = Client(base, tokens.json()["id_token"])

    for page_id, conversation_id in ((PAGE_A, ON_A), (PAGE_A, OWNERS), (PAGE_B, ON_B)):
        psid = conversation_id.rsplit("_", 1)[1]
        sent = requests.post(f"{base}/_sandbox/messages", timeout=15,
                             json={"page_id": page_id, "psid": psid, "text": "Hello?"})
        assert sent.status_code < 300, sent.text
    deadline = time.monotonic() + 30
    while owner.ids() != {ON_A, OWNERS, ON_B} and time.monotonic() < deadline:
        time.sleep(0.2)
    assert owner.ids() == {ON_A, OWNERS, ON_B}

    # The owner is online and takes one conversation of page A: another member's, for Ann.
    assert owner.call("PUT", "/api/members/me/status", {"status": "online"}).status_code == 200
    if owner.call("GET", f"/api/conversations/{OWNERS}").json()["status"] != "assigned":
        taken = owner.call("POST", f"/api/conversations/{OWNERS}/pick-up")
        assert taken.status_code == 200, taken.text
    # Online, the owner took every waiting conversation; give the others back to the queue.
    for conversation_id in (ON_A, ON_B):
        if owner.call("GET", f"/api/conversations/{conversation_id}").json()[
                "status"] == "assigned":
            back = owner.call("POST", f"/api/conversations/{conversation_id}/transfer",
                              {"to_member_id": None})
            assert back.status_code == 200, back.text
    assert owner.call("PUT", "/api/members/me/status", {"status": "offline"}).status_code == 200
    return {"owner": owner, "agent": agent}


def _set_isolation(owner: Client, on: bool) -> None:
    answer = owner.call("PUT", "/api/settings", {"isolation": on})
    assert answer.status_code == 200, answer.text


def _contact_of(owner: Client, conversation_id: str) -> str:
    return owner.call("GET", f"/api/conversations/{conversation_id}").json()["contact"]["id"]


@pytest.mark.parametrize("isolation", [True, False])
def test_the_agent_sees_only_their_page_and_what_isolation_allows(
        world: dict[str, Client], isolation: bool) -> None:
    owner, agent = world["owner"], world["agent"]
    _set_isolation(owner, isolation)
    statuses = {cid: owner.call("GET", f"/api/conversations/{cid}").json()["status"]
                for cid in (ON_A, OWNERS, ON_B)}
    assert statuses == {ON_A: "unassigned", OWNERS: "assigned", ON_B: "unassigned"}

    # Page A's waiting conversation always; the owner's only with isolation off; page B never.
    visible = {ON_A} if isolation else {ON_A, OWNERS}
    assert agent.ids() == visible
    assert agent.ids(f"?page_id={PAGE_B}") == set()
    assert agent.ids("?status=assigned") == visible - {ON_A}
    assert agent.ids(f"?page_id={PAGE_A}&status=unassigned") == {ON_A}

    for conversation_id in (ON_A, OWNERS, ON_B):
        conversation = agent.call("GET", f"/api/conversations/{conversation_id}")
        messages = agent.call("GET", f"/api/conversations/{conversation_id}/messages")
        contact = agent.call("GET", f"/api/contacts/{_contact_of(owner, conversation_id)}")
        expected = 200 if conversation_id in visible else 404
        assert (conversation.status_code, messages.status_code, contact.status_code) == (
            expected, expected, expected), conversation_id
        if expected == 404:
            # Nothing says it exists: the same answer as for an id nobody has.
            missing = agent.call("GET", f"/api/conversations/{conversation_id}x")
            assert conversation.json()["code"] == missing.json()["code"] == "not_found"
