"""Fixtures shared by every suite: an emulated AWS account built from template.yaml.

Each test gets a fresh moto account with the stack's real table, queues, user pool, bus and
secret (created from the template, as the local stack does), and the domain package bound to
it. Nothing here reaches the network.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "shared", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# Before any boto3 import: no test may find real credentials or a real region.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "inbox-test",
    "POWERTOOLS_METRICS_NAMESPACE": "inbox-test",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # INFO as deployed: a log call that breaks (a reserved `extra` key) must fail here too.
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "FB_APP_ID": "900000000000001",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_A = "100000000000001"
PAGE_B = "100000000000002"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """A fresh emulated account holding the stack's resources; yields their environment."""
    from inbox import aws as aws_clients
    from inbox import models, secrets, settings
    from inbox.actions import inbound, retention
    from moto import mock_aws

    from infra.local.resources import create_resources

    with mock_aws():
        env = create_resources(region="us-east-1", endpoint_url=None, app_secret=APP_SECRET,
                               verify_token=VERIFY_TOKEN, name_prefix="inbox-test")
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings.reload_settings()
        models.bind_table(env["TABLE_NAME"], host=None, region="us-east-1")
        aws_clients.reset_clients()
        secrets.forget_cached()
        inbound.forget_cached_pages()
        retention.forget_cached()
        yield env
        aws_clients.reset_clients()
        secrets.forget_cached()
        inbound.forget_cached_pages()
        retention.forget_cached()


@pytest.fixture
def sandbox(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Facebook sandbox on a loopback port, as the product's Graph API; yields its state."""
    from inbox import settings

    from infra.local.sandbox import create_sandbox, default_pages, sandbox_of, start_sandbox

    app = create_sandbox(app_secret=APP_SECRET, pages=default_pages([PAGE_A, PAGE_B]))
    base_url, stop = start_sandbox(app)
    monkeypatch.setenv("GRAPH_API_URL", base_url)
    settings.reload_settings()
    state = sandbox_of(app)
    state.base_url = base_url
    yield state
    stop()


@pytest.fixture
def pages(sandbox: Any) -> list[str]:
    """Pages A and B of the webhook samples, connected (page 100000000000099 is not)."""
    from inbox import secrets
    from inbox.models import PAGES_PK, Page, utcnow

    from infra.local.sandbox import page_token_for

    for page_id, name in ((PAGE_A, "Sample Shop Page"), (PAGE_B, "Sample Tea House")):
        Page(PAGES_PK, page_id, page_id=page_id, name=name, connected_at=utcnow()).save()
        secrets.store_page_token(page_id, page_token_for(page_id))
    return [PAGE_A, PAGE_B]
