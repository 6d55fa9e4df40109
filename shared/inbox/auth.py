"""Signing in against the Cognito user pool, and turning a request's credentials into a member.

Tokens are verified here, not only by API Gateway, so that the same rules hold on the local
stack (no JWT authorizer there) and for the WebSocket `$connect`, which has none either.

Two kinds of credentials: a member's Cognito token (`Authorization: Bearer <jwt>`), or an API
key of the brand's automation (`Authorization: Bearer ik_...` or `X-Api-Key: ik_...`), which
acts as an unsaved member of the key's role so that every access rule applies unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from aws_lambda_powertools import Logger

from inbox import aws
from inbox import settings as settings_module
from inbox.access import API_KEY_PRINCIPAL_PREFIX
from inbox.errors import Forbidden, InvalidInput, Unauthenticated
from inbox.models import API_KEYS_PK, MEMBERS_PK, ApiKey, Member

logger = Logger(child=True)

_JWKS_TIMEOUT = (2, 5)
# Cognito rotates keys rarely; an unknown kid refetches, at most this often, so a flood of
# forged tokens cannot turn into a flood of JWKS requests.
_JWKS_REFETCH_SECONDS = 60
_LEEWAY_SECONDS = 5


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"


class RefreshTokenInvalid(Unauthenticated):
    code = "refresh_token_invalid"


class PasswordChangeRequired(Unauthenticated):
    """The user must set a new password (first sign-in of an invited member).

    Carries Cognito's `session`, which `POST /api/auth/new-password` needs with the new one.
    """

    code = "password_change_required"
    status = 403


class ChallengeExpired(Unauthenticated):
    """The sign-in session of a new-password challenge is unknown, used or expired."""

    code = "challenge_expired"


class PasswordRejected(InvalidInput):
    """The new password breaks the pool's policy (length, upper, lower, digits)."""

    code = "password_rejected"


class InvalidApiKey(Unauthenticated):
    code = "invalid_api_key"


API_KEY_PREFIX = "ik_"


class InvalidToken(Unauthenticated):
    code = "invalid_token"


class TokenExpired(Unauthenticated):
    code = "token_expired"


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str
    expires_in: int


