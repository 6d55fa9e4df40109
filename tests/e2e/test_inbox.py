"""The issue's flows in a real browser: each test is one member's (or two members') story."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ANN, PAGE_A, Sandbox, screenshot, sign_in

ALEX = "2000000000000001"  # Alex Sample, in the sandbox's people
SAM = "2000000000000002"
KIM_COMMENTER = "2500000000000003"


def conversation(page: Any, name: str) -> Any:
    return page.get_by_test_id("conversation-item").filter(has_text=name)


def test_a_message_appears_without_reload_and_the_reply_reaches_messenger(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    page = sign_in(browser, stack.settings.base_url, ANN)

    sandbox.message(PAGE_A, ALEX, "Is the blue jacket in stock?")

    item = conversation(page, "Alex Sample")
    expect(item).to_be_visible(timeout=10_000)
    expect(item).to_contain_text("Is the blue jacket in stock?")
    item.click()
    chat = page.get_by_test_id("chat")
    expect(chat.get_by_test_id("message").first).to_contain_text("blue jacket")
    composer = page.get_by_label("Write a reply…")
    composer.fill("Yes, in every size.")
    composer.press("Enter")

    expect(chat.locator("[data-direction=out]")).to_contain_text("Yes, in every size.")
    sent = [m for m in sandbox.outbox() if m.get("recipient", {}).get("id") == ALEX
            and m.get("message", {}).get("text") == "Yes, in every size."]
    assert len(sent) == 1 and sent[0]["messaging_type"] == "RESPONSE"
    screenshot(page, "chat")
    page.context.close()
