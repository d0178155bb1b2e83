"""Small schemas shared by the resource routers."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Path, Schema

MAX_ID = 10**17

#: A record id in a path: ``def get(request, account_id: PathId)``.
PathId = Annotated[int, Path(..., ge=1, le=MAX_ID)]
#: A record id in a body or query.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Ref(Schema):
    """A related record: its id and its name."""

    id: int
    name: str


class ExternalIdOut(Schema):
    system: str
    value: str


class Money(Schema):
    amount: str = Field(..., description='Decimal string with 2 places, e.g. "1234.50".')
    currency: str
