"""Comment actions through the real API handler; the stack, sandbox and personas are the API
suite's, and comments come in as webhooks (see helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import (  # noqa: F401  (the API suite's fixtures, used here too)
    PAGE_A,
    api,
    facebook,
    make_page,
    personas,
    stack,
)


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No page cached by an earlier test's account, and back-off that costs no time."""
    from inbox.actions import graph_calls, inbound

    inbound.forget_cached_pages()
    waits: list[float] = []
    monkeypatch.setattr(graph_calls, "sleep", waits.append)
    yield
    inbound.forget_cached_pages()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Domain events published during the test, in order."""
    from inbox import publish

    events: list[Any] = []
    monkeypatch.setattr(publish, "put_events", lambda batch: events.extend(batch))
    return events


@pytest.fixture
def page_a(facebook: Any) -> str:  # noqa: F811  (the fixture above, requested)
    """Page A connected with the token the sandbox issued for it."""
    from inbox import secrets

    from infra.local.sandbox import page_token_for

    make_page(PAGE_A, "Demo Shop")
    secrets.store_page_token(PAGE_A, page_token_for(PAGE_A))
    return PAGE_A
