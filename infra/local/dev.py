"""`make dev`: the whole stack on the laptop, with no AWS account and no Facebook app.

Starts moto's server on loopback, creates the template's resources on it, creates the first
owner, serves the real handlers behind the local gateway with the Facebook sandbox beside
them, connects the sandbox's pages through the product's own page-connect code, and feeds the
events queue to ingest. Ctrl-C stops it; its data lives in memory and goes with it.

Settings, by environment (DESIGN.md, "Local stack"): PORT, FB_APP_SECRET, FB_VERIFY_TOKEN,
FB_APP_ID, DEV_OWNER_EMAIL, DEV_OWNER_PASSWORD, SANDBOX_PAGE_IDS (comma-separated; the
samples in shared/facebook/webhooks need 100000000000001,100000000000002), MOTO_PORT.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
DEFAULT_PORT = 8080
DEFAULT_MOTO_PORT = 5001
# Meets the template's password policy (12 characters, upper, lower, digits); a fixed value
# means a restarted stack keeps the same sign-in, which the printed banner repeats.
DEFAULT_OWNER_PASSWORD = "LocalOwner2026"
DEFAULT_INVITE_PASSWORD = "Welcome-Local-2026"

logger = logging.getLogger("local.dev")


@dataclass(frozen=True)
class DevSettings:
    port: int
    app_secret: str
    verify_token: str
    app_id: str
    owner_email: str
    owner_password: str
    page_ids: list[str]
    moto_port: int | None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def read_settings(environ: dict[str, str] | None = None) -> DevSettings:
    env = os.environ if environ is None else environ
    page_ids = [p.strip() for p in env.get("SANDBOX_PAGE_IDS", "100000000000001").split(",")]
    return DevSettings(
        port=int(env.get("PORT", DEFAULT_PORT)),
        app_secret=env.get("FB_APP_SECRET", "dev-app-secret"),
        verify_token=env.get("FB_VERIFY_TOKEN", "dev-verify-token"),
        app_id=env.get("FB_APP_ID", "900000000000001"),
        owner_email=env.get("DEV_OWNER_EMAIL", "owner@example.com"),
        owner_password=env.get("DEV_OWNER_PASSWORD", DEFAULT_OWNER_PASSWORD),
        page_ids=[p for p in page_ids if p],
        moto_port=int(env["MOTO_PORT"]) if env.get("MOTO_PORT") else None,
    )


def _free_port(preferred: int | None) -> int:
    # The preferred port when it is free, so moto's dashboard keeps a stable address;
    # otherwise any free loopback port.
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free loopback port")


def start_moto(port: int | None) -> tuple[Any, str]:
    from moto.server import ThreadedMotoServer

    chosen = _free_port(DEFAULT_MOTO_PORT if port is None else port)
    # Loopback only: moto's default address is 0.0.0.0, which would expose the emulated
    # account to the network.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=chosen, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{chosen}"


def configure_environment(settings: DevSettings, endpoint_url: str) -> None:
    """The environment Lambda would give the functions, pointed at moto and the sandbox."""
    os.environ.update(
        {
            # moto accepts any credentials; these keep boto3 from looking for real ones.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint_url,
            "GRAPH_API_URL": settings.base_url,
            "FB_APP_ID": settings.app_id,
            "CORS_ORIGIN": os.environ.get("CORS_ORIGIN", "*"),
            # moto's Cognito sends no invitation email: every invited member's first password.
            "INVITE_TEMPORARY_PASSWORD": os.environ.get("INVITE_TEMPORARY_PASSWORD",
                                                        DEFAULT_INVITE_PASSWORD),
        }
    )
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "inbox")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "inbox-local")


def create_stack(settings: DevSettings, endpoint_url: str) -> dict[str, str]:
    """Create the template's resources and bind the domain package to them."""
    from infra.local.resources import create_resources

    env = create_resources(
        region=REGION,
        endpoint_url=endpoint_url,
        app_secret=settings.app_secret,
        verify_token=settings.verify_token,
    )
    # The media worker fetches attachments from the sandbox, which serves them on the
    # gateway's host; Facebook's CDN hosts are the deployed default.
    env["MEDIA_ALLOWED_HOSTS"] = urlsplit(settings.base_url).hostname or "127.0.0.1"
    os.environ.update(env)

    from inbox import aws, models, secrets
    from inbox import settings as settings_module

    models.bind_table(env["TABLE_NAME"], host=endpoint_url, region=REGION)
    settings_module.reload_settings()
    aws.reset_clients()
    secrets.forget_cached()
    return env


