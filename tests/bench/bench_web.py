"""The web inbox: its JavaScript and CSS as a browser downloads them (gzip), and the time from
opening the inbox to the first rows of a list of 5,000 conversations, on the local stack.

The conversations are written straight into the emulated table (as ingest leaves them, with
their index keys), since sending 5,000 webhooks would measure ingest, not the inbox. The time
runs from navigation start to the first row drawn, in Debian's Chromium, signed in already
(the token is in the tab's session storage), as a member opening the inbox each morning.
Needs the built inbox (`make web`) and /usr/bin/chromium (`make test` installs both).
"""

from __future__ import annotations

import gzip
import json
import statistics
import time
from pathlib import Path

from tests.bench.registry import Figures, Row, Section, measurement, target

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "dist"
CONVERSATIONS = 5000
RUNS = 3
PAGE_ID = "100000000000001"
CHROMIUM = "/usr/bin/chromium"

target("web_js_gzip_kb", 300, "the inbox's JavaScript, gzip KB")
target("web_first_list_ms", 3000, "first list rows with 5,000 conversations, ms")


def _gzip_kb(pattern: str) -> float:
    files = sorted((DIST / "assets").glob(pattern))
    if not files:
        raise RuntimeError(f"no {pattern} in {DIST}/assets: build the inbox with `make web`")
    return round(sum(len(gzip.compress(f.read_bytes(), 9)) for f in files) / 1024, 1)


def _seed(count: int) -> None:
    from inbox.models import CONVERSATION_SK, Conversation, activity_key, conversation_pk, queue_key

    now = int(time.time() * 1000)
    with Conversation.batch_write() as batch:
        for index in range(count):
            conversation_id = f"bench{index:05d}"
            at = now - index * 60_000
            batch.save(Conversation(
                conversation_pk(conversation_id), CONVERSATION_SK,
                conversation_id=conversation_id, channel="messenger", page_id=PAGE_ID,
                contact_id=f"contact{index:05d}", contact_name=f"Contact {index:05d}",
                status="unassigned", created_at=at, last_activity_at=at, last_inbound_at=at,
                last_message_preview="Hello", last_message_direction="in", unread_count=1,
                gsi1pk=queue_key(PAGE_ID, "unassigned"), gsi1sk=activity_key(at, conversation_id),
            ))


def _first_list_ms(browser: object, base_url: str, token: str) -> float:
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # type: ignore[attr-defined]
    session = json.dumps({"token": token, "refresh_token": None})
    context.add_init_script(f"window.sessionStorage.setItem('inbox.session', {session!r});")
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_test_id("conversation-item").first.wait_for(timeout=30_000)
    # Milliseconds since navigation start, by the page's own clock.
    elapsed = page.evaluate("performance.now()")
    context.close()
    return float(elapsed)


@measurement("web")
def measure_web(_: Figures) -> Section:
    import requests
    from playwright.sync_api import sync_playwright

    from tests.e2e.conftest import LAUNCH_ARGS
    from tests.local.stack import OWNER_EMAIL, local_stack

    js_kb, css_kb = _gzip_kb("*.js"), _gzip_kb("*.css")
    with local_stack(app_secret="bench", verify_token="bench", owner_password="BenchOwner2026",
                     page_ids=[PAGE_ID]) as stack:
        _seed(CONVERSATIONS)
        base = stack.settings.base_url
        token = requests.post(f"{base}/api/auth/login", timeout=20, json={
            "email": OWNER_EMAIL, "password": "BenchOwner2026"}).json()["id_token"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            # The first run warms the stack's handlers (imports, clients), as any morning's.
            _first_list_ms(browser, base, token)
            times = [_first_list_ms(browser, base, token) for _ in range(RUNS)]
            browser.close()
    first_list = round(statistics.median(times), 0)
    return Section(
        title="Web inbox",
        rows=[
            Row("JavaScript, gzip", js_kb, "KB", key="web_js_gzip_kb"),
            Row("CSS, gzip", css_kb, "KB", key="web_css_gzip_kb"),
            Row(f"first list rows, {CONVERSATIONS:,} conversations (median of {RUNS})",
                first_list, "ms", key="web_first_list_ms"),
        ],
        notes=["From navigation start to the first row, signed in, on the local stack "
               "(moto on loopback); the list asks the API for 50 rows at a time."],
    )
