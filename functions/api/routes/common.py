"""What every route module shares: the signed-in member, the bearer requirement, the base of
request bodies, and the answers each route documents."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from inbox.errors import Unauthenticated
from inbox.models import Member
from inbox.queries.schemas import Error
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


# The refusals, as the README's "Ids, paging and errors" names them; all share one body.
_ERRORS = {
    400: "The body is not UTF-8 JSON (`malformed_body`).",
    401: "No valid token or API key (`unauthenticated`, `invalid_api_key`, ...).",
    403: "The caller's role or pages do not allow it (`forbidden`, ...).",
    404: "No such object, or one the caller may not see (`not_found`).",
    409: "The object's state does not allow it (`conflict`, `page_token_invalid`, ...).",
    415: "The body is not sent as `application/json` (`unsupported_media_type`).",
    422: "The request breaks the document (`invalid_input`, with `detail`) or a rule of the "
         "inbox (`messaging_window_closed`, ...).",
    429: "Facebook limits the page's calls for now (`graph_rate_limited`, with `retry_after`).",
    502: "Facebook failed or refused the call (`graph_error`).",
}
# Every route behind sign-in can answer these.
PROTECTED = (401, 403, 404, 409, 422)
# A route reading a JSON body adds these.
BODY = (400, 415)
# A route calling Facebook as the page adds these (its 403, 409 and 422 are above).
GRAPH = (429, 502)


def answers(*errors: int, status: int = 200, model: Any = None,
            description: str = "Done") -> dict[int, OpenAPIResponse]:
    """A route's `responses=`: its success and the error statuses it can give.

    The success body is the route's return annotation unless `model` names another; a 204 has
    none. Powertools documents only the statuses given here once `responses` is set, so every
    status a route answers must be in `errors` (schemathesis fails the others).
    """
    success: OpenAPIResponse = {"description": description}
    if status == 204:
        success["content"] = {}
    elif model is not None:
        success["content"] = {content_types.APPLICATION_JSON: {"model": model}}
    documented = {status: success}
    for code in sorted(set(errors)):
        documented[code] = {"description": _ERRORS[code],
                            "content": {content_types.APPLICATION_JSON: {"model": Error}}}
    return documented
