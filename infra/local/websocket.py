"""The WebSocket API on the local stack: `/ws` for clients, `/_ws/@connections/<id>` for pushes.

API Gateway does two things the realtime function relies on, and this module does both:
- it holds each client's WebSocket and turns its life into the route events the function
  gets (`$connect` with the query string, `$default` per message, `$disconnect`); a `$connect`
  answered with anything but 2xx is refused during the handshake, so no connection is kept;
- its management API takes `POST /@connections/<id>` and sends the body to that client, or
  answers 410 `GoneException` when the connection is closed. moto's emulation of that API
  only records what it is given and never answers 410, so the gateway serves its own; the
  real push code posts to it with boto3, unchanged.

The WebSocket server side is simple-websocket's, on werkzeug's threaded server.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed, Server
from werkzeug.wrappers import Request, Response

from infra.local.events import LOCAL_ACCOUNT_ID, LambdaContext

logger = logging.getLogger("local.websocket")

Handler = Callable[[dict[str, Any], Any], Any]
WS_PATH = "/ws"
MANAGEMENT_PREFIX = "/_ws"
STAGE = "local"
API_ID = "inboxlocalws"
_CONNECTIONS = "/@connections/"


def management_app(api: WebSocketApi) -> Callable[..., Any]:
    """The management API alone as a WSGI app, for tests that hold no real WebSocket."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return api.manage(environ)(environ, start_response)

    return app


def new_connection_id() -> str:
    # API Gateway's ids are 12 base64 characters ending in "="; the same shape here, so the
    # ids travel through URLs and keys exactly as deployed ones do.
    return base64.b64encode(os.urandom(8)).decode()[:11] + "="


def route_event(route: str, connection_id: str, *, request: Request | None = None,
                body: str | None = None, connected_at: int = 0) -> dict[str, Any]:
    """The event API Gateway's WebSocket API hands a Lambda proxy integration for a route."""
    now = time.time()
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": event_type,
            "messageDirection": "IN",
            "connectionId": connection_id,
            "connectedAt": connected_at,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "stage": STAGE,
            "apiId": API_ID,
            "domainName": f"{API_ID}.execute-api.us-east-1.amazonaws.com",
            "accountId": LOCAL_ACCOUNT_ID,
            "identity": {"sourceIp": request.remote_addr if request else "127.0.0.1"},
        },
        "isBase64Encoded": False,
    }
    if request is not None:
        event["headers"] = dict(request.headers.items())
        if request.args:
            event["queryStringParameters"] = {k: request.args[k] for k in request.args}
    if body is not None:
        event["body"] = body
    return event


class _Client:
    """One accepted WebSocket; sends are serialised, as pushes and pongs come from threads."""

    def __init__(self, ws: Server) -> None:
        self.ws = ws
        self.lock = threading.Lock()
        self.connected_at = time.time()

    def send(self, text: str) -> None:
        with self.lock:
            self.ws.send(text)

    def close(self) -> None:
        self.ws.close()


class WebSocketApi:
    """The local WebSocket API: its client side (`serve`) and its management API (`manage`)."""

    def __init__(self, realtime: Handler) -> None:
        self.realtime = realtime
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._clients)

    def register(self, connection_id: str, client: Any) -> None:
        """Hold a client by id: anything with `send(text)` and `close()` (tests pass theirs)."""
        with self._lock:
            self._clients[connection_id] = client

    def unregister(self, connection_id: str) -> None:
        with self._lock:
            self._clients.pop(connection_id, None)

    # --- clients ---------------------------------------------------------------------------

    def serve(self, environ: dict[str, Any]) -> Response:
        request = Request(environ)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return Response("a WebSocket upgrade is required", status=426,
                            mimetype="text/plain")

        connection_id = new_connection_id()
        connected_at = int(time.time() * 1000)
        answer = self._invoke(route_event("$connect", connection_id, request=request,
                                          connected_at=connected_at))
        status = int(answer.get("statusCode", 500)) if isinstance(answer, dict) else 500
        if not 200 <= status < 300:
            # What API Gateway does with a refused $connect: the handshake fails with it.
            return Response(json.dumps({"message": "Forbidden" if status == 403
                                        else "Unauthorized" if status == 401 else "Refused"}),
                            status=status, mimetype="application/json")

        client = _Client(Server.accept(environ))
        self.register(connection_id, client)
        try:
            self._receive(client, connection_id, connected_at)
        finally:
            self.unregister(connection_id)
            self._invoke(route_event("$disconnect", connection_id, connected_at=connected_at))
        return _Closed()

    def _receive(self, client: _Client, connection_id: str, connected_at: int) -> None:
        while True:
            try:
                message = client.ws.receive()
            except ConnectionClosed:
                return
            if message is None:
                continue
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            self._invoke(route_event("$default", connection_id, body=text,
                                     connected_at=connected_at))

    def _invoke(self, event: dict[str, Any]) -> Any:
        try:
            return self.realtime(event, LambdaContext(function_name="inbox-local-realtime"))
        except Exception:
            # API Gateway answers a failed integration with an error; the connection goes on.
            logger.exception("realtime function failed",
                             extra={"route": event["requestContext"]["routeKey"]})
            return {"statusCode": 500}

    # --- management API --------------------------------------------------------------------

    def manage(self, environ: dict[str, Any]) -> Response:
        """`POST|GET|DELETE /_ws/@connections/<id>`, answered as API Gateway answers them."""
        request = Request(environ)
        connection_id = request.path.split(_CONNECTIONS, 1)[-1]
        with self._lock:
            client = self._clients.get(connection_id)
        if client is None:
            return _gone()

        if request.method == "POST":
            try:
                client.send(request.get_data(as_text=True))
            except ConnectionClosed:
                return _gone()
            return Response(status=200)
        if request.method == "DELETE":
            client.close()
            return Response(status=204)
        return Response(json.dumps({"connectedAt": _iso(client.connected_at),
                                    "lastActiveAt": _iso(time.time()),
                                    "identity": {"sourceIp": "127.0.0.1"}}),
                        mimetype="application/json")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _gone() -> Response:
    # botocore names the error from this header: GoneException, as API Gateway sends it.
    return Response(json.dumps({"message": "Gone"}), status=410, mimetype="application/json",
                    headers={"x-amzn-ErrorType": "GoneException"})


class _Closed(Response):
    """What the WSGI app returns once the WebSocket is over: nothing more may be written.

    werkzeug's server stops quietly on ConnectionError; anything written now would land in
    the closed WebSocket stream.
    """

    def __call__(self, environ: Any, start_response: Any) -> Any:
        raise ConnectionError("WebSocket closed")


def is_management_path(path: str) -> bool:
    return path.startswith(MANAGEMENT_PREFIX + _CONNECTIONS)
