"""The conversation list (order, cursors, filters, visibility) and one conversation."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import (
    PAGE_A,
    PAGE_B,
    make_contact,
    make_conversation,
    make_page,
)

T0 = 1767225600000


def ids(answer) -> list[str]:
    return [item["id"] for item in answer.body["items"]]


@pytest.fixture
def inbox(personas):
    """Pages A and B; conversations across statuses, newest activity = highest number."""
    make_page(PAGE_A, "Shop A")
    make_page(PAGE_B, "Shop B")
    agent, other = personas["agent"].member_id, personas["other_agent"].member_id
    rows = [
        ("c01", PAGE_A, "unassigned", None, "messenger", "Alex Sample"),
        ("c02", PAGE_A, "bot", None, "messenger", "Sam Example"),
        ("c03", PAGE_A, "assigned", agent, "messenger", "Kim Placeholder"),
        ("c04", PAGE_A, "assigned", other, "comment", "Robin Moreau"),
        ("c05", PAGE_B, "unassigned", None, "messenger", "Layla Haddad"),
        ("c06", PAGE_A, "closed", agent, "comment", "Wei Chen"),
        ("c07", PAGE_A, "closed", other, "messenger", "ALEXANDRA Stone"),
        ("c08", PAGE_B, "assigned", other, "comment", "Alex Other"),
    ]
    for n, (cid, page, status, assignee, channel, name) in enumerate(rows):
        make_conversation(cid, page_id=page, status=status, assignee_id=assignee,
                          channel=channel, contact_name=name, activity_ms=T0 + n * 1000)
    return personas


def test_owner_lists_everything_newest_activity_first(api, inbox):
    answer = api("GET", "/api/conversations", token=inbox["owner"].token)

    assert answer.status == 200
    assert ids(answer) == ["c08", "c07", "c06", "c05", "c04", "c03", "c02", "c01"]
    assert answer.body["next"] is None


def test_paging_with_cursors_returns_every_conversation_exactly_once(api, inbox):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        answer = api("GET", "/api/conversations", token=inbox["owner"].token, query=query)
        assert answer.status == 200
        seen += ids(answer)
        pages += 1
        cursor = answer.body["next"]
        if cursor is None:
            break

    assert seen == ["c08", "c07", "c06", "c05", "c04", "c03", "c02", "c01"]
    assert pages == 3


def test_agent_sees_queue_and_own_only_on_allowed_pages(api, inbox):
    answer = api("GET", "/api/conversations", token=inbox["agent"].token)

    # c04/c07 are another agent's, c05/c08 on page B, where the agent is not allowed.
    assert ids(answer) == ["c06", "c03", "c02", "c01"]


def test_supervisor_sees_every_conversation_on_allowed_pages(api, inbox):
    answer = api("GET", "/api/conversations", token=inbox["supervisor"].token)

    assert ids(answer) == ["c07", "c06", "c04", "c03", "c02", "c01"]


@pytest.mark.parametrize(("query", "expected"), [
    ({"channel": "comment"}, ["c08", "c06", "c04"]),
    ({"page_id": PAGE_B}, ["c08", "c05"]),
    ({"status": "bot,closed"}, ["c07", "c06", "c02"]),
    ({"status": "assigned"}, ["c08", "c04", "c03"]),
    ({"contact_name": "alex"}, ["c08", "c07", "c01"]),
])
def test_filters(api, inbox, query, expected):
    answer = api("GET", "/api/conversations", token=inbox["owner"].token, query=query)

    assert answer.status == 200
    assert ids(answer) == expected


def test_filter_by_assignee(api, inbox):
    query = {"assignee_id": inbox["other_agent"].member_id}

    answer = api("GET", "/api/conversations", token=inbox["owner"].token, query=query)

    assert ids(answer) == ["c08", "c07", "c04"]


def test_an_agent_filtering_on_another_agent_gets_nothing(api, inbox):
    query = {"assignee_id": inbox["other_agent"].member_id}

    answer = api("GET", "/api/conversations", token=inbox["agent"].token, query=query)

    assert ids(answer) == []


def test_filter_by_contact_tag(api, inbox):
    make_contact("k1", conversation_ids={"c01", "c04"}, tags={"vip"})
    make_contact("k2", conversation_ids={"c05"}, tags={"vip", "late"})
    make_contact("k3", conversation_ids={"c02"}, tags={"late"})

    owner = api("GET", "/api/conversations", token=inbox["owner"].token,
                query={"contact_tag": "vip"})
    agent = api("GET", "/api/conversations", token=inbox["agent"].token,
                query={"contact_tag": "vip"})

    assert ids(owner) == ["c05", "c04", "c01"]
    assert ids(agent) == ["c01"]


def test_filter_by_contact_tag_pages_with_cursors(api, inbox):
    make_contact("k1", conversation_ids={"c01", "c04", "c06"}, tags={"vip"})

    first = api("GET", "/api/conversations", token=inbox["owner"].token,
                query={"contact_tag": "vip", "limit": "2"})
    second = api("GET", "/api/conversations", token=inbox["owner"].token,
                 query={"contact_tag": "vip", "limit": "2", "cursor": first.body["next"]})

    assert ids(first) == ["c06", "c04"]
    assert (ids(second), second.body["next"]) == (["c01"], None)


def test_filter_by_phone_matches_however_it_is_written(api, inbox):
    make_contact("k1", conversation_ids={"c03"}, phone="+351 912-345-678")
    make_contact("k2", conversation_ids={"c05"}, phone="+44 20 7946 0000")

    answer = api("GET", "/api/conversations", token=inbox["owner"].token,
                 query={"phone": "+351912345678"})

    assert ids(answer) == ["c03"]


def test_an_unknown_status_is_refused(api, inbox):
    answer = api("GET", "/api/conversations", token=inbox["owner"].token,
                 query={"status": "open"})

    assert (answer.status, answer.body["code"]) == (422, "invalid_input")
    assert answer.body["values"] == ["open"]


@pytest.mark.parametrize("limit", ["0", "101"])
def test_a_limit_out_of_range_is_refused(api, inbox, limit):
    answer = api("GET", "/api/conversations", token=inbox["owner"].token,
                 query={"limit": limit})

    assert answer.status == 422


def test_a_conversation_an_agent_may_not_see_is_not_found(api, inbox):
    for cid in ("c04", "c05", "c07"):
        answer = api("GET", f"/api/conversations/{cid}", token=inbox["agent"].token)
        assert (answer.status, answer.body["code"]) == (404, "not_found")
        answer = api("GET", f"/api/conversations/{cid}/messages", token=inbox["agent"].token)
        assert answer.status == 404


def test_a_missing_conversation_is_not_found(api, inbox):
    answer = api("GET", "/api/conversations/nope", token=inbox["owner"].token)

    assert answer.status == 404


def test_conversation_detail_has_contact_referral_and_window(api, inbox):
    from inbox.models import Referral

    now = int(time.time() * 1000)
    make_contact("k9", name="Robin Moreau", conversation_ids={"c10"}, tags={"vip"})
    make_conversation("c10", contact_id="k9", last_inbound_at=now - 3600 * 1000,
                      referral=Referral(kind="ad", source="ADS", ad_id="ad-1",
                                        ad_title="Spring sale", at=now - 7200 * 1000))

    answer = api("GET", "/api/conversations/c10", token=inbox["agent"].token)

    assert answer.status == 200
    body = answer.body
    assert body["contact"]["id"] == "k9"
    assert body["contact"]["tags"] == ["vip"]
    assert body["referral"]["ad_id"] == "ad-1"
    assert body["referral"]["ad_title"] == "Spring sale"
    assert body["window"]["state"] == "open"


@pytest.mark.parametrize(("hours_ago", "state"), [
    (1, "open"), (30, "human_agent"), (24 * 8, "closed"), (None, "closed"),
])
def test_window_state_follows_the_last_inbound_message(api, inbox, hours_ago, state):
    now = int(time.time() * 1000)
    last = None if hours_ago is None else now - hours_ago * 3600 * 1000
    make_conversation("w1", last_inbound_at=last)

    answer = api("GET", "/api/conversations/w1", token=inbox["owner"].token)

    assert answer.body["window"]["state"] == state
    assert (answer.body["window"]["ends_at"] is None) == (state == "closed")


def test_contact_follows_its_conversations(api, inbox):
    make_contact("k1", conversation_ids={"c04"})
    make_contact("k2", conversation_ids={"c01"})

    hidden = api("GET", "/api/contacts/k1", token=inbox["agent"].token)
    shown = api("GET", "/api/contacts/k2", token=inbox["agent"].token)
    owner = api("GET", "/api/contacts/k1", token=inbox["owner"].token)

    assert hidden.status == 404
    assert (shown.status, shown.body["id"]) == (200, "k2")
    assert owner.status == 200


def test_listing_never_scans(api, inbox, monkeypatch):
    from pynamodb.connection.base import Connection

    def refuse(*args, **kwargs):
        raise AssertionError("scan on a request path")

    monkeypatch.setattr(Connection, "scan", refuse)
    for query in ({}, {"contact_tag": "vip"}, {"phone": "+1 555"}, {"contact_name": "a"}):
        answer = api("GET", "/api/conversations", token=inbox["agent"].token, query=query)
        assert answer.status == 200


def test_reading_a_conversation_clears_its_unread_count_for_the_team(api, inbox, monkeypatch):
    from inbox import publish

    published = []
    monkeypatch.setattr(publish, "put_events", lambda batch: published.extend(batch))
    make_conversation("c09", status="unassigned", unread_count=3)
    make_conversation("c10", status="assigned", unread_count=2,
                      assignee_id=inbox["other_agent"].member_id)

    read = api("POST", "/api/conversations/c09/read", token=inbox["agent"].token)
    again = api("POST", "/api/conversations/c09/read", token=inbox["agent"].token)
    hidden = api("POST", "/api/conversations/c10/read", token=inbox["agent"].token)

    assert (read.status, again.status, hidden.status) == (204, 204, 404)
    shown = api("GET", "/api/conversations/c09", token=inbox["owner"].token)
    assert shown.body["unread_count"] == 0
    assert api("GET", "/api/conversations/c10",
               token=inbox["owner"].token).body["unread_count"] == 2
    # Once: reading it again changes nothing, so tells nobody.
    assert [(e.name, e.detail) for e in published] == [
        ("conversation.updated", {"conversation_id": "c09", "page_id": PAGE_A,
                                  "change": "read", "unread_count": 0})]
