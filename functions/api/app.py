"""The inbox REST API under /api (HTTP API, payload v2).

Each route parses its input, calls one domain function and returns its model. Members (and
API keys) are authenticated once, by a middleware, for every route but the public ones; domain
errors become answers in one exception handler. Sign-in and the reads of the first release are
here; the rest is in `routes/`, one Router per object kind.
"""

from __future__ import annotations

import sys
from pathlib import Path as FilePath
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from inbox import auth, secrets
from inbox import settings as settings_module
from inbox.actions import pages as page_actions
from inbox.errors import InboxError
from inbox.facebook.graph import GraphClient
from inbox.queries import contacts, conversations, messages, pages
from inbox.queries.conversations import ConversationFilters
from inbox.queries.schemas import (
    ContactOut,
    ConversationDetail,
    ConversationList,
    MessageList,
    PageList,
    PageOut,
)
from pydantic import BaseModel, Field

# Lambda runs this file as the top-level `app` with its directory on the path; tests and the
# local gateway load it from the repository, so the directory is put on the path for them.
if str(FilePath(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(FilePath(__file__).resolve().parent))

from routes import api_keys as api_key_routes  # noqa: E402
from routes import brand as brand_routes  # noqa: E402
from routes import catalog as catalog_routes  # noqa: E402
from routes import comments as comment_routes  # noqa: E402
from routes import contacts as contact_routes  # noqa: E402
from routes import conversations as conversation_routes  # noqa: E402
from routes import members as member_routes  # noqa: E402
from routes import pages as page_routes  # noqa: E402
from routes import privacy as privacy_routes  # noqa: E402
from routes import replies as reply_routes  # noqa: E402
from routes.common import (  # noqa: E402
    BEARER,
    BODY,
    GRAPH,
    PROTECTED,
    RequestBody,
    answers,
    bind_member,
    current_member,
)

logger = Logger()

OPENAPI_PATH = "/api/openapi.json"
LOGIN_PATH = "/api/auth/login"
NEW_PASSWORD_PATH = "/api/auth/new-password"
REFRESH_PATH = "/api/auth/refresh"
_PUBLIC_PATHS = frozenset({OPENAPI_PATH, LOGIN_PATH, NEW_PASSWORD_PATH, REFRESH_PATH})
_BEARER = BEARER

app = APIGatewayHttpResolver(
    enable_validation=True,
    cors=CORSConfig(
        allow_origin=settings_module.settings.cors_origin,
        allow_headers=["Authorization", "Content-Type", "X-Api-Key"],
        max_age=600,
    ),
)
app.configure_openapi(
    title="Facebook Pages inbox API",
    version="1",
    description="Conversations, messages, contacts and pages of one brand's inbox.",
    security_schemes={
        # A member's Cognito token, or an API key (`ik_...`) as the bearer token.
        "bearerAuth": HTTPBearer(bearerFormat="JWT"),
        "apiKey": APIKey(name="X-Api-Key", **{"in": APIKeyIn.header}),
    },
)


def _error_response(error: InboxError) -> Response:
    return Response(status_code=error.status, content_type=content_types.APPLICATION_JSON,
                    body=error.to_dict())


@app.exception_handler(InboxError)
def handle_inbox_error(error: InboxError) -> Response:
    if error.status >= 500:
        logger.error("request failed", extra={"code": error.code, **_log_fields(error)})
    else:
        logger.info("request refused", extra={"code": error.code, **_log_fields(error)})
    return _error_response(error)


@app.exception_handler(RequestValidationError)
def handle_invalid_request(error: RequestValidationError) -> Response:
    # Powertools' own answer drops `msg`, which its own document marks required (schemathesis
    # found it). pydantic's messages name the rule broken, never the value or our code.
    detail = [{"loc": list(e["loc"]), "msg": e.get("msg", ""), "type": e["type"]}
              for e in error.errors()]
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON,
                    body={"code": "invalid_input", "message": "the request does not match the "
                          "API document", "detail": detail})


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_media_type(_: RequestUnsupportedContentType) -> Response:
    # Powertools' own answer is `{statusCode, detail}`: every error here is `{code, message}`.
    return Response(status_code=415, content_type=content_types.APPLICATION_JSON,
                    body={"code": "unsupported_media_type",
                          "message": "send the body as application/json"})


@app.exception_handler(UnicodeDecodeError)
def handle_undecodable_body(_: UnicodeDecodeError) -> Response:
    # API Gateway base64-encodes a body it does not take for text; one that is not UTF-8
    # underneath cannot be JSON, so the client hears so rather than a server error.
    return Response(status_code=400, content_type=content_types.APPLICATION_JSON,
                    body={"code": "malformed_body", "message": "the body is not UTF-8 JSON"})


@app.not_found
def handle_not_found(_: Exception) -> Response:
    return Response(status_code=404, content_type=content_types.APPLICATION_JSON,
                    body={"code": "not_found", "message": "no such route"})


def _log_fields(error: InboxError) -> dict[str, Any]:
    # Ids and codes only: fields never carry message text or tokens.
    return {k: v for k, v in error.fields.items() if k.endswith("_id") or k.startswith("graph_")}


def authenticate(router: APIGatewayHttpResolver, next_middleware: Any) -> Response:
    if router.current_event.path not in _PUBLIC_PATHS:
        headers = router.current_event.headers
        member = auth.authenticate(headers.get("authorization"), headers.get("x-api-key"))
        bind_member(member)
        logger.append_keys(member_id=member.member_id)
    else:
        bind_member(None)
    return next_middleware(router)


app.use(middlewares=[authenticate])




def graph_client() -> GraphClient:
    settings = settings_module.settings
    app_secret = secrets.app_credentials()["app_secret"]
    return GraphClient(settings.graph_api_url, settings.graph_api_version, app_secret)


