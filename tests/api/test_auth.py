"""Signing in, and what every other route asks of the bearer token."""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

from tests.api.conftest import PASSWORD, make_member, make_user


def test_login_with_the_right_password_returns_tokens(api, personas):
    answer = api("POST", "/api/auth/login",
                 body={"email": "owner@brand.example", "password": PASSWORD})

    assert answer.status == 200
    assert set(answer.body) == {"id_token", "access_token", "refresh_token", "expires_in"}
    assert api("GET", "/api/pages", token=answer.body["access_token"]).status == 200
    assert api("GET", "/api/pages", token=answer.body["id_token"]).status == 200


def test_a_refresh_token_gets_fresh_tokens_without_the_password(api, personas):
    signed_in = api("POST", "/api/auth/login",
                    body={"email": "owner@brand.example", "password": PASSWORD}).body

    answer = api("POST", "/api/auth/refresh",
                 body={"refresh_token": signed_in["refresh_token"]})

    assert answer.status == 200, answer.body
    assert set(answer.body) == {"id_token", "access_token", "refresh_token", "expires_in"}
    # Cognito keeps the refresh token; the inbox hands the same one back to keep using.
    assert answer.body["refresh_token"] == signed_in["refresh_token"]
    assert api("GET", "/api/pages", token=answer.body["id_token"]).status == 200


def test_a_revoked_refresh_token_is_refused(api, personas):
    from inbox import aws, settings

    signed_in = api("POST", "/api/auth/login",
                    body={"email": "owner@brand.example", "password": PASSWORD}).body
    # Signed out everywhere (a lost laptop): Cognito revokes the member's refresh tokens.
    aws.client("cognito-idp").admin_user_global_sign_out(
        UserPoolId=settings.settings.user_pool_id, Username="owner@brand.example")

    answer = api("POST", "/api/auth/refresh",
                 body={"refresh_token": signed_in["refresh_token"]})

    assert (answer.status, answer.body["code"]) == (401, "refresh_token_invalid")


def test_a_refresh_token_never_issued_is_refused(api, personas):
    # schemathesis sent one: Cognito answers NotAuthorizedException, as for a revoked one.
    answer = api("POST", "/api/auth/refresh", body={"refresh_token": "$LATEST"})

    assert (answer.status, answer.body["code"]) == (401, "refresh_token_invalid")


def test_a_deactivated_members_refreshed_token_opens_nothing(api, personas):
    member_id = make_user("leaving@brand.example")
    make_member(member_id, role="agent", email="leaving@brand.example")
    signed_in = api("POST", "/api/auth/login",
                    body={"email": "leaving@brand.example", "password": PASSWORD}).body
    make_member(member_id, role="agent", email="leaving@brand.example", active=False)

    refreshed = api("POST", "/api/auth/refresh",
                    body={"refresh_token": signed_in["refresh_token"]}).body

    answer = api("GET", "/api/pages", token=refreshed["id_token"])
    assert (answer.status, answer.body["code"]) == (403, "forbidden")


def test_login_ignores_the_case_of_the_email(api, personas):
    answer = api("POST", "/api/auth/login",
                 body={"email": " Owner@Brand.Example ", "password": PASSWORD})

    assert answer.status == 200, answer.body


def test_login_with_a_wrong_password_is_refused(api, personas):
    answer = api("POST", "/api/auth/login",
                 body={"email": "owner@brand.example", "password": "Wrong-Password-1"})

    assert answer.status == 401
    assert answer.body["code"] == "invalid_credentials"


def test_login_of_an_unknown_email_is_refused_alike(api, personas):
    answer = api("POST", "/api/auth/login",
                 body={"email": "nobody@brand.example", "password": PASSWORD})

    assert (answer.status, answer.body["code"]) == (401, "invalid_credentials")


def test_login_without_a_password_is_invalid_input(api, personas):
    answer = api("POST", "/api/auth/login", body={"email": "owner@brand.example"})

    assert answer.status == 422


def test_a_route_without_a_token_is_refused(api, personas):
    answer = api("GET", "/api/conversations")

    assert (answer.status, answer.body["code"]) == (401, "unauthenticated")


def test_an_expired_token_is_refused(api, personas):
    claims = jwt.decode(personas["owner"].token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 60
    # Signed with the pool's own key (moto ships it), so only the expiry is wrong.
    pool_key = load_resource("cognitoidp/resources/jwks-private.json")
    expired = jwt.encode(claims, jwt.PyJWK(pool_key).key, algorithm="RS256",
                         headers={"kid": "dummy"})

    answer = api("GET", "/api/pages", token=expired)

    assert (answer.status, answer.body["code"]) == (401, "token_expired")


def test_a_forged_token_is_refused(api, personas):
    claims = jwt.decode(personas["owner"].token, options={"verify_signature": False})
    own_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, own_key, algorithm="RS256", headers={"kid": "dummy"})

    answer = api("GET", "/api/pages", token=forged)

    assert (answer.status, answer.body["code"]) == (401, "invalid_token")


def test_a_garbage_token_is_refused(api, personas):
    answer = api("GET", "/api/pages", token="not-a-jwt")

    assert (answer.status, answer.body["code"]) == (401, "invalid_token")


def test_a_user_who_is_not_a_member_is_forbidden(api, personas):
    make_user("stranger@brand.example")
    from tests.api.conftest import sign_in

    answer = api("GET", "/api/pages", token=sign_in("stranger@brand.example"))

    assert (answer.status, answer.body["code"]) == (403, "forbidden")


def test_an_inactive_member_is_forbidden(api, personas):
    member_id = make_user("gone@brand.example")
    make_member(member_id, role="agent", email="gone@brand.example", active=False)
    from tests.api.conftest import sign_in

    answer = api("GET", "/api/pages", token=sign_in("gone@brand.example"))

    assert (answer.status, answer.body["code"]) == (403, "forbidden")


def test_an_unknown_route_is_a_json_404(api, personas):
    answer = api("GET", "/api/nothing-here", token=personas["owner"].token)

    assert (answer.status, answer.body["code"]) == (404, "not_found")
