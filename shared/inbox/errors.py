"""The domain's one error family: a code, structured fields and the HTTP status of each.

Handlers map these to answers in one place (the API's exception handlers); the domain never
knows about HTTP beyond the status number it suggests.
"""

from __future__ import annotations

from typing import Any


class InboxError(Exception):
    code = "inbox_error"
    status = 500

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.fields}


class MalformedNotification(InboxError):
    """A webhook body that is not JSON or not a page notification."""

    code = "malformed_notification"
    status = 400


class MalformedEvent(InboxError):
    """One queued event that breaks Facebook's documented shape: it fails alone."""

    code = "malformed_event"
    status = 400


class InvalidSignature(InboxError):
    code = "invalid_signature"
    status = 401


class Unauthenticated(InboxError):
    code = "unauthenticated"
    status = 401


class Forbidden(InboxError):
    code = "forbidden"
    status = 403


class NotFound(InboxError):
    """Also what a member gets for an object they may not see: its existence stays hidden."""

    code = "not_found"
    status = 404


class Conflict(InboxError):
    code = "conflict"
    status = 409


class ReceptionLimitReached(Conflict):
    """The member holds as many open conversations as their reception limit allows."""

    code = "reception_limit_reached"


class ConversationStateChanged(Conflict):
    """The conversation is not in the state the action needs (another change came first)."""

    code = "conversation_state_changed"


class InvalidInput(InboxError):
    code = "invalid_input"
    status = 422


class GraphError(InboxError):
    """Facebook refused or failed a Graph API call; `graph_code` is Facebook's error code."""

    code = "graph_error"
    status = 502


class PageTokenInvalid(GraphError):
    """The page token is expired or revoked: the page needs reconnecting."""

    code = "page_token_invalid"
    status = 409


class GraphRateLimited(GraphError):
    code = "graph_rate_limited"
    status = 429


class GraphPermissionMissing(GraphError):
    code = "graph_permission_missing"
    status = 403


class GraphOutsideWindow(GraphError):
    """Facebook refused a send as outside the messaging window (code 10, 2018278/2534022)."""

    code = "graph_outside_window"
    status = 422


class GraphUserUnavailable(GraphError):
    """The person cannot receive messages from the page now (551, or subcode 1545041)."""

    code = "graph_user_unavailable"
    status = 422


class GraphInvalidParameter(GraphError):
    """Facebook refused the request's content (code 100): fix it, do not retry it."""

    code = "graph_invalid_parameter"
    status = 422


class GraphAlreadyReplied(GraphError):
    """The comment's one private reply was used already (code 10900), maybe elsewhere."""

    code = "graph_already_replied"
    status = 409


class GraphCannotReply(GraphError):
    """Facebook does not let the page reply to this activity (code 10903), e.g. too old."""

    code = "graph_cannot_reply"
    status = 422


class CommentActionUnavailable(Conflict):
    """A comment action Facebook would refuse, refused beforehand; `reason` says why.

    Reasons: `deleted`, `page_comment` (the page's own comment cannot be hidden or privately
    answered), `already_replied`, `reply_in_progress`, `not_allowed` (Facebook refused it for
    good, 10903), `too_late` (with `deadline`).
    """

    code = "comment_action_unavailable"


class MessagingWindowClosed(InvalidInput):
    """A reply Facebook would refuse; `reason` says why and `allowed_tags` what is allowed."""

    code = "messaging_window_closed"
    status = 422