class LoginRequest(RequestBody):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


class NewPasswordRequest(RequestBody):
    email: str = Field(min_length=3, max_length=320)
    session: str = Field(min_length=20, max_length=4096,
                         description="The `session` of the `password_change_required` answer.")
    new_password: str = Field(min_length=12, max_length=256)


class RefreshRequest(RequestBody):
    refresh_token: str = Field(min_length=1, max_length=8192,
                               description="The `refresh_token` of a sign-in.")


class ConnectPageRequest(RequestBody):
    access_token: str = Field(min_length=1, max_length=4096,
                              description="A page access token, such as a system user's.")


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON,
                    body=app.get_openapi_json_schema())


@app.post(LOGIN_PATH, summary="Sign in with email and password", tags=["auth"],
          description="An invited member's first sign-in answers 403 `password_change_required` "
                      "with a `session`: send it to /api/auth/new-password with a new password.",
          responses=answers(401, 403, 422, *BODY))
def login(body: Annotated[LoginRequest, Body()]) -> LoginResponse:
    tokens = auth.sign_in(body.email, body.password)
    return LoginResponse(**tokens.__dict__)


@app.post(REFRESH_PATH, summary="Fresh tokens for a refresh token", tags=["auth"],
          description="The ID and access tokens last an hour; the refresh token (30 days) gets "
                      "new ones without the password. 401 `refresh_token_invalid`: sign in.",
          responses=answers(401, 422, *BODY))
def refresh_tokens(body: Annotated[RefreshRequest, Body()]) -> LoginResponse:
    tokens = auth.refresh(body.refresh_token)
    return LoginResponse(**tokens.__dict__)


@app.post(NEW_PASSWORD_PATH, summary="Set a new password at first sign-in", tags=["auth"],
          responses=answers(401, 403, 422, *BODY))
def new_password(body: Annotated[NewPasswordRequest, Body()]) -> LoginResponse:
    tokens = auth.set_new_password(body.email, body.session, body.new_password)
    return LoginResponse(**tokens.__dict__)


@app.get("/api/conversations", summary="List conversations, newest activity first",
         tags=["conversations"], security=_BEARER, responses=answers(*PROTECTED))
def list_conversations(
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    channel: Annotated[str | None, Query()] = None,
    page_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(description="One status or a comma list.")] = None,
    assignee_id: Annotated[str | None, Query(max_length=128)] = None,
    contact_name: Annotated[str | None, Query(max_length=200)] = None,
    contact_tag: Annotated[str | None, Query(max_length=100,
                                             description="Whatever its case.")] = None,
    phone: Annotated[str | None, Query(max_length=40, description=(
        "Matches a contact's phone by its digits: `+`, spaces and dashes do not count."))] = None,
) -> ConversationList:
    # HTTP API joins a repeated query parameter with commas, so both forms arrive alike.
    statuses = tuple(s.strip() for s in status.split(",") if s.strip()) if status else None
    filters = ConversationFilters(
        channel=channel,
        page_id=page_id,
        assignee_id=assignee_id,
        contact_name=contact_name or None,
        contact_tag=contact_tag or None,
        phone=phone or None,
        **({"statuses": statuses} if statuses is not None else {}),
    )
    return conversations.list_conversations(current_member(), filters, limit=limit,
                                            cursor=cursor)


@app.get("/api/conversations/<conversation_id>", summary="One conversation",
         tags=["conversations"], security=_BEARER, responses=answers(*PROTECTED))
def get_conversation(
    conversation_id: Annotated[str, Path(max_length=128)],
) -> ConversationDetail:
    return conversations.conversation_detail(current_member(), conversation_id)


@app.get("/api/conversations/<conversation_id>/messages",
         summary="A conversation's messages, newest first", tags=["conversations"],
         security=_BEARER, responses=answers(*PROTECTED))
def list_messages(
    conversation_id: Annotated[str, Path(max_length=128)],
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> MessageList:
    return messages.list_messages(current_member(), conversation_id, limit=limit,
                                  cursor=cursor)


@app.get("/api/contacts/<contact_id>", summary="One contact", tags=["contacts"],
         security=_BEARER, responses=answers(*PROTECTED))
def get_contact(contact_id: Annotated[str, Path(max_length=128)]) -> ContactOut:
    return contacts.contact_detail(current_member(), contact_id)


@app.get("/api/pages", summary="The connected pages", tags=["pages"], security=_BEARER,
         responses=answers(*PROTECTED))
def list_pages() -> PageList:
    return pages.list_pages(current_member())


@app.post("/api/pages", summary="Connect a page from its access token (owner, admin)",
          tags=["pages"], security=_BEARER, responses=answers(*PROTECTED, *BODY, *GRAPH))
def connect_page(body: Annotated[ConnectPageRequest, Body()]) -> PageOut:
    page = page_actions.connect_page(access_token=body.access_token, member=current_member(),
                                     graph=graph_client())
    return pages.page_out(page)


@app.delete("/api/pages/<page_id>", summary="Disconnect a page (owner, admin)",
            tags=["pages"], security=_BEARER,
            responses=answers(*PROTECTED, status=204, description="Done; no body"))
def disconnect_page(page_id: Annotated[str, Path(max_length=64)]) -> Response[None]:
    page_actions.disconnect_page(page_id=page_id, member=current_member(),
                                 graph=graph_client())
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


for _routes in (member_routes, brand_routes, api_key_routes, conversation_routes, page_routes):
    app.include_router(_routes.router)
app.include_router(comment_routes.router)
app.include_router(reply_routes.router)
app.include_router(catalog_routes.router)
app.include_router(privacy_routes.router)
app.include_router(contact_routes.router)


# clear_state: a warm container must not carry one request's member id into the next log lines.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP,
                              clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
