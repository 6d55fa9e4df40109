"""A `make dev` stack for one test module, on free loopback ports."""

from __future__ import annotations

import os
from collections.abc import Iterator

from infra.local.dev import DevSettings, RunningStack, start_stack

PAGE_A, PAGE_B = "100000000000001", "100000000000002"
OWNER_EMAIL, OWNER_PASSWORD = "owner@example.com", "LocalOwner2026"


def running_stack() -> Iterator[RunningStack]:
    """Yield a started stack with pages A and B, then stop it and give the process back.

    The stack points the process at its own moto server; the other suites' in-process moto
    needs the environment and the cached clients as they were.
    """
    saved = dict(os.environ)
    running = start_stack(DevSettings(
        port=0, app_secret="dev-secret", verify_token="dev-token", app_id="900000000000001",
        owner_email=OWNER_EMAIL, owner_password=OWNER_PASSWORD, page_ids=[PAGE_A, PAGE_B],
        moto_port=0))
    try:
        yield running
    finally:
        running.stop()
        os.environ.clear()
        os.environ.update(saved)
        from inbox import aws, secrets
        from inbox import settings as settings_module

        settings_module.reload_settings()
        aws.reset_clients()
        secrets.forget_cached()
