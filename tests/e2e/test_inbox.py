"""The issue's flows in a real browser: each test is one member's (or two members') story."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.e2e.conftest import ANN, BEN, OWNER, PAGE_A, PAGE_B, Sandbox, screenshot, sign_in

# Two members see a message within a second: run alone, after the parallel suites.
pytestmark = pytest.mark.timed

ALEX = "2000000000000001"  # Alex Sample, in the sandbox's people
SAM = "2000000000000002"
KIM_COMMENTER = "2500000000000003"
ROBIN = "2000000000000004"
LAYLA = "2000000000000005"
WEI = "2000000000000006"
KIM = "2000000000000003"
PHONE_ONLY = "2000000000000009"  # the profile look-up is refused for this one
# The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


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
    expect(item.get_by_test_id("unread")).to_have_text("1")
    item.click()
    chat = page.get_by_test_id("chat")
    expect(chat.get_by_test_id("message").first).to_contain_text("blue jacket")
    # Read once opened: the unread count clears, in this list and the team's.
    expect(item.get_by_test_id("unread")).to_have_count(0)
    composer = page.get_by_label("Write a reply…")
    composer.fill("Yes, in every size.")
    composer.press("Enter")

    expect(chat.locator("[data-direction=out]")).to_contain_text("Yes, in every size.")
    sent = [m for m in sandbox.outbox() if m.get("recipient", {}).get("id") == ALEX
            and m.get("message", {}).get("text") == "Yes, in every size."]
    assert len(sent) == 1 and sent[0]["messaging_type"] == "RESPONSE"
    # The sandbox's page shows the person what the page answered, as Messenger would.
    page.goto(f"{stack.settings.base_url}/sandbox/")
    page.get_by_label("Page").select_option(PAGE_A)
    page.get_by_label("Person").select_option(ALEX)
    expect(page.locator("#inbox")).to_contain_text("Yes, in every size.")
    page.context.close()


def _wait_for(check: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _messages_to(sandbox: Sandbox, psid: str) -> list[dict[str, Any]]:
    """What the page sent the person, without sender actions (seen, typing)."""
    return [m for m in sandbox.outbox()
            if m.get("recipient", {}).get("id") == psid and "message" in m]


def _age_window(stack: Any, sandbox: Sandbox, psid: str, name: str, hours: float) -> None:
    """The person's last message `hours` ago, on Facebook's side and in the inbox's table."""
    from inbox.models import CONVERSATION_SK, Conversation, conversation_pk

    sandbox.last_message(PAGE_A, psid, hours_ago=hours)
    base = stack.settings.base_url
    token = requests.post(f"{base}/api/auth/login", timeout=10,
                          json={"email": OWNER[0], "password": OWNER[1]}).json()["id_token"]
    def listed() -> list[dict[str, Any]]:
        return requests.get(f"{base}/api/conversations", params={"contact_name": name},
                            headers={"Authorization": f"Bearer {token}"}, timeout=10
                            ).json()["items"]

    # Ingest runs after the webhook is answered; aged before it, it would open the window again.
    _wait_for(lambda: any(item["last_message_direction"] == "in" for item in listed()))
    at = int((time.time() - hours * 3600) * 1000)
    for item in listed():
        found = Conversation.get(conversation_pk(item["id"]), CONVERSATION_SK)
        found.update(actions=[Conversation.last_inbound_at.set(at)])


