"""API keys: shown once, kept only as a hash, acting with their role, refused once revoked."""

from __future__ import annotations

import hashlib

import pytest

from tests.api.conftest import PAGE_A, PAGE_B, make_api_key, make_conversation, make_page


@pytest.fixture
def pages(stack):
    make_page(PAGE_A, "Shop A")
    make_page(PAGE_B, "Shop B")
    return [PAGE_A, PAGE_B]


def create(api, token, **fields):
    return api("POST", "/api/api-keys", token=token,
               body={"name": "CRM sync", "role": "agent", **fields})


def stored_items() -> list[dict]:
    from inbox.models import API_KEYS_PK, ApiKey

    return [k.serialize() for k in ApiKey.query(API_KEYS_PK)]


def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(api, team, pages):
    created = create(api, team["owner"].token, page_ids=[PAGE_A])

    assert created.status == 200, created.body
    key = created.body["key"]
    prefix, key_id, secret = key.split("_", 2)
    assert (prefix, key_id) == ("ik", created.body["id"])
    assert len(secret) >= 40
    (item,) = stored_items()
    assert item["secret_hash"]["S"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(item)

    listed = api("GET", "/api/api-keys", token=team["owner"].token).body["items"]
    assert [k["id"] for k in listed] == [key_id]
    assert "key" not in listed[0]
    assert secret not in str(listed)


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
def test_a_key_acts_with_its_role_and_pages(api, team, pages, header):
    key = make_api_key("agent", page_ids={PAGE_A})
    make_conversation("on-a", page_id=PAGE_A)
    make_conversation("on-b", page_id=PAGE_B)
    make_conversation("theirs", page_id=PAGE_A, status="assigned",
                      assignee_id=team["agent"].member_id)
    headers = {header: f"Bearer {key}" if header == "authorization" else key}

    listed = api("GET", "/api/conversations", headers=headers)
    team_change = api("POST", "/api/members", headers=headers,
                      body={"email": "x@brand.example", "role": "agent"})

    assert listed.status == 200
    # An agent's view, isolation on: the queue of page A only.
    assert [c["id"] for c in listed.body["items"]] == ["on-a"]
    assert team_change.status == 403


def test_a_revoked_key_is_refused(api, team, pages):
    created = create(api, team["admin"].token).body

    revoked = api("DELETE", f"/api/api-keys/{created['id']}", token=team["admin"].token)
    answer = api("GET", "/api/pages", headers={"x-api-key": created["key"]})

    assert (revoked.status, revoked.body["revoked_at"] is not None) == (200, True)
    assert (answer.status, answer.body["code"]) == (401, "invalid_api_key")


@pytest.mark.parametrize("presented", [
    "ik_",
    "ik_0000000000000000_wrong-secret",
    "not-a-key",
])
def test_wrong_or_unknown_keys_are_refused(api, team, pages, presented):
    key = make_api_key("agent")
    key_id = key.split("_")[1]
    if presented.startswith("ik_0"):
        presented = f"ik_{key_id}_wrong-secret"

    answer = api("GET", "/api/pages", headers={"x-api-key": presented})

    assert (answer.status, answer.body["code"]) == (401, "invalid_api_key")


def test_only_an_owner_makes_admin_keys_and_nobody_owner_keys(api, team, pages):
    by_admin = create(api, team["admin"].token, role="admin")
    by_owner = create(api, team["owner"].token, role="admin")
    owner_key = create(api, team["owner"].token, role="owner")

    assert (by_admin.status, by_admin.body["code"]) == (403, "forbidden")
    assert by_owner.status == 200
    assert owner_key.status == 422


@pytest.mark.parametrize("persona", ["supervisor", "agent"])
def test_keys_are_managed_by_owners_and_admins_only(api, team, pages, persona):
    token = team[persona].token
    key_id = create(api, team["owner"].token).body["id"]

    answers = [create(api, token), api("GET", "/api/api-keys", token=token),
               api("DELETE", f"/api/api-keys/{key_id}", token=token)]

    assert [a.status for a in answers] == [403, 403, 403]


def test_a_key_holds_no_conversation_and_has_no_status(api, team, pages):
    key = make_api_key("supervisor")
    make_conversation("waiting", page_id=PAGE_A)

    picked = api("POST", "/api/conversations/waiting/pick-up", headers={"x-api-key": key})
    status = api("PUT", "/api/members/me/status", headers={"x-api-key": key},
                 body={"status": "online"})

    assert (picked.status, picked.body["code"]) == (403, "forbidden")
    assert status.status == 403


def test_a_key_is_not_a_member_so_it_has_no_me(api, team, pages):
    key = make_api_key("supervisor")

    me = api("GET", "/api/members/me", headers={"x-api-key": key})
    language = api("PUT", "/api/members/me/language", headers={"x-api-key": key},
                   body={"language": "en"})

    assert (me.status, me.body["code"]) == (403, "forbidden")
    assert (language.status, language.body["code"]) == (403, "forbidden")


def test_a_key_may_hand_a_conversation_to_a_member(api, team, pages):
    agent, other = team["agent"], team["other_agent"]
    make_conversation("held", page_id=PAGE_A)
    api("POST", "/api/conversations/held/pick-up", token=agent.token)
    key = make_api_key("supervisor", page_ids={PAGE_A})

    answer = api("POST", "/api/conversations/held/transfer", headers={"x-api-key": key},
                 body={"to_member_id": other.member_id, "note": "VIP"})

    assert (answer.status, answer.body["assignee_id"]) == (200, other.member_id)
    (entry,) = [e for e in api("GET", "/api/conversations/held/timeline",
                               token=team["owner"].token).body["items"]
                if e["kind"] == "transferred"]
    assert (entry["actor"], entry["note"]) == ("apikey:" + key.split("_")[1], "VIP")
