"""The web inbox in Debian's Chromium against the local stack, in process on free ports.

Each test module gets its own stack and browser, so no other suite runs beside them.

Members: an owner, agent Ann on page A, agent Ben on page B only (so Ben must never see page
A's conversations). The built inbox (web/dist) is served by the stack's gateway, as `make dev`
serves it; `make test` builds it first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.dev import RunningStack
from tests.local.stack import PAGE_A, PAGE_B, local_stack

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
OWNER = ("owner@example.com", "LocalOwner2026")
ANN = ("ann@example.com", "AgentAnn2026x")
BEN = ("ben@example.com", "AgentBen2026x")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: run `make test`, or `npm ci && npm run build` in web/")
    with local_stack(app_secret="e2e-secret", verify_token="e2e-token",
                     owner_email=OWNER[0], owner_password=OWNER[1]) as running:
        add_member(*ANN, name="Ann", role="agent", page_ids={PAGE_A})
        add_member(*BEN, name="Ben", role="agent", page_ids={PAGE_B})
        yield running


def add_member(email: str, password: str, *, name: str, role: str, page_ids: set[str],
               temporary: bool = False) -> Any:
    """A member as an accepted invitation leaves one (Cognito user and `Member`); with
    `temporary`, as a fresh invitation does: the password must be changed at first sign-in."""
    from inbox import aws
    from inbox import settings as settings_module
    from inbox.models import MEMBERS_PK, Member, utcnow

    cognito = aws.client("cognito-idp")
    pool = settings_module.settings.user_pool_id
    cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password,
                                    Permanent=not temporary)
    user = cognito.admin_get_user(UserPoolId=pool, Username=email)
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
    member = Member(MEMBERS_PK, sub, member_id=sub, email=email, name=name, role=role,
                    page_ids=page_ids, active=True, created_at=utcnow())
    member.save()
    return member


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}: `make test` installs Debian's `chromium` "
                    "when run as root; otherwise `apt-get install chromium` first")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()


class Sandbox:
    """The person's side: the sandbox's controls, over HTTP as a developer would use them."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.base}{path}", json=body, timeout=20)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def message(self, page_id: str, psid: str, text: str) -> dict[str, Any]:
        return self._post("/_sandbox/messages", {"page_id": page_id, "psid": psid, "text": text})

    def comment(self, page_id: str, person_id: str, text: str) -> dict[str, Any]:
        return self._post("/_sandbox/comments",
                          {"page_id": page_id, "person_id": person_id, "text": text})

    def last_message(self, page_id: str, psid: str, hours_ago: float) -> None:
        self._post("/_sandbox/messenger/last-message",
                   {"page_id": page_id, "psid": psid, "hours_ago": hours_ago})

    def fail_next_send(self, code: int, message: str) -> None:
        self._post("/_sandbox/send-failures", {"code": code, "message": message, "calls": 1})

    def image(self, page_id: str, psid: str, image_url: str) -> dict[str, Any]:
        return self._post("/_sandbox/messages",
                          {"page_id": page_id, "psid": psid, "image_url": image_url})

    def outbox(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.base}/_sandbox/outbox", timeout=10).json()["messages"]

    def calls(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.base}/_sandbox/calls", timeout=10).json()["calls"]


@pytest.fixture(scope="module")
def sandbox(stack: RunningStack) -> Sandbox:
    return Sandbox(stack.settings.base_url)


def sign_in(browser: Any, base_url: str, who: tuple[str, str],
            prepare: Callable[[Any], None] | None = None) -> Any:
    """A fresh browser context (its own session), signed in; returns its page. `prepare`
    gets the context before its page opens (to route its WebSockets, say)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    if prepare:
        prepare(context)
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("textbox", name="Email").fill(who[0])
    page.get_by_role("textbox", name="Password").fill(who[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("conversation-list").wait_for()
    return page


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
