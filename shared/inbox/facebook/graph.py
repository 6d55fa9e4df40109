"""The Graph API client: the one place that talks to Facebook.

Every call carries `appsecret_proof` (HMAC-SHA256 of the token with the app secret), as
Facebook recommends for server calls, and a pinned API version. Facebook's error codes become
domain errors here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from inbox.errors import (
    GraphAlreadyReplied,
    GraphCannotReply,
    GraphError,
    GraphInvalidParameter,
    GraphOutsideWindow,
    GraphPermissionMissing,
    GraphRateLimited,
    GraphUserUnavailable,
    PageTokenInvalid,
)

_TIMEOUT = (3.05, 10)
# A person is known to a business's pages a hundred at a time; more pages than this is absurd.
_MAX_ID_PAGES = 20
# Facebook error codes (PLATFORM.md §5.7, §8.4).
_TOKEN_CODES = {190, 102}
_RATE_LIMIT_CODES = {4, 17, 32, 613, 80001, 80006}
_PERMISSION_CODES = {10, 200, 230}
# Code 10 also carries the Send API's window refusals; the subcode tells them apart.
_OUTSIDE_WINDOW_SUBCODES = {2018278, 2534022}
_USER_UNAVAILABLE_CODE = 551
_USER_UNAVAILABLE_SUBCODES = {1545041, 2018108}
_INVALID_PARAMETER_CODE = 100
# Private replies (PLATFORM.md §6.7): one per comment, and not to every activity.
_ALREADY_REPLIED_CODE = 10900
_CANNOT_REPLY_CODE = 10903
# The usage headers a throttled answer carries (PLATFORM.md §8.4).
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage")


def _session() -> requests.Session:
    session = requests.Session()
    # Retries only for connection trouble and 5xx on idempotent calls; Graph rate limits
    # come back as 400/403 with a code and are handled by the caller.
    retry = Retry(total=2, backoff_factor=0.3, status_forcelist=(500, 502, 503, 504),
                  allowed_methods=frozenset({"GET", "DELETE"}))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class GraphClient:
    """A Graph API client bound to one app.

    Args:
        base_url: `https://graph.facebook.com`, or the local sandbox.
        version: the pinned API version, such as `v25.0`.
        app_secret: used for `appsecret_proof`.
        session: a `requests.Session`; one is made with retries and timeouts if not given.
    """

    def __init__(self, base_url: str, version: str, app_secret: str,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.app_secret = app_secret
        self.session = session or _session()
        # Usage headers of the latest answer, for callers that pace themselves.
        self.last_usage: dict[str, str] = {}

    def call(self, method: str, path: str, token: str, **params: Any) -> dict[str, Any]:
        """Make one Graph call with `token`; raise a domain error if Facebook refuses it.

        Raises:
            PageTokenInvalid: the token is expired or revoked (code 190).
            GraphRateLimited: a platform or business use case rate limit (codes 4, 17, 32,
                613, 80001, 80006); `retry_after` holds the seconds the usage headers ask
                to wait, when they say.
            GraphOutsideWindow: a send outside the messaging window (10 / 2018278, 2534022).
            GraphUserUnavailable: the person cannot be reached (551, or subcode 1545041).
            GraphPermissionMissing: the token lacks a permission (codes 10, 200, 230).
            GraphInvalidParameter: the request is malformed or uses a retired tag (100).
            GraphError: any other refusal.
        """
        proof = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        query = {"access_token": token, "appsecret_proof": proof}
        url = f"{self.base_url}/{self.version}/{path.lstrip('/')}"
        try:
            if method == "GET":
                response = self.session.get(url, params={**query, **params}, timeout=_TIMEOUT)
            else:
                response = self.session.request(method, url, params=query, json=params or None,
                                                timeout=_TIMEOUT)
        except requests.RequestException as exc:
            raise GraphError("the Graph API is unreachable", graph_code=None,
                             graph_subcode=None, http_status=None) from exc
        self.last_usage = {h: response.headers[h] for h in USAGE_HEADERS if h in response.headers}
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.ok and "error" not in body:
            return body
        raise _graph_error(response.status_code, body, self.last_usage)

    def get_user_profile(self, psid: str, page_token: str) -> dict[str, Any]:
        """Name and picture of a Messenger contact (User Profile API)."""
        return self.call("GET", psid, page_token, fields="first_name,last_name,name,profile_pic")

    def get_token_page(self, page_token: str) -> dict[str, Any]:
        """The page a page token belongs to: `{"id", "name", "picture": {"data": {"url"}}}`.

        With a page token, `/me` is the page itself. A user token answers with the user
        instead; the subscription that follows then fails, since only a page token may
        subscribe an app to a page.

        Raises:
            PageTokenInvalid: the token is not valid (code 190).
            GraphError: any other refusal.
        """
        return self.call("GET", "me", page_token, fields="id,name,picture")

    def subscribe_app(self, page_id: str, page_token: str, fields: list[str]) -> None:
        """Subscribe this app to the page's webhook `fields`.

        Facebook replaces the page's whole field set on each call (PLATFORM.md §7.5), so pass
        every field the product needs, never a delta.

        Raises:
            GraphPermissionMissing: the token lacks `pages_manage_metadata` or a task.
            GraphError: any other refusal, including `{"success": false}`.
        """
        answer = self.call("POST", f"{page_id}/subscribed_apps", page_token,
                           subscribed_fields=",".join(fields))
        if not answer.get("success"):
            raise GraphError("Facebook did not subscribe the app to the page",
                             graph_code=None, graph_subcode=None, http_status=200)

    def ids_for_pages(self, app_scoped_user_id: str, app_token: str) -> list[tuple[str, str]]:
        """The (page id, PSID) pairs by which the business's pages know an app-scoped user
        (the ID Matching API, `GET /{app-scoped-user-id}/ids_for_pages` with the app token).

        Facebook answers only for pages in the same business as the app.

        Raises:
            GraphError (or one of its kinds): Facebook refused, e.g. no such business link.
        """
        pairs: list[tuple[str, str]] = []
        params: dict[str, Any] = {"limit": 100}
        for _ in range(_MAX_ID_PAGES):
            answer = self.call("GET", f"{app_scoped_user_id}/ids_for_pages", app_token, **params)
            for entry in answer.get("data") or []:
                page_id = (entry.get("page") or {}).get("id")
                if isinstance(page_id, str) and isinstance(entry.get("id"), str):
                    pairs.append((page_id, entry["id"]))
            after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (answer.get("paging") or {}).get("next"):
                break
            params["after"] = after
        return pairs

    def unsubscribe_app(self, page_id: str, page_token: str) -> None:
        """Stop this app's webhooks for the page (`DELETE /{page-id}/subscribed_apps`)."""
        self.call("DELETE", f"{page_id}/subscribed_apps", page_token)