def sign_in(email: str, password: str) -> Tokens:
    """Cognito's ADMIN_USER_PASSWORD_AUTH flow for one member.

    Raises:
        InvalidCredentials: unknown email or wrong password (not told apart, on purpose).
        PasswordChangeRequired: the password is temporary and must be changed first.
    """
    settings = settings_module.settings
    cognito = aws.client("cognito-idp")
    for username in _usernames(email):
        try:
            answer = cognito.admin_initiate_auth(
                UserPoolId=settings.user_pool_id,
                ClientId=settings.user_pool_client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
            break
        except (cognito.exceptions.NotAuthorizedException,
                cognito.exceptions.UserNotFoundException):
            continue
    else:
        raise InvalidCredentials("wrong email or password")

    if "AuthenticationResult" not in answer:
        raise PasswordChangeRequired("a new password must be set first",
                                     challenge=answer.get("ChallengeName"),
                                     session=answer.get("Session"))
    return _tokens(answer["AuthenticationResult"])


def refresh(refresh_token: str) -> Tokens:
    """New ID and access tokens for a refresh token (Cognito's REFRESH_TOKEN_AUTH), so a
    member stays signed in past the tokens' hour; the refresh token itself is handed back.

    Whether the member is still active is checked on each request, not here.

    Raises:
        RefreshTokenInvalid: unknown, revoked or expired; the member signs in again.
    """
    settings = settings_module.settings
    cognito = aws.client("cognito-idp")
    try:
        answer = cognito.admin_initiate_auth(
            UserPoolId=settings.user_pool_id,
            ClientId=settings.user_pool_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except (cognito.exceptions.NotAuthorizedException,
            cognito.exceptions.UserNotFoundException) as exc:
        raise RefreshTokenInvalid("sign in again") from exc
    result = answer.get("AuthenticationResult")
    if not result:
        raise RefreshTokenInvalid("sign in again")
    return _tokens({"RefreshToken": refresh_token, **result})


def set_new_password(email: str, session: str, new_password: str) -> Tokens:
    """Answer the NEW_PASSWORD_REQUIRED challenge of an invited member's first sign-in.

    Raises:
        ChallengeExpired: the session is not (or no longer) a challenge for this email.
        PasswordRejected: the new password breaks the pool's password policy.
    """
    settings = settings_module.settings
    cognito = aws.client("cognito-idp")
    for username in _usernames(email):
        try:
            answer = cognito.admin_respond_to_auth_challenge(
                UserPoolId=settings.user_pool_id,
                ClientId=settings.user_pool_client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password},
                Session=session,
            )
            break
        except cognito.exceptions.InvalidPasswordException as exc:
            raise PasswordRejected("the new password does not meet the password policy",
                                   field="new_password") from exc
        # Cognito answers an unknown session with NotAuthorized; its emulator (moto) with
        # ResourceNotFound. Both mean the same to the member: sign in again.
        except (cognito.exceptions.NotAuthorizedException,
                cognito.exceptions.UserNotFoundException,
                cognito.exceptions.CodeMismatchException,
                cognito.exceptions.ExpiredCodeException,
                cognito.exceptions.ResourceNotFoundException):
            continue
    else:
        raise ChallengeExpired("sign in again to get a new session")

    if "AuthenticationResult" not in answer:
        raise PasswordChangeRequired("another challenge must be answered first",
                                     challenge=answer.get("ChallengeName"),
                                     session=answer.get("Session"))
    return _tokens(answer["AuthenticationResult"])


def _usernames(email: str) -> list[str]:
    """The Cognito usernames an email may be: invitations keep it lower-case, and a first
    owner made by hand (README) may have it as typed. The pool's names are case-sensitive."""
    typed = email.strip()
    return [typed.lower()] if typed == typed.lower() else [typed.lower(), typed]


def _tokens(result: dict[str, Any]) -> Tokens:
    return Tokens(
        id_token=result["IdToken"],
        access_token=result["AccessToken"],
        refresh_token=result.get("RefreshToken", ""),
        expires_in=int(result.get("ExpiresIn", 3600)),
    )


def authenticate(authorization: str | None, api_key: str | None = None) -> Member:
    """The active member (or API key principal) a request's credentials belong to.

    Accepts the pool's ID and access tokens issued for this app's client, and the brand's
    API keys, as a bearer token or in `X-Api-Key`.

    Raises:
        Unauthenticated: no credentials.
        InvalidToken: forged, malformed, for another pool or client, or of another use.
        TokenExpired: past its expiry.
        InvalidApiKey: an unknown, wrong or revoked API key.
        Forbidden: a valid user who is not an active member of the team.
    """
    if api_key and api_key.strip():
        return api_key_principal(api_key.strip())
    token = _bearer_token(authorization)
    if token.startswith(API_KEY_PREFIX):
        return api_key_principal(token)
    claims = verify_token(token)
    return _active_member(claims["sub"])


def hash_api_key_secret(secret: str) -> str:
    # A plain SHA-256 suffices: the secret is 256 random bits, not a guessable password.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_principal(presented: str) -> Member:
    """The unsaved member an API key acts as: the key's role and pages, never a person.

    Raises:
        InvalidApiKey: not of the `ik_<key id>_<secret>` form, unknown, wrong or revoked.
    """
    key_id, secret = _split_api_key(presented)
    try:
        key = ApiKey.get(API_KEYS_PK, key_id)
    except ApiKey.DoesNotExist:
        key = None
    # Compared in constant time so the answer's timing tells nothing about the secret.
    valid = key is not None and hmac.compare_digest(key.secret_hash, hash_api_key_secret(secret))
    if key is None or not valid or key.revoked_at is not None:
        logger.info("API key refused", extra={"key_id": key_id})
        raise InvalidApiKey("the API key is not valid")
    return Member(MEMBERS_PK, API_KEY_PRINCIPAL_PREFIX + key_id,
                  member_id=API_KEY_PRINCIPAL_PREFIX + key_id, email="", name=key.name,
                  role=key.role, page_ids=key.page_ids or None, active=True,
                  created_at=key.created_at)


def _split_api_key(presented: str) -> tuple[str, str]:
    prefix, _, rest = presented.partition(API_KEY_PREFIX)
    key_id, _, secret = rest.partition("_")
    if prefix or not key_id or not secret or not key_id.isalnum():
        raise InvalidApiKey("the API key is not valid")
    return key_id, secret


def verify_token(token: str) -> dict[str, Any]:
    settings = settings_module.settings
    issuer = f"https://cognito-idp.{settings.region}.amazonaws.com/{settings.user_pool_id}"
    try:
        key = _jwks.signing_key(jwt.get_unverified_header(token).get("kid"))
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("the token is not valid") from exc

    # An ID token names the app client in `aud`, an access token in `client_id`.
    audience_claim = {"id": "aud", "access": "client_id"}.get(claims["token_use"])
    if audience_claim is None or claims.get(audience_claim) != settings.user_pool_client_id:
        raise InvalidToken("the token is not for this app")
    return claims


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("a bearer token is required")
    return token.strip()


def _active_member(member_id: str) -> Member:
    try:
        member = Member.get(MEMBERS_PK, member_id)
    except Member.DoesNotExist:
        member = None
    if member is None or not member.active:
        logger.info("sign-in refused: no active member", extra={"member_id": member_id})
        raise Forbidden("not an active member of this inbox")
    return member


def jwks_url() -> str:
    settings = settings_module.settings
    if settings.cognito_jwks_url:
        return settings.cognito_jwks_url
    path = f"{settings.user_pool_id}/.well-known/jwks.json"
    # moto's server serves a pool's keys at its own root rather than at Cognito's host.
    if settings.aws_endpoint_url:
        return f"{settings.aws_endpoint_url.rstrip('/')}/{path}"
    return f"https://cognito-idp.{settings.region}.amazonaws.com/{path}"


class _KeyCache:
    """The pool's signing keys, fetched once per process and again only for an unknown kid.

    Fetched with `requests`, not `jwt.PyJWKClient`: moto intercepts only the former.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._url = ""
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0

    def signing_key(self, kid: str | None) -> Any:
        url = jwks_url()
        with self._lock:
            stale = url != self._url or (
                kid not in self._keys
                and time.monotonic() - self._fetched_at > _JWKS_REFETCH_SECONDS
            )
            if stale:
                self._fetch(url)
            key = self._keys.get(kid or "")
        if key is None:
            raise jwt.InvalidKeyError("unknown signing key")
        return key

    def forget(self) -> None:
        with self._lock:
            self._url, self._keys, self._fetched_at = "", {}, 0.0

    def _fetch(self, url: str) -> None:
        response = requests.get(url, timeout=_JWKS_TIMEOUT)
        response.raise_for_status()
        key_set = jwt.PyJWKSet.from_dict(response.json())
        self._url = url
        self._keys = {k.key_id: k.key for k in key_set.keys if k.key_id}
        self._fetched_at = time.monotonic()


_jwks = _KeyCache()


def forget_keys() -> None:
    """Drop the cached signing keys; tests call this when they start a fresh user pool."""
    _jwks.forget()
