"""The lists of the API filter, search and sort exactly like the lists of the UI.

:func:`query_schema` turns a :class:`~salescope.lists.framework.ListSpec` into a ninja
query schema (so the filters appear in the OpenAPI description), and :func:`list_rows`
applies the request's parameters with the list framework, starting from the same
visibility-scoped selector as the UI. Unlike the UI, a bad value is an error (422), not a
warning. Custom field filters (``cf_<key>``) are accepted too, though not described.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import create_model

from salescope.lists.framework import (
    DATE,
    MAX_SEARCH,
    ChoiceFilter,
    JsonValueFilter,
    ListSpec,
    RangeFilter,
    TextFilter,
    parse_state,
)
from salescope.lists.selectors import custom_definitions, list_queryset

MAX_ID = 10**17
Amount = Annotated[Decimal, Field(gt=Decimal("-1e13"), lt=Decimal("1e13"))]
IdItem = Annotated[int, Field(ge=1, le=MAX_ID)]


def _literal(values: list[str]) -> Any:
    return Literal[tuple(values)]  # type: ignore[valid-type]


def query_schema(spec: ListSpec, name: str) -> type[Schema]:
    """A query schema with ``q``, ``sort`` and one parameter per filter of ``spec``."""
    sorts = [c.key for c in spec.columns() if c.sortable]
    fields: dict[str, Any] = {
        "q": (
            str | None,
            Field(
                None,
                max_length=MAX_SEARCH,
                description="Search: every word must match "
                + ", ".join(spec.search)
                + " (case-insensitive).",
            ),
        ),
        "sort": (
            _literal(sorts + [f"-{s}" for s in sorts]) | None,
            Field(
                None,
                description=f"Order by a column (prefix - for descending); "
                f"default {spec.default_sort}.",
            ),
        ),
    }
    for flt in spec.filters():
        label = str(flt.label)
        if isinstance(flt, ChoiceFilter):
            if flt.choices is not None:
                item: Any = _literal([str(v) for v, _label in flt.choices])
            elif flt.integer:
                item = IdItem
            else:
                item = Annotated[str, Field(max_length=MAX_SEARCH)]
            fields[flt.key] = (
                list[item] | None,
                Field(None, description=f"{label}: one or more values (repeat the parameter)."),
            )
        elif isinstance(flt, RangeFilter):
            kind: Any = dt.date if flt.kind == DATE else Amount
            low, high = flt.params()
            fields[low] = (kind | None, Field(None, description=f"{label} from (inclusive)."))
            fields[high] = (kind | None, Field(None, description=f"{label} to (inclusive)."))
        elif isinstance(flt, TextFilter | JsonValueFilter):
            fields[flt.key] = (
                str | None,
                Field(None, max_length=MAX_SEARCH, description=f"{label}."),
            )
    return create_model(name, __base__=Schema, **fields)


def list_rows(spec: ListSpec, request: HttpRequest) -> QuerySet[Any]:
    """The rows of ``spec`` the user may see, filtered, searched and sorted as requested."""
    user = request.auth  # type: ignore[attr-defined]
    defs = custom_definitions(spec)
    columns = spec.all_columns(defs)
    filters = spec.all_filters(defs)
    state = parse_state(spec, request.GET, columns=columns, filters=filters)
    if state.warnings:
        raise ValidationError({"__all__": [str(w) for w in state.warnings]})
    state.columns = []
    return list_queryset(spec, user, state, filters)