def _graph_error(status: int, body: dict[str, Any], usage: dict[str, str]) -> GraphError:
    error = body.get("error") or {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    fields: dict[str, Any] = {"graph_code": code, "graph_subcode": subcode, "http_status": status}
    message = error.get("message") or f"Graph API answered {status}"
    if code in _TOKEN_CODES:
        return PageTokenInvalid("the page token is expired or revoked", **fields)
    if code in _RATE_LIMIT_CODES:
        return GraphRateLimited("Facebook rate limit reached", retry_after=retry_after(usage),
                                **fields)
    if code == 10 and subcode in _OUTSIDE_WINDOW_SUBCODES:
        return GraphOutsideWindow("Facebook refused the send as outside the window", **fields)
    if code == _USER_UNAVAILABLE_CODE or subcode in _USER_UNAVAILABLE_SUBCODES:
        return GraphUserUnavailable("this person is not available right now", **fields)
    if code in _PERMISSION_CODES:
        return GraphPermissionMissing("the page token lacks a permission", **fields)
    if code == _ALREADY_REPLIED_CODE:
        return GraphAlreadyReplied("the comment already has its private reply", **fields)
    if code == _CANNOT_REPLY_CODE:
        return GraphCannotReply("Facebook does not allow replying to this activity", **fields)
    if code == _INVALID_PARAMETER_CODE:
        return GraphInvalidParameter(message, **fields)
    return GraphError(message, **fields)


def retry_after(usage: dict[str, str]) -> int | None:
    """Seconds until Facebook lets calls through again, from the usage headers, if they say.

    `X-Business-Use-Case-Usage` maps object ids to buckets, each with
    `estimated_time_to_regain_access` in minutes; the longest wait of any bucket wins.
    """
    raw = usage.get("X-Business-Use-Case-Usage")
    if not raw:
        return None
    try:
        buckets = json.loads(raw)
        minutes = [
            int(bucket.get("estimated_time_to_regain_access") or 0)
            for entries in buckets.values()
            for bucket in entries
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    return max(minutes, default=0) * 60
