"""API keys for the brand's automation (owner, admin): created, listed, revoked."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions import api_keys
from inbox.queries import team as team_queries
from inbox.queries.schemas import ApiKeyCreated, ApiKeyList, ApiKeyOut
from pydantic import Field

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()


class CreateApiKeyRequest(RequestBody):
    name: str = Field(min_length=1, max_length=100)
    role: Literal["admin", "supervisor", "agent"]
    page_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, max_length=100, description="Allowed pages; empty or absent: every page.")


@router.get("/api/api-keys", summary="The brand's API keys (owner, admin)", tags=["team"],
            security=BEARER, responses=answers(*PROTECTED))
def list_keys() -> ApiKeyList:
    return team_queries.list_api_keys(current_member())


@router.post("/api/api-keys", summary="Create an API key; the key is shown in this answer "
             "only (owner, admin)", tags=["team"], security=BEARER,
             responses=answers(*PROTECTED, *BODY))
def create_key(body: Annotated[CreateApiKeyRequest, Body()]) -> ApiKeyCreated:
    created = api_keys.check_create_api_key(
        current_member(), name=body.name, role=body.role,
        page_ids=tuple(body.page_ids) if body.page_ids else None)
    return ApiKeyCreated(**team_queries.api_key_out(created.key).model_dump(),
                         key=created.presented)


@router.delete("/api/api-keys/<key_id>", summary="Revoke an API key (owner, admin)",
               tags=["team"], security=BEARER, responses=answers(*PROTECTED))
def revoke_key(key_id: Annotated[str, Path(min_length=1, max_length=64)]) -> ApiKeyOut:
    return team_queries.api_key_out(api_keys.check_revoke_api_key(current_member(),
                                                                  key_id))
