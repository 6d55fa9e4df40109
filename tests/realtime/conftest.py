"""The realtime suite: the stack's resources in moto, the local management API, personas.

Pushes go through the real function handler and the real boto3 `PostToConnection`, to the
local stack's emulation of API Gateway's management API on a loopback port; each test's
clients are recording inboxes registered there under their connection ids, so a connection
that is not registered answers 410 Gone, as a closed one does at API Gateway.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import make_member, make_user, sign_in

PAGE_A = "100000000000001"
PAGE_B = "100000000000002"


@dataclass
class Inbox:
    """A client's side of one connection: the frames it received, decoded."""

    connection_id: str = ""
    frames: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def send(self, text: str) -> None:
        self.frames.append(json.loads(text))

    def close(self) -> None:
        self.closed = True

    def events(self) -> list[str]:
        return [frame["event"] for frame in self.frames]


@dataclass
class Persona:
    member_id: str
    email: str
    token: str


@pytest.fixture
def websocket(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The local WebSocket API, its management API served on loopback, the function's."""
    from inbox import auth, settings
    from werkzeug.serving import make_server

    from infra.local.gateway import Function, load_handler
    from infra.local.websocket import WebSocketApi, management_app

    auth.forget_keys()
    api = WebSocketApi(Function("inbox-test-realtime", load_handler("realtime")))
    server = make_server("127.0.0.1", 0, management_app(api), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    monkeypatch.setenv("WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{server.server_port}")
    settings.reload_settings()
    yield api
    server.shutdown()
    server.server_close()
    auth.forget_keys()


@pytest.fixture
def personas(aws: dict[str, str]) -> dict[str, Persona]:
    """An owner; two agents allowed on page A; an agent allowed on page B only."""
    people = {
        "owner": ("owner", None),
        "agent": ("agent", {PAGE_A}),
        "other_agent": ("agent", {PAGE_A}),
        "agent_b": ("agent", {PAGE_B}),
    }
    found = {}
    for name, (role, page_ids) in people.items():
        email = f"{name}@brand.example"
        member_id = make_user(email)
        make_member(member_id, role=role, email=email, page_ids=page_ids)
        found[name] = Persona(member_id, email, sign_in(email))
    return found


def route_event(route: str, connection_id: str, *, token: str | None = None,
                body: str | None = None) -> dict[str, Any]:
    from infra.local.websocket import route_event as build

    event = build(route, connection_id, body=body)
    if token is not None:
        event["queryStringParameters"] = {"token": token}
    return event


@pytest.fixture
def connect(websocket: Any) -> Callable[..., tuple[int, Inbox]]:
    """Open a connection as API Gateway would: `$connect` with the token, then hold it."""
    counter = iter(range(1, 10_000))

    def open_connection(token: str | None) -> tuple[int, Inbox]:
        connection_id = f"conn{next(counter):04d}="
        answer = websocket.realtime(route_event("$connect", connection_id, token=token), None)
        inbox = Inbox(connection_id)
        if answer["statusCode"] == 200:
            websocket.register(connection_id, inbox)
        return answer["statusCode"], inbox

    return open_connection


def bus_event(name: str, **detail: Any) -> dict[str, Any]:
    """A domain event as the bus's rule delivers it to the function."""
    return {"version": "0", "id": "e-1", "detail-type": name, "source": "inbox",
            "account": "123456789012", "time": "2026-12-03T20:00:00Z", "region": "us-east-1",
            "resources": [], "detail": detail}


def make_conversation(conversation_id: str, *, page_id: str = PAGE_A, status: str,
                      assignee_id: str | None = None) -> Any:
    from inbox.models import CONVERSATION_SK, Conversation, conversation_pk

    conversation = Conversation(conversation_pk(conversation_id), CONVERSATION_SK,
                                conversation_id=conversation_id, channel="messenger",
                                page_id=page_id, contact_id=f"{page_id}_2000000000000001",
                                status=status, assignee_id=assignee_id, created_at=1,
                                last_activity_at=1)
    conversation.save()
    return conversation
