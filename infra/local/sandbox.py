"""A Facebook sandbox: the Graph API calls the inbox makes, and a person who writes to a page.

It stands in for Facebook on the local stack and in tests, so nothing needs a Facebook app:

- Graph routes under `/<version>/...` (any `vNN.N`): the User Profile API, `/me` for a page
  token, a page's `subscribed_apps`, and the Send API. Answers and errors have Facebook's
  shapes (PLATFORM.md §5.7, §7.5, §8.3), so the product's Graph client cannot tell the
  difference.
- Tokens: the sandbox issues one page token per page. It can expire a token (code 190), inject
  a rate limit (code 4, 17, 32, 613, 80001 or 80006) and checks `appsecret_proof` when given.
- Comments: a reply under a comment (new comment id), like and unlike as the page, hide and
  unhide, delete, and the private reply through the Send API (`recipient.comment_id`: once per
  comment, within 7 days). Each answers as Facebook does, refuses as it does (10900, 10903, a
  withheld permission: 200), and sends the page's own feed webhook (`add` from the page,
  `hide`/`unhide`, `remove`; the echo of a private reply) signed, as Facebook would.
- Every Graph call is recorded (`GET /_sandbox/calls`) so tests can assert exact requests.
- Signed webhooks: a person writes a Messenger message or comments on a page's post; the body
  is built in Facebook's shape and byte style (compact, `\\uXXXX` and `\\/` escapes) and
  signed with the app secret, then POSTed to the product's webhook URL.
- `/sandbox/`: a page where one plays a Facebook user.

Use `create_sandbox(...)` for the Flask app, `sandbox_of(app)` for its state, and
`start_sandbox(...)` to serve it on a free loopback port in tests.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

logger = logging.getLogger("local.sandbox")

DEFAULT_APP_ID = "900000000000001"
DEFAULT_PAGE_ID = "100000000000001"
_VERSION = re.compile(r"^v\d+\.\d+$")
_RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80006}
STANDARD_WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_WINDOW_SECONDS = 7 * 24 * 3600
# Retired message tags: the update tags since 27 April 2026, the older ones since 2020.
RETIRED_TAGS = frozenset({
    "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ISSUE_RESOLUTION",
    "SHIPPING_UPDATE", "RESERVATION_UPDATE", "APPOINTMENT_UPDATE", "GAME_EVENT",
    "TRANSPORTATION_UPDATE", "FEATURE_FUNCTIONALITY_UPDATE", "TICKET_UPDATE",
    "PAIRING_UPDATE", "APPLICATION_UPDATE", "PAYMENT_UPDATE", "PERSONAL_FINANCE_UPDATE",
    "COMMUNITY_ALERT",
})
_WEBHOOK_TIMEOUT = (3.05, 30)


@dataclass
class SandboxPage:
    """A page the sandbox knows; `token` is the page access token it issued for it."""

    id: str
    name: str
    token: str = ""
    post_ids: list[str] = field(default_factory=list)
    subscribed_fields: list[str] = field(default_factory=list)


@dataclass
class SandboxPerson:
    """A Facebook user: `psid` on Messenger, `commenter_id` on the pages' feeds.

    `profile_visible=False` plays an account whose profile the User Profile API refuses
    (error 100 / 2018218), so the product's fallback name can be seen.
    """

    psid: str
    first_name: str
    last_name: str
    commenter_id: str
    profile_visible: bool = True

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class RateLimit:
    code: int
    remaining: int | None
    minutes: int
    page_id: str | None


@dataclass
class SandboxComment:
    """A comment on one of a page's posts, as the sandbox knows it (times in epoch seconds)."""

    id: str
    page_id: str
    post_id: str
    author_id: str
    parent_id: str
    created_time: int
    message: str | None = None
    liked: bool = False
    hidden: bool = False
    deleted: bool = False
    private_reply_mid: str | None = None


# Facebook's private-reply deadline (PLATFORM.md §6.7).
PRIVATE_REPLY_SECONDS = 7 * 24 * 3600
# The permission each comment call needs (PLATFORM.md §6.8), so one can be withheld.
_COMMENT_PERMISSIONS = {
    "reply": "pages_manage_engagement",
    "like": "pages_manage_engagement",
    "hide": "pages_manage_engagement",
    "delete": "pages_manage_engagement",
    "private_reply": "pages_messaging",
}
# Facebook delivers the webhook of a change a moment after answering the call that made it.
_PAGE_WEBHOOK_DELAY_SECONDS = 0.2


class GraphFailure(Exception):
    """A refusal rendered in Facebook's error envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.headers = headers or {}

    def response(self) -> Response:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "Sbx" + secrets.token_urlsafe(9)
        answer = jsonify({"error": error})
        answer.status_code = self.status
        answer.headers.update(self.headers)
        return answer


def default_pages(page_ids: Iterable[str] | None = None) -> list[SandboxPage]:
    """The demo pages: ids from `page_ids`, else `SANDBOX_PAGE_IDS`, else one demo page."""
    if page_ids is None:
        raw = os.environ.get("SANDBOX_PAGE_IDS", DEFAULT_PAGE_ID)
        page_ids = [part.strip() for part in raw.split(",") if part.strip()]
    pages = []
    for index, page_id in enumerate(page_ids):
        name = "Demo Shop" if index == 0 else f"Demo Shop {index + 1}"
        # Post ids are global on Facebook; the numbering keeps page A's first post equal to
        # the samples' P1 (100000000000001_300000000000001).
        post_id = f"{page_id}_{300000000000001 + index}"
        pages.append(SandboxPage(id=page_id, name=name, post_ids=[post_id]))
    return pages


def default_people() -> list[SandboxPerson]:
    """A few people, numbered like the samples' PSIDs and commenters, with the same names."""
    names = [
        ("Alex", "Sample"),
        ("Sam", "Example"),
        ("Kim", "Placeholder"),
        ("Robin", "Moreau"),
        ("Layla", "Haddad"),
        ("Wei", "Chen"),
    ]
    people = [
        SandboxPerson(
            psid=f"{2000000000000001 + i}",
            first_name=first,
            last_name=last,
            commenter_id=f"{2500000000000001 + i}",
        )
        for i, (first, last) in enumerate(names)
    ]
    # An account made with a phone number and no name: the profile look-up is refused.
    people.append(
        SandboxPerson(
            psid="2000000000000009",
            first_name="Phone",
            last_name="Only",
            commenter_id="2500000000000009",
            profile_visible=False,
        )
    )
    return people


def page_token_for(page_id: str) -> str:
    """The token the sandbox issues first for a page: stable, so tests and `make dev` agree."""
    return f"EAASANDBOX{page_id}"


