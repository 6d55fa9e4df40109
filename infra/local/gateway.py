"""The local gateway: HTTP in front of the real handlers, as the function URL and HTTP API are.

Routes, as deployed:
- `/webhooks/facebook` → the webhook function, with a Lambda function URL event;
- `/api` and `/api/...` → the API function, with an HTTP API payload 2.0 event;
- `/ws` → the WebSocket API and its realtime function, `/_ws/@connections/<id>` → its
  management API (infra/local/websocket.py);
- `/` and the web inbox's files → `web/dist`, or a small page of links while it is not built;
  `/config.json` → the inbox's runtime settings; any other page a browser asks for → the
  inbox's `index.html` (SPA fallback, as CloudFront does deployed);
- anything else → the fallback WSGI app (the Facebook sandbox on `make dev`).

Each function runs one invocation at a time, as one warm Lambda instance would: handler
modules keep per-process state (Powertools' logger keys, caches) that Lambda never shares
between concurrent requests.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import mimetypes
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

from infra.local.events import (
    HttpRequest,
    LambdaContext,
    api_event,
    function_url_event,
    http_response,
)
from infra.local.websocket import WS_PATH, is_management_path

logger = logging.getLogger("local.gateway")

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_PATH = "/webhooks/facebook"
# Facebook's data-deletion callback and its status pages: on the HTTP API when deployed.
DATA_DELETION_PATH = "/webhooks/facebook/data-deletion"
Handler = Callable[[dict[str, Any], Any], Any]
WsgiApp = Callable[..., Any]


def load_handler(function: str, root: Path = ROOT) -> Handler:
    """Import `functions/<function>/app.py` by path and return its `handler`.

    Every function's module is named `app` in Lambda; here each gets a unique name, so the
    three can live in one process without replacing one another in `sys.modules`.
    """
    path = root / "functions" / function / "app.py"
    module_name = f"inbox_local_function_{function}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.handler


class Function:
    """One function as Lambda runs it: a handler, a name, one invocation at a time."""

    def __init__(
        self, name: str, handler: Handler, *, region: str = "us-east-1", timeout_ms: int = 30_000
    ) -> None:
        self.name = name
        self.handler = handler
        self.region = region
        self.timeout_ms = timeout_ms
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any = None) -> Any:
        context = context or LambdaContext(
            function_name=self.name, region=self.region, timeout_ms=self.timeout_ms
        )
        with self._lock:
            return self.handler(event, context)


class LocalGateway:
    """A WSGI app routing to the functions as the deployed stack's URLs do."""

    def __init__(
        self,
        *,
        webhook: Handler,
        api: Handler,
        fallback: WsgiApp | None = None,
        web_dist: Path | None = None,
        links: dict[str, str] | None = None,
        web_config: dict[str, str] | None = None,
        websocket: Any = None,
        privacy: Handler | None = None,
    ) -> None:
        self.webhook = webhook
        self.privacy = privacy
        self.websocket = websocket
        self.api = api
        self.fallback = fallback
        self.web_dist = web_dist
        self.links = links or {}
        # Same origin as the API locally: empty bases make the inbox use its own address.
        self.web_config = web_config or {"api_base": "", "ws_url": ""}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        path = request.path
        if path in (WEBHOOK_PATH, WEBHOOK_PATH + "/"):
            response = self._invoke(self.webhook, function_url_event(_http_request(request)))
        elif self.privacy is not None and path.startswith(DATA_DELETION_PATH):
            response = self._invoke(self.privacy, api_event(_http_request(request)))
        elif path == "/api" or path.startswith("/api/"):
            response = self._invoke(self.api, api_event(_http_request(request)))
        elif self.websocket is not None and path == WS_PATH:
            # The path only: the query string holds the member's token.
            logger.info("%s %s (WebSocket)", request.method, path)
            return self.websocket.serve(environ)(environ, start_response)
        elif self.websocket is not None and is_management_path(path):
            response = self.websocket.manage(environ)
        else:
            static = self._static(path, request)
            if static is None and self.fallback is not None:
                return self.fallback(environ, start_response)
            response = static or Response("not found", status=404, mimetype="text/plain")
        # The path only: query strings can hold the verify token.
        logger.info("%s %s %s", request.method, path, response.status_code)
        return response(environ, start_response)

    def _invoke(self, function: Handler, event: dict[str, Any]) -> Response:
        try:
            result = function(event, None)
        except Exception:
            # What API Gateway answers when the function fails; the traceback is for the
            # developer's terminal.
            logger.exception("function failed", extra={"route": event["rawPath"]})
            return Response(
                '{"message":"Internal Server Error"}', status=500, mimetype="application/json"
            )
        answer = http_response(result)
        response = Response(answer.body, status=answer.status)
        response.headers.clear()
        for name, value in answer.headers:
            response.headers.add(name, value)
        return response

    def _static(self, path: str, request: Request) -> Response | None:
        if path == "/config.json":
            answer = Response(json.dumps(self.web_config), mimetype="application/json")
            answer.headers["Cache-Control"] = "no-store"
            return answer
        if self.web_dist and (self.web_dist / "index.html").is_file():
            wanted = (self.web_dist / path.lstrip("/")).resolve()
            inside = wanted.is_relative_to(self.web_dist.resolve())
            if path != "/" and inside and wanted.is_file():
                kind = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
                answer = Response(wanted.read_bytes(), mimetype=kind)
                if path.startswith("/assets/"):
                    # Vite names these by content hash: a new build is a new name.
                    answer.headers["Cache-Control"] = "public, max-age=31536000, immutable"
                return answer
            if path == "/" or _is_app_page(path, request):
                return Response((self.web_dist / "index.html").read_bytes(), mimetype="text/html")
            return None
        if path == "/":
            return Response(_links_page(self.links), mimetype="text/html")
        return None


# The sandbox's own pages and controls keep their paths; any other page is the inbox's.
_NOT_APP_PREFIXES = ("/sandbox", "/_sandbox", "/moto-api", "/ws")


def _is_app_page(path: str, request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("Accept", "")
        and "." not in path.rsplit("/", 1)[-1]
        and not path.startswith(_NOT_APP_PREFIXES)
    )


def _raw_path(request: Request) -> str:
    # API Gateway's rawPath is the path as the client sent it, percent-encoding and all;
    # werkzeug's server keeps that in RAW_URI.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    return raw.split("?", 1)[0] if raw else request.path


def _http_request(request: Request) -> HttpRequest:
    return HttpRequest(
        method=request.method,
        path=_raw_path(request),
        query_string=request.query_string.decode("latin-1"),
        headers=list(request.headers.items()),
        # The raw bytes: the webhook's signature is over them, not over any re-encoding.
        body=request.get_data(cache=False),
        source_ip=request.remote_addr or "127.0.0.1",
        host=request.host,
    )


def _links_page(links: dict[str, str]) -> str:
    from html import escape

    items = "".join(
        f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in links.items()
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8"><title>Inbox (local)'
        '</title><body style="font:15px system-ui,sans-serif;margin:2rem">'
        "<h1>Inbox: local stack</h1><p>The web inbox is not built yet "
        "(<code>web/dist</code> is missing). Meanwhile:</p>"
        f"<ul>{items}</ul></body></html>"
    )