def create_owner(email: str, password: str) -> Any:
    """The first owner: a Cognito user with a permanent password and an owner `Member`."""
    from inbox import aws
    from inbox import settings as settings_module
    from inbox.models import MEMBERS_PK, Member, utcnow

    cognito = aws.client("cognito-idp")
    pool_id = settings_module.settings.user_pool_id
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
        )
    except cognito.exceptions.UsernameExistsException:
        pass
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=password, Permanent=True
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    sub = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")

    # The API finds a signed-in member by the token's `sub`.
    member = Member(
        MEMBERS_PK,
        sub,
        member_id=sub,
        email=email,
        name="Owner",
        role="owner",
        active=True,
        created_at=utcnow(),
    )
    member.save()
    return member


def connect_pages(page_ids: list[str], owner: Any, app_secret: str) -> list[str]:
    """Connect each sandbox page the way an owner would, through the product's own code."""
    from inbox import settings as settings_module
    from inbox.facebook.graph import GraphClient

    from infra.local.sandbox import page_token_for

    settings = settings_module.settings
    graph = GraphClient(settings.graph_api_url, settings.graph_api_version, app_secret)
    connected = []
    for page_id in page_ids:
        _connect_page(page_id, page_token_for(page_id), owner, graph)
        connected.append(page_id)
    return connected


def _connect_page(page_id: str, token: str, owner: Any, graph: Any) -> None:
    try:
        from inbox.actions.pages import connect_page
    except ImportError:
        connect_page = None
    if connect_page is not None:
        connect_page(access_token=token, member=owner, graph=graph)
        return

    # Until the page-connect action exists: what it stores, written directly.
    from inbox import secrets
    from inbox.models import PAGES_PK, Page, utcnow

    profile = graph.call("GET", "me", token, fields="id,name,picture")
    secrets.store_page_token(page_id, token)
    Page(
        PAGES_PK,
        page_id,
        page_id=page_id,
        name=profile.get("name") or page_id,
        connected_at=utcnow(),
        connected_by=owner.member_id,
    ).save()


def start_queue_runner(env: dict[str, str], ingest: Any, *,
                       queue: str = "EVENTS_QUEUE_URL",
                       function_name: str = "inbox-local-ingest") -> Any:
    from inbox import aws

    from infra.local.queue_runner import QueueRunner

    runner = QueueRunner(
        handler=ingest,
        queue_url=env[queue],
        sqs=aws.client("sqs"),
        function_name=function_name,
    )
    runner.start()
    return runner


def use_local_websocket_api(base_url: str) -> str:
    """Point the push at the gateway's management API instead of a deployed WebSocket API."""
    from inbox import settings as settings_module

    from infra.local.websocket import MANAGEMENT_PREFIX

    url = base_url + MANAGEMENT_PREFIX
    os.environ["WEBSOCKET_MANAGEMENT_URL"] = url
    settings_module.reload_settings()
    return url


def start_bus_tap(env: dict[str, str], realtime: Any) -> Any:
    """The bus's rule to the realtime function (infra/local/bus.py), polling in a thread."""
    from inbox import aws

    from infra.local.bus import BusTap

    tap = BusTap(handler=realtime, bus_name=env["EVENT_BUS_NAME"], events=aws.client("events"),
                 sqs=aws.client("sqs"))
    tap.start()
    return tap


SWEEP_INTERVAL_SECONDS = 60


def start_sweeper(sweep: Any, interval: float = SWEEP_INTERVAL_SECONDS) -> threading.Event:
    """Call the sweep function every interval, as the deployed schedule does; set to stop."""
    stopped = threading.Event()

    def run() -> None:
        while not stopped.wait(interval):
            try:
                sweep({"source": "local.schedule"})
            except Exception:
                # The deployed schedule just runs again a minute later; so does this.
                logger.exception("sweep failed")

    threading.Thread(target=run, name="sweep", daemon=True).start()
    return stopped


def banner(settings: DevSettings, pages: list[str], moto_url: str) -> str:
    base = settings.base_url
    version = os.environ.get("GRAPH_API_VERSION", "v25.0")
    # `make replay` posts to the default port unless told this stack's.
    replay = "" if settings.port == DEFAULT_PORT else f"PORT={settings.port} "
    lines = [
        "",
        "Inbox local stack is running.",
        f"  Inbox:            {base}/",
        f"  API:              {base}/api   (OpenAPI: {base}/api/openapi.json)",
        f"  WebSocket:        ws://127.0.0.1:{settings.port}/ws?token=<bearer token>",
        f"  Owner sign-in:    {settings.owner_email} / {settings.owner_password}",
        f"  Invited members:  first sign-in with {os.environ['INVITE_TEMPORARY_PASSWORD']}, "
        "then their own password",
        f"  Facebook sandbox: {base}/sandbox/   (Graph API at {base}/{version}/...)",
        f"  Webhook URL:      {base}/webhooks/facebook",
        f"  Verify token:     {settings.verify_token}",
        f"  App secret:       {settings.app_secret}",
        f"  Pages connected:  {', '.join(pages) or 'none'}",
        f"  AWS (moto):       {moto_url}/moto-api/",
        # Within 100 columns, as the README quotes it.
        f"  Replay samples:   {replay}make replay FILE...   (needs "
        "SANDBOX_PAGE_IDS=100000000000001,100000000000002)",
        "Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


@dataclass
class RunningStack:
    """A started local stack; `stop()` ends the runner, the gateway and moto, in that order."""

    settings: DevSettings
    moto_url: str
    env: dict[str, str]
    sandbox: Any
    runner: Any
    pages: list[str]
    _server: Any
    _moto: Any
    _sweeper: threading.Event | None = None
    bus_tap: Any = None
    media_runner: Any = None

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}/ws"

    def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.set()
        if self.bus_tap is not None:
            self.bus_tap.stop()
        if self.media_runner is not None:
            self.media_runner.stop()
        self.runner.stop()
        self._server.shutdown()
        self._server.server_close()
        self._moto.stop()


