"""The API suite: an emulated account from template.yaml, the Facebook sandbox, personas.

Requests go through the real Lambda handler as HTTP API (payload v2) events, so routing,
validation, authentication and error mapping are all exercised as deployed.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

APP_SECRET = "api-test-app-secret"
VERIFY_TOKEN = "api-test-verify-token"
PASSWORD = "Correct-Horse-42"
PAGE_A = "100000000000001"
PAGE_B = "100000000000002"
PAGE_C = "100000000000003"


@dataclass
class Persona:
    name: str
    member_id: str
    email: str
    token: str


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh emulated account with the stack's resources, the domain bound to it."""
    from inbox import auth, models, secrets, settings
    from inbox import aws as aws_clients
    from moto import mock_aws

    from infra.local.resources import create_resources

    with mock_aws():
        env = create_resources(region="us-east-1", endpoint_url=None, app_secret=APP_SECRET,
                               verify_token=VERIFY_TOKEN, name_prefix="inbox-api-test")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings.reload_settings()
        models.bind_table(env["TABLE_NAME"], host=None, region="us-east-1")
        aws_clients.reset_clients()
        secrets.forget_cached()
        auth.forget_keys()
        yield env
        aws_clients.reset_clients()
        secrets.forget_cached()
        auth.forget_keys()


