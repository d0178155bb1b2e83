"""REST endpoints of the customfields app: field definitions (read)."""

from typing import Any, Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from salescope.customfields.models import CustomFieldDefinition
from salescope.customfields.selectors import field_definitions
from salescope.restapi import errors
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.schemas import PathId

router = Router(tags=["custom fields"])

TargetValue = Literal["account", "contact", "opportunity"]
TypeValue = Literal["text", "number", "money", "date", "choice", "multi_choice", "boolean"]


class FieldGateStage(Schema):
    id: int
    name: str
    pipeline_id: int


class FieldDefinitionOut(Schema):
    id: int
    target: TargetValue
    key: str = Field(..., description="The key of the value in a record's `custom` object.")
    label: str
    field_type: TypeValue
    choices: list[str]
    required_on_create: bool
    required_from_stage: FieldGateStage | None
    help_text: str
    order: int
    active: bool


class DefinitionFilters(Schema):
    target: TargetValue | None = None
    include_inactive: bool = False


def _all(include_inactive: bool) -> Any:
    qs = CustomFieldDefinition.objects.select_related("required_from_stage")
    return qs if include_inactive else qs.filter(active=True)


@router.get("/custom-fields", response={200: list[FieldDefinitionOut], **errors.LIST})
@paginate(Pagination)
def list_definitions(request: Any, filters: Query[DefinitionFilters]) -> Any:
    """Custom field definitions (company configuration, readable by every user)."""
    if filters.target:
        qs = field_definitions(filters.target, include_inactive=filters.include_inactive)
    else:
        qs = _all(filters.include_inactive)
    return qs.order_by("target", "order", "id")


@router.get("/custom-fields/{field_id}", response={200: FieldDefinitionOut, **errors.ITEM})
def get_definition(request: Any, field_id: PathId) -> Any:
    return get_object_or_404(_all(include_inactive=True), pk=field_id)
