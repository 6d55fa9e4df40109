"""Who may do what (DESIGN "Who sees what"): every route, as every kind of caller.

One table, one row per request, one column per caller. A caller who may not see an object gets
404 (its existence stays hidden); one who sees it but may not act on it gets 403. Reads come
first; each writing row acts on objects of its own, so rows do not disturb each other.

The callers, and the world they act on, are in this suite's conftest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.permissions.conftest import CALLERS, MANAGERS, PAGE_A, set_isolation


def expect(default: int, **exceptions: int) -> dict[str, int]:
    """The answer each caller gets: `default`, but for the callers named."""
    return {caller: exceptions.get(caller, default) for caller in CALLERS}


def managers_only(ok: int = 200) -> dict[str, int]:
    return {caller: ok if caller in MANAGERS else 403 for caller in CALLERS}


# Another agent's conversation, or its contact: hidden from an agent under isolation only.
ANOTHER_AGENTS = expect(200, agent=404)
# On page B, where only owners and admins (every page) may look.
ON_PAGE_B = expect(404, owner=200, admin=200)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expected: dict[str, int]
    body: dict[str, Any] | None = None
    # The route as the OpenAPI document names it; the coverage test reads it.
    route: str = ""


ROWS = [
    # Reads -------------------------------------------------------------------------------
    Row("GET", "/api/conversations", expect(200), route="/api/conversations"),
    Row("GET", "/api/conversations/queue_a", expect(200),
        route="/api/conversations/{conversation_id}"),
    Row("GET", "/api/conversations/bot_a", expect(200)),
    Row("GET", "/api/conversations/mine", expect(200)),
    Row("GET", "/api/conversations/theirs", ANOTHER_AGENTS),
    Row("GET", "/api/conversations/theirs_closed", ANOTHER_AGENTS),
    Row("GET", "/api/conversations/queue_b", ON_PAGE_B),
    Row("GET", "/api/conversations/nothing", expect(404)),
    Row("GET", "/api/conversations/theirs/messages", ANOTHER_AGENTS,
        route="/api/conversations/{conversation_id}/messages"),
    Row("GET", "/api/conversations/queue_b/messages", ON_PAGE_B),
    Row("GET", "/api/conversations/mine/timeline", expect(200),
        route="/api/conversations/{conversation_id}/timeline"),
    Row("GET", "/api/conversations/theirs/timeline", ANOTHER_AGENTS),
    Row("GET", "/api/conversations/queue_b/timeline", ON_PAGE_B),
    Row("GET", "/api/contacts/k_queue", expect(200), route="/api/contacts/{contact_id}"),
    Row("GET", "/api/contacts/k_theirs", ANOTHER_AGENTS),
    Row("GET", "/api/contacts/k_b", ON_PAGE_B),
    Row("GET", "/api/pages", expect(200), route="/api/pages"),
    Row("GET", "/api/members", expect(200), route="/api/members"),
    Row("GET", "/api/members/{other_agent}", expect(200), route="/api/members/{member_id}"),
    # An API key is no member: it has no "me".
    Row("GET", "/api/members/me", expect(200, api_key=403)),
    Row("GET", "/api/settings", expect(200), route="/api/settings"),
    Row("GET", "/api/api-keys", managers_only(), route="/api/api-keys"),
    # Routing by hand -----------------------------------------------------------------------
    Row("POST", "/api/conversations/pick_a/pick-up", expect(200, api_key=403),
        route="/api/conversations/{conversation_id}/pick-up"),
    Row("POST", "/api/conversations/queue_b/pick-up", expect(404, owner=200, admin=200,
                                                             api_key=403)),
    # Someone else holds it: a conflict for whoever sees it.
    Row("POST", "/api/conversations/theirs_pick/pick-up", expect(409, agent=404, api_key=403)),
    Row("POST", "/api/conversations/mine_t/transfer", expect(200),
        {"to_member_id": "{other_agent}", "note": "over to you"},
        route="/api/conversations/{conversation_id}/transfer"),
    Row("POST", "/api/conversations/theirs_t/transfer", expect(200, agent=404, agent_shared=403),
        {"to_member_id": "{owner}"}),
    Row("POST", "/api/conversations/mine_q/transfer", expect(200), {"to_member_id": None}),
    Row("POST", "/api/conversations/mine_f/transfer",
        expect(200, agent=403, agent_shared=403),
        {"to_member_id": "{full}", "force": True}),
    # Refused with the member and the limit, for whoever may see it.
    Row("POST", "/api/conversations/mine_full/transfer", expect(409),
        {"to_member_id": "{full}"}),
    # A waiting conversation given to a member by hand: supervisors and up; an agent may only
    # pick it up, so for them it is in the wrong state to transfer.
    Row("POST", "/api/conversations/queue_assign/transfer",
        expect(200, agent=409, agent_shared=409), {"to_member_id": "{other_agent}"}),
    Row("POST", "/api/conversations/mine_c/close", expect(200), {"tags": ["done"]},
        route="/api/conversations/{conversation_id}/close"),
    Row("POST", "/api/conversations/theirs_c/close", expect(200, agent=404, agent_shared=403),
        {"tags": []}),
    Row("POST", "/api/conversations/queue_c/close", expect(200, agent=403, agent_shared=403),
        {"tags": ["spam"]}),
    Row("POST", "/api/conversations/mine_closed/reopen", expect(200, api_key=403),
        route="/api/conversations/{conversation_id}/reopen"),
    Row("POST", "/api/conversations/theirs_closed/reopen", expect(200, agent=404, api_key=403)),
    # The team, keys, settings and pages ---------------------------------------------------
    Row("POST", "/api/members", managers_only(), {"email": "new@brand.example", "role": "agent"},
        route="/api/members"),
    Row("PATCH", "/api/members/{other_agent}", managers_only(), {"reception_limit": 20},
        route="/api/members/{member_id}"),
    Row("DELETE", "/api/members/{leaver}", managers_only(), route="/api/members/{member_id}"),
    Row("PUT", "/api/members/me/status", expect(200, api_key=403), {"status": "online"},
        route="/api/members/me/status"),
    Row("PUT", "/api/members/me/language", expect(200, api_key=403), {"language": "zh-CN"},
        route="/api/members/me/language"),
    Row("POST", "/api/api-keys", managers_only(), {"name": "CRM", "role": "agent"},
        route="/api/api-keys"),
    Row("DELETE", "/api/api-keys/{spare_key}", managers_only(),
        route="/api/api-keys/{key_id}"),
    Row("PUT", "/api/settings", managers_only(), {"isolation": "{isolation}"},
        route="/api/settings"),
    Row("PATCH", "/api/pages/{page_a}", managers_only(), {"unanswered_timeout_seconds": 600},
        route="/api/pages/{page_id}"),
    Row("PATCH", "/api/pages/{page_b}", managers_only(), {"handover_words": ["person"]}),
    # The role is checked before the page: 403, not a revealing 404 or a Facebook call.
    Row("POST", "/api/pages", managers_only(422), {"access_token": "not-a-page-token"},
        route="/api/pages"),
    Row("DELETE", "/api/pages/{page_c}", managers_only(404), route="/api/pages/{page_id}"),
    # A contact's data: exported by supervisors and up; erased by managers (tests/privacy
    # erases real contacts; here an unknown one, which every caller finds missing).
    Row("GET", "/api/contacts/k_queue/export", expect(200, agent=403, agent_shared=403),
        route="/api/contacts/{contact_id}/export"),
    Row("GET", "/api/contacts/k_b/export", ON_PAGE_B),
    Row("POST", "/api/contacts/k_nobody/erase", expect(404),
        route="/api/contacts/{contact_id}/erase"),
    Row("PUT", "/api/settings/retention", managers_only(), {"days": None},
        route="/api/settings/retention"),
    # Editing a contact and reading a conversation follow seeing them.
    Row("PATCH", "/api/contacts/k_queue", expect(200), {"notes": "Prefers mornings"},
        route="/api/contacts/{contact_id}"),
    Row("PATCH", "/api/contacts/k_theirs", ANOTHER_AGENTS, {"tags": ["vip", "late"]}),
    Row("PATCH", "/api/contacts/k_b", ON_PAGE_B, {"email": "b@example.com"}),
    Row("POST", "/api/conversations/queue_a/read", expect(204),
        route="/api/conversations/{conversation_id}/read"),
    Row("POST", "/api/conversations/theirs/read", expect(204, agent=404)),
    Row("POST", "/api/conversations/queue_b/read", expect(404, owner=204, admin=204)),
]
# The tags of the routes this table answers for; other suites cover replies and the catalog.
TABLE_TAGS = {"conversations", "contacts", "pages", "team", "routing"}


def _format(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        found = ids[value[1:-1]]
        return {"true": True, "false": False}.get(found, found)
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_format(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _format(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_answers_each_caller_as_design_says(api, world, caller):
    world.ids["isolation"] = set_isolation(caller)
    wrong = []

    for row in ROWS:
        path = row.path.format(**world.ids)
        body = _format(row.body, world.ids) if row.body is not None else None
        answer = api(row.method, path, body=body, **world.tokens[caller])
        if answer.status != row.expected[caller]:
            wrong.append((row.method, row.path, answer.status, row.expected[caller],
                          (answer.body or {}).get("code")))

    assert wrong == []


def test_the_table_covers_every_route_of_the_document(api):
    document = api("GET", "/api/openapi.json").body
    public = {"/api/auth/login", "/api/auth/new-password", "/api/auth/refresh"}
    routes = {(method.upper(), path) for path, item in document["paths"].items()
              for method, operation in item.items()
              if path not in public and set(operation.get("tags", [])) & TABLE_TAGS}

    covered = {(row.method, row.route) for row in ROWS if row.route}

    assert routes - covered == set()


def test_a_transfer_past_the_limit_names_the_member_and_the_limit(api, world):
    set_isolation("owner")

    answer = api("POST", "/api/conversations/mine_full/transfer",
                 body={"to_member_id": "full"}, **world.tokens["supervisor"])

    assert answer.status == 409
    assert (answer.body["code"], answer.body["member_id"], answer.body["limit"]) == (
        "reception_limit_reached", "full", 1)


def test_a_transfer_with_a_misspelt_field_is_refused_not_sent_to_the_queue(api, world):
    set_isolation("owner")
    conversation = "/api/conversations/mine_full"
    before = api("GET", conversation, **world.tokens["supervisor"]).body

    answer = api("POST", f"{conversation}/transfer", body={"member_id": "full"},
                 **world.tokens["supervisor"])

    assert answer.status == 422
    assert [entry["loc"][-1] for entry in answer.body["detail"]] == ["member_id"]
    after = api("GET", conversation, **world.tokens["supervisor"]).body
    assert (after["status"], after["assignee_id"]) == (before["status"], before["assignee_id"])


# Lists and filters never leak -----------------------------------------------------------------

FILTERS = [
    {},
    {"status": "assigned,closed"},
    {"assignee_id": "{other_agent}"},
    {"contact_name": "secret"},
    {"contact_tag": "vip"},
    {"phone": "+1 555 0199"},
    {"page_id": "{page_b}"},
    {"channel": "messenger", "limit": "2"},
]


def visible(caller: str, conversation: dict[str, Any], ids: dict[str, str]) -> bool:
    """DESIGN "Who sees what", written out apart from the code under test."""
    if caller in MANAGERS:
        return True
    if conversation["page_id"] != PAGE_A:
        return False
    if caller in ("supervisor", "api_key") or caller == "agent_shared":
        return True
    return (conversation["status"] in ("bot", "unassigned")
            or conversation["assignee_id"] == ids["agent"])


@pytest.mark.parametrize("caller", CALLERS)
def test_lists_and_filters_show_only_what_the_caller_may_see(api, world, caller):
    world.ids["isolation"] = set_isolation(caller)
    everything = api("GET", "/api/conversations", query={"limit": "100"},
                     token=world.tokens["owner"]["token"]).body["items"]
    truth = {c["id"]: c for c in everything}
    allowed = {cid for cid, c in truth.items() if visible(caller, c, world.ids)}

    for raw in FILTERS:
        query = {k: _format(v, world.ids) for k, v in raw.items()}
        seen, cursor = [], None
        while True:
            page = api("GET", "/api/conversations", **world.tokens[caller],
                       query={**query, **({"cursor": cursor} if cursor else {})})
            assert page.status == 200, (query, page.body)
            seen += [c["id"] for c in page.body["items"]]
            cursor = page.body["next"]
            if cursor is None:
                break
        assert set(seen) <= allowed, (query, set(seen) - allowed)
        if not query:
            assert set(seen) == allowed

    for contact, conversation in (("k_queue", "queue_a"), ("k_theirs", "theirs"),
                                  ("k_b", "queue_b")):
        answer = api("GET", f"/api/contacts/{contact}", **world.tokens[caller])
        assert answer.status == (200 if conversation in allowed else 404), contact