def encode_like_facebook(body: dict[str, Any]) -> bytes:
    """Serialise a webhook body the way Meta does: compact, ASCII with `\\uXXXX`, `/` as `\\/`.

    A `/` in compact JSON only ever occurs inside strings, so escaping every one is safe.
    """
    text = json.dumps(body, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def sign(app_secret: str, raw: bytes) -> dict[str, str]:
    """The two signature headers Meta sends with every webhook POST (PLATFORM.md §1.2)."""
    key = app_secret.encode()
    return {
        "X-Hub-Signature": "sha1=" + hmac.new(key, raw, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest(),
    }


class Sandbox:
    """The sandbox's state; every method is safe to call from any thread."""

    def __init__(
        self,
        *,
        app_secret: str,
        app_id: str,
        webhook_url: str | None,
        pages: Sequence[SandboxPage],
        people: Sequence[SandboxPerson],
    ) -> None:
        self.app_secret = app_secret
        self.app_id = app_id
        self.webhook_url = webhook_url
        self.pages = {page.id: page for page in pages}
        self.people = list(people)
        self.calls: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.rate_limit: RateLimit | None = None
        self.comments: dict[str, SandboxComment] = {}
        # Permissions withheld per page, to play a token granted without them.
        self.revoked: dict[str, set[str]] = {}
        # Webhooks of the page's own changes, kept here when there is no webhook URL so a
        # test can post them itself (`take_page_webhooks`).
        self.page_webhooks: list[dict[str, Any]] = []
        # Messenger: when each person last wrote to each page (epoch ms), which opens the
        # window; people who blocked a page; Send API refusals queued by a test.
        self.last_inbound: dict[tuple[str, str], int] = {}
        self.unavailable: set[tuple[str, str]] = set()
        self.send_failures: list[tuple[int, int | None, str]] = []
        # Off: the app is in no business with the pages, and the ID Matching API refuses.
        self.id_matching = True
        self._tokens: dict[str, str] = {}
        self._expired: set[str] = set()
        # Attachment files served under /_sandbox/media/ as Facebook's CDN serves them: files
        # a test put there, paths no longer served (an expired link), and queued failures.
        self.base_url = ""
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_stopped: set[str] = set()
        self.media_failures: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        # Seeded from the clock so comment ids stay unique across restarts of `make dev`.
        self._numbers = itertools.count(int(time.time() * 1000) % 10**14)
        for page in self.pages.values():
            page.token = page.token or page_token_for(page.id)
            self._tokens[page.token] = page.id

    # Tokens and rate limits -------------------------------------------------------------

    def issue_token(self, page_id: str) -> str:
        """A fresh page token for `page_id`; the previous ones stay valid, as on Facebook."""
        token = f"EAASANDBOX{page_id}x{secrets.token_hex(8)}"
        with self._lock:
            self._tokens[token] = self.pages[page_id].id
            self.pages[page_id].token = token
        return token

    def expire_token(self, *, token: str | None = None, page_id: str | None = None) -> list[str]:
        """Expire one token, or every token of a page; later calls with them get code 190."""
        with self._lock:
            found = [t for t, p in self._tokens.items() if t == token or p == page_id]
            self._expired.update(found)
        return found

    def set_rate_limit(
        self,
        *,
        code: int = 80006,
        calls: int | None = None,
        minutes: int = 5,
        page_id: str | None = None,
    ) -> None:
        """Refuse the next `calls` Graph calls (all of them when None) with a rate-limit error."""
        if code not in _RATE_LIMIT_CODES:
            raise ValueError(f"not a rate-limit code: {code}")
        with self._lock:
            self.rate_limit = RateLimit(
                code=code, remaining=calls, minutes=minutes, page_id=page_id
            )

    def clear_faults(self) -> None:
        with self._lock:
            self.rate_limit = None
            self._expired.clear()
            self.revoked.clear()
            self.unavailable.clear()
            self.send_failures.clear()
            self.id_matching = True

    # Attachment files -------------------------------------------------------------------

    def media_url(self, path: str) -> str:
        """Where the sandbox serves the file at `path` (`base_url` set by whoever serves it)."""
        return f"{self.base_url}/_sandbox/media/{path.lstrip('/')}"

    def host_media(self, path: str, body: bytes, content_type: str) -> None:
        with self._lock:
            self.media[path.lstrip("/")] = (body, content_type)

    def stop_serving_media(self, path: str) -> None:
        """Answer 404 for this file from now on, as Facebook does once its link has expired."""
        with self._lock:
            self.media_stopped.add(path.lstrip("/"))

    def fail_media(self, path: str, *, status: int = 503, times: int = 1) -> None:
        """Answer the next `times` fetches of this file with `status`, then serve it again."""
        with self._lock:
            self.media_failures.setdefault(path.lstrip("/"), []).extend([status] * times)

    def serve_media(self, path: str) -> tuple[int, bytes, str]:
        """`(status, body, content type)` of a fetch of `path`."""
        with self._lock:
            if path in self.media_stopped:
                return 404, b"", "text/plain"
            failures = self.media_failures.get(path)
            if failures:
                return failures.pop(0), b"", "text/plain"
            if path in self.media:
                body, content_type = self.media[path]
                return 200, body, content_type
        return 200, _made_up_file(path), _media_type(path)

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.deliveries.clear()
            self.outbox.clear()

    # Graph API --------------------------------------------------------------------------

    def handle_graph(
        self,
        method: str,
        version: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any] | None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Graph call; raises `GraphFailure` for Facebook's refusals."""
        token = query.get("access_token", "")
        record = {
            "method": method,
            "version": version,
            "path": "/" + path,
            # Without the token and its proof: tests assert on what the product asked for.
            "query": {
                k: v for k, v in query.items() if k not in ("access_token", "appsecret_proof")
            },
            "json": body,
            "page_id": self._tokens.get(token),
            "appsecret_proof": "appsecret_proof" in query,
        }
        with self._lock:
            self.calls.append(record)
        try:
            if token == f"{self.app_id}|{self.app_secret}":
                self._check_proof(token, query.get("appsecret_proof"))
                answer = self._app_route(method, path.strip("/").split("/"))
            else:
                page = self._check_token(token, query.get("appsecret_proof"))
                self._check_rate_limit(page)
                answer = self._route(method, path.strip("/").split("/"), query, body or {},
                                     page)
        except GraphFailure as failure:
            record["status"] = failure.status
            record["error_code"] = failure.code
            logger.info("graph call refused", extra={"path": "/" + path, "code": failure.code})
            raise
        record["status"] = 200
        return 200, answer

    def _check_token(self, token: str, proof: str | None) -> SandboxPage:
        if not token:
            raise GraphFailure(400, 104, "An access token is required to request this resource.")
        with self._lock:
            page_id = self._tokens.get(token)
            expired = token in self._expired
        if page_id is None:
            raise GraphFailure(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if expired:
            raise GraphFailure(
                400, 190, "Error validating access token: Session has expired.", subcode=463
            )
        self._check_proof(token, proof)
        return self.pages[page_id]

    def _check_proof(self, token: str, proof: str | None) -> None:
        if proof is None:
            return
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, proof):
            raise GraphFailure(
                400,
                100,
                "Invalid appsecret_proof provided in the API argument",
                error_type="GraphMethodException",
            )

    def _app_route(self, method: str, parts: list[str]) -> dict[str, Any]:
        """Calls made with the app's own token (`{app-id}|{app-secret}`): the ID Matching API."""
        if method != "GET" or len(parts) != 2 or parts[1] != "ids_for_pages":
            raise _unsupported(method, "/".join(parts))
        if not self.id_matching:
            raise GraphFailure(400, 200, "(#200) The app and the pages are not in one business.",
                               error_type="OAuthException")
        try:
            person = self.person(parts[0])
        except KeyError:
            raise GraphFailure(400, 100, f"Unsupported get request. Object with ID "
                                         f"'{parts[0]}' does not exist.",
                               error_type="GraphMethodException") from None
        # The sandbox's people have one PSID on every page; Facebook's have one per page.
        data = [{"id": person.psid, "page": {"id": page.id, "name": page.name}}
                for page in self.pages.values()]
        return {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MQZDZD"}}}

    def _check_rate_limit(self, page: SandboxPage) -> None:
        with self._lock:
            limit = self.rate_limit
            if limit is None or (limit.page_id and limit.page_id != page.id):
                return
            if limit.remaining is not None:
                limit.remaining -= 1
                if limit.remaining <= 0:
                    self.rate_limit = None
        kind = "messenger" if limit.code == 80006 else "pages"
        usage = {
            page.id: [
                {
                    "type": kind,
                    "call_count": 100,
                    "total_cputime": 20,
                    "total_time": 31,
                    "estimated_time_to_regain_access": limit.minutes,
                }
            ]
        }
        headers = {
            "X-Business-Use-Case-Usage": json.dumps(usage, separators=(",", ":")),
            "X-App-Usage": json.dumps(
                {"call_count": 100, "total_time": 31, "total_cputime": 20}, separators=(",", ":")
            ),
        }
        messages = {
            4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit.",
            80001: "(#80001) There have been too many calls to this Page account.",
            80006: "(#80006) There have been too many messages sent to this Messenger account.",
        }
        raise GraphFailure(400, limit.code, messages[limit.code], headers=headers)

    def _route(
        self,
        method: str,
        parts: list[str],
        query: dict[str, str],
        body: dict[str, Any],
        page: SandboxPage,
    ) -> dict[str, Any]:
        node = page.id if parts[0] == "me" else parts[0]
        edge = parts[1] if len(parts) > 1 else None
        if len(parts) > 2:
            raise _unsupported(method, "/".join(parts))
        if edge is None and method == "GET":
            return self._get_node(node, query, page)
        if edge == "subscribed_apps" and node == page.id:
            return self._subscribed_apps(method, query, body, page)
        if edge == "messages" and node == page.id and method == "POST":
            return self._send_message(body or dict(query), page)
        if self._is_comment_of(node, page):
            return self._comment_call(method, node, edge, {**query, **(body or {})}, page)
        raise _unsupported(method, "/".join(parts))

    def _get_node(self, node: str, query: dict[str, str], page: SandboxPage) -> dict[str, Any]:
        fields = [f for f in query.get("fields", "").split(",") if f]
        if node in page.post_ids:
            # A Page post node: Facebook's default fields are id, message and created_time.
            full = {
                "id": node,
                "message": f"New in at {page.name}: the spring collection. Ask us anything!",
                "created_time": "2026-01-05T09:00:00+0000",
                "permalink_url": f"https://www.facebook.com/{page.id}/posts/"
                                 f"{node.split('_')[-1]}",
                "full_picture": _avatar_url(page.id),
            }
            return _pick(full, fields or ["message", "created_time"])
        if node in self.pages:
            known = self.pages[node]
            full = {
                "id": known.id,
                "name": known.name,
                "picture": {
                    "data": {
                        "height": 50,
                        "width": 50,
                        "is_silhouette": False,
                        "url": _avatar_url(known.id),
                    }
                },
            }
            return _pick(full, fields or ["name"])
        person = self.person_by_psid(node)
        if person is None or not person.profile_visible:
            # What Facebook answers for a PSID it will not describe to this page.
            raise GraphFailure(
                400, 100, "(#100) No profile available for this user.", subcode=2018218
            )
        full = {
            "id": person.psid,
            "name": person.name,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "profile_pic": _avatar_url(person.psid),
        }
        return _pick(full, fields or ["first_name", "last_name", "profile_pic"])

    def _subscribed_apps(
        self, method: str, query: dict[str, str], body: dict[str, Any], page: SandboxPage
    ) -> dict[str, Any]:
        if method == "GET":
            with self._lock:
                fields = list(page.subscribed_fields)
            if not fields:
                return {"data": []}
            return {
                "data": [
                    {
                        "category": "Business",
                        "link": "http://127.0.0.1/",
                        "name": "Inbox (sandbox)",
                        "id": self.app_id,
                        "subscribed_fields": fields,
                    }
                ]
            }
        if method == "DELETE":
            with self._lock:
                page.subscribed_fields = []
            return {"success": True}
        raw = body.get("subscribed_fields", query.get("subscribed_fields", ""))
        fields = raw if isinstance(raw, list) else [f for f in str(raw).split(",") if f]
        if not fields:
            raise GraphFailure(
                400,
                100,
                "(#100) The parameter subscribed_fields is required.",
                error_type="OAuthException",
            )
        # A POST replaces the whole set, as on Facebook (PLATFORM.md §7.5).
        with self._lock:
            page.subscribed_fields = fields
        return {"success": True}

    def _send_message(self, body: dict[str, Any], page: SandboxPage) -> dict[str, Any]:
        recipient = body.get("recipient") or {}
        if isinstance(recipient, str):
            recipient = json.loads(recipient)
        if recipient.get("comment_id"):
            return self._private_reply(str(recipient["comment_id"]), body, page)
        psid = recipient.get("id")
        if not psid and not recipient.get("comment_id"):
            raise GraphFailure(400, 100, "(#100) The parameter recipient is required.")
        if psid and self.person_by_psid(psid) is None:
            raise GraphFailure(400, 100, "(#100) No matching user found", subcode=2018001)
        self._take_injected_send_failure()
        with self._lock:
            unavailable = (page.id, psid) in self.unavailable
        if unavailable:
            raise GraphFailure(400, 551, "This person isn't available right now.",
                               subcode=1545041)
        if body.get("sender_action") is not None:
            return self._sender_action(body, page, psid)

        message = send_api_message(body)
        self._check_window(body, page, psid)
        mid = "m_sandbox-" + uuid.uuid4().hex
        with self._lock:
            self.outbox.append(
                {
                    "page_id": page.id,
                    "recipient": recipient,
                    "mid": mid,
                    "message": message,
                    "messaging_type": body.get("messaging_type"),
                    "tag": body.get("tag"),
                    "at": _now_ms(),
                }
            )
        self._send_page_webhook(page, None, echo=self._message_echo(page, psid, mid, message))
        return {"recipient_id": psid, "message_id": mid}

    def _sender_action(self, body: dict[str, Any], page: SandboxPage,
                       psid: str) -> dict[str, Any]:
        action = body.get("sender_action")
        if "message" in body:
            raise GraphFailure(400, 100, "(#100) sender_action must be sent alone, "
                               "without message")
        if action not in ("typing_on", "typing_off", "mark_seen"):
            raise GraphFailure(400, 100, "(#100) Param sender_action must be one of "
                               "{typing_on, typing_off, mark_seen, react, unreact}")
        if self._window_age(page.id, psid) >= STANDARD_WINDOW_SECONDS:
            raise _outside_window()
        with self._lock:
            self.outbox.append({"page_id": page.id, "recipient": {"id": psid},
                                "sender_action": action, "at": _now_ms()})
        return {"recipient_id": psid}

    def _check_window(self, body: dict[str, Any], page: SandboxPage, psid: str) -> None:
        """messaging_type and tag as Facebook checks them against the person's last message."""
        kind = body.get("messaging_type")
        tag = body.get("tag")
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            raise GraphFailure(400, 100, "(#100) Param messaging_type must be one of "
                               "{RESPONSE, UPDATE, MESSAGE_TAG}")
        if kind == "MESSAGE_TAG" and tag in RETIRED_TAGS:
            raise GraphFailure(400, 100, f"(#100) The tag {tag} is deprecated; use utility "
                               "messages instead")
        if kind == "MESSAGE_TAG" and tag not in ("HUMAN_AGENT", "CUSTOMER_FEEDBACK"):
            raise GraphFailure(400, 100, "(#100) Param tag must be a valid message tag")
        if kind != "MESSAGE_TAG" and tag is not None:
            raise GraphFailure(400, 100, "(#100) A tag needs messaging_type MESSAGE_TAG")
        age = self._window_age(page.id, psid)
        limit = HUMAN_AGENT_WINDOW_SECONDS if tag == "HUMAN_AGENT" else STANDARD_WINDOW_SECONDS
        if age >= limit:
            raise _outside_window()

    def _window_age(self, page_id: str, psid: str) -> float:
        with self._lock:
            last = self.last_inbound.get((page_id, psid))
        # Someone who never wrote to the page cannot be messaged by it at all.
        return float("inf") if last is None else time.time() - last / 1000

    def _message_echo(self, page: SandboxPage, psid: str, mid: str,
                      message: dict[str, Any]) -> dict[str, Any]:
        """The `message_echoes` event of a send: the app id, the metadata, the content."""
        echo: dict[str, Any] = {"is_echo": True, "app_id": int(self.app_id), "mid": mid}
        if message.get("metadata"):
            echo["metadata"] = message["metadata"]
        if "text" in message:
            echo["text"] = message["text"]
        if "attachment" in message:
            attachment = message["attachment"]
            payload = dict(attachment.get("payload") or {})
            payload.pop("is_reusable", None)
            echo["attachments"] = [{"type": attachment["type"], "payload": payload}]
        if message.get("quick_replies"):
            echo["quick_replies"] = message["quick_replies"]
        return {"sender": {"id": page.id}, "recipient": {"id": psid}, "timestamp": _now_ms(),
                "message": echo}

    def set_last_message(self, page_id: str, psid: str, at_ms: int) -> None:
        """Play a person whose last message to the page was at `at_ms` (the window's start)."""
        with self._lock:
            self.last_inbound[(page_id, psid)] = at_ms

    def set_unavailable(self, page_id: str, psid: str, unavailable: bool = True) -> None:
        """Play a person who blocked the page: sends get 551 / 1545041."""
        with self._lock:
            if unavailable:
                self.unavailable.add((page_id, psid))
            else:
                self.unavailable.discard((page_id, psid))

    def fail_sends(self, code: int, message: str, *, subcode: int | None = None,
                   calls: int = 1) -> None:
        """Refuse the next `calls` Send API calls with this Graph error (after token checks)."""
        with self._lock:
            self.send_failures.extend([(code, subcode, message)] * calls)

    def _take_injected_send_failure(self) -> None:
        with self._lock:
            failure = self.send_failures.pop(0) if self.send_failures else None
        if failure is not None:
            code, subcode, message = failure
            raise GraphFailure(400, code, message, subcode=subcode)

    # Comments ---------------------------------------------------------------------------

    def learn(self, body: dict[str, Any]) -> None:
        """Know the comments a feed webhook body adds, as if they were made here.

        For bodies the sandbox did not build itself, such as the saved samples.
        """
        for entry in body.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value") or {}
                if value.get("item") == "comment" and value.get("verb") == "add":
                    self._remember(str(entry["id"]), value)

    def _remember(self, page_id: str, value: dict[str, Any]) -> None:
        comment = SandboxComment(
            id=str(value["comment_id"]),
            page_id=page_id,
            post_id=str(value["post_id"]),
            author_id=str(value["from"]["id"]),
            parent_id=str(value.get("parent_id") or value["post_id"]),
            created_time=int(value["created_time"]),
            message=value.get("message"),
        )
        with self._lock:
            self.comments.setdefault(comment.id, comment)

    def revoke_permission(self, page_id: str, permission: str) -> None:
        """Calls needing `permission` for `page_id` fail with code 200 until `clear_faults`."""
        with self._lock:
            self.revoked.setdefault(page_id, set()).add(permission)

    def take_page_webhooks(self) -> list[dict[str, Any]]:
        """The page's own webhooks kept since the last take (only without a webhook URL)."""
        with self._lock:
            taken, self.page_webhooks = self.page_webhooks, []
        return taken

    def _is_comment_of(self, node: str, page: SandboxPage) -> bool:
        with self._lock:
            known = self.comments.get(node)
        return known is not None and known.page_id == page.id

    def _check_permission(self, page: SandboxPage, action: str) -> None:
        permission = _COMMENT_PERMISSIONS[action]
        with self._lock:
            withheld = permission in self.revoked.get(page.id, set())
        if withheld:
            raise GraphFailure(403, 200, f"(#200) Requires {permission} permission to manage "
                               "the object")

    def _comment_call(self, method: str, comment_id: str, edge: str | None,
                      params: dict[str, Any], page: SandboxPage) -> dict[str, Any]:
        with self._lock:
            comment = self.comments[comment_id]
        if comment.deleted:
            raise _unsupported(method, comment_id)
        if edge == "comments" and method == "POST":
            return self._reply(comment, params, page)
        if edge == "likes" and method in ("POST", "DELETE"):
            return self._like(comment, method == "POST", page)
        if edge is None and method == "POST" and "is_hidden" in params:
            return self._hide(comment, _truthy(params["is_hidden"]), page)
        if edge is None and method == "DELETE":
            return self._delete(comment, page)
        raise _unsupported(method, comment_id + (f"/{edge}" if edge else ""))

    def _reply(self, parent: SandboxComment, params: dict[str, Any],
               page: SandboxPage) -> dict[str, Any]:
        self._check_permission(page, "reply")
        if not params.get("message") and not params.get("attachment_url"):
            raise GraphFailure(400, 100, "(#100) The parameter message is required.")
        # Facebook threads one level deep: a reply to a reply joins its top-level comment.
        top = parent.id if parent.parent_id == parent.post_id else parent.parent_id
        at = int(time.time())
        value = {
            "from": {"id": page.id, "name": page.name},
            "post": _post_object(page.id, parent.post_id, at),
            "message": params.get("message"),
            "post_id": parent.post_id,
            "comment_id": f"{parent.post_id.split('_')[-1]}_{next(self._numbers)}",
            "created_time": at,
            "item": "comment",
            "parent_id": top,
            "verb": "add",
        }
        self._remember(page.id, value)
        self._send_page_webhook(page, value)
        return {"id": value["comment_id"]}

    def _like(self, comment: SandboxComment, like: bool, page: SandboxPage) -> dict[str, Any]:
        self._check_permission(page, "like")
        with self._lock:
            # Facebook refuses a like of a liked object and an unlike of one not liked
            # (PLATFORM.md §6.2); it names no code, so the sandbox answers 100.
            if comment.liked == like:
                state = "already liked" if like else "not liked"
                raise GraphFailure(400, 100, f"(#100) The page has {state} this object")
            comment.liked = like
        # Facebook sends no comment webhook for the page's own likes.
        return {"success": True}

    def _hide(self, comment: SandboxComment, hidden: bool, page: SandboxPage) -> dict[str, Any]:
        self._check_permission(page, "hide")
        if comment.author_id == page.id:
            raise GraphFailure(400, 100, "(#100) The page's own comments cannot be hidden")
        with self._lock:
            changed = comment.hidden != hidden
            comment.hidden = hidden
        if changed:
            self._send_page_webhook(page, self._change(comment, page,
                                                       "hide" if hidden else "unhide"))
        return {"success": True}

    def _delete(self, comment: SandboxComment, page: SandboxPage) -> dict[str, Any]:
        self._check_permission(page, "delete")
        with self._lock:
            comment.deleted = True
        self._send_page_webhook(page, self._change(comment, page, "remove"))
        return {"success": True}

    def _private_reply(self, comment_id: str, body: dict[str, Any],
                       page: SandboxPage) -> dict[str, Any]:
        self._check_permission(page, "private_reply")
        with self._lock:
            comment = self.comments.get(comment_id)
        if comment is None or comment.page_id != page.id or comment.deleted:
            raise _unsupported("POST", comment_id)
        person = next((p for p in self.people if p.commenter_id == comment.author_id), None)
        too_late = time.time() - comment.created_time > PRIVATE_REPLY_SECONDS
        if person is None or too_late:
            raise GraphFailure(400, 10903, "(#10903) This activity can't be replied to")
        mid = "m_sandbox-" + uuid.uuid4().hex
        with self._lock:
            if comment.private_reply_mid is not None:
                raise GraphFailure(400, 10900, "(#10900) Activity already replied to")
            comment.private_reply_mid = mid
            self.outbox.append({"page_id": page.id, "recipient": {"comment_id": comment_id},
                                "mid": mid, "message": body.get("message"), "at": _now_ms()})
        self._send_page_webhook(page, None, echo=self._echo(page, person.psid, mid, body))
        return {"recipient_id": person.psid, "message_id": mid}

    def _change(self, comment: SandboxComment, page: SandboxPage, verb: str) -> dict[str, Any]:
        # Moderation by the page arrives from the page (PLATFORM.md §4.2, sample 35).
        return {
            "from": {"id": page.id, "name": page.name},
            "post_id": comment.post_id,
            "comment_id": comment.id,
            "parent_id": comment.parent_id,
            "created_time": int(time.time()),
            "item": "comment",
            "verb": verb,
        }

    def _echo(self, page: SandboxPage, psid: str, mid: str,
              body: dict[str, Any]) -> dict[str, Any]:
        message = {"is_echo": True, "app_id": int(self.app_id), "mid": mid,
                   **(body.get("message") or {})}
        if body.get("metadata"):
            message["metadata"] = body["metadata"]
        at = _now_ms()
        return {"sender": {"id": page.id}, "recipient": {"id": psid}, "timestamp": at,
                "message": message}

    def _send_page_webhook(self, page: SandboxPage, value: dict[str, Any] | None, *,
                           echo: dict[str, Any] | None = None) -> None:
        """Send the webhook of the page's own change, after the answer, as Facebook does."""
        at = int(time.time())
        entry: dict[str, Any] = {"id": page.id}
        if echo is not None:
            entry.update(time=echo["timestamp"] + 160, messaging=[echo])
        else:
            entry.update(time=at, changes=[{"field": "feed", "value": value}])
        body = {"object": "page", "entry": [entry]}
        if not self.webhook_url:
            with self._lock:
                self.page_webhooks.append(body)
            return

        def deliver_later() -> None:
            time.sleep(_PAGE_WEBHOOK_DELAY_SECONDS)
            try:
                self.deliver(body)
            except requests.RequestException as exc:
                logger.warning("page webhook not delivered", extra={
                    "page_id": page.id, "error": type(exc).__name__})

        threading.Thread(target=deliver_later, name="sandbox-page-webhook", daemon=True).start()

    # People -----------------------------------------------------------------------------

    def person_by_psid(self, psid: str) -> SandboxPerson | None:
        return next((p for p in self.people if p.psid == psid), None)

    def person(self, person_id: str) -> SandboxPerson:
        found = next((p for p in self.people if person_id in (p.psid, p.commenter_id)), None)
        if found is None:
            raise KeyError(person_id)
        return found

    # Webhooks ---------------------------------------------------------------------------

    def message_body(
        self,
        *,
        page_id: str,
        psid: str,
        text: str | None = None,
        image_url: str | None = None,
        mid: str | None = None,
        timestamp_ms: int | None = None,
    ) -> dict[str, Any]:
        """A Messenger message webhook body, as in samples 01 and 05."""
        if page_id not in self.pages:
            raise KeyError(page_id)
        if not text and not image_url:
            raise ValueError("a message needs text or an image")
        at = timestamp_ms or _now_ms()
        with self._lock:
            self.last_inbound[(page_id, psid)] = max(at, self.last_inbound.get((page_id, psid), 0))
        message: dict[str, Any] = {"mid": mid or "m_sandbox-" + uuid.uuid4().hex}
        if text:
            message["text"] = text
        if image_url:
            message["attachments"] = [{"type": "image", "payload": {"url": image_url}}]
        event = {
            "sender": {"id": psid},
            "recipient": {"id": page_id},
            "timestamp": at,
            "message": message,
        }
        return {
            "object": "page",
            "entry": [{"id": page_id, "time": at + 250, "messaging": [event]}],
        }

    def comment_body(
        self,
        *,
        page_id: str,
        person_id: str,
        text: str | None = None,
        photo_url: str | None = None,
        post_id: str | None = None,
        parent_id: str | None = None,
        comment_id: str | None = None,
        created_time: int | None = None,
    ) -> dict[str, Any]:
        """A feed comment webhook body, as in samples 31 to 33 (times in epoch seconds)."""
        page = self.pages[page_id]
        person = self.person(person_id)
        if not text and not photo_url:
            raise ValueError("a comment needs text or a photo")
        post_id = post_id or page.post_ids[0]
        at = created_time or int(time.time())
        post_number = post_id.split("_")[-1]
        value: dict[str, Any] = {
            "from": {"id": person.commenter_id, "name": person.name},
            "post": {
                "status_type": "added_photos",
                "is_published": True,
                "updated_time": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(at)),
                "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_number}",
                "promotion_status": "inactive",
                "id": post_id,
            },
        }
        if text:
            value["message"] = text
        value.update(
            {
                "post_id": post_id,
                "comment_id": comment_id or f"{post_number}_{next(self._numbers)}",
                "created_time": at,
                "item": "comment",
                "parent_id": parent_id or post_id,
                "verb": "add",
            }
        )
        if photo_url:
            value["photo"] = photo_url
        # The comment exists on "Facebook" from now on, whoever posts its webhook.
        self._remember(page_id, value)
        return {
            "object": "page",
            "entry": [{"id": page_id, "time": at, "changes": [{"field": "feed", "value": value}]}],
        }

    def deliver(self, body: dict[str, Any]) -> dict[str, Any]:
        """Sign `body` and POST it to the product's webhook; returns what was delivered."""
        if not self.webhook_url:
            raise RuntimeError("the sandbox has no webhook URL to deliver to")
        raw = encode_like_facebook(body)
        headers = {"Content-Type": "application/json", **sign(self.app_secret, raw)}
        response = requests.post(
            self.webhook_url, data=raw, headers=headers, timeout=_WEBHOOK_TIMEOUT
        )
        delivery = {"status": response.status_code, "body": body, "at": _now_ms()}
        with self._lock:
            self.deliveries.append(delivery)
        logger.info(
            "webhook delivered",
            extra={"page_id": body["entry"][0]["id"], "status": response.status_code},
        )
        return delivery

    def send_message(
        self, *, page_id: str, psid: str, text: str | None = None, image_url: str | None = None
    ) -> dict[str, Any]:
        """A person writes to a page on Messenger; the webhook is delivered signed.

        Text and a photo sent together arrive as two messages, as Messenger sends them.
        """
        bodies = []
        if text:
            bodies.append(self.message_body(page_id=page_id, psid=psid, text=text))
        if image_url:
            bodies.append(self.message_body(page_id=page_id, psid=psid, image_url=image_url))
        if not bodies:
            raise ValueError("a message needs text or an image")
        deliveries = [self.deliver(body) for body in bodies]
        return {
            "statuses": [d["status"] for d in deliveries],
            "mids": [d["body"]["entry"][0]["messaging"][0]["message"]["mid"] for d in deliveries],
        }

    def comment(
        self,
        *,
        page_id: str,
        person_id: str,
        text: str | None = None,
        photo_url: str | None = None,
        post_id: str | None = None,
        parent_id: str | None = None,
    ) -> dict[str, Any]:
        """A person comments on a page's post (or replies under a comment); delivered signed."""
        body = self.comment_body(
            page_id=page_id,
            person_id=person_id,
            text=text,
            photo_url=photo_url,
            post_id=post_id,
            parent_id=parent_id,
        )
        delivery = self.deliver(body)
        value = body["entry"][0]["changes"][0]["value"]
        return {
            "status": delivery["status"],
            "comment_id": value["comment_id"],
            "post_id": value["post_id"],
        }

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "app_id": self.app_id,
                "webhook_url": self.webhook_url,
                "pages": [asdict(page) for page in self.pages.values()],
                "people": [{**asdict(p), "name": p.name} for p in self.people],
                "rate_limit": asdict(self.rate_limit) if self.rate_limit else None,
                "expired_tokens": sorted(self._expired),
            }


_MEDIA_TYPES = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "mp4": "video/mp4", "mp3": "audio/mpeg", "pdf": "application/pdf", "svg": "image/svg+xml",
}


