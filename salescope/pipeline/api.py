"""REST endpoints of the pipeline app: configuration, opportunities, their verbs and history.

Every write goes through the verbs of :mod:`salescope.pipeline.services` with
``origin=api``; lists use the deals list of the UI (same visibility, filters and sorting).
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from salescope.accounts.selectors import accounts_for, contacts_for
from salescope.core.services import external_ids_of
from salescope.lists.definitions import LISTS
from salescope.org.models import User
from salescope.pipeline import selectors, services
from salescope.pipeline.models import (
    EventOrigin,
    LostReason,
    Opportunity,
    Pipeline,
    ProductLine,
    Source,
    Stage,
)
from salescope.restapi import errors
from salescope.restapi.concurrency import expected_version, set_etag
from salescope.restapi.lists import list_rows, query_schema
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.resolve import many, one, require_writer
from salescope.restapi.schemas import Id, PathId, Ref

router = Router(tags=["pipeline"])
API = EventOrigin.API

OutcomeValue = Literal["open", "won", "lost"]
StageKindValue = Literal["open", "won", "lost"]
ForecastValue = Literal["pipeline", "best_case", "commit", "omitted", "closed"]
AmountIn = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Probability = Annotated[int, Field(ge=0, le=100)]
Text = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=5000)]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31))]
Custom = dict[str, Any]


# --- configuration -----------------------------------------------------------------------


class StageOut(Schema):
    id: int
    pipeline_id: int
    name: str
    order: int
    kind: StageKindValue
    default_probability: int
    rotting_days: int | None
    owning_function: str
    checklist: list[Any]


class PipelineOut(Schema):
    id: int
    name: str
    description: str
    order: int
    is_default: bool
    active: bool
    stages: list[StageOut]

    @staticmethod
    def resolve_stages(obj: Pipeline) -> list[Stage]:
        return sorted(obj.stages.all(), key=lambda s: s.order)


class LostReasonOut(Schema):
    id: int
    name: str
    order: int
    active: bool


class SourceOut(Schema):
    id: int
    name: str
    channel: str
    active: bool


class ProductLineOut(Schema):
    id: int
    name: str
    code: str
    list_price: str | None
    active: bool

    @staticmethod
    def resolve_list_price(obj: ProductLine) -> str | None:
        return None if obj.list_price is None else str(obj.list_price)


class ActiveFilter(Schema):
    include_inactive: bool = Field(False, description="Also archived / inactive entries.")


def _pipelines(include_inactive: bool) -> Any:
    qs = Pipeline.objects.prefetch_related("stages").order_by("-is_default", "order", "name")
    return qs if include_inactive else qs.filter(active=True)


@router.get("/pipelines", response={200: list[PipelineOut], **errors.LIST})
@paginate(Pagination)
def list_pipelines(request: Any, filters: Query[ActiveFilter]) -> Any:
    """Pipelines with their stages (default pipeline first)."""
    return _pipelines(filters.include_inactive)


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **errors.ITEM})
def get_pipeline(request: Any, pipeline_id: PathId) -> Any:
    return get_object_or_404(_pipelines(True), pk=pipeline_id)


@router.get("/stages", response={200: list[StageOut], **errors.LIST})
@paginate(Pagination)
def list_stages(request: Any) -> Any:
    return Stage.objects.order_by("pipeline__order", "pipeline_id", "order")


@router.get("/stages/{stage_id}", response={200: StageOut, **errors.ITEM})
def get_stage(request: Any, stage_id: PathId) -> Any:
    return get_object_or_404(Stage, pk=stage_id)


def _active(model: Any, include_inactive: bool) -> Any:
    qs = model.objects.all()
    return qs if include_inactive else qs.filter(active=True)


@router.get("/lost-reasons", response={200: list[LostReasonOut], **errors.LIST})
@paginate(Pagination)
def list_lost_reasons(request: Any, filters: Query[ActiveFilter]) -> Any:
    return _active(LostReason, filters.include_inactive).order_by("order", "name", "id")


@router.get("/sources", response={200: list[SourceOut], **errors.LIST})
@paginate(Pagination)
def list_sources(request: Any, filters: Query[ActiveFilter]) -> Any:
    return _active(Source, filters.include_inactive).order_by("name", "id")


@router.get("/product-lines", response={200: list[ProductLineOut], **errors.LIST})
@paginate(Pagination)
def list_product_lines(request: Any, filters: Query[ActiveFilter]) -> Any:
    return _active(ProductLine, filters.include_inactive).order_by("name", "id")


# --- opportunities -----------------------------------------------------------------------


class DealOwner(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class DealStage(Schema):
    id: int
    name: str
    kind: StageKindValue


class OpportunityOut(Schema):
    id: int
    name: str
    pipeline: Ref
    stage: DealStage
    stage_entered_at: dt.datetime
    account: Ref | None
    owner: DealOwner
    amount: str = Field(..., description='Decimal string, e.g. "12500.00".')
    currency: str
    probability: int
    expected_close: dt.date
    source: Ref | None
    forecast_category: ForecastValue
    next_step: str
    outcome: OutcomeValue
    closed_on: dt.date | None
    lost_reason: Ref | None
    lost_note: str
    products: list[int]
    contacts: list[int]
    custom: Custom
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_amount(obj: Opportunity) -> str:
        return str(obj.amount)

    @staticmethod
    def resolve_currency(obj: Opportunity) -> str:
        return str(obj.currency_id)

    @staticmethod
    def resolve_products(obj: Opportunity) -> list[int]:
        return sorted(p.pk for p in obj.products.all())

    @staticmethod
    def resolve_contacts(obj: Opportunity) -> list[int]:
        return sorted(c.pk for c in obj.contacts.all())


class OpportunityDetail(OpportunityOut):
    external_ids: dict[str, str] = Field(..., description="Ids in other systems, by system.")
    weighted_amount: str

    @staticmethod
    def resolve_external_ids(obj: Opportunity) -> dict[str, str]:
        return external_ids_of(obj)

    @staticmethod
    def resolve_weighted_amount(obj: Opportunity) -> str:
        return str(selectors.weighted_amount(obj))


DealFilters = query_schema(LISTS["deals"], "DealFilters")


def _visible(request: Any) -> Any:
    return selectors.opportunities_for(request.auth).select_related("lost_reason")


def _load(request: Any, opportunity_id: int) -> Opportunity:
    return get_object_or_404(_visible(request), pk=opportunity_id)


def _detail(request: Any, opportunity_id: int, response: HttpResponse) -> Opportunity:
    opp = get_object_or_404(
        _visible(request).prefetch_related("products", "contacts"), pk=opportunity_id
    )
    set_etag(response, opp.version)
    return opp


@router.get("/opportunities", response={200: list[OpportunityOut], **errors.LIST})
@paginate(Pagination)
def list_opportunities(request: Any, filters: Query[DealFilters]) -> Any:  # type: ignore[valid-type]
    """Opportunities the user sees, filtered, searched and sorted like the deals list."""
    return (
        list_rows(LISTS["deals"], request)
        .select_related("lost_reason")
        .prefetch_related("products", "contacts")
    )


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityDetail, **errors.ITEM})
def get_opportunity(request: Any, opportunity_id: PathId, response: HttpResponse) -> Any:
    """One opportunity (``ETag`` holds its version)."""
    return _detail(request, opportunity_id, response)


class OpportunityIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    stage: Id = Field(..., description="An open stage; its pipeline is the deal's pipeline.")
    amount: AmountIn
    expected_close: Day
    currency: str | None = Field(None, max_length=3, description="Default: company currency.")
    owner: Id | None = Field(None, description="Default: you.")
    probability: Probability | None = Field(None, description="Default: the stage's.")
    account: Id | None = None
    source: Id | None = None
    products: list[Id] = []
    contacts: list[Id] = []
    forecast_category: ForecastValue | None = None
    next_step: Text = ""
    custom: Custom | None = None


@router.post("/opportunities", response={201: OpportunityDetail, **errors.CREATE})
def create_opportunity(request: Any, payload: OpportunityIn, response: HttpResponse) -> Any:
    """Create an opportunity (history starts with its ``created`` event)."""
    user = request.auth
    require_writer(user)
    opp = services.create_opportunity(
        actor=user,
        name=payload.name,
        stage=one("stage", Stage.objects.select_related("pipeline"), payload.stage),
        amount=payload.amount,
        expected_close=payload.expected_close,
        owner=one("owner", User, payload.owner),
        currency=payload.currency,
        probability=payload.probability,
        account=one("account", accounts_for(user), payload.account),
        source=one("source", Source, payload.source),
        products=many("products", ProductLine, payload.products),
        contacts=many("contacts", contacts_for(user), payload.contacts),
        forecast_category=payload.forecast_category,
        next_step=payload.next_step,
        custom=payload.custom,
        origin=API,
    )
    return Status(201, _detail(request, opp.pk, response))


class OpportunityPatch(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    stage: Id | None = None
    amount: AmountIn | None = None
    currency: str | None = Field(None, max_length=3)
    probability: Probability | None = None
    expected_close: Day | None = None
    owner: Id | None = None
    account: Id | None = None
    source: Id | None = None
    forecast_category: ForecastValue | None = None
    next_step: Text | None = None
    outcome: OutcomeValue | None = None
    closed_on: Day | None = None
    lost_reason: Id | None = None
    lost_note: LongText | None = None
    custom: Custom | None = None
    products: list[Id] | None = None
    contacts: list[Id] | None = None


_REQUIRED = {"name", "stage", "amount", "currency", "probability", "expected_close", "owner",
             "forecast_category", "outcome", "next_step"}  # fmt: skip


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityDetail, **errors.WRITE})
def patch_opportunity(
    request: Any, opportunity_id: PathId, payload: OpportunityPatch, response: HttpResponse
) -> Any:
    """Change fields; each change goes through its verb (so history and rules apply).

    Closing works too (``outcome`` won/lost with ``lost_reason``), as does reopening.
    """
    user = request.auth
    require_writer(user)
    opp = _load(request, opportunity_id)
    version = expected_version(request, payload.version)
    sent = payload.dict(exclude_unset=True, exclude={"version"})
    for field in _REQUIRED & {k for k, v in sent.items() if v is None}:
        sent.pop(field)  # null for a required field means "leave it"
    products = sent.pop("products", None)
    contacts = sent.pop("contacts", None)
    changes: dict[str, Any] = dict(sent)
    resolvers = {
        "stage": lambda pk: one("stage", Stage, pk),
        "owner": lambda pk: one("owner", User, pk),
        "account": lambda pk: one("account", accounts_for(user), pk),
        "source": lambda pk: one("source", Source, pk),
        "lost_reason": lambda pk: one("lost_reason", LostReason, pk),
    }
    for field, resolver in resolvers.items():
        if field in changes:
            changes[field] = resolver(changes[field])
    with transaction.atomic():
        opp = services.update_opportunity(
            opportunity=opp, actor=user, changes=changes, expected_version=version, origin=API
        )
        if products is not None:
            services.set_products(
                opportunity=opp, products=many("products", ProductLine, products), actor=user
            )
        if contacts is not None:
            services.set_contacts(
                opportunity=opp, contacts=many("contacts", contacts_for(user), contacts), actor=user
            )
    return _detail(request, opp.pk, response)


# --- actions -----------------------------------------------------------------------------


class Versioned(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")


class MoveIn(Versioned):
    stage: Id
    probability: Probability | None = Field(None, description="Default: the stage's.")
    custom: Custom | None = Field(None, description="Fields the stage makes mandatory.")


class WinIn(Versioned):
    closed_on: Day | None = Field(None, description="Default: today.")
    amount: AmountIn | None = None
    custom: Custom | None = None


class LoseIn(Versioned):
    reason: Id = Field(..., description="A lost reason (see /lost-reasons).")
    note: LongText = ""
    closed_on: Day | None = None


class ReopenIn(Versioned):
    stage: Id | None = Field(None, description="Default: the stage it was closed from.")
    probability: Probability | None = None


class ReassignIn(Versioned):
    owner: Id


def _act(request: Any, opportunity_id: int, version: int | None) -> tuple[Opportunity, int | None]:
    require_writer(request.auth)
    opp = _load(request, opportunity_id)
    return opp, expected_version(request, version)


@router.post(
    "/opportunities/{opportunity_id}/move", response={200: OpportunityDetail, **errors.WRITE}
)
def move(request: Any, opportunity_id: PathId, payload: MoveIn, response: HttpResponse) -> Any:
    """Move to another open stage (stage gates apply)."""
    opp, version = _act(request, opportunity_id, payload.version)
    services.move_to_stage(
        opportunity=opp,
        stage=one("stage", Stage, payload.stage),
        probability=payload.probability,
        custom=payload.custom,
        actor=request.auth,
        expected_version=version,
        origin=API,
    )
    return _detail(request, opp.pk, response)


@router.post(
    "/opportunities/{opportunity_id}/win", response={200: OpportunityDetail, **errors.WRITE}
)
def win(request: Any, opportunity_id: PathId, payload: WinIn, response: HttpResponse) -> Any:
    """Mark won."""
    opp, version = _act(request, opportunity_id, payload.version)
    services.mark_won(
        opportunity=opp,
        closed_on=payload.closed_on,
        amount=payload.amount,
        custom=payload.custom,
        actor=request.auth,
        expected_version=version,
        origin=API,
    )
    return _detail(request, opp.pk, response)


@router.post(
    "/opportunities/{opportunity_id}/lose", response={200: OpportunityDetail, **errors.WRITE}
)
def lose(request: Any, opportunity_id: PathId, payload: LoseIn, response: HttpResponse) -> Any:
    """Mark lost, with a reason."""
    opp, version = _act(request, opportunity_id, payload.version)
    services.mark_lost(
        opportunity=opp,
        reason=one("reason", LostReason, payload.reason),
        note=payload.note,
        closed_on=payload.closed_on,
        actor=request.auth,
        expected_version=version,
        origin=API,
    )
    return _detail(request, opp.pk, response)


@router.post(
    "/opportunities/{opportunity_id}/reopen", response={200: OpportunityDetail, **errors.WRITE}
)
def reopen(request: Any, opportunity_id: PathId, payload: ReopenIn, response: HttpResponse) -> Any:
    """Reopen a won or lost opportunity."""
    opp, version = _act(request, opportunity_id, payload.version)
    services.reopen(
        opportunity=opp,
        stage=one("stage", Stage, payload.stage),
        probability=payload.probability,
        actor=request.auth,
        expected_version=version,
        origin=API,
    )
    return _detail(request, opp.pk, response)


@router.post(
    "/opportunities/{opportunity_id}/reassign", response={200: OpportunityDetail, **errors.WRITE}
)
def reassign(
    request: Any, opportunity_id: PathId, payload: ReassignIn, response: HttpResponse
) -> Any:
    """Hand the opportunity over to another owner."""
    opp, version = _act(request, opportunity_id, payload.version)
    services.reassign(
        opportunity=opp,
        owner=one("owner", User, payload.owner),
        actor=request.auth,
        expected_version=version,
        origin=API,
    )
    return _detail(request, opp.pk, response)


class EventOut(Schema):
    id: int
    kind: str
    verb: str
    old_value: Any
    new_value: Any
    from_stage_id: int | None
    to_stage_id: int | None
    actor_id: int | None
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    action_id: uuid.UUID
    origin: str
    reconstructed: bool


@router.get("/opportunities/{opportunity_id}/events", response={200: list[EventOut], **errors.ITEM})
@paginate(Pagination)
def events(request: Any, opportunity_id: PathId) -> Any:
    """The append-only history, oldest first (``created`` holds the initial state)."""
    return selectors.history(_load(request, opportunity_id))
