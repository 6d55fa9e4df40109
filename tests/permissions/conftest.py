"""The permissions suite: the API suite's emulated stack and personas, and one world of
conversations in every state, held by whom the matrix and schemathesis need.

The callers: an owner; an admin; a supervisor (page A); an agent (page A) with the brand's
isolation on, and the same agent with it off; an API key of the supervisor role (page A).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API suite
    PAGE_A,
    PAGE_B,
    PAGE_C,
    api,
    facebook,
    make_api_key,
    make_contact,
    make_conversation,
    make_member,
    make_page,
    personas,
    stack,
    team,
)

CALLERS = ("owner", "admin", "supervisor", "agent", "agent_shared", "api_key")
MANAGERS = ("owner", "admin")


@dataclass
class World:
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    """Pages A and B; conversations in every state, held by whom the rows need."""
    # By name: the API suite's fixtures are imported above, not defined here.
    people = request.getfixturevalue("team")
    request.getfixturevalue("facebook")
    from inbox.actions import routing
    from inbox.models import MEMBERS_PK, Member

    make_page(PAGE_A, "Shop A")
    make_page(PAGE_B, "Shop B")
    agent, other = people["agent"].member_id, people["other_agent"].member_id
    # Room enough for every row's assignment; `full` has none left, for the limit rows.
    for persona in people.values():
        Member.get(MEMBERS_PK, persona.member_id).update(
            actions=[Member.reception_limit.set(20)])
    make_member("full", role="agent", email="full@brand.example", page_ids={PAGE_A},
                status="online", reception_limit=1)
    make_member("leaver", role="agent", email="leaver@brand.example", page_ids={PAGE_A})

    waiting = ["queue_a", "pick_a", "theirs_pick", "queue_c", "mine", "mine_t", "mine_q",
               "mine_f", "mine_full", "mine_c", "mine_closed", "theirs", "theirs_t",
               "theirs_c", "theirs_closed", "full_holds", "queue_assign"]
    for n, cid in enumerate(waiting):
        make_conversation(cid, page_id=PAGE_A, activity_ms=1767225600000 + n,
                          contact_id="k_" + cid)
    make_conversation("bot_a", page_id=PAGE_A, status="bot")
    make_conversation("queue_b", page_id=PAGE_B, contact_id="k_b")
    for cid in ("mine", "mine_t", "mine_q", "mine_f", "mine_full", "mine_c", "mine_closed"):
        routing.do_pick_up(cid, agent)
    for cid in ("theirs", "theirs_pick", "theirs_t", "theirs_c", "theirs_closed"):
        routing.do_pick_up(cid, other)
    routing.do_pick_up("full_holds", "full")
    routing.do_close("mine_closed", actor=agent)
    routing.do_close("theirs_closed", actor=other)

    make_contact("k_queue", page_id=PAGE_A, conversation_ids={"queue_a"}, tags={"vip"},
                 phone="+1 555 0100")
    make_contact("k_theirs", page_id=PAGE_A, name="Secret Sam",
                 conversation_ids={"theirs"}, tags={"vip"}, phone="+1 555 0199")
    make_contact("k_b", page_id=PAGE_B, conversation_ids={"queue_b"}, tags={"vip"},
                 phone="+1 555 0199")

    spare = make_api_key("agent").split("_")[1]
    key = make_api_key("supervisor", page_ids={PAGE_A})
    ids = {name: p.member_id for name, p in people.items()}
    ids.update(full="full", leaver="leaver", spare_key=spare, page_a=PAGE_A, page_b=PAGE_B,
               page_c=PAGE_C)
    credentials = {name: {"token": people[name].token} for name in MANAGERS + ("supervisor",)}
    credentials["agent"] = credentials["agent_shared"] = {"token": people["agent"].token}
    credentials["api_key"] = {"headers": {"x-api-key": key}}
    return World(ids=ids, tokens=credentials)


def set_isolation(caller: str) -> str:
    """The brand's isolation as the caller's column needs it: off for `agent_shared` only."""
    from inbox.models import BRAND_PK, SETTINGS_SK, BrandSettings

    isolation = caller != "agent_shared"
    BrandSettings(BRAND_PK, SETTINGS_SK, isolation=isolation).save()
    return "true" if isolation else "false"