def _media_type(path: str) -> str:
    extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return _MEDIA_TYPES.get(extension, "application/octet-stream")


def _made_up_file(path: str) -> bytes:
    # Distinct bytes per path, so a test can tell which file was copied where.
    return b"sandbox media " + path.encode() + b" " + hashlib.sha256(path.encode()).digest()


def _now_ms() -> int:
    return int(time.time() * 1000)


def _pick(full: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    # Facebook answers with the fields asked for, and always the id.
    return {"id": full["id"], **{f: full[f] for f in fields if f in full and f != "id"}}


def _post_object(page_id: str, post_id: str, at: int) -> dict[str, Any]:
    """The `post` a feed comment change carries (samples 31 and 37)."""
    return {
        "status_type": "added_photos",
        "is_published": True,
        "updated_time": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(at)),
        "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_id.split('_')[-1]}",
        "promotion_status": "inactive",
        "id": post_id,
    }


def _truthy(value: Any) -> bool:
    # JSON bodies carry booleans; form and query parameters carry "true" / "false".
    return value is True or str(value).lower() in ("true", "1")


def _avatar_url(object_id: str) -> str:
    return f"{request.host_url}_sandbox/avatars/{object_id}.svg"


def _outside_window() -> GraphFailure:
    return GraphFailure(400, 10, "(#10) This message is sent outside of allowed window.",
                        subcode=2018278)


