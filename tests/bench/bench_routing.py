"""Routing: assignment decisions per second with 10,000 queued conversations and 50 members,
and DynamoDB request units per assignment (issue 3).

One page's queue holds 10,000 conversations, each a copy of one that ingestion really created
(same attributes, so the same item size); 50 agents on that page come online with a reception
limit of 20 each, and one drain assigns 1,000 of them, oldest first. That drain is timed bare;
then the limits rise by 2 and a second drain of 100 runs under the capacity meter, and so does
one decision for a single new arrival (the common case: one slot, one conversation), which
pays the team read alone. Times are moto in-process on this machine: they compare runs of
this code, not DynamoDB's latency, and moto's transactions run with the item-only rollback
of `tests/moto_rollback.py`, since its own copies the whole table for each one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.bench.meter import CapacityMeter
from tests.bench.registry import Figures, Row, Section, measurement, target
from tests.conftest import APP_SECRET, PAGE_A, VERIFY_TOKEN
from tests.moto_rollback import faster_transactions

REGION = "us-east-1"
QUEUED = 10_000
MEMBERS = 50
LIMIT = 20
RAISED_BY = 2

# Each decision: the conversation read, then one four-item transaction (timeline entry,
# conversation, member; twice the units, as every transaction costs). Generous enough for
# item growth, tight enough to catch a scan or a per-decision team read creeping in.
target("routing_ms_per_decision", 50, "ms per assignment decision, 10,000 queued, 50 members")
target("routing_write_units_per_assignment", 16, "write units per assignment (queue drain)")
target("routing_read_units_per_assignment", 4, "read units per assignment (queue drain)")
target("routing_read_units_per_new_conversation", 12,
       "read units to route one new conversation (team read included)")


@contextmanager
def _environment() -> Iterator[None]:
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _provision() -> dict[str, str]:
    from inbox import models, secrets, settings
    from inbox.actions import inbound
    from inbox.models import PAGES_PK, Page, utcnow

    from infra.local.resources import create_resources

    env = create_resources(region=REGION, endpoint_url=None, app_secret=APP_SECRET,
                           verify_token=VERIFY_TOKEN, name_prefix="bench-routing")
    os.environ.update(env)
    settings.reload_settings()
    models.bind_table(env["TABLE_NAME"], host=None, region=REGION)
    secrets.forget_cached()
    inbound.forget_cached_pages()
    Page(PAGES_PK, PAGE_A, page_id=PAGE_A, name="Sample Shop Page", connected_at=utcnow()).save()
    return env


def _ingested_conversation(psid: str, at: int) -> str:
    from inbox.actions.inbound import IngestContext, do_ingest_event, messenger_thread
    from inbox.facebook import events as fb
    from inbox.publish import EventOutbox

    event = fb.InboundMessage(page_id=PAGE_A, psid=psid, timestamp=at, mid=f"m_{psid}",
                              text="Hello, is anyone there?")
    do_ingest_event(event, IngestContext(app_id="900000000000001", outbox=EventOutbox()))
    return messenger_thread(PAGE_A, psid).conversation_id


def _fill_queue(table: str, base_ms: int) -> None:
    """QUEUED copies of a real queued conversation, written in batches."""
    import boto3
    from inbox.models import CONVERSATION_SK, conversation_pk, routing_queue_sort_key

    template_id = _ingested_conversation("4000000000000000", base_ms)
    client = boto3.client("dynamodb", region_name=REGION)
    template = client.get_item(TableName=table, Key={
        "pk": {"S": conversation_pk(template_id)}, "sk": {"S": CONVERSATION_SK}})["Item"]
    client.delete_item(TableName=table, Key={"pk": template["pk"], "sk": template["sk"]})
    items = []
    for n in range(QUEUED):
        cid = f"m{PAGE_A}_{4000000000000001 + n}"
        at = base_ms + n
        item = dict(template)
        item.update({
            "pk": {"S": conversation_pk(cid)},
            "conversation_id": {"S": cid},
            "contact_id": {"S": cid},
            "queued_at": {"N": str(at)},
            "gsi2sk": {"S": routing_queue_sort_key(at, cid)},
        })
        items.append({"PutRequest": {"Item": item}})
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: items[start:start + 25]})


def _add_team() -> None:
    from inbox.models import MEMBERS_PK, Member, utcnow

    with Member.batch_write() as batch:
        for n in range(MEMBERS):
            member_id = f"agent{n:02d}"
            batch.save(Member(MEMBERS_PK, member_id, member_id=member_id,
                              email=f"{member_id}@example.com", name=member_id, role="agent",
                              page_ids={PAGE_A}, active=True, created_at=utcnow(),
                              status="online", reception_limit=LIMIT, idle_since=n))


def _raise_limits(by: int) -> None:
    from inbox.models import MEMBERS_PK, Member

    for member in Member.query(MEMBERS_PK):
        member.update(actions=[Member.reception_limit.add(by)])


@measurement("routing")
def measure_routing(_: Figures) -> Section:
    import boto3
    from inbox.actions import routing
    from inbox.publish import EventOutbox
    from moto import mock_aws

    # moto's own rollback copies the whole table per transaction item (tests/moto_rollback).
    with _environment(), mock_aws(), faster_transactions():
        env = _provision()
        base_ms = 1_767_000_000_000
        _fill_queue(env["TABLE_NAME"], base_ms)
        _add_team()
        # The domain events go to a list, not to the emulated bus: publishing is not routing.
        outbox = EventOutbox()

        started = time.perf_counter()
        decided = routing.do_drain_queues([PAGE_A], outbox=outbox)
        seconds = time.perf_counter() - started
        outbox.events.clear()

        meter = CapacityMeter(boto3.client("dynamodb", region_name=REGION))
        _raise_limits(RAISED_BY)
        with meter.installed(), meter.tally() as drain:
            metered = routing.do_drain_queues([PAGE_A], outbox=outbox)
        outbox.events.clear()

        # The single decision ingestion asks for a new conversation. It arrives while every
        # member is full (ingestion would otherwise route it at once, leaving nothing to
        # measure), then one slot each opens and routing decides for it alone.
        arrival = _ingested_conversation("4999999999999999", base_ms + QUEUED)
        _raise_limits(1)
        with meter.installed(), meter.tally() as single:
            taker = routing.do_route_conversation(arrival, outbox=outbox)

    assert decided == MEMBERS * LIMIT, decided
    assert metered == MEMBERS * RAISED_BY, metered
    assert taker is not None
    rows = [
        Row("assignment decisions per second (queue drain)", round(decided / seconds, 1),
            "/s", "routing_decisions_per_second"),
        Row("time per assignment decision", round(seconds * 1000 / decided, 2), "ms",
            "routing_ms_per_decision"),
        Row("write units per assignment (queue drain)",
            round(drain.write_units / metered, 2), "WRU", "routing_write_units_per_assignment"),
        Row("  of which index writes", round(drain.index_write_units / metered, 2), "WRU",
            "routing_index_write_units_per_assignment"),
        Row("read units per assignment (queue drain)",
            round(drain.read_units / metered, 2), "RRU", "routing_read_units_per_assignment"),
        Row("write units to route one new conversation", single.write_units, "WRU",
            "routing_write_units_per_new_conversation"),
        Row("read units to route one new conversation", single.read_units, "RRU",
            "routing_read_units_per_new_conversation"),
    ]
    notes = [
        f"{QUEUED:,} queued on one page, {MEMBERS} agents with limit {LIMIT}: one drain "
        f"assigns {decided:,}, timed without the meter (moto in-process).",
        f"Units: a second drain of {metered} after every limit rose by {RAISED_BY} "
        "(the team and queue reads shared out), then one new conversation alone.",
        "Transactions cost twice their items' units, the timeline entry included.",
    ]
    return Section(title="Routing: assignment decisions and their request units", rows=rows,
                   notes=notes)
