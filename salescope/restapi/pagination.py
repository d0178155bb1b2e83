"""Page-number pagination, the same for every list of the API.

Query: ``page`` (from 1) and ``page_size`` (1–500, default 50). Answer::

    {"items": [...], "count": 1234, "page": 2, "page_size": 50,
     "next": "http://…?page=3&page_size=50", "previous": "http://…?page=1&page_size=50"}

A page past the end is empty (not an error). Use it with ninja's decorator on an endpoint
returning a queryset, declared with a list response::

    @router.get("/things", response={200: list[ThingOut], **errors.LIST})
    @paginate(Pagination)
    def things(request): return things_for(request.auth)
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from ninja.pagination import paginate as ninja_paginate

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE", "MAX_PAGE_SIZE", "Pagination", "paginate"]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_PAGE = 1_000_000


class Pagination(PaginationBase):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Items per page (max 500)."
        )

    class Output(Schema):
        items: list[Any]
        count: int = Field(..., description="Number of items on all pages.")
        page: int
        page_size: int
        next: str | None = Field(None, description="URL of the next page, if any.")
        previous: str | None = Field(None, description="URL of the previous page, if any.")

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: Any, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        page, size = pagination.page, pagination.page_size
        offset = (page - 1) * size
        count = self._items_count(queryset)
        return {
            "items": queryset[offset : offset + size],
            "count": count,
            "page": page,
            "page_size": size,
            "next": _page_url(request, page + 1, size) if offset + size < count else None,
            "previous": _page_url(request, min(page - 1, _last(count, size)), size)
            if page > 1
            else None,
        }


def paginate(pagination_class: type[PaginationBase] = Pagination, **kwargs: Any) -> Any:
    """ninja's ``paginate`` that also works in modules using ``from __future__ import
    annotations`` (the view's string annotations are resolved before ninja wraps it)."""

    def decorator(func: Callable[..., Any]) -> Any:
        func.__annotations__ = typing.get_type_hints(func, include_extras=True)
        return ninja_paginate(pagination_class, **kwargs)(func)

    return decorator


def _last(count: int, size: int) -> int:
    return max(1, (count + size - 1) // size)


def _page_url(request: HttpRequest, page: int, size: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    query["page_size"] = str(size)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