def send_api_message(body: dict[str, Any]) -> dict[str, Any]:
    """The `message` of a Send API call, checked against Facebook's limits (PLATFORM.md §5)."""
    message = body.get("message")
    if isinstance(message, str):
        message = json.loads(message)
    if not isinstance(message, dict):
        raise GraphFailure(400, 100, "(#100) The parameter message is required.")
    if ("text" in message) == ("attachment" in message):
        raise GraphFailure(400, 100, "(#100) Message must have exactly one of text or "
                           "attachment")
    if "text" in message and not 0 < len(str(message["text"])) <= 2000:
        raise GraphFailure(400, 100, "(#100) Message text must be 1 to 2000 characters")
    if len(str(message.get("metadata") or "")) > 1000:
        raise GraphFailure(400, 100, "(#100) metadata must be at most 1000 characters")
    if "attachment" in message:
        _check_attachment(message["attachment"])
    quick = message.get("quick_replies") or []
    if len(quick) > 13:
        raise GraphFailure(400, 100, "(#100) At most 13 quick replies are allowed")
    for reply in quick:
        kind = reply.get("content_type")
        if kind not in ("text", "user_phone_number", "user_email"):
            raise GraphFailure(400, 100, "(#100) Invalid quick reply content_type")
        if kind == "text" and not (0 < len(reply.get("title") or "") <= 20
                                   and 0 < len(reply.get("payload") or "") <= 1000):
            raise GraphFailure(400, 100, "(#100) A text quick reply needs a title (20) and "
                               "a payload (1000)")
    return message


