"""A `make dev` stack for one test module, on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import requests

from infra.local.dev import DevSettings, RunningStack, start_stack

PAGE_A, PAGE_B = "100000000000001", "100000000000002"
OWNER_EMAIL, OWNER_PASSWORD = "owner@example.com", "LocalOwner2026"


@contextmanager
def local_stack(**settings: Any) -> Iterator[RunningStack]:
    """A started stack with pages A and B (`settings` change any of DevSettings), stopped and
    forgotten afterwards, with the process given back its environment."""
    saved = dict(os.environ)
    running = start_stack(replace(DevSettings(
        port=0, app_secret="dev-secret", verify_token="dev-token", app_id="900000000000001",
        owner_email=OWNER_EMAIL, owner_password=OWNER_PASSWORD, page_ids=[PAGE_A, PAGE_B],
        moto_port=0), **settings))
    try:
        yield running
    finally:
        # moto keeps one in-memory account per process, whichever server wrote it: forget
        # this stack's members and conversations, or the next module's stack would find them.
        requests.post(f"{running.moto_url}/moto-api/reset", timeout=30)
        running.stop()
        # The stack pointed the process at its moto server; give the other suites theirs.
        os.environ.clear()
        os.environ.update(saved)
        from inbox import aws, secrets
        from inbox import settings as settings_module

        settings_module.reload_settings()
        aws.reset_clients()
        secrets.forget_cached()
