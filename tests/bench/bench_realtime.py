"""Push fan-out cost per domain event: connections looked up, posts made, request units.

A team of 14 members, each holding one WebSocket: an owner, an admin, a supervisor and eight
agents on page A, three agents on page B; isolation on. Two kinds of event go through the
realtime function's push, each under the capacity meter, with the posts going by boto3 to the
local stack's management API on a loopback port:
- a message on a conversation assigned to one agent (reaches owner, admin, supervisor and
  that agent);
- a new conversation waiting in page A's queue (reaches everyone allowed on page A).
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.bench.meter import CapacityMeter
from tests.bench.registry import Figures, Row, Section, measurement, target
from tests.conftest import APP_SECRET, PAGE_A, PAGE_B, VERIFY_TOKEN

REGION = "us-east-1"
EVENTS_PER_KIND = 10
MILLION = 1_000_000
# AWS-NOTES §6.5: WebSocket messages $1.00 per million (32 KB each), request units on demand.
WS_MESSAGE_USD = 1.00 / MILLION
DYNAMODB_WRU_USD = 0.625 / MILLION
DYNAMODB_RRU_USD = 0.125 / MILLION

TEAM = (
    [("owner", "owner", None), ("admin", "admin", None), ("supervisor", "supervisor", {PAGE_A})]
    + [(f"agent{n}", "agent", {PAGE_A}) for n in range(1, 9)]
    + [(f"agent_b{n}", "agent", {PAGE_B}) for n in range(1, 4)]
)

# The lookup must never scan the table, and each recipient connection costs one post.
target("realtime_scans_per_event", 1, "Table scans per pushed event", strict=True)
target("realtime_posts_per_recipient", 1, "Posts per recipient connection of a pushed event")


class _Client:
    def __init__(self) -> None:
        self.frames = 0

    def send(self, text: str) -> None:
        self.frames += 1

    def close(self) -> None:
        pass


@contextmanager
def _environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _management_api() -> Iterator[Any]:
    from werkzeug.serving import make_server

    from infra.local.websocket import WebSocketApi, management_app

    # werkzeug logs every request at INFO: one line per post would bury the figures.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    api = WebSocketApi(lambda event, context: {"statusCode": 200})
    server = make_server("127.0.0.1", 0, management_app(api), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        os.environ["WEBSOCKET_MANAGEMENT_URL"] = f"http://127.0.0.1:{server.server_port}"
        yield api
    finally:
        server.shutdown()
        server.server_close()


def _provision(api: Any) -> dict[str, str]:
    from inbox import models, settings
    from inbox.actions import realtime
    from inbox.models import (
        CONVERSATION_SK,
        MEMBERS_PK,
        PAGES_PK,
        Conversation,
        Member,
        Page,
        conversation_pk,
        utcnow,
    )

    from infra.local.resources import create_resources

    env = create_resources(region=REGION, endpoint_url=None, app_secret=APP_SECRET,
                           verify_token=VERIFY_TOKEN, name_prefix="bench-realtime")
    env.pop("WEBSOCKET_MANAGEMENT_URL")
    os.environ.update(env)
    settings.reload_settings()
    models.bind_table(env["TABLE_NAME"], host=None, region=REGION)

    for page_id in (PAGE_A, PAGE_B):
        Page(PAGES_PK, page_id, page_id=page_id, name=page_id, connected_at=utcnow()).save()
    ids = {}
    for name, role, page_ids in TEAM:
        member = Member(MEMBERS_PK, name, member_id=name, email=f"{name}@example.com",
                        name=name, role=role, page_ids=page_ids, created_at=utcnow())
        member.save()
        connection_id = f"{name}-connection="
        realtime.do_connect(member, connection_id)
        api.register(connection_id, _Client())
        ids[name] = connection_id

    for cid, status, assignee in (("assigned", "assigned", "agent1"),
                                  ("queued", "unassigned", None)):
        Conversation(conversation_pk(cid), CONVERSATION_SK, conversation_id=cid,
                     channel="messenger", page_id=PAGE_A, contact_id="c", status=status,
                     assignee_id=assignee, created_at=1, last_activity_at=1).save()
    return ids


def _events() -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "message, assigned conversation": (
            "message.created", {"conversation_id": "assigned", "page_id": PAGE_A,
                                "message_id": "1#m", "direction": "in", "type": "text"}),
        "new conversation, page queue": (
            "conversation.created", {"conversation_id": "queued", "page_id": PAGE_A,
                                     "channel": "messenger", "status": "unassigned"}),
    }


@measurement("realtime")
def measure_realtime(_: Figures) -> Section:
    import boto3
    from inbox.actions import realtime
    from moto import mock_aws

    lines = []
    scans = 0
    posts_per_recipient = []
    with _environment(), mock_aws(), _management_api() as api:
        _provision(api)
        meter = CapacityMeter(boto3.client("dynamodb", region_name=REGION))
        with meter.installed():
            # One push first: the clients' creation is a cold start, not a per-event cost.
            realtime.do_push_event("message.created", {"conversation_id": "assigned"})
            for label, (name, detail) in _events().items():
                rows = []
                for _ in range(EVENTS_PER_KIND):
                    calls_before = dict(meter.calls)
                    with meter.tally() as tally:
                        outcome = realtime.do_push_event(name, detail)
                    calls = {k: v - calls_before.get(k, 0) for k, v in meter.calls.items()}
                    scans += calls.get(("dynamodb", "Scan"), 0)
                    dynamodb_calls = sum(v for (service, _), v in calls.items()
                                         if service == "dynamodb")
                    rows.append((outcome.connections, outcome.recipients, outcome.posted,
                                 dynamodb_calls, tally.read_units, tally.write_units))
                    posts_per_recipient.append(outcome.posted / max(outcome.recipients, 1))
                lines.append([label, *_means(rows)])
        # Timed apart: the meter reads every written item twice, which would be timed too.
        for line, (name, detail) in zip(lines, _events().values(), strict=True):
            times = []
            for _ in range(EVENTS_PER_KIND):
                started = time.perf_counter()
                realtime.do_push_event(name, detail)
                times.append((time.perf_counter() - started) * 1000)
            line.append(round(statistics.median(times), 1))

    table_rows = []
    for label, looked_up, recipients, posts, calls, rru, wru, ms in lines:
        usd = posts * WS_MESSAGE_USD + rru * DYNAMODB_RRU_USD + wru * DYNAMODB_WRU_USD
        table_rows.append((label, looked_up, recipients, posts, calls, rru, wru,
                           round(usd * MILLION, 2), ms))

    first = table_rows[0]
    rows = [
        Row("connections looked up per event (one query)", first[1], "conns",
            "realtime_connections_looked_up_per_event"),
        Row("posts per event, assigned conversation", first[3], "posts",
            "realtime_posts_per_event_assigned"),
        Row("posts per event, page queue", table_rows[1][3], "posts",
            "realtime_posts_per_event_queue"),
        Row("read units per event, assigned conversation", first[5], "RRU",
            "realtime_read_units_per_event"),
        Row("write units per event, assigned conversation", first[6], "WRU",
            "realtime_write_units_per_event"),
        Row("cost per million events, assigned conversation", first[7], "USD",
            "realtime_usd_per_million_events"),
        Row("table scans per event", scans, "scans", "realtime_scans_per_event"),
        Row("posts per recipient connection", max(posts_per_recipient), "posts",
            "realtime_posts_per_recipient"),
    ]
    headers = ("event", "looked up", "recipients", "posts", "DDB calls", "RRU", "WRU",
               "USD/M events", "ms (local)")
    notes = [
        f"Team of {len(TEAM)}, one connection each, isolation on; means over "
        f"{EVENTS_PER_KIND} events of each kind.",
        "Reads: the CONNECTIONS partition and the team's partition (one query each), the "
        "conversation (consistent) and the isolation switch; writes: one seq increment per "
        "recipient connection.",
        "USD: WebSocket messages at $1.00/M plus request units at on-demand prices, without "
        "the function's own invocation; ms: moto in process and a loopback management API.",
    ]
    return Section(title="Realtime push fan-out per domain event", rows=rows,
                   table=(headers, table_rows), notes=notes)


def _means(rows: list[tuple[Any, ...]]) -> list[float]:
    return [round(statistics.fmean(row[i] for row in rows), 2) for i in range(len(rows[0]))]