def _check_attachment(attachment: dict[str, Any]) -> None:
    kind = attachment.get("type")
    payload = attachment.get("payload") or {}
    if kind in ("image", "audio", "video", "file"):
        url = str(payload.get("url") or "")
        if not (url.startswith(("http://", "https://")) or payload.get("attachment_id")):
            raise GraphFailure(400, 100, "(#100) Failed to fetch the file from the url",
                               subcode=2018008)
        return
    if kind != "template" or payload.get("template_type") != "generic":
        raise GraphFailure(400, 100, "(#100) Unsupported attachment type")
    elements = payload.get("elements") or []
    if not 1 <= len(elements) <= 10:
        raise GraphFailure(400, 100, "(#100) A generic template has 1 to 10 elements")
    for element in elements:
        if not 0 < len(element.get("title") or "") <= 80:
            raise GraphFailure(400, 100, "(#100) An element needs a title of at most 80")
        if len(element.get("buttons") or []) > 3:
            raise GraphFailure(400, 100, "(#100) An element has at most 3 buttons")


def _unsupported(method: str, path: str) -> GraphFailure:
    return GraphFailure(
        400,
        100,
        f"Unsupported {method.lower()} request. Object with ID "
        f"'{path}' does not exist, cannot be loaded due to missing permissions, "
        "or does not support this operation.",
        error_type="GraphMethodException",
        subcode=33,
    )


