"""REST endpoints of the restapi app: the caller's own personal tokens."""

import datetime as dt
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.responses import Status

from salescope.restapi import errors
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.schemas import PathId
from salescope.restapi.selectors import tokens_of
from salescope.restapi.services import MAX_NAME, create_token, revoke_token

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreated(TokenOut):
    token: str = Field(..., description="The token. Shown only in this answer: store it now.")


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=MAX_NAME)
    expires_at: dt.datetime | None = None


@router.get("/tokens", response={200: list[TokenOut], **errors.LIST})
@paginate(Pagination)
def list_tokens(request: Any) -> Any:
    """Your personal API tokens (revoked ones too), newest first."""
    return tokens_of(request.auth)


@router.post("/tokens", response={201: TokenCreated, **errors.CREATE})
def create(request: Any, payload: TokenIn) -> Any:
    """Create a token for yourself. The answer holds the token once; it is stored hashed."""
    new = create_token(user=request.auth, name=payload.name, expires_at=payload.expires_at)
    out = TokenOut.from_orm(new.token).dict()
    return Status(201, TokenCreated(**out, token=new.plain))


@router.delete("/tokens/{token_id}", response={200: TokenOut, **errors.ITEM})
def revoke(request: Any, token_id: PathId) -> Any:
    """Revoke one of your tokens; it stops working at once."""
    token = get_object_or_404(tokens_of(request.auth), pk=token_id)
    return revoke_token(token=token, actor=request.auth)
