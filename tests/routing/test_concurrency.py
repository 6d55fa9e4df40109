"""200 conversations arriving at once, at 5 online agents with limits 1 to 10 (issue 3).

Against moto's server, not moto in-process, and a server that answers ONE request at a time:
moto's in-process backend runs each call in the caller's thread with no lock, so two threads'
conditional transactions can interleave inside moto (check, check, write, write) and prove
nothing about our code. A non-threaded werkzeug server (which also answers in HTTP/1.0, so
every request has its own connection and none holds the server) makes each request atomic,
as DynamoDB makes each item write; what can still interleave is everything between requests,
which is exactly the race our transactions must survive: a stale team read, two routers
choosing the same member, a close racing an arrival. moto's transactions run with the
item-only rollback of `tests/moto_rollback.py` (moto's own copies the table per item, and
was most of this test's time); what decides a transaction is still moto's code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import APP_SECRET, PAGE_A, VERIFY_TOKEN
from tests.moto_rollback import faster_transactions
from tests.routing.conftest import arrive, make_member

ARRIVALS = 200
LIMITS = {"a1": 1, "a2": 3, "a3": 5, "a4": 7, "a5": 10}
THREADS = 40
BASE_MS = 1_767_000_000_000


@pytest.fixture
def item_rollback() -> Iterator[None]:
    with faster_transactions():
        yield


@pytest.fixture
def serial_dynamodb(monkeypatch: pytest.MonkeyPatch, item_rollback: None) -> Iterator[str]:
    """The stack's resources on a moto server that serves one request at a time."""
    from inbox import aws as aws_clients
    from inbox import models, settings
    from inbox.actions import inbound
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from infra.local.resources import create_resources

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                               daemon=True)
    serving.start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    try:
        env = create_resources(region="us-east-1", endpoint_url=endpoint,
                               app_secret=APP_SECRET, verify_token=VERIFY_TOKEN,
                               name_prefix="inbox-serial")
        for name, value in {**env, "AWS_ENDPOINT_URL": endpoint}.items():
            monkeypatch.setenv(name, value)
        settings.reload_settings()
        aws_clients.reset_clients()
        inbound.forget_cached_pages()
        models.bind_table(env["TABLE_NAME"], host=endpoint, region="us-east-1")
        # Forty threads queue on one serving thread, so a request may wait seconds. A client
        # timeout would resend a transaction that had succeeded; DynamoDB honours the
        # resent ClientRequestToken and answers success, moto does not and would report the
        # resent one as refused. Long timeouts keep resends out of the test.
        for model in models.ALL_MODELS:
            monkeypatch.setattr(model.Meta, "read_timeout_seconds", 300, raising=False)
            monkeypatch.setattr(model.Meta, "max_retry_attempts", 0, raising=False)
            model._connection = None
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()
        for model in models.ALL_MODELS:
            model._connection = None
        models.bind_table(models.Page.Meta.table_name, host=None, region="us-east-1")
        aws_clients.reset_clients()
        inbound.forget_cached_pages()


def _state() -> tuple[dict[str, Any], dict[str, Any]]:
    from inbox.models import MEMBERS_PK, Conversation, Member

    members = {m.member_id: m for m in Member.query(MEMBERS_PK, consistent_read=True)}
    conversations = {c.conversation_id: c for c in Conversation.scan(
        Conversation.sk == "CONV", consistent_read=True)}
    return members, conversations


def _queue() -> list[str]:
    from inbox.models import Conversation, routing_queue_key

    return [item.gsi2sk.split("#", 1)[1]
            for item in Conversation.by_assignee.query(routing_queue_key(PAGE_A))]


def test_concurrent_arrivals_never_exceed_a_limit_and_the_queue_drains_in_order(
        serial_dynamodb: str) -> None:
    from inbox.actions.routing import count_open_conversations, do_close
    from inbox.models import PAGES_PK, Page, utcnow
    from inbox.publish import EventOutbox

    Page(PAGES_PK, PAGE_A, page_id=PAGE_A, name="Shop", connected_at=utcnow()).save()
    for member_id, limit in LIMITS.items():
        make_member(member_id, limit=limit)
    start = threading.Barrier(THREADS)

    def arrive_at(i: int) -> str:
        if i < THREADS:
            start.wait()
        # Arrival order is the message time: the queue must keep it, whatever the threads do.
        return arrive(f"psid{i:03d}", at=BASE_MS + i, mid=f"mid{i:03d}")

    with ThreadPoolExecutor(THREADS) as pool:
        ids = list(pool.map(arrive_at, range(ARRIVALS)))

    members, conversations = _state()
    assert len(conversations) == ARRIVALS
    for member_id, limit in LIMITS.items():
        held = [c for c in conversations.values() if c.assignee_id == member_id]
        assert len(held) == members[member_id].open_count <= limit
        assert count_open_conversations(member_id) == len(held)
    assert {c.status for c in conversations.values()} <= {"assigned", "unassigned"}
    assigned = [c for c in conversations.values() if c.status == "assigned"]
    # Every slot is taken: routing never left capacity unused while conversations waited.
    assert len(assigned) == sum(LIMITS.values())
    waiting = sorted((c for c in conversations.values() if c.status == "unassigned"),
                     key=lambda c: c.created_at)
    assert _queue() == [c.conversation_id for c in waiting]
    assert len(ids) == len(set(ids)) == ARRIVALS

    # Close one conversation at a time: each frees one slot, which takes the oldest waiting.
    order_taken: list[str] = []
    outbox = EventOutbox()
    held_now = [c.conversation_id for c in assigned]
    while held_now:
        do_close(held_now.pop(0), actor="system", outbox=outbox)
        taken = [e.detail["conversation_id"] for e in outbox.events
                 if e.name == "conversation.assigned"]
        outbox.events.clear()
        order_taken.extend(taken)
        held_now.extend(taken)

    assert order_taken == [c.conversation_id for c in waiting]
    assert _queue() == []
    members, _ = _state()
    assert all(m.open_count == 0 for m in members.values())
