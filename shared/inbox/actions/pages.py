"""Connecting and disconnecting Facebook pages from a page access token.

A page token (a business system user's, or one from the Facebook Login flow later) is enough:
Facebook tells which page it belongs to, and the app is subscribed to that page's webhooks.
"""

from __future__ import annotations

from typing import Any, cast

import requests
from aws_lambda_powertools import Logger

from inbox import access, event_names, secrets
from inbox.errors import GraphError, InvalidInput, NotFound, PageTokenInvalid
from inbox.facebook.graph import GraphClient
from inbox.models import DISCONNECTED_PAGES_PK, PAGES_PK, DisconnectedPage, Member, Page, utcnow
from inbox.publish import EventOutbox

logger = Logger(child=True)

# Facebook replaces a page's field set on every subscription (PLATFORM.md §7.5): always the
# whole list the ingest understands.
SUBSCRIBED_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_deliveries",
    "message_reads",
    "messaging_referrals",
    "message_echoes",
    "message_reactions",
    "message_edits",
    "standby",
    "feed",
)


class InvalidPageToken(InvalidInput):
    code = "invalid_page_token"


def connect_page(*, access_token: str, member: Member, graph: GraphClient) -> Page:
    """Connect the page `access_token` belongs to, or reconnect it with a new token.

    Nothing is stored unless Facebook accepts the token and subscribes the app.

    Raises:
        Forbidden: the member is not an owner or an admin.
        InvalidPageToken: Facebook does not accept the token as a page's.
        GraphError: Facebook refused the subscription for another reason.
    """
    access.check_can_manage_pages(member)
    profile = check_page_token(access_token, graph)
    return do_connect_page(profile, access_token=access_token, member=member, graph=graph)


def check_page_token(access_token: str, graph: GraphClient) -> dict:
    token = access_token.strip()
    if not token:
        raise InvalidPageToken("a page access token is required", field="access_token")
    try:
        profile = graph.get_token_page(token)
    except PageTokenInvalid as exc:
        raise InvalidPageToken("Facebook does not accept this access token",
                               field="access_token", graph_code=exc.fields.get("graph_code"),
                               ) from exc
    if not profile.get("id"):
        raise InvalidPageToken("the token names no page", field="access_token")
    return profile


def do_connect_page(profile: dict, *, access_token: str, member: Member,
                    graph: GraphClient) -> Page:
    page_id = str(profile["id"])

    # Subscribing first: a user token (not a page's) fails here, before anything is kept.
    try:
        graph.subscribe_app(page_id, access_token, list(SUBSCRIBED_FIELDS))
    except PageTokenInvalid as exc:
        raise InvalidPageToken("Facebook does not accept this access token for the page",
                               field="access_token", page_id=page_id) from exc
    secrets.store_page_token(page_id, access_token)

    page = _existing_page(page_id) or Page(PAGES_PK, page_id, page_id=page_id)
    page.name = profile.get("name") or page_id
    page.picture_url = ((profile.get("picture") or {}).get("data") or {}).get("url")
    page.connected_at = utcnow()
    page.connected_by = member.member_id
    page.reconnect_needed = False
    page.subscribed_fields = cast(Any, list(SUBSCRIBED_FIELDS))
    page.save()
    # Connected again: its conversations are listed through the page itself now.
    DisconnectedPage(DISCONNECTED_PAGES_PK, page_id).delete()

    outbox = EventOutbox()
    outbox.add(event_names.PAGE_CONNECTED, page_id=page_id, connected_by=member.member_id)
    outbox.flush()
    logger.info("page connected", extra={"page_id": page_id, "member_id": member.member_id})
    return page


def disconnect_page(*, page_id: str, member: Member, graph: GraphClient) -> None:
    """Stop the page's webhooks, forget its token and remove it from the inbox.

    Its conversations stay stored, listed and readable as the members' pages allow (replies
    are refused: the page has no token). Unsubscribing is best effort: a token Facebook already
    revoked cannot unsubscribe, and the page must still leave the inbox.

    Raises:
        Forbidden: the member is not an owner or an admin.
        NotFound: the page is not connected.
    """
    access.check_can_manage_pages(member)
    page = _existing_page(page_id)
    if page is None:
        raise NotFound("no such page", page_id=page_id)
    do_disconnect_page(page, member=member, graph=graph)


def do_disconnect_page(page: Page, *, member: Member, graph: GraphClient) -> None:
    page_id = page.page_id
    token = secrets.page_token(page_id)
    if token:
        try:
            graph.unsubscribe_app(page_id, token)
        except GraphError as exc:
            logger.warning("page not unsubscribed",
                           extra={"page_id": page_id, "graph_code": exc.fields.get("graph_code")})
        except requests.RequestException:
            logger.warning("page not unsubscribed: Facebook unreachable",
                           extra={"page_id": page_id})

    secrets.delete_page_token(page_id)
    # Kept first: the conversation list finds a disconnected page's conversations through it.
    DisconnectedPage(DISCONNECTED_PAGES_PK, page_id, page_id=page_id, name=page.name,
                     disconnected_at=utcnow(), disconnected_by=member.member_id).save()
    page.delete()

    outbox = EventOutbox()
    outbox.add(event_names.PAGE_DISCONNECTED, page_id=page_id, disconnected_by=member.member_id)
    outbox.flush()
    logger.info("page disconnected", extra={"page_id": page_id, "member_id": member.member_id})


def _existing_page(page_id: str) -> Page | None:
    try:
        return Page.get(PAGES_PK, page_id)
    except Page.DoesNotExist:
        return None