def start_stack(settings: DevSettings) -> RunningStack:
    """Start everything `make dev` serves; PORT 0 picks a free port (tests use that).

    Raises:
        OSError: the gateway's port is taken.
    """
    from werkzeug.serving import make_server

    if settings.port == 0:
        settings = replace(settings, port=_free_port(None))
    moto, moto_url = start_moto(settings.moto_port)
    try:
        configure_environment(settings, moto_url)
        env = create_stack(settings, moto_url)
        env["WEBSOCKET_MANAGEMENT_URL"] = use_local_websocket_api(settings.base_url)
        owner = create_owner(settings.owner_email, settings.owner_password)

        # Imported only now: the handlers read their settings when first imported.
        from infra.local.gateway import Function, LocalGateway, load_handler
        from infra.local.sandbox import create_sandbox, default_pages, sandbox_of
        from infra.local.websocket import WebSocketApi

        realtime = Function("inbox-local-realtime", load_handler("realtime"), region=REGION)

        sandbox = create_sandbox(
            app_secret=settings.app_secret,
            app_id=settings.app_id,
            webhook_url=settings.base_url + "/webhooks/facebook",
            pages=default_pages(settings.page_ids),
        )
        # Served on the gateway's port (its fallback), so its media links use that address.
        sandbox_of(sandbox).base_url = settings.base_url
        gateway = LocalGateway(
            webhook=Function("inbox-local-webhook", load_handler("webhook"), region=REGION),
            api=Function("inbox-local-api", load_handler("api"), region=REGION, timeout_ms=25_000),
            privacy=Function("inbox-local-privacy", load_handler("privacy"), region=REGION),
            fallback=sandbox,
            web_dist=ROOT / "web" / "dist",
            links={"Facebook sandbox": "/sandbox/", "API (OpenAPI)": "/api/openapi.json"},
            websocket=WebSocketApi(realtime),
        )
        server = make_server("127.0.0.1", settings.port, gateway, threaded=True)
    except BaseException:
        moto.stop()
        raise
    serving = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="gateway", daemon=True
    )
    serving.start()

    # The sandbox answers on the gateway's port, so pages connect once it serves.
    pages = connect_pages(settings.page_ids, owner, settings.app_secret)
    ingest = Function("inbox-local-ingest", load_handler("ingest"), region=REGION)
    runner = start_queue_runner(env, ingest)
    bus_tap = start_bus_tap(env, realtime)
    media = Function("inbox-local-media", load_handler("media"), region=REGION)
    media_runner = start_queue_runner(env, media, queue="MEDIA_QUEUE_URL",
                                      function_name="inbox-local-media")
    sweeper = start_sweeper(Function("inbox-local-sweep", load_handler("sweep"), region=REGION))
    return RunningStack(
        settings=settings,
        moto_url=moto_url,
        env=env,
        sandbox=sandbox_of(sandbox),
        runner=runner,
        pages=pages,
        _server=server,
        _moto=moto,
        _sweeper=sweeper,
        bus_tap=bus_tap,
        media_runner=media_runner,
    )


def main() -> int:
    # `make dev` sets PYTHONPATH; this lets `python -m infra.local.dev` work without it.
    if str(ROOT / "shared") not in sys.path:
        sys.path.insert(0, str(ROOT / "shared"))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # moto's server and the gateway share werkzeug's request log; moto's hundreds of calls
    # would drown the gateway's own lines (logged by the gateway itself).
    for noisy in ("werkzeug", "botocore", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    settings = read_settings()
    try:
        stack = start_stack(settings)
    except OSError as exc:
        print(
            f"Port {settings.port} is taken ({exc.strerror}); set PORT to another one.",
            file=sys.stderr,
        )
        return 1
    print(banner(stack.settings, stack.pages, stack.moto_url), flush=True)

    # Both signals handled explicitly: a shell that starts the stack in the background
    # ignores SIGINT for it, and Python would then never raise KeyboardInterrupt.
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(0.2):
        pass
    print("Stopping...", flush=True)
    stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
