"""schemathesis against the API's own OpenAPI document, as every kind of caller.

The real handler runs behind the local gateway (a WSGI app building HTTP API v2 events), in
process, on the emulated account with the Facebook sandbox, so nothing reaches the network.
For each operation schemathesis draws valid and invalid requests, half of them aimed at
objects that exist (known conversation, contact, member, key and page ids), and every answer
must be no server error and must match what the document promises for its status.

Examples are bounded (`EXAMPLES` per operation and caller) and derandomized, so a run is
repeatable and stays well within the suite's time; SCHEMATHESIS_EXAMPLES asks for a deeper run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.permissions.conftest import CALLERS, set_isolation

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))


def _gateway() -> Any:
    from functions.api.app import handler
    from infra.local.gateway import Function, LocalGateway

    def no_webhook(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 404, "body": ""}

    return LocalGateway(webhook=no_webhook, api=Function("inbox-api", handler))


def _known_path_parameters(world: Any, caller: str) -> dict[str, list[str]]:
    ids = world.ids
    # The caller's own member item is left out: a caller who deactivated themselves would
    # leave the rest of the run with nothing but 403s to look at.
    own = ids["agent"] if caller.startswith("agent") else ids.get(caller, "")
    members = [v for k, v in ids.items() if k in ("owner", "admin", "supervisor", "agent",
                                                  "other_agent", "full", "leaver") and v != own]
    return {
        "conversation_id": ["queue_a", "mine", "theirs", "theirs_closed", "queue_b", "bot_a"],
        "contact_id": ["k_queue", "k_theirs", "k_b"],
        "member_id": [*members, "me"],
        "key_id": [ids["spare_key"]],
        "page_id": [ids["page_a"], ids["page_b"]],
    }


def _strategy(operation: Any, known: dict[str, list[str]]) -> Any:
    from schemathesis import GenerationMode

    names = [p.name for p in operation.path_parameters]
    aimed = [
        operation.as_strategy(mode, path_parameters=dict(choice))
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for choice in _choices(names, known)
    ]
    generated = [operation.as_strategy(GenerationMode.POSITIVE),
                 operation.as_strategy(GenerationMode.NEGATIVE)]
    return st.one_of(*generated, *aimed)


def _choices(names: list[str], known: dict[str, list[str]]) -> list[list[tuple[str, str]]]:
    # One combination per known value of the first parameter; the others take their first.
    if not names or any(name not in known for name in names):
        return []
    first, rest = names[0], names[1:]
    return [[(first, value), *((name, known[name][0]) for name in rest)]
            for value in known[first]]


def exercise_every_operation(schema: Any, known: dict[str, list[str]],
                             call: Callable[[Any], Any], headers: dict[str, str]) -> None:
    """Draw `EXAMPLES` requests per operation, send each with `call`, and check the answers.

    Fails with every operation that broke, after all of them ran.
    """
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    # An answer whose status the document does not list fails too: a client written from the
    # document must be able to expect every answer it can get.
    checks = [not_a_server_error, status_code_conformance, response_schema_conformance,
              content_type_conformance]
    failures: list[str] = []
    sent: dict[str, int] = {}

    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate, Phase.shrink],
                  suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, known))
        def exercise(case: Any) -> None:
            response = call(case)
            label = case.operation.label
            sent[label] = sent.get(label, 0) + 1
            case.validate_response(response, checks=checks, headers=headers)

        # Every operation runs even after one fails, so one run reports all that break.
        try:
            exercise()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            failures.append(f"{operation.label}: {str(exc)[:600]}")

    assert failures == [], "\n\n".join(failures)
    # Every operation of the document was exercised, not skipped by a strategy error.
    assert len(sent) == len(list(schema.get_all_operations()))
    print(f"{sum(sent.values())} requests over {len(sent)} operations")


@pytest.mark.parametrize("caller", CALLERS)
def test_no_server_error_and_no_answer_off_the_document(api, world, caller):
    import schemathesis

    set_isolation(caller)
    gateway = _gateway()
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", gateway)
    credentials = world.tokens[caller]
    headers = dict(credentials.get("headers") or {})
    if "token" in credentials:
        headers["Authorization"] = f"Bearer {credentials['token']}"
    known = _known_path_parameters(world, caller)

    exercise_every_operation(schema, known, lambda case: case.call(app=gateway, headers=headers),
                             headers)
