"""Reads of the lists: the scoped, filtered, sorted queryset of a list and saved views."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.services import definitions
from salescope.lists.framework import Filter, ListSpec, ListState, search_q
from salescope.lists.models import SavedView
from salescope.org.models import User


def custom_definitions(spec: ListSpec) -> list[CustomFieldDefinition]:
    return definitions(spec.custom_target) if spec.custom_target else []


def list_queryset(
    spec: ListSpec, user: User, state: ListState, filters: list[Filter]
) -> QuerySet[Any]:
    """The rows of the list as ``user`` may see them, filtered, searched and sorted.

    Starts from the app's visibility-scoped selector, so the page, the search and the
    export never show more than the user may see. Related rows the visible columns need
    are joined or prefetched, so the number of queries does not grow with the rows.
    """
    qs = spec.base(user)
    select: list[str] = list(spec.extra_select)
    prefetch: list[Any] = []
    for column in state.columns:
        select.extend(column.select)
        prefetch.extend(column.prefetch)
    if select:
        qs = qs.select_related(*select)
    if prefetch:
        qs = qs.prefetch_related(*prefetch)
    by_key = {f.key: f for f in filters}
    for key, value in state.filters.items():
        qs = by_key[key].apply(qs, value, user)
    if state.q:
        qs = qs.filter(search_q(spec.search, state.q))
    sort_column = state.sort_column
    ordering: list[Any] = []
    if sort_column is not None and sort_column.sortable:
        ordering = sort_column.order_by(state.descending)
    return qs.order_by(*ordering, "-pk" if state.descending else "pk")


def saved_views(user: User, list_key: str) -> QuerySet[SavedView]:
    return SavedView.objects.filter(user=user, list_key=list_key).order_by("name", "pk")


def default_view(user: User, list_key: str) -> SavedView | None:
    return saved_views(user, list_key).filter(is_default=True).first()
