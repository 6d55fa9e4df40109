"""Where moto's emulated AWS answers otherwise than AWS, put right for the stack's calls.

Applied by `create_resources`, the road every emulated account (tests and `make dev`) takes.
"""

from __future__ import annotations

from typing import Any

_applied = False


def apply() -> None:
    """Idempotent: patches moto's classes once per process."""
    global _applied
    if _applied:
        return
    _applied = True
    _unknown_refresh_token_is_not_authorized()


def _unknown_refresh_token_is_not_authorized() -> None:
    # Cognito answers NotAuthorizedException to a refresh token it never issued; moto 5 looks
    # it up unchecked and fails with a KeyError, which the API would pass on as a 500.
    from moto.cognitoidp.exceptions import NotAuthorizedError
    from moto.cognitoidp.models import CognitoIdpUserPool

    original = CognitoIdpUserPool.create_tokens_from_refresh_token

    def create_tokens_from_refresh_token(self: Any, refresh_token: str) -> Any:
        if refresh_token not in self.refresh_tokens:
            raise NotAuthorizedError("Invalid Refresh Token")
        return original(self, refresh_token)

    CognitoIdpUserPool.create_tokens_from_refresh_token = create_tokens_from_refresh_token
