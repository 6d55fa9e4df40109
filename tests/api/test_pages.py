"""Pages: listing, connecting from a page token and disconnecting, against the sandbox."""

from __future__ import annotations

import pytest

from tests.api.conftest import (
    APP_SECRET,
    PAGE_A,
    PAGE_B,
    PAGE_C,
    make_conversation,
    make_page,
)

FIELDS = ("messages,messaging_postbacks,message_deliveries,message_reads,messaging_referrals,"
          "message_echoes,message_reactions,message_edits,standby,feed")


@pytest.fixture
def published(monkeypatch):
    """Domain events published during the test, by name."""
    from inbox import publish

    events = []
    monkeypatch.setattr(publish, "put_events", lambda batch: events.extend(batch))
    return events


def graph_calls(facebook) -> list[tuple[str, str, dict, dict | None]]:
    return [(c["method"], f"/{c['version']}{c['path']}", c["query"], c["json"])
            for c in facebook.calls]


def test_owner_connects_a_page_from_its_token(api, personas, facebook, published):
    from inbox import secrets
    from inbox.models import PAGES_PK, Page

    token = facebook.issue_token(PAGE_C)
    answer = api("POST", "/api/pages", token=personas["owner"].token,
                 body={"access_token": token})

    assert answer.status == 200
    assert answer.body["id"] == PAGE_C
    assert answer.body["name"] == facebook.pages[PAGE_C].name
    assert answer.body["connected_by"] == personas["owner"].member_id
    assert graph_calls(facebook) == [
        ("GET", "/v25.0/me", {"fields": "id,name,picture"}, None),
        ("POST", f"/v25.0/{PAGE_C}/subscribed_apps", {}, {"subscribed_fields": FIELDS}),
    ]
    assert all(c["appsecret_proof"] for c in facebook.calls)
    assert facebook.pages[PAGE_C].subscribed_fields == FIELDS.split(",")
    secrets.forget_cached()
    assert secrets.page_token(PAGE_C) == token
    assert Page.get(PAGES_PK, PAGE_C).subscribed_fields == FIELDS.split(",")
    assert [(e.name, e.detail["page_id"]) for e in published] == [("page.connected", PAGE_C)]


def test_a_bad_token_is_refused_and_nothing_is_stored(api, personas, facebook, published):
    from inbox import secrets
    from inbox.models import PAGES_PK, Page

    answer = api("POST", "/api/pages", token=personas["owner"].token,
                 body={"access_token": "EAAnot-a-token"})

    assert answer.status == 422
    assert answer.body["code"] == "invalid_page_token"
    assert answer.body["field"] == "access_token"
    assert answer.body["graph_code"] == 190
    assert len(facebook.calls) == 1
    assert list(Page.query(PAGES_PK)) == []
    assert secrets.page_token(PAGE_C) is None
    assert published == []


def test_an_agent_may_not_connect_pages(api, personas, facebook, published):
    answer = api("POST", "/api/pages", token=personas["agent"].token,
                 body={"access_token": facebook.issue_token(PAGE_C)})

    assert (answer.status, answer.body["code"]) == (403, "forbidden")
    assert facebook.calls == []


def test_owner_disconnects_a_page(api, personas, facebook, published):
    from inbox import secrets
    from inbox.models import PAGES_PK, Page

    token = facebook.issue_token(PAGE_C)
    api("POST", "/api/pages", token=personas["owner"].token, body={"access_token": token})
    facebook.reset_calls()
    published.clear()

    answer = api("DELETE", f"/api/pages/{PAGE_C}", token=personas["owner"].token)

    assert answer.status == 204
    assert graph_calls(facebook) == [("DELETE", f"/v25.0/{PAGE_C}/subscribed_apps", {}, None)]
    assert facebook.pages[PAGE_C].subscribed_fields == []
    assert list(Page.query(PAGES_PK)) == []
    secrets.forget_cached()
    assert secrets.page_token(PAGE_C) is None
    assert [(e.name, e.detail["page_id"]) for e in published] == [("page.disconnected", PAGE_C)]


