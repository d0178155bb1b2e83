"""Reads of custom field definitions (D3). Definitions are company configuration, visible to
every logged-in user; only admins change them (through ``services``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest

from salescope.customfields.models import CustomFieldDefinition, Target
from salescope.pipeline.models import Stage, StageKind

_CACHE_ATTR = "_salescope_custom_definitions"


def field_definitions(
    target: str, *, include_inactive: bool = False
) -> QuerySet[CustomFieldDefinition]:
    qs = CustomFieldDefinition.objects.filter(target=target).select_related(
        "required_from_stage__pipeline"
    )
    return qs if include_inactive else qs.filter(active=True)


def cached_definitions(target: str, *, holder: Any) -> list[CustomFieldDefinition]:
    """Active definitions of ``target``, read once per ``holder`` (the request, or a
    template's render context) however many records a page shows."""
    if isinstance(holder, HttpRequest):
        cache = holder.__dict__.setdefault(_CACHE_ATTR, {})
    else:  # a template's render context, or a dict
        if _CACHE_ATTR not in holder:
            holder[_CACHE_ATTR] = {}
        cache = holder[_CACHE_ATTR]
    if target not in cache:
        cache[target] = list(field_definitions(target))
    return cache[target]


def count_by_target() -> dict[str, Counter[str]]:
    """{target: Counter(active=…, inactive=…)} in one query, for the admin tabs."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in Target.values}
    rows = CustomFieldDefinition.objects.values("target", "active").annotate(n=Count("id"))
    for row in rows.order_by():
        counts.setdefault(row["target"], Counter())["active" if row["active"] else "inactive"] += (
            row["n"]
        )
    return counts


def gate_stages() -> QuerySet[Stage]:
    """Open stages of active pipelines, in pipeline and stage order: where a gate can start."""
    return (
        Stage.objects.filter(kind=StageKind.OPEN, pipeline__active=True)
        .select_related("pipeline")
        .order_by("pipeline__order", "pipeline__name", "pipeline_id", "order")
    )