def create_sandbox(
    *,
    app_secret: str,
    app_id: str = DEFAULT_APP_ID,
    webhook_url: str | None = None,
    pages: Sequence[SandboxPage] | None = None,
    people: Sequence[SandboxPerson] | None = None,
) -> Flask:
    """The sandbox as a Flask app; `sandbox_of(app)` gives its state.

    Args:
        app_secret: signs webhooks and checks `appsecret_proof`.
        app_id: the Facebook app id shown in `subscribed_apps`.
        webhook_url: where webhooks go; may be set later on the state or by
            `POST /_sandbox/config`.
        pages: the pages; `default_pages()` when not given.
        people: the people; `default_people()` when not given.
    """
    sandbox = Sandbox(
        app_secret=app_secret,
        app_id=app_id,
        webhook_url=webhook_url,
        pages=pages if pages is not None else default_pages(),
        people=people if people is not None else default_people(),
    )
    app = Flask("inbox_sandbox")
    app.extensions["facebook_sandbox"] = sandbox

    @app.route("/<version>/<path:path>", methods=["GET", "POST", "DELETE"])
    def graph(version: str, path: str) -> Response:
        if not _VERSION.match(version):
            return Response("not found", status=404)
        query = request.args.to_dict()
        body = request.get_json(silent=True) if request.data else None
        if body is None and request.form:
            # Facebook also takes parameters as a form body.
            query = {**query, **request.form.to_dict()}
        try:
            _status, answer = sandbox.handle_graph(request.method, version, path, query, body)
        except GraphFailure as failure:
            return failure.response()
        return jsonify(answer)

    _add_control_routes(app, sandbox)
    return app