@pytest.fixture
def facebook(stack: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Facebook sandbox with pages A, B and C (none connected yet); yields its state."""
    from inbox import settings

    from infra.local.sandbox import create_sandbox, default_pages, sandbox_of, start_sandbox

    app = create_sandbox(app_secret=APP_SECRET, pages=default_pages([PAGE_A, PAGE_B, PAGE_C]))
    base_url, stop = start_sandbox(app)
    monkeypatch.setenv("GRAPH_API_URL", base_url)
    settings.reload_settings()
    yield sandbox_of(app)
    stop()


def _lambda_context() -> Any:
    class Context:
        function_name = "inbox-api"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:inbox-api"
        aws_request_id = "test-request"

    return Context()


def http_event(method: str, path: str, *, token: str | None = None,
               query: dict[str, str] | None = None, body: Any = None,
               headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) event, as API Gateway builds it."""
    all_headers = {"host": "api.example.test", "user-agent": "pytest", **(headers or {})}
    if token is not None:
        all_headers["authorization"] = f"Bearer {token}"
    raw_body = None
    if body is not None:
        all_headers["content-type"] = "application/json"
        raw_body = json.dumps(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /api/{proxy+}",
        "rawPath": path,
        "rawQueryString": urllib.parse.urlencode(query or {}),
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "requestId": "req-1",
            "routeKey": "ANY /api/{proxy+}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if raw_body is not None:
        event["body"] = raw_body
    return event


@pytest.fixture
def api(stack: dict[str, str]) -> Callable[..., Answer]:
    """Call the API handler: `api("GET", "/api/pages", token=...)` → Answer."""
    from functions.api.app import handler

    def call(method: str, path: str, **kwargs: Any) -> Answer:
        result = handler(http_event(method, path, **kwargs), _lambda_context())
        raw = result.get("body") or ""
        if result.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode()
        body = json.loads(raw) if raw else None
        return Answer(result["statusCode"], body, result.get("headers") or {})

    return call


def make_user(email: str) -> str:
    """A confirmed Cognito user with PASSWORD; returns its sub."""
    from inbox import aws, settings

    cognito = aws.client("cognito-idp")
    pool = settings.settings.user_pool_id
    user = cognito.admin_create_user(UserPoolId=pool, Username=email,
                                     UserAttributes=[{"Name": "email", "Value": email}],
                                     MessageAction="SUPPRESS")["User"]
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=PASSWORD,
                                    Permanent=True)
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def make_member(member_id: str, *, role: str, email: str, page_ids: set[str] | None = None,
                active: bool = True, **fields: Any) -> Any:
    """A member item; `fields` sets routing's (status, reception_limit...)."""
    from inbox.models import MEMBERS_PK, Member, utcnow

    member = Member(MEMBERS_PK, member_id, member_id=member_id, email=email, name=email,
                    role=role, page_ids=page_ids or None, active=active, created_at=utcnow(),
                    **fields)
    member.save()
    return member


def sign_in(email: str) -> str:
    from inbox import auth

    return auth.sign_in(email, PASSWORD).access_token


PEOPLE = {
    "owner": ("owner", None),
    "supervisor": ("supervisor", {PAGE_A}),
    "agent": ("agent", {PAGE_A}),
    "other_agent": ("agent", {PAGE_A}),
}


def make_personas(people: dict[str, tuple[str, set[str] | None]]) -> dict[str, Persona]:
    found = {}
    for name, (role, page_ids) in people.items():
        email = f"{name}@brand.example"
        member_id = make_user(email)
        # Online with room, as a working team is: routing takes them into account.
        make_member(member_id, role=role, email=email, page_ids=page_ids, status="online",
                    reception_limit=5)
        found[name] = Persona(name, member_id, email, sign_in(email))
    return found


@pytest.fixture
def personas(stack: dict[str, str]) -> dict[str, Persona]:
    """An owner; a supervisor and two agents allowed on page A only."""
    return make_personas(PEOPLE)


@pytest.fixture
def team(stack: dict[str, str]) -> dict[str, Persona]:
    """The personas and an admin (every page)."""
    return make_personas({**PEOPLE, "admin": ("admin", None)})


def make_api_key(role: str, *, page_ids: set[str] | None = None) -> str:
    """An API key made by the product's own action; returns the key as shown once."""
    from inbox.actions.api_keys import do_create_api_key
    from inbox.models import MEMBERS_PK, Member, utcnow

    creator = Member(MEMBERS_PK, "creator", member_id="creator", email="", name="creator",
                     role="owner", created_at=utcnow())
    created = do_create_api_key(creator, name=f"{role} automation", role=role,
                                page_ids=tuple(sorted(page_ids)) if page_ids else None)
    return created.presented


# Factories ------------------------------------------------------------------------------

def make_page(page_id: str, name: str = "Page") -> Any:
    from inbox.models import PAGES_PK, Page, utcnow

    page = Page(PAGES_PK, page_id, page_id=page_id, name=name, connected_at=utcnow())
    page.save()
    return page


def make_contact(contact_id: str, *, page_id: str = PAGE_A, name: str = "Alex Sample",
                 conversation_ids: set[str] | None = None, tags: set[str] | None = None,
                 phone: str | None = None) -> Any:
    from inbox.models import Contact, ContactTag, contact_pk, phone_key, tag_key, utcnow

    contact = Contact(contact_pk(contact_id), "CONTACT", contact_id=contact_id, page_id=page_id,
                      facebook_user_id="psid-" + contact_id, kind="messenger", name=name,
                      name_source="graph", conversation_ids=conversation_ids or None,
                      tags=tags or None, phone=phone, created_at=utcnow())
    if phone:
        contact.gsi3pk = phone_key(phone)
        contact.gsi3sk = contact_id
    contact.save()
    for tag in tags or ():
        ContactTag(tag_key(tag), contact_id, tag=tag, contact_id=contact_id).save()
    return contact


def make_conversation(conversation_id: str, *, page_id: str = PAGE_A, status: str = "unassigned",
                      activity_ms: int = 1767225600000, channel: str = "messenger",
                      assignee_id: str | None = None, contact_id: str | None = None,
                      contact_name: str = "Alex Sample", last_inbound_at: int | None = None,
                      **fields: Any) -> Any:
    from inbox.models import Conversation, activity_key, conversation_pk, queue_key

    conversation = Conversation(
        conversation_pk(conversation_id), "CONV", conversation_id=conversation_id,
        channel=channel, page_id=page_id, contact_id=contact_id or "c-" + conversation_id,
        contact_name=contact_name, status=status, assignee_id=assignee_id,
        created_at=activity_ms, last_activity_at=activity_ms, last_inbound_at=last_inbound_at,
        gsi1pk=queue_key(page_id, status), gsi1sk=activity_key(activity_ms, conversation_id),
        **fields,
    )
    conversation.save()
    return conversation
