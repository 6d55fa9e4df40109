"""What every route module shares: the signed-in member, the bearer requirement, and the
base of request bodies."""

from __future__ import annotations

from contextvars import ContextVar

from aws_lambda_powertools.event_handler import Response, content_types
from inbox.errors import Unauthenticated
from inbox.models import Member
from pydantic import BaseModel, ConfigDict

# Every route but sign-in needs a member's token or an API key (see app.authenticate).
BEARER = [{"bearerAuth": []}, {"apiKey": []}]


# Not the routers' `context`: a Router shares the context of the last app that included it, and
# the local gateway and tests may load the app module more than once beside these routers.
_member: ContextVar[Member | None] = ContextVar("member", default=None)


def bind_member(member: Member | None) -> None:
    """Called by the app's authentication middleware once per request."""
    _member.set(member)


def current_member() -> Member:
    member = _member.get()
    if member is None:
        raise Unauthenticated("sign in first")
    return member


class RequestBody(BaseModel):
    """A request body refuses fields it does not know: a misspelt one (`member_id` for
    `to_member_id`) would otherwise be dropped and the request do something else than asked."""

    model_config = ConfigDict(extra="forbid")


def no_content() -> Response[None]:
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
