"""Request units, Graph calls and domain events per outbound text reply, and per its echo.

A contact writes to page A (signed webhook, real ingest); then a member's text replies go
through the domain's `check_send_message` to the Facebook sandbox, each under the capacity
meter, and each reply's echo webhook is ingested under the meter too. The API's own reads
(the member's sign-in check) are outside: they are the same for every route.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.bench.meter import CapacityMeter
from tests.bench.registry import Figures, Row, Section, measurement, target
from tests.conftest import APP_SECRET, PAGE_A, VERIFY_TOKEN
from tests.ingest.helpers import drain, post_webhook

REGION = "us-east-1"
REPLIES = 20
PSID = "2000000000000001"

# A reply is one Send API call: no profile look-up, no attachment upload, no retry.
target("graph_calls_per_outbound_text", 1, "Graph calls per outbound text reply")


@contextmanager
def _environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _provision(graph_url: str) -> tuple[dict[str, str], Any]:
    from inbox import models, secrets, settings
    from inbox.actions import inbound
    from inbox.models import MEMBERS_PK, PAGES_PK, Member, Page, utcnow

    from infra.local.resources import create_resources
    from infra.local.sandbox import page_token_for

    env = create_resources(region=REGION, endpoint_url=None, app_secret=APP_SECRET,
                           verify_token=VERIFY_TOKEN, name_prefix="bench-outbound")
    os.environ.update(env)
    os.environ["GRAPH_API_URL"] = graph_url
    settings.reload_settings()
    models.bind_table(env["TABLE_NAME"], host=None, region=REGION)
    secrets.forget_cached()
    inbound.forget_cached_pages()
    Page(PAGES_PK, PAGE_A, page_id=PAGE_A, name="Sample Shop Page", connected_at=utcnow()).save()
    secrets.store_page_token(PAGE_A, page_token_for(PAGE_A))
    member = Member(MEMBERS_PK, "bench-owner", member_id="bench-owner", email="o@example.com",
                    name="Owner", role="owner", created_at=utcnow())
    member.save()
    return env, member


@measurement("outbound")
def measure_outbound(_: Figures) -> Section:
    import boto3
    from inbox import publish
    from inbox.actions import outbound
    from moto import mock_aws

    from infra.local.sandbox import (
        create_sandbox,
        default_pages,
        encode_like_facebook,
        sandbox_of,
        start_sandbox,
    )

    with _environment(), mock_aws():
        app = create_sandbox(app_secret=APP_SECRET, pages=default_pages([PAGE_A]))
        graph_url, stop_sandbox = start_sandbox(app)
        sandbox = sandbox_of(app)
        try:
            env, member = _provision(graph_url)
            body = sandbox.message_body(page_id=PAGE_A, psid=PSID, text="Do you ship?")
            post_webhook(encode_like_facebook(body))
            drain(env)
            sandbox.take_page_webhooks()
            conversation_id = f"m{PAGE_A}_{PSID}"

            meter = CapacityMeter(boto3.client("dynamodb", region_name=REGION))
            put_events = publish.put_events
            published: list[str] = []

            def observed(events: list[Any]) -> None:
                published.extend(e.name for e in events)
                put_events(events)

            publish.put_events = observed
            sends, echoes = [], []
            try:
                with meter.installed():
                    for n in range(REPLIES):
                        calls_before, published_before = len(sandbox.calls), len(published)
                        with meter.tally() as tally:
                            started = time.perf_counter()
                            outbound.check_send_message(
                                member, conversation_id,
                                outbound.SendRequest(text=f"Reply number {n}: yes, we do."))
                            ms = (time.perf_counter() - started) * 1000
                        sends.append((tally.write_units, tally.index_write_units,
                                      tally.read_units, len(sandbox.calls) - calls_before,
                                      len(published) - published_before, ms))
                        for echo in sandbox.take_page_webhooks():
                            post_webhook(encode_like_facebook(echo))
                            with meter.tally() as tally:
                                drain(env)
                            echoes.append((tally.write_units, tally.read_units))
            finally:
                publish.put_events = put_events
        finally:
            stop_sandbox()

    def mean(index: int, rows: list[tuple[Any, ...]]) -> float:
        return round(statistics.fmean(row[index] for row in rows), 3) if rows else 0.0

    rows = [
        Row("write units per outbound text reply", mean(0, sends), "WRU",
            "write_units_per_outbound_text"),
        Row("  of which index writes", mean(1, sends), "WRU",
            "index_write_units_per_outbound_text"),
        Row("read units per outbound text reply", mean(2, sends), "RRU",
            "read_units_per_outbound_text"),
        Row("Graph calls per outbound text reply", mean(3, sends), "calls",
            "graph_calls_per_outbound_text"),
        Row("domain events per outbound text reply", mean(4, sends), "entries",
            "domain_events_per_outbound_text"),
        Row("send time per reply (local sandbox, median)",
            round(statistics.median(row[5] for row in sends), 2), "ms",
            "outbound_ms_per_text"),
        Row("write units per echo of a reply (ingest, matched)", mean(0, echoes), "WRU",
            "write_units_per_outbound_echo"),
        Row("read units per echo of a reply", mean(1, echoes), "RRU",
            "read_units_per_outbound_echo"),
    ]
    notes = [
        "Writes per reply: the message stored pending, the conversation's activity (with its "
        "by_page_status re-key) and the outcome; reads: the conversation (access) and the "
        "page (reconnect flag); the page token comes from the process cache.",
        f"Means over {REPLIES} replies in one conversation; sign-in reads are not counted.",
    ]
    return Section(title=f"Outbound text replies ({REPLIES}) and their echoes", rows=rows,
                   notes=notes)
