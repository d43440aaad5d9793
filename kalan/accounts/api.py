"""JSON API pieces of accounts: who is calling, and their API tokens.

A caller is known by their Django session (with a CSRF check on unsafe
methods) or by an `Authorization: Bearer <secret>` token. The endpoints about
other people live with the schools API, which owns the access rules.
"""

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.security import APIKeyCookie, HttpBearer

from kalan.accounts import services
from kalan.accounts.models import ApiToken, User
from kalan.core.errors import PermissionDenied


class SessionAuth(APIKeyCookie):
    """A signed-in Django session; unsafe methods must carry the CSRF token.

    Without a signed-in session the CSRF check is skipped, so an anonymous
    caller is told 401 (who are you?) rather than 403.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if key and isinstance(user, User) and user.is_active:
            return user
        return None


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <secret>` for a token of an active person."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return services.user_for_token(token) if token else None


MAX_PAGE = 500

session_auth = SessionAuth()
bearer_auth = BearerAuth()


def caller(request: HttpRequest) -> User:
    """The person the request authenticated as (the API refuses anonymous calls)."""
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):  # pragma: no cover - the auth classes return users
        raise PermissionDenied(_("Sign in first."))
    return user


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: uuid.UUID
    name: str
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None


class NewTokenOut(TokenOut):
    secret: str = Field(..., description="Shown once; only its hash is kept.")


router = Router(tags=["tokens"])


@router.get("", response=list[TokenOut])
@paginate(LimitOffsetPagination, max_limit=MAX_PAGE)
def list_tokens(request: HttpRequest) -> Any:
    """The caller's own tokens, newest first (never their secrets)."""
    return (
        ApiToken.objects.filter(user=caller(request))
        .order_by("-created_at", "id")
        .values("id", "name", "created_at", "last_used_at")
    )


@router.post("", response={201: NewTokenOut}, auth=[session_auth])
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    """A new token for the signed-in person. Its secret is in this answer only."""
    secret = services.create_api_token(user=caller(request), name=payload.name.strip())
    token = ApiToken.objects.get(key_hash=services.hash_token(secret))
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "secret": secret,
    }


@router.delete("/{token_id}", response={204: None})
def delete_token(request: HttpRequest, token_id: uuid.UUID) -> None:
    """Revoke one of the caller's own tokens (another's is not found)."""
    services.revoke_api_token(user=caller(request), token_id=token_id)