def test_a_disconnected_pages_conversations_stay_listed_and_readable(api, team, facebook):
    owner, admin = team["owner"].token, team["admin"].token
    make_page(PAGE_A, "Shop A")
    api("POST", "/api/pages", token=owner, body={"access_token": facebook.issue_token(PAGE_C)})
    make_conversation("kept", page_id=PAGE_C, status="assigned",
                      assignee_id=team["admin"].member_id)
    make_conversation("live", page_id=PAGE_A, activity_ms=1767225500000)

    api("DELETE", f"/api/pages/{PAGE_C}", token=owner)

    def listed(token, **query):
        answer = api("GET", "/api/conversations", token=token, query=query)
        assert answer.status == 200, answer.body
        return [item["id"] for item in answer.body["items"]]

    assert listed(owner) == ["kept", "live"]
    assert listed(admin, page_id=PAGE_C) == ["kept"]
    assert listed(team["agent"].token) == ["live"]  # allowed on page A only, as before
    assert api("GET", "/api/conversations/kept", token=admin).status == 200
    reply = api("POST", "/api/conversations/kept/messages", token=admin, body={"text": "Hi"})
    assert (reply.status, reply.body["code"], reply.body["reason"]) == (
        409, "page_token_invalid", "not_connected")
    assert [p["id"] for p in api("GET", "/api/pages", token=owner).body["items"]] == [PAGE_A]


def test_a_page_connected_again_lists_its_conversations_once(api, team, facebook):
    owner = team["owner"].token
    api("POST", "/api/pages", token=owner, body={"access_token": facebook.issue_token(PAGE_C)})
    make_conversation("kept", page_id=PAGE_C)
    api("DELETE", f"/api/pages/{PAGE_C}", token=owner)

    api("POST", "/api/pages", token=owner, body={"access_token": facebook.issue_token(PAGE_C)})

    answer = api("GET", "/api/conversations", token=owner)
    assert [item["id"] for item in answer.body["items"]] == ["kept"]


def test_disconnecting_with_a_revoked_token_still_disconnects(api, personas, facebook,
                                                              published):
    from inbox.models import PAGES_PK, Page

    token = facebook.issue_token(PAGE_C)
    api("POST", "/api/pages", token=personas["owner"].token, body={"access_token": token})
    facebook.expire_token(token=token)

    answer = api("DELETE", f"/api/pages/{PAGE_C}", token=personas["owner"].token)

    assert answer.status == 204
    assert list(Page.query(PAGES_PK)) == []


def test_disconnecting_an_unknown_page_is_not_found(api, personas, facebook):
    answer = api("DELETE", "/api/pages/123", token=personas["owner"].token)

    assert (answer.status, answer.body["code"]) == (404, "not_found")


def test_pages_are_listed_as_far_as_a_member_is_allowed(api, personas):
    make_page(PAGE_A, "Shop A")
    make_page(PAGE_B, "Shop B")

    owner = api("GET", "/api/pages", token=personas["owner"].token)
    agent = api("GET", "/api/pages", token=personas["agent"].token)

    assert [p["id"] for p in owner.body["items"]] == [PAGE_A, PAGE_B]
    assert [p["id"] for p in agent.body["items"]] == [PAGE_A]
    assert owner.body["next"] is None


def test_connect_page_is_callable_without_the_api(stack, personas, facebook, published):
    """What the local stack does at start-up for each sandbox page."""
    from inbox import settings
    from inbox.actions.pages import connect_page
    from inbox.facebook.graph import GraphClient
    from inbox.models import MEMBERS_PK, Member

    owner = Member.get(MEMBERS_PK, personas["owner"].member_id)
    graph = GraphClient(settings.settings.graph_api_url, "v25.0", APP_SECRET)

    page = connect_page(access_token=facebook.pages[PAGE_A].token, member=owner, graph=graph)

    assert (page.page_id, page.connected_by) == (PAGE_A, owner.member_id)


@pytest.mark.parametrize(("body", "field"), [
    ({"faq_auto_reply": "yes"}, "faq_auto_reply"),
    ({"auto_assign": 1}, "auto_assign"),
    ({"auto_asign": False}, "auto_asign"),
])
def test_page_settings_refuse_a_loose_or_unknown_field_and_keep_the_page(api, personas, body,
                                                                         field):
    from inbox.models import PAGES_PK, Page

    make_page(PAGE_A)
    before = Page.get(PAGES_PK, PAGE_A).attribute_values

    answer = api("PATCH", f"/api/pages/{PAGE_A}", token=personas["owner"].token, body=body)

    assert answer.status == 422
    assert answer.body["code"] == "invalid_input"
    assert [entry["loc"][-1] for entry in answer.body["detail"]] == [field]
    assert Page.get(PAGES_PK, PAGE_A).attribute_values == before