def test_a_reply_after_24_hours_asks_for_the_human_agent_tag(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, SAM, "Where is my order?")
    _age_window(stack, sandbox, SAM, "Sam", hours=30)
    page = sign_in(browser, stack.settings.base_url, ANN)
    conversation(page, "Sam Example").click()

    expect(page.get_by_test_id("window-state")).to_have_text(re.compile("tag needed"))
    composer = page.get_by_label("Write a reply…")
    composer.fill("It left the warehouse today.")
    composer.press("Enter")
    refusal = page.get_by_test_id("composer").get_by_text("Pick the message tag first.")
    expect(refusal).to_be_visible()
    assert not [m for m in sandbox.outbox() if m.get("recipient", {}).get("id") == SAM]

    page.get_by_role("combobox", name="Message tag").click()
    page.get_by_role("option", name="Human agent (up to 7 days)").click()
    page.get_by_role("button", name="Send").click()

    chat = page.get_by_test_id("chat")
    expect(chat.locator("[data-direction=out]")).to_contain_text("It left the warehouse")
    (sent,) = [m for m in sandbox.outbox() if m.get("recipient", {}).get("id") == SAM]
    assert (sent["messaging_type"], sent["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    page.context.close()


def test_a_comment_is_hidden_and_replied_to_and_an_agent_of_another_page_never_sees_it(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    ann = sign_in(browser, stack.settings.base_url, ANN)
    ben = sign_in(browser, stack.settings.base_url, BEN)
    sandbox.message(PAGE_B, ROBIN, "Hello page B")
    posted = sandbox.comment(PAGE_A, KIM_COMMENTER, "How much is shipping?")

    item = conversation(ann, "Kim Placeholder")
    expect(item).to_be_visible(timeout=10_000)
    item.click()
    comment = ann.get_by_test_id("comment").filter(has_text="How much is shipping?")
    comment.get_by_role("button", name="Hide").click()
    expect(comment).to_have_attribute("data-hidden", "true")
    comment.get_by_role("button", name="Reply", exact=True).click()
    ann.get_by_label("Public reply…").fill("Free above 50 euros.")
    ann.get_by_label("Public reply…").press("Enter")
    expect(ann.get_by_test_id("comment-thread")).to_contain_text("Free above 50 euros.")

    shown = stack.sandbox.comments[posted["comment_id"]]
    assert shown.hidden
    replies = [c for c in stack.sandbox.comments.values()
               if c.parent_id == posted["comment_id"] and c.author_id == PAGE_A]
    assert [c.message for c in replies] == ["Free above 50 euros."]

    # The other moderation actions: like, a private reply in Messenger, delete.
    comment.get_by_role("button", name="Like", exact=True).click()
    expect(comment.get_by_text("Liked", exact=True)).to_be_visible()
    comment.get_by_role("button", name="Private reply").click()
    ann.get_by_label("Private message in Messenger…").fill("I sent you the price list.")
    ann.get_by_label("Private message in Messenger…").press("Enter")
    expect(comment.get_by_text(re.compile("Private reply: "))).to_be_visible()
    assert shown.liked and shown.private_reply_mid
    ann.on("dialog", lambda dialog: dialog.accept())
    comment.get_by_role("button", name="Delete").click()
    expect(comment.get_by_text("Deleted", exact=True)).to_be_visible()
    assert shown.deleted

    # Ben works page B only: his own conversation arrives, page A's never do.
    expect(conversation(ben, "Robin Moreau")).to_be_visible(timeout=10_000)
    expect(conversation(ben, "Kim Placeholder")).to_have_count(0)
    expect(conversation(ben, "Alex Sample")).to_have_count(0)
    ann.context.close()
    ben.context.close()


def test_two_members_see_a_new_message_within_a_second_each_only_their_own(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    ann = sign_in(browser, stack.settings.base_url, ANN)
    ben = sign_in(browser, stack.settings.base_url, BEN)
    for page in (ann, ben):
        expect(page.get_by_test_id("live")).to_have_text("Live", timeout=10_000)

    people = ((ann, PAGE_A, LAYLA, "Layla Haddad"), (ben, PAGE_B, WEI, "Wei Chen"))
    for page, page_id, psid, name in people:
        # The first message makes the contact and conversation (and wakes the handlers).
        sandbox.message(page_id, psid, f"Hello, this is {name}")
        expect(conversation(page, name)).to_be_visible(timeout=10_000)

    # From the person pressing send to the new message on the member's screen.
    for page, page_id, psid, name in people:
        started = time.monotonic()
        sandbox.message(page_id, psid, f"A question from {name}")
        expect(conversation(page, name)).to_contain_text(f"A question from {name}",
                                                         timeout=1000)
        assert time.monotonic() - started < 1.0

    expect(conversation(ann, "Wei Chen")).to_have_count(0)
    expect(conversation(ben, "Layla Haddad")).to_have_count(0)
    ann.context.close()
    ben.context.close()


def test_owners_see_team_and_page_settings_and_agents_do_not(
    stack: Any, browser: Any
) -> None:
    owner = sign_in(browser, stack.settings.base_url, OWNER)
    ann = sign_in(browser, stack.settings.base_url, ANN)
    # An inline icon: no request for /favicon.ico, which nothing serves.
    expect(owner.locator("link[rel=icon]")).to_have_count(1)
    # The team changes after the owner signed in: the settings show it as it is now.
    base = stack.settings.base_url
    headers = {"Authorization": f"Bearer {_owner_token(stack)}"}
    members = requests.get(f"{base}/api/members", headers=headers, timeout=10).json()["items"]
    (ann_member,) = [m for m in members if m["email"] == ANN[0]]
    limit = ann_member["reception_limit"]
    changed = requests.patch(f"{base}/api/members/{ann_member['id']}", headers=headers,
                             timeout=10, json={"reception_limit": limit + 1})
    assert changed.status_code == 200, changed.text

    owner.get_by_role("button", name="Settings").click()
    team = owner.get_by_test_id("team-table")
    expect(team).to_contain_text("ann@example.com")
    expect(team).to_contain_text("ben@example.com")
    expect(owner.get_by_label("Reception limit of Ann")).to_have_value(str(limit + 1))
    ann_row = team.get_by_test_id("member-row").filter(has_text=ANN[0])
    expect(ann_row.get_by_test_id("open-count")).to_have_text(str(ann_member["open_count"]))
    screenshot(owner, "settings")
    requests.patch(f"{base}/api/members/{ann_member['id']}", headers=headers, timeout=10,
                   json={"reception_limit": limit})
    owner.get_by_role("tab", name="Pages").click()
    pages_tab = owner.get_by_role("tabpanel", name="Pages")
    expect(pages_tab).to_contain_text("Demo Shop 2")
    # The switch says what it does: the FAQ bot itself is not built.
    expect(pages_tab.get_by_label(re.compile("Start new conversations with the bot")).first
           ).to_be_attached()

    expect(ann.get_by_test_id("me")).to_contain_text("Agent")
    expect(ann.get_by_role("button", name="Settings")).to_have_count(0)
    owner.context.close()
    ann.context.close()


def test_the_inbox_speaks_simplified_chinese_when_the_member_picks_it(
    stack: Any, browser: Any
) -> None:
    # The switch replaces the live connection. The old socket's close is held back until the
    # new one is up, as a slow network does: it must not mark the new connection down.
    sockets: list[Any] = []
    held: list[Any] = []

    def hold_closes(socket: Any) -> None:
        server = socket.connect_to_server()
        sockets.append(socket)
        socket.on_close(lambda code, reason: held.append((socket, server)))

    page = sign_in(browser, stack.settings.base_url, ANN,
                   prepare=lambda context: context.route_web_socket(re.compile("/ws"),
                                                                    hold_closes))
    expect(page.get_by_test_id("live")).to_have_text("Live", timeout=10_000)

    page.get_by_role("combobox", name="Language").click()
    page.get_by_role("option", name="简体中文").click()

    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    expect(page.get_by_placeholder("搜索联系人姓名")).to_be_visible()
    while len(sockets) < 2 or not held:
        page.wait_for_timeout(50)
    page.wait_for_timeout(1000)  # the new connection opens meanwhile
    for socket, server in held:
        socket.close()
        server.close()
    page.wait_for_timeout(500)
    expect(page.get_by_test_id("live")).to_have_text("实时")
    # Kept in this browser: a reload keeps the member's language.
    page.reload()
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    # And with the member: another browser, where nothing was chosen, turns to Chinese once
    # Ann has signed in.
    elsewhere = sign_in(browser, stack.settings.base_url, ANN)
    expect(elsewhere.get_by_role("button", name="退出登录")).to_be_visible()
    expect(elsewhere.get_by_test_id("live")).to_have_text("实时", timeout=10_000)
    # Back to English for the stories that follow.
    elsewhere.get_by_role("combobox", name="语言").click()
    elsewhere.get_by_role("option", name="English").click()
    expect(elsewhere.get_by_role("button", name="Sign out")).to_be_visible()
    page.context.close()
    elsewhere.context.close()


def test_a_refused_send_is_marked_and_retried_and_a_photo_is_shown(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, PHONE_ONLY, "Can I change my order?")
    sandbox.image(PAGE_A, PHONE_ONLY, f"{stack.settings.base_url}/_sandbox/avatars/{PAGE_A}.svg")
    # A link on a host the media function refuses: not kept, and said so.
    sandbox.image(PAGE_A, PHONE_ONLY, "https://media.example.invalid/photo.jpg")
    page = sign_in(browser, stack.settings.base_url, ANN)
    # The newest conversation; the person's name is hidden by their privacy settings. Its
    # last message is a picture, previewed by its kind in the member's language.
    expect(page.get_by_test_id("conversation-item").first).to_contain_text("[Image]")
    page.get_by_test_id("conversation-item").first.click()
    expect(page.get_by_test_id("chat")).to_contain_text("Can I change my order?")
    chat = page.get_by_test_id("chat")
    # Shown from the inbox's own copy once the media function has made it.
    expect(chat.get_by_role("img", name="Image")).to_be_visible()
    refused = chat.get_by_test_id("media-failed")
    expect(refused).to_contain_text("Image not kept: its link is not on a Facebook media host",
                                    timeout=10_000)
    expect(chat.locator("img[src*='example.invalid']")).to_have_count(0)

    # Opening the chat marks it seen (a Send API call too): the refusal is for the reply.
    _wait_for(lambda: any(m.get("sender_action") == "mark_seen"
                          and m["recipient"]["id"] == PHONE_ONLY for m in sandbox.outbox()))
    sandbox.fail_next_send(100, "(#100) Invalid parameter")
    composer = page.get_by_label("Write a reply…")
    composer.fill("Yes, until it ships.")
    composer.press("Enter")
    failed = chat.locator("[data-status=failed]")
    expect(failed).to_contain_text("Not sent")
    assert not _messages_to(sandbox, PHONE_ONLY)

    failed.get_by_role("button", name="Retry").click()
    expect(chat.locator("[data-direction=out]")).to_have_attribute("data-status", "sent")
    (sent,) = _messages_to(sandbox, PHONE_ONLY)
    assert sent["message"]["text"] == "Yes, until it ships."
    page.context.close()


def test_an_invited_member_chooses_a_password_at_first_sign_in(
    stack: Any, browser: Any
) -> None:
    from tests.e2e.conftest import add_member

    add_member("cleo@example.com", "Temporary2026x", name="Cleo", role="agent",
               page_ids={PAGE_A}, temporary=True)
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    page = context.new_page()
    page.goto(stack.settings.base_url + "/")
    page.get_by_role("textbox", name="Email").fill("cleo@example.com")
    page.get_by_role("textbox", name="Password", exact=True).fill("Temporary2026x")
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("textbox", name="New password").fill("CleosOwn2026pass")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_test_id("me")).to_contain_text("Cleo")
    tokens = requests.post(f"{stack.settings.base_url}/api/auth/login", timeout=10, json={
        "email": "cleo@example.com", "password": "CleosOwn2026pass"})
    assert tokens.status_code == 200
    context.close()


def test_an_expired_token_is_renewed_without_signing_the_member_out(
    stack: Any, browser: Any
) -> None:
    page = sign_in(browser, stack.settings.base_url, BEN)
    read_session = "() => JSON.parse(window.sessionStorage.getItem('inbox.session'))"
    signed_in = page.evaluate(read_session)
    assert signed_in["refresh_token"]
    # The hour is up: the API refuses the ID token the tab holds.
    page.evaluate("""() => {
        const session = JSON.parse(window.sessionStorage.getItem('inbox.session'));
        window.sessionStorage.setItem('inbox.session',
            JSON.stringify({...session, token: 'an-expired-token'}));
    }""")

    page.reload()

    expect(page.get_by_test_id("me")).to_contain_text("Ben")
    expect(page.get_by_test_id("live")).to_have_text("Live", timeout=10_000)
    renewed = page.evaluate(read_session)
    assert renewed["token"] not in ("an-expired-token", "")
    assert renewed["refresh_token"] == signed_in["refresh_token"]
    page.context.close()


def test_an_agent_picks_up_a_conversation_and_closes_it_with_a_tag(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, KIM, "I need an invoice")
    page = sign_in(browser, stack.settings.base_url, ANN)
    conversation(page, "Kim Placeholder").filter(has_text="Messenger").click()
    info = page.get_by_test_id("conversation-info")

    info.get_by_role("button", name="Pick up").click()
    expect(info).to_contain_text("Assignee: Ann")
    info.get_by_role("button", name="Close").click()
    dialog = page.get_by_role("dialog")
    tags = dialog.get_by_label("Conversation tags")
    tags.fill("invoice")
    tags.press("Enter")
    dialog.get_by_role("button", name="Close", exact=True).click()

    expect(info).to_contain_text("Closed")
    expect(info).to_contain_text("invoice")
    entries = page.get_by_test_id("timeline-entry")
    expect(entries.filter(has_text="Picked up by Ann")).to_be_visible()
    expect(entries.filter(has_text="Ann → Ann")).to_have_count(0)
    page.context.close()


def test_an_owner_assigns_a_waiting_conversation_to_an_agent_with_a_note(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, SAM, "Is anyone there?")
    owner = sign_in(browser, stack.settings.base_url, OWNER)
    conversation(owner, "Sam Example").filter(has_text="Messenger").first.click()
    info = owner.get_by_test_id("conversation-info")

    info.get_by_role("button", name="Assign").click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("To").click()
    owner.get_by_role("option", name=re.compile("^Ann")).click()
    dialog.get_by_label("Note").fill("Sam is a returning customer")
    dialog.get_by_role("button", name="Transfer").click()

    expect(info).to_contain_text("Assignee: Ann")
    expect(owner.get_by_text("Sam is a returning customer")).to_be_visible()
    owner.context.close()


def test_a_file_is_attached_through_the_upload_flow_and_sent(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    for line in range(1, 9):
        sandbox.message(PAGE_A, ROBIN, f"Question {line} of 8")
    sandbox.message(PAGE_A, ROBIN, "Can you send me the size chart?")
    page = sign_in(browser, stack.settings.base_url, ANN)
    # A short window: the chat scrolls, and the composer growing covers its newest message
    # unless the chat follows.
    page.set_viewport_size({"width": 1440, "height": 600})
    conversation(page, "Robin Moreau").click()
    chat = page.get_by_test_id("chat")
    composer = page.get_by_test_id("composer")
    newest = chat.get_by_test_id("message").filter(has_text="size chart")
    expect(newest).to_be_in_viewport(ratio=1)

    # Files the API would refuse are named at once, before any upload.
    composer.locator("input[type=file]").set_input_files(
        files=[{"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    expect(composer.get_by_role("alert")).to_have_text(
        "“empty.txt” is empty (0 bytes): it cannot be sent.")
    dropped = page.evaluate_handle("""() => {
        const data = new DataTransfer();
        const big = new Uint8Array(25 * 1024 * 1024 + 1);
        data.items.add(new File([big], "catalog.mov", {type: "video/quicktime"}));
        return data;
    }""")
    composer.dispatch_event("drop", {"dataTransfer": dropped})
    expect(composer.get_by_role("alert")).to_have_text(
        "“catalog.mov” is 25 MB: the most a file can be is 25 MB.")
    expect(composer).not_to_contain_text("empty.txt")
    composer.locator("input[type=file]").set_input_files(files=[
        {"name": "sizes.png", "mimeType": "image/png", "buffer": PNG},
        {"name": "sizes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 sizes"}])
    expect(composer).to_contain_text("sizes.png")
    expect(newest).to_be_in_viewport(ratio=1)
    page.get_by_role("button", name="Send").click()

    _wait_for(lambda: len(_messages_to(sandbox, ROBIN)) == 2)
    sent = [m["message"]["attachment"]["type"] for m in _messages_to(sandbox, ROBIN)]
    assert sorted(sent) == ["file", "image"]
    # The member sees what went: the upload, through a signed link to the bucket.
    out = chat.locator("[data-direction=out]")
    shown = out.get_by_role("img", name="Image")
    expect(shown).to_have_count(1)
    _wait_for(lambda: shown.evaluate("image => image.complete && image.naturalWidth > 0"))
    # The file's name is readable on the blue bubble.
    expect(out.get_by_role("link", name=re.compile("sizes.pdf"))).to_have_css(
        "color", "rgb(255, 255, 255)")
    page.context.close()


def _owner_token(stack: Any) -> str:
    return requests.post(f"{stack.settings.base_url}/api/auth/login", timeout=10,
                         json={"email": OWNER[0], "password": OWNER[1]}).json()["id_token"]


LONG_WORD = "https://shop.example.com/orders/" + "0123456789" * 8


def test_an_agent_edits_the_contact_and_finds_them_by_tag_and_phone(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, WEI, "Please call me about the refund")
    page = sign_in(browser, stack.settings.base_url, ANN)
    conversation(page, "Wei Chen").click()
    panel = page.get_by_test_id("contact-panel")

    panel.get_by_role("button", name="Edit").click()
    panel.get_by_label("Email").fill("wei@example.com")
    panel.get_by_label("Phone").fill("+351 912 000 111")
    tags = panel.get_by_label("Tags")
    tags.fill("refund")
    tags.press("Enter")
    panel.get_by_label("Notes").fill(f"Calls after 6 pm only. {LONG_WORD}")
    panel.get_by_role("button", name="Save").click()

    expect(panel).not_to_have_attribute("data-editing", "true")
    expect(panel.get_by_test_id("contact-email")).to_contain_text("wei@example.com")
    expect(panel.get_by_test_id("contact-phone")).to_contain_text("+351 912 000 111")
    expect(panel.get_by_test_id("contact-tags")).to_have_text("refund")
    notes = panel.get_by_test_id("contact-notes")
    expect(notes).to_have_text(f"Calls after 6 pm only. {LONG_WORD}")
    # A long word without spaces wraps inside the panel.
    assert notes.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert panel.evaluate("e => e.scrollWidth <= e.clientWidth")

    items = page.get_by_test_id("conversation-item")
    page.get_by_label("Contact tag").fill("refund")
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Wei Chen")
    page.get_by_label("Contact tag").fill("")
    page.get_by_label("Phone", exact=True).fill("+351912000111")
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Wei Chen")
    page.context.close()


def test_the_keyboard_walks_the_list_and_reaches_search_and_reply(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    sandbox.message(PAGE_A, ALEX, "One more thing about the jacket")
    page = sign_in(browser, stack.settings.base_url, ANN)
    items = page.get_by_test_id("conversation-item")
    expect(items.first).to_contain_text("One more thing about the jacket", timeout=10_000)
    focused_id = "document.activeElement && document.activeElement.id"

    page.keyboard.press("j")
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("chat")).to_contain_text("One more thing about the jacket")
    page.keyboard.press("j")
    expect(items.nth(1)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("k")
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")

    page.get_by_label("Write a reply…").wait_for()
    page.keyboard.press("r")
    assert page.evaluate(focused_id) == "composer-input"
    page.keyboard.type("j stays in the reply")
    expect(items.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    assert page.evaluate(focused_id) == "conversation-search"
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_test_id("shortcuts")).to_contain_text("Write a reply")
    page.context.close()


def test_a_dropped_file_and_a_catalog_product_reach_messenger(
    stack: Any, browser: Any, sandbox: Sandbox
) -> None:
    created = requests.post(
        f"{stack.settings.base_url}/api/catalog/products", timeout=10,
        headers={"Authorization": f"Bearer {_owner_token(stack)}"},
        json={"title": "Blue jacket", "subtitle": "Waterproof, every size", "price": "89.00",
              "currency": "EUR", "url": "https://shop.example.com/blue-jacket"})
    assert created.status_code == 201, created.text
    sandbox.message(PAGE_A, LAYLA, "Do you have a rain jacket?")
    page = sign_in(browser, stack.settings.base_url, ANN)
    conversation(page, "Layla Haddad").click()
    composer = page.get_by_test_id("composer")
    expect(page.get_by_test_id("chat")).to_contain_text("rain jacket")

    # What the browser does when a file is dragged from the desktop onto the reply box.
    dropped = page.evaluate_handle("""(bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], "jacket.png", {type: "image/png"}));
        return data;
    }""", list(PNG))
    composer.dispatch_event("drop", {"dataTransfer": dropped})
    expect(composer).to_contain_text("jacket.png")
    composer.get_by_role("button", name="Products").click()
    page.get_by_role("dialog").get_by_text("Blue jacket").click()
    expect(composer).to_contain_text("Blue jacket")
    composer.get_by_role("button", name="Send").click()

    _wait_for(lambda: len(_messages_to(sandbox, LAYLA)) >= 2)
    sent = [m["message"]["attachment"] for m in _messages_to(sandbox, LAYLA)]
    assert sorted(a["type"] for a in sent) == ["image", "template"]
    (card,) = [a for a in sent if a["type"] == "template"]
    assert card["payload"]["elements"][0]["title"] == "Blue jacket"
    expect(page.get_by_test_id("chat").get_by_test_id("card")).to_contain_text("Blue jacket")
    page.context.close()


def _expire_page_token(stack: Any, page_id: str) -> None:
    """Facebook expires the page's token, and the inbox has met the refusal (as a reply or
    profile look-up would): the page is flagged."""
    from inbox.models import PAGES_PK, Page

    answer = requests.post(f"{stack.settings.base_url}/_sandbox/tokens/expire", timeout=10,
                           json={"page_id": page_id})
    assert answer.json()["expired"] >= 1
    Page.get(PAGES_PK, page_id).update(actions=[Page.reconnect_needed.set(True)])


def test_owners_manage_members_page_routing_and_api_keys(stack: Any, browser: Any) -> None:
    owner = sign_in(browser, stack.settings.base_url, OWNER)
    owner.on("dialog", lambda dialog: dialog.accept())
    owner.get_by_role("button", name="Settings").click()
    team = owner.get_by_test_id("team-table")

    limit = owner.get_by_label("Reception limit of Ann")
    limit.fill("7")
    limit.press("Tab")
    owner.get_by_label("Email", exact=True).fill("dana@example.com")
    owner.get_by_label("Name", exact=True).fill("Dana")
    owner.get_by_role("button", name="Invite").click()
    dana = team.get_by_test_id("member-row").filter(has_text="dana@example.com")
    expect(dana).to_be_visible()
    dana.get_by_role("button", name="Deactivate").click()
    expect(dana).to_contain_text("Deactivated")

    owner.get_by_role("tab", name="Pages").click()
    page_a = owner.get_by_test_id("page-settings").and_(
        owner.locator(f"[data-page-id='{PAGE_A}']"))
    page_a.get_by_label("Hand on unanswered after (minutes)").fill("15")
    words = page_a.get_by_label("Hand-over words")
    words.fill("human")
    words.press("Enter")
    page_a.get_by_role("button", name="Save").click()
    expect(page_a.get_by_role("status")).to_have_text("Saved.")

    # Facebook stops accepting page B's token; a new one pasted here reconnects it.
    page_b = owner.get_by_test_id("page-settings").and_(
        owner.locator(f"[data-page-id='{PAGE_B}']"))
    _expire_page_token(stack, PAGE_B)
    owner.keyboard.press("Escape")
    owner.get_by_role("button", name="Settings").click()
    owner.get_by_role("tab", name="Pages").click()
    expect(page_b).to_contain_text("Reconnect needed")
    page_b.get_by_label("New page access token").fill("EAANOTATOKEN")
    page_b.get_by_role("button", name="Reconnect").click()
    expect(owner.get_by_text("Facebook does not accept this access token for a page.")
           ).to_be_visible()
    fresh = requests.post(f"{stack.settings.base_url}/_sandbox/pages/{PAGE_B}/tokens",
                          timeout=10).json()["access_token"]
    page_b.get_by_label("New page access token").fill(fresh)
    page_b.get_by_role("button", name="Reconnect").click()
    expect(page_b).not_to_contain_text("Reconnect needed")
    expect(page_b.get_by_test_id("reconnect")).to_have_count(0)

    owner.get_by_role("tab", name="API keys").click()
    owner.get_by_label("Key name").fill("Order sync")
    owner.get_by_role("button", name="Create key").click()
    expect(owner.get_by_test_id("created-key")).to_contain_text("Copy the key now")
    row = owner.get_by_test_id("api-key-row").filter(has_text="Order sync")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_contain_text("Revoked")

    headers = {"Authorization": f"Bearer {_owner_token(stack)}"}
    base = stack.settings.base_url
    members = requests.get(f"{base}/api/members", headers=headers, timeout=10).json()["items"]
    assert {m["email"]: m["reception_limit"] for m in members}["ann@example.com"] == 7
    assert not {m["email"]: m["active"] for m in members}["dana@example.com"]
    pages = requests.get(f"{base}/api/pages", headers=headers, timeout=10).json()["items"]
    (saved,) = [p for p in pages if p["id"] == PAGE_A]
    assert saved["unanswered_timeout_seconds"] == 900
    assert "human" in saved["handover_words"]
    assert not [p for p in pages if p["reconnect_needed"]]
    owner.context.close()


SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "facebook" / "webhooks"
# Sam gets every attachment kind and a reply from Meta's own inbox; Alex edits, reacts, reads
# and came from an ad; the post gets a thread with the page's reply, a photo, a hidden comment.
REPLAYED = ["01", "02", "03", "05", "06", "07", "08", "09", "10", "12", "13", "14", "15", "16",
            "17", "19", "20", "22", "31", "32", "33", "35", "37"]
_FACEBOOK_MEDIA = re.compile(rb"https:\\/\\/[a-z.]+\.example\.invalid\\/[^\"]+?\.(?:jpg|png)[^\"]*")
# Voice, video and file links: served by the sandbox as Facebook's CDN serves them (their hosts
# are refused by the media function, whose "not kept" note would stand in for the players).
_FACEBOOK_FILES = re.compile(rb"https:\\/\\/[a-z.]+\.example\.invalid\\/(?=[^\"]+?\.(?:mp4|pdf))")


def _replay_samples(stack: Any) -> None:
    """Facebook's sample webhooks, signed as Facebook signs them; their photos and stickers
    pointed at the sandbox, which serves them (the sample links lead nowhere)."""
    from infra.local.sandbox import sign

    avatar = f"{stack.settings.base_url}/_sandbox/avatars/{PAGE_A}.svg".encode()
    for number in REPLAYED:
        (path,) = SAMPLES.glob(f"{number}-*.json")
        raw = _FACEBOOK_MEDIA.sub(avatar, path.read_bytes())
        raw = _FACEBOOK_FILES.sub(f"{stack.settings.base_url}/_sandbox/media/".encode(), raw)
        answer = requests.post(f"{stack.settings.base_url}/webhooks/facebook", data=raw,
                               timeout=20, headers={"Content-Type": "application/json",
                                                    **sign(stack.settings.app_secret, raw)})
        assert answer.status_code == 200, (path.name, answer.text)


def test_every_message_kind_has_its_bubble_and_the_screenshots_show_a_working_inbox(
    stack: Any, browser: Any
) -> None:
    _replay_samples(stack)
    page = sign_in(browser, stack.settings.base_url, OWNER)
    chat = page.get_by_test_id("chat")

    conversation(page, "Sam Example").filter(has_text="Messenger").click()
    expect(chat.get_by_role("img", name="Image").first).to_be_visible(timeout=10_000)
    expect(chat.get_by_role("img", name="Sticker")).to_be_visible()
    expect(chat.locator("audio")).to_have_count(1)
    expect(chat.locator("video")).to_have_count(1)
    expect(chat.get_by_role("link", name=re.compile("sample-receipt-0007.pdf"))).to_be_visible()
    expect(chat).to_contain_text("📍")
    expect(chat.locator("[data-direction=out]").filter(has_text="Sent elsewhere")).to_contain_text(
        "Thanks for the photos")
    # A shared link is a link, not a picture that cannot load.
    shared = chat.get_by_test_id("card").filter(has_text="Item 42")
    expect(shared.get_by_role("link", name="shop.example.com/item/42")).to_be_visible()
    expect(shared.locator("img")).to_have_count(0)
    # Opened at the newest message, photos loaded above it or not.
    expect(chat.get_by_test_id("message").last).to_be_in_viewport(timeout=10_000)
    screenshot(page, "chat")

    alex = conversation(page, "Alex Sample").filter(has_text="Messenger")
    alex.click()
    expect(chat.get_by_test_id("referral")).to_contain_text("Came from an ad")
    expect(alex.get_by_test_id("unread")).to_have_count(0)
    expect(chat.get_by_test_id("card").first).to_contain_text("Sample Desk Lamp")
    expect(chat.get_by_test_id("edited")).to_contain_text("Hello! Do you ship to Lisbon?")
    expect(chat.get_by_test_id("delivery").filter(has_text="Read").first).to_be_visible()
    # Alex's heart on the page's answer.
    expect(chat.get_by_title("love")).to_contain_text("❤")
    screenshot(page, "chat-kinds")

    conversation(page, "Comments").first.click()
    thread = page.get_by_test_id("comment-thread")
    expect(thread.get_by_test_id("comment").first).to_be_visible()
    # The post itself, read from Facebook when the conversation opens.
    expect(thread.get_by_test_id("post")).to_contain_text("the spring collection")
    expect(thread.get_by_test_id("post-link")).to_have_attribute(
        "href", f"https://www.facebook.com/{PAGE_A}/posts/300000000000001")
    screenshot(page, "comment-thread")
    # A reply Facebook refuses (the sandbox never saw these replayed comments) stays marked
    # not sent, also once the thread is read again.
    first = thread.get_by_test_id("comment").first
    first.get_by_role("button", name="Reply", exact=True).first.click()
    first.get_by_label("Public reply…").fill("Refused on purpose")
    first.get_by_label("Public reply…").press("Enter")
    refused = thread.get_by_test_id("comment").filter(has_text="Refused on purpose")
    expect(refused.get_by_test_id("comment-failed")).to_have_text("Not sent", timeout=10_000)
    opened = page.get_by_test_id("chat").get_attribute("data-conversation-id")
    page.reload()
    page.locator(f"[data-conversation-id='{opened}']").first.click()
    expect(page.get_by_test_id("comment").filter(has_text="Refused on purpose")
           .get_by_test_id("comment-failed")).to_have_text("Not sent")
    # The newest Messenger conversation (run alone, this test's newest is a comment thread).
    newest = page.get_by_test_id("conversation-item").filter(has_text="Messenger").first
    newest.click()
    expect(chat).to_have_attribute("data-conversation-id",
                                   newest.get_attribute("data-conversation-id") or "")
    expect(chat.get_by_test_id("message").first).to_be_visible()
    screenshot(page, "inbox-list")
    page.context.close()
