"""The team: members (owner and admin manage it) and each member's own status."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from inbox.actions import team
from inbox.queries import team as team_queries
from inbox.queries.schemas import MemberList, MemberOut
from pydantic import Field, StrictBool

from routes.common import BEARER, BODY, PROTECTED, RequestBody, answers, current_member

router = Router()

Role = Literal["owner", "admin", "supervisor", "agent"]
PageIds = list[Annotated[str, Field(min_length=1, max_length=64)]]
MemberId = Annotated[str, Path(min_length=1, max_length=128)]


class AddMemberRequest(RequestBody):
    email: str = Field(min_length=3, max_length=320)
    role: Role
    name: str | None = Field(default=None, max_length=200)
    page_ids: PageIds | None = Field(default=None, max_length=100,
                                     description="Allowed pages; empty or absent: every page.")
    reception_limit: int | None = Field(default=None, ge=0, le=100)
    existing_user: StrictBool = Field(
        default=False,
        description="Add a user the sign-in pool already has instead of inviting the email.",
    )


class UpdateMemberRequest(RequestBody):
    role: Role | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    page_ids: PageIds | None = Field(default=None, max_length=100,
                                     description="Allowed pages; empty: every page.")
    reception_limit: int | None = Field(default=None, ge=0, le=100,
                                        description="0 takes no automatic assignments.")


class StatusRequest(RequestBody):
    status: Literal["online", "away", "offline"]


class LanguageRequest(RequestBody):
    language: Literal["en", "zh-CN"]


@router.get("/api/members", summary="The team", tags=["team"], security=BEARER,
            responses=answers(*PROTECTED))
def list_members() -> MemberList:
    return team_queries.list_members(current_member())


@router.post("/api/members", summary="Invite a member by email, or add an existing user "
             "(owner, admin)", tags=["team"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def add_member(body: Annotated[AddMemberRequest, Body()]) -> MemberOut:
    new = team.NewMember(email=body.email, role=body.role, name=body.name,
                         page_ids=tuple(body.page_ids) if body.page_ids else None,
                         reception_limit=body.reception_limit)
    actor = current_member()
    if body.existing_user:
        return team_queries.member_out(team.check_add_existing_user(actor, new))
    return team_queries.member_out(team.check_invite_member(actor, new))


@router.put("/api/members/me/status", summary="Set one's own status", tags=["team"],
            security=BEARER, responses=answers(*PROTECTED, *BODY))
def set_own_status(body: Annotated[StatusRequest, Body()]) -> MemberOut:
    return team_queries.member_out(team.check_set_own_status(current_member(),
                                                             body.status))


@router.put("/api/members/me/language", summary="Choose one's own interface language",
            tags=["team"], security=BEARER, responses=answers(*PROTECTED, *BODY))
def set_own_language(body: Annotated[LanguageRequest, Body()]) -> MemberOut:
    return team_queries.member_out(team.check_set_own_language(current_member(),
                                                               body.language))


@router.get("/api/members/<member_id>", summary="One member (`me`: oneself)", tags=["team"],
            security=BEARER, responses=answers(*PROTECTED))
def get_member(member_id: MemberId) -> MemberOut:
    return team_queries.member_detail(current_member(), member_id)


@router.patch("/api/members/<member_id>", summary="Change a member's role, pages or "
              "reception limit (owner, admin)", tags=["team"], security=BEARER,
              responses=answers(*PROTECTED, *BODY))
def update_member(member_id: MemberId,
                  body: Annotated[UpdateMemberRequest, Body()]) -> MemberOut:
    changes = team.MemberChanges(
        role=body.role,
        name=body.name,
        page_ids=tuple(body.page_ids) if body.page_ids is not None else None,
        reception_limit=body.reception_limit,
    )
    return team_queries.member_out(team.check_update_member(current_member(), member_id,
                                                            changes))


@router.delete("/api/members/<member_id>", summary="Deactivate a member; their open "
               "conversations go back to the queue (owner, admin)", tags=["team"],
               security=BEARER, responses=answers(*PROTECTED))
def deactivate_member(member_id: MemberId) -> MemberOut:
    return team_queries.member_out(team.check_deactivate_member(current_member(),
                                                                member_id))