def sandbox_of(app: Flask) -> Sandbox:
    return app.extensions["facebook_sandbox"]


def _add_control_routes(app: Flask, sandbox: Sandbox) -> None:
    def payload() -> dict[str, Any]:
        return request.get_json(silent=True) or {}

    @app.get("/_sandbox/state")
    def state() -> Response:
        return jsonify(sandbox.state())

    @app.get("/_sandbox/calls")
    def calls() -> Response:
        with sandbox._lock:
            return jsonify({"calls": list(sandbox.calls)})

    @app.route("/_sandbox/calls", methods=["DELETE"])
    @app.post("/_sandbox/calls/reset")
    def reset_calls() -> Response:
        sandbox.reset_calls()
        return jsonify({"success": True})

    @app.get("/_sandbox/webhooks")
    def deliveries() -> Response:
        with sandbox._lock:
            return jsonify({"deliveries": list(sandbox.deliveries)})

    @app.get("/_sandbox/outbox")
    def outbox() -> Response:
        with sandbox._lock:
            return jsonify({"messages": list(sandbox.outbox)})

    @app.post("/_sandbox/config")
    def config() -> Response:
        if "webhook_url" in payload():
            sandbox.webhook_url = payload()["webhook_url"]
        return jsonify(sandbox.state())

    @app.post("/_sandbox/pages/<page_id>/tokens")
    def issue_token(page_id: str) -> Response:
        if page_id not in sandbox.pages:
            return jsonify({"error": "unknown page"}), 404
        return jsonify({"page_id": page_id, "access_token": sandbox.issue_token(page_id)})

    @app.post("/_sandbox/tokens/expire")
    def expire() -> Response:
        data = payload()
        found = sandbox.expire_token(token=data.get("token"), page_id=data.get("page_id"))
        return jsonify({"expired": len(found)})

    @app.post("/_sandbox/rate-limit")
    def rate_limit() -> Response:
        data = payload()
        try:
            sandbox.set_rate_limit(
                code=int(data.get("code", 80006)),
                calls=data.get("calls"),
                minutes=int(data.get("minutes", 5)),
                page_id=data.get("page_id"),
            )
        except ValueError as exc:
            return jsonify({"error": str(exc)}), 400
        return jsonify({"success": True})

    @app.post("/_sandbox/messenger/last-message")
    def last_message() -> Response:
        # Play a person whose last message is old: {page_id, psid, hours_ago}.
        data = payload()
        at = _now_ms() - int(float(data.get("hours_ago", 0)) * 3600 * 1000)
        sandbox.set_last_message(str(data["page_id"]), str(data["psid"]), at)
        return jsonify({"success": True, "at": at})

    @app.post("/_sandbox/messenger/unavailable")
    def unavailable() -> Response:
        data = payload()
        sandbox.set_unavailable(str(data["page_id"]), str(data["psid"]),
                                bool(data.get("unavailable", True)))
        return jsonify({"success": True})

    @app.post("/_sandbox/send-failures")
    def send_failures() -> Response:
        # Refuse the next Send API calls: {code, message, subcode?, calls?}.
        data = payload()
        sandbox.fail_sends(int(data["code"]), str(data.get("message") or "(#2) Failure"),
                           subcode=data.get("subcode"), calls=int(data.get("calls", 1)))
        return jsonify({"success": True})

    @app.post("/_sandbox/permissions/revoke")
    def revoke_permission() -> Response:
        data = payload()
        sandbox.revoke_permission(str(data["page_id"]), str(data["permission"]))
        return jsonify({"success": True})

    @app.post("/_sandbox/page-webhooks/take")
    def take_page_webhooks() -> Response:
        return jsonify({"bodies": sandbox.take_page_webhooks()})

    @app.post("/_sandbox/reset")
    @app.route("/_sandbox/rate-limit", methods=["DELETE"])
    def clear_faults() -> Response:
        sandbox.clear_faults()
        if request.path == "/_sandbox/reset":
            sandbox.reset_calls()
        return jsonify({"success": True})

    @app.post("/_sandbox/messages")
    def send_message() -> Response:
        data = payload()
        try:
            result = sandbox.send_message(
                page_id=data["page_id"],
                psid=data["psid"],
                text=data.get("text"),
                image_url=data.get("image_url"),
            )
        except (KeyError, ValueError, RuntimeError) as exc:
            return jsonify({"error": f"{type(exc).__name__}: {exc}"}), 400
        except requests.RequestException as exc:
            return jsonify({"error": f"webhook delivery failed: {type(exc).__name__}"}), 502
        return jsonify(result)

    @app.post("/_sandbox/comments")
    def comment() -> Response:
        data = payload()
        try:
            result = sandbox.comment(
                page_id=data["page_id"],
                person_id=data["person_id"],
                text=data.get("text"),
                photo_url=data.get("photo_url"),
                post_id=data.get("post_id"),
                parent_id=data.get("parent_id"),
            )
        except (KeyError, ValueError, RuntimeError) as exc:
            return jsonify({"error": f"{type(exc).__name__}: {exc}"}), 400
        except requests.RequestException as exc:
            return jsonify({"error": f"webhook delivery failed: {type(exc).__name__}"}), 502
        return jsonify(result)

    @app.get("/_sandbox/avatars/<object_id>.svg")
    def avatar(object_id: str) -> Response:
        label = _initials(sandbox, object_id)
        hue = int(hashlib.sha256(object_id.encode()).hexdigest()[:4], 16) % 360
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
            f'<rect width="100" height="100" fill="hsl({hue},55%,55%)"/>'
            '<text x="50" y="62" font-size="36" text-anchor="middle" fill="#fff" '
            f'font-family="sans-serif">{escape(label)}</text></svg>'
        )
        return Response(svg, mimetype="image/svg+xml")

    @app.get("/_sandbox/media/<path:path>")
    def media(path: str) -> Response:
        status, body, content_type = sandbox.serve_media(path)
        return Response(body, status=status, mimetype=content_type)

    @app.post("/_sandbox/media-control/stop")
    def stop_media() -> Response:
        sandbox.stop_serving_media(str(payload().get("path", "")))
        return jsonify({"success": True})

    @app.post("/_sandbox/media-control/fail")
    def fail_media() -> Response:
        data = payload()
        sandbox.fail_media(str(data.get("path", "")), status=int(data.get("status", 503)),
                           times=int(data.get("times", 1)))
        return jsonify({"success": True})

    @app.get("/sandbox/")
    @app.get("/sandbox")
    def player_page() -> Response:
        return Response(_PLAYER_HTML, mimetype="text/html")


