"""Comments reach the inbox the way Facebook's do: a signed body through the webhook function,
then the queue drained into the ingest function. The page's own webhooks, which the sandbox
keeps when it has no webhook URL, are posted the same way.
"""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import APP_SECRET, PAGE_A, Persona, make_member, make_user, sign_in
from tests.ingest.helpers import drain, post_webhook, sample

POST = f"{PAGE_A}_300000000000001"
ALEX = "2500000000000001"
ALEX_PSID = "2000000000000001"


def deliver(env: dict[str, str], body: dict[str, Any]) -> None:
    """A webhook body as Facebook sends it, through the webhook function and the queue."""
    from infra.local.sandbox import encode_like_facebook

    answer = post_webhook(encode_like_facebook(body), sign_with=APP_SECRET)
    assert answer["statusCode"] == 200, answer
    drain(env)


def replay(env: dict[str, str], *names: str) -> None:
    """Saved samples, signed with this stack's app secret."""
    for name in names:
        answer = post_webhook(sample(name), sign_with=APP_SECRET)
        assert answer["statusCode"] == 200, (name, answer)
        drain(env)


def comment(env: dict[str, str], sandbox: Any, *, person: str = ALEX,
            text: str = "How much is shipping to Porto?", created_time: int | None = None,
            parent_id: str | None = None) -> str:
    """A person comments on page A's first post; returns the comment id."""
    body = sandbox.comment_body(page_id=PAGE_A, person_id=person, text=text,
                                 created_time=created_time, parent_id=parent_id)
    deliver(env, body)
    return body["entry"][0]["changes"][0]["value"]["comment_id"]


def deliver_page_webhooks(env: dict[str, str], sandbox: Any) -> list[dict[str, Any]]:
    """Post the webhooks of the page's own changes that the sandbox kept; returns them."""
    bodies = sandbox.take_page_webhooks()
    for body in bodies:
        deliver(env, body)
    return bodies


def conversation_of(author: str = ALEX) -> str:
    return f"c{POST}_{author}"


def graph_calls(sandbox: Any) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(method, path with version, query, JSON body) of each Graph call, in order."""
    return [(c["method"], f"/{c['version']}{c['path']}", c["query"], c["json"])
            for c in sandbox.calls]


def names(events: list[Any]) -> list[str]:
    return [e.name for e in events]


def messages(call: Any, token: str, conversation_id: str) -> list[dict[str, Any]]:
    """A conversation's messages as the API serves them, oldest first."""
    answer = call("GET", f"/api/conversations/{conversation_id}/messages", token=token,
                 query={"limit": "100"})
    assert answer.status == 200, answer.body
    return list(reversed(answer.body["items"]))


def stored_comment(call: Any, token: str, conversation_id: str,
                   comment_id: str) -> dict[str, Any]:
    found = [m for m in messages(call, token, conversation_id) if m["facebook_id"] == comment_id]
    assert len(found) == 1, json.dumps(found)
    return found[0]


def outsider(env: dict[str, str]) -> Persona:
    """An agent allowed on page B only: page A's conversations do not exist for them."""
    email = "outsider@brand.example"
    member_id = make_user(email)
    make_member(member_id, role="agent", email=email, page_ids={"100000000000002"})
    return Persona("outsider", member_id, email, sign_in(email))
