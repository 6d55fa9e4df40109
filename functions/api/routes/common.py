"""What every route module shares: the signed-in member and the bearer requirement."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from inbox.models import Member

# Every route but sign-in needs a member's token or an API key (see app.authenticate).
BEARER = [{"bearerAuth": []}, {"apiKey": []}]


def current_member(router: Router) -> Member:
    # Set by the app's authentication middleware; a router shares the app's context.
    return router.context["member"]


def no_content() -> Response[None]:
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