def _initials(sandbox: Sandbox, object_id: str) -> str:
    if object_id in sandbox.pages:
        return sandbox.pages[object_id].name[:1]
    try:
        person = sandbox.person(object_id)
    except KeyError:
        return "?"
    return (person.first_name[:1] + person.last_name[:1]).upper()


class _QuietHandler(WSGIRequestHandler):
    """Logs the path without the query: Graph calls carry the page token there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug(
            "sandbox request",
            extra={"method": self.command, "path": self.path.split("?")[0], "code": code},
        )


def start_sandbox(app: Flask | None = None, **create_kwargs: Any) -> tuple[str, Callable[[], None]]:
    """Serve the sandbox on a free loopback port in a thread; returns `(base_url, stop)`.

    Pass an app made by `create_sandbox` to keep a handle on its state, or the keyword
    arguments of `create_sandbox` to have one made.
    """
    app = app or create_sandbox(**create_kwargs)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    # A short poll interval, so that stopping takes milliseconds rather than half a second.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="facebook-sandbox",
        daemon=True,
    )
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    sandbox_of(app).base_url = base_url

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return base_url, stop


_PLAYER_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Facebook sandbox</title>
<style>
 body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; color: #1c1e21; }
 h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin-top: 1.6rem; }
 fieldset { border: 1px solid #ccd0d5; border-radius: 8px; margin: 1rem 0; padding: 1rem; }
 label { display: block; margin: .4rem 0; } select, input, textarea { font: inherit; width: 100%; }
 textarea { min-height: 4rem; } button { font: inherit; padding: .4rem 1rem; margin-top: .5rem; }
 #log { font: 13px monospace; white-space: pre-wrap; background: #f0f2f5; padding: .6rem; }
 .hint { color: #65676b; font-size: 13px; }
 .inbox { background: #f0f2f5; padding: .6rem; border-radius: 8px; }
 .bubble { background: #0866ff; color: #fff; border-radius: 14px; padding: .35rem .8rem;
           margin: .3rem 0 .3rem auto; width: fit-content; max-width: 80%; }
 .bubble small { display: block; opacity: .8; font-size: 11px; }
</style>
</head>
<body>
<h1>Facebook sandbox</h1>
<p class="hint">Play a Facebook user: each action sends a webhook signed with the app secret
to the inbox, exactly as Facebook would.</p>
<fieldset>
 <label>Page <select id="page"></select></label>
 <label>Person <select id="person"></select></label>
</fieldset>
<fieldset>
 <h2>Write on Messenger</h2>
 <label>Text <textarea id="text"></textarea></label>
 <label>Image URL (optional) <input id="image" type="url"></label>
 <button id="send">Send message</button>
</fieldset>
<fieldset>
 <h2>Comment on the page's post</h2>
 <label>Post <select id="post"></select></label>
 <label>Comment <textarea id="comment"></textarea></label>
 <label>Reply under comment id (optional) <input id="parent"></label>
 <button id="post-comment">Post comment</button>
</fieldset>
<h2>Messenger: what the page sent this person</h2>
<div id="inbox" class="inbox"><p class="hint">Nothing yet.</p></div>
<h2>What happened</h2>
<div id="log"></div>
<script>
"use strict";
let state = null;
const $ = (id) => document.getElementById(id);
function log(line) { $("log").textContent = line + "\\n" + $("log").textContent; }
function option(value, label) {
  const o = document.createElement("option"); o.value = value; o.textContent = label; return o;
}
function fillPosts() {
  const page = state.pages.find((p) => p.id === $("page").value);
  $("post").replaceChildren(...page.post_ids.map((id) => option(id, id)));
}
async function call(path, body) {
  const answer = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                    body: JSON.stringify(body)});
  log(path + " -> " + answer.status + " " + JSON.stringify(await answer.json()));
}
async function load() {
  state = await (await fetch("/_sandbox/state")).json();
  $("page").replaceChildren(...state.pages.map((p) => option(p.id, p.name + " (" + p.id + ")")));
  $("person").replaceChildren(...state.people.map((p) => option(p.psid, p.name)));
  fillPosts();
  refreshInbox();
}
function describe(sent) {
  if (sent.sender_action) return "(" + sent.sender_action.replace("_", " ") + ")";
  const message = sent.message || {};
  const parts = [];
  if (message.text) parts.push(message.text);
  const attachments = message.attachments || (message.attachment ? [message.attachment] : []);
  for (const a of attachments) {
    const payload = a.payload || {};
    const titles = (payload.elements || []).map((e) => e.title).join(", ");
    parts.push("[" + a.type + (titles ? ": " + titles : "") + "]");
  }
  for (const q of message.quick_replies || []) parts.push("<" + (q.title || q.content_type) + ">");
  return parts.join(" ") || "(empty)";
}
async function refreshInbox() {
  const answer = await fetch("/_sandbox/outbox");
  if (!answer.ok) return;
  const sent = (await answer.json()).messages.filter((m) => m.page_id === $("page").value
    && m.recipient && m.recipient.id === $("person").value);
  if (!sent.length) {
    $("inbox").innerHTML = '<p class="hint">Nothing yet.</p>';
    return;
  }
  $("inbox").replaceChildren(...sent.map((m) => {
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = describe(m);
    const when = document.createElement("small");
    when.textContent = new Date(m.at).toLocaleTimeString() + (m.tag ? " · " + m.tag : "");
    bubble.append(when);
    return bubble;
  }));
}
$("page").addEventListener("change", () => { fillPosts(); refreshInbox(); });
$("person").addEventListener("change", refreshInbox);
setInterval(refreshInbox, 1500);
$("send").addEventListener("click", () => call("/_sandbox/messages", {
  page_id: $("page").value, psid: $("person").value,
  text: $("text").value || null, image_url: $("image").value || null}));
$("post-comment").addEventListener("click", () => call("/_sandbox/comments", {
  page_id: $("page").value, person_id: $("person").value, post_id: $("post").value,
  text: $("comment").value || null, parent_id: $("parent").value || null}));
load();
</script>
</body>
</html>
"""
