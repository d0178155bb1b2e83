"""REST endpoints of the accounts app: accounts, contacts and the links (with roles) between.

Lists filter, search and sort like the accounts and contacts lists of the UI; every write
goes through :mod:`salescope.accounts.services`.
"""

import datetime as dt
from typing import Annotated, Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from salescope.accounts import selectors, services
from salescope.accounts.models import (
    Account,
    AccountContact,
    AccountStatus,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    Tier,
)
from salescope.core.services import external_ids_of
from salescope.lists.definitions import LISTS
from salescope.org.models import User
from salescope.restapi import errors
from salescope.restapi.concurrency import expected_version, set_etag
from salescope.restapi.lists import list_rows, query_schema
from salescope.restapi.pagination import Pagination, paginate
from salescope.restapi.resolve import many, one, require_writer
from salescope.restapi.schemas import Id, PathId, Ref

router = Router(tags=["accounts and contacts"])

Short = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=50_000)]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31))]
ExternalIds = dict[str, str]


class AccountOwner(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: User) -> str:
        return str(obj)


class AccountOut(Schema):
    id: int
    name: str
    status: Ref
    tier: Ref | None
    account_type: Ref | None
    industry: Ref | None
    region: Ref | None
    owner: AccountOwner
    parent: Ref | None
    website: str
    domain: str
    phone: str
    street: str
    postal_code: str
    city: str
    country: str
    employees: int | None
    annual_revenue: str | None = Field(..., description="Decimal string, company currency.")
    description: str
    tags: list[int]
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_annual_revenue(obj: Account) -> str | None:
        return None if obj.annual_revenue is None else str(obj.annual_revenue)

    @staticmethod
    def resolve_tags(obj: Account) -> list[int]:
        return sorted(t.pk for t in obj.tags.all())


class AccountDetail(AccountOut):
    external_ids: ExternalIds

    @staticmethod
    def resolve_external_ids(obj: Account) -> dict[str, str]:
        return external_ids_of(obj)


class AccountIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    owner: Id | None = Field(None, description="Default: you.")
    status: Id | None = Field(None, description="Default: the default status.")
    tier: Id | None = None
    account_type: Id | None = None
    industry: Id | None = None
    region: Id | None = None
    parent: Id | None = None
    website: Short = ""
    domain: Short = ""
    phone: Short = ""
    street: Short = ""
    postal_code: Short = ""
    city: Short = ""
    country: Short = ""
    employees: Annotated[int, Field(ge=0, le=10**9)] | None = None
    annual_revenue: Annotated[str, Field(max_length=40)] | None = None
    description: LongText = ""
    tags: list[Id] = []
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


class AccountPatch(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    owner: Id | None = None
    status: Id | None = None
    tier: Id | None = None
    account_type: Id | None = None
    industry: Id | None = None
    region: Id | None = None
    parent: Id | None = None
    website: Short | None = None
    domain: Short | None = None
    phone: Short | None = None
    street: Short | None = None
    postal_code: Short | None = None
    city: Short | None = None
    country: Short | None = None
    employees: Annotated[int, Field(ge=0, le=10**9)] | None = None
    annual_revenue: Annotated[str, Field(max_length=40)] | None = None
    description: LongText | None = None
    tags: list[Id] | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


_ACCOUNT_REFS: dict[str, Any] = {
    "status": AccountStatus, "tier": Tier, "account_type": AccountType,
    "industry": Industry, "region": Region, "owner": User,
}  # fmt: skip
_TEXTS = {"website", "domain", "phone", "street", "postal_code", "city", "country", "description"}


def _account_values(user: User, values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for field, model in _ACCOUNT_REFS.items():
        if field in out:
            out[field] = one(field, model, out[field])
    if "parent" in out:
        out["parent"] = one("parent", selectors.accounts_for(user), out["parent"])
    if "tags" in out:
        out["tags"] = many("tags", Tag, out["tags"] or [])
    for field in _TEXTS & set(out):
        if out[field] is None:
            out[field] = ""
    return out


AccountFilters = query_schema(LISTS["accounts"], "AccountFilters")


def _account(request: Any, account_id: int, response: HttpResponse) -> Account:
    account = get_object_or_404(
        selectors.accounts_for(request.auth).prefetch_related("tags"), pk=account_id
    )
    set_etag(response, account.version)
    return account


@router.get("/accounts", response={200: list[AccountOut], **errors.LIST})
@paginate(Pagination)
def list_accounts(request: Any, filters: Query[AccountFilters]) -> Any:  # type: ignore[valid-type]
    """Accounts the user sees, filtered, searched and sorted like the accounts list."""
    return (
        list_rows(LISTS["accounts"], request)
        .select_related("status", "tier", "account_type", "industry", "region", "owner", "parent")
        .prefetch_related("tags")
    )


@router.get("/accounts/{account_id}", response={200: AccountDetail, **errors.ITEM})
def get_account(request: Any, account_id: PathId, response: HttpResponse) -> Any:
    return _account(request, account_id, response)


@router.post("/accounts", response={201: AccountDetail, **errors.CREATE})
def create_account(request: Any, payload: AccountIn, response: HttpResponse) -> Any:
    user = request.auth
    require_writer(user)
    values = _account_values(user, payload.dict())
    account = services.create_account(actor=user, **values)
    return Status(201, _account(request, account.pk, response))


@router.patch("/accounts/{account_id}", response={200: AccountDetail, **errors.WRITE})
def patch_account(
    request: Any, account_id: PathId, payload: AccountPatch, response: HttpResponse
) -> Any:
    """Change the given fields (``custom`` is merged; ``tags`` replaces the tags)."""
    user = request.auth
    require_writer(user)
    account = _account(request, account_id, response)
    version = expected_version(request, payload.version)
    sent = payload.dict(exclude_unset=True, exclude={"version"})
    if sent.get("name", "") is None:
        sent.pop("name")
    services.update_account(
        account=account, actor=user, expected_version=version, **_account_values(user, sent)
    )
    return _account(request, account_id, response)


# --- contacts ----------------------------------------------------------------------------


class ContactLinkOut(Schema):
    account: Ref
    contact_id: int
    roles: list[Ref]
    is_primary: bool
    since: dt.date | None
    until: dt.date | None

    @staticmethod
    def resolve_roles(obj: AccountContact) -> list[ContactRole]:
        return sorted(obj.roles.all(), key=lambda r: (r.order, r.name))


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    mobile: str
    job_title: str
    language: str
    notes: str
    owner: AccountOwner
    accounts: list[ContactLinkOut]
    tags: list[int]
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_accounts(obj: Contact) -> list[AccountContact]:
        return list(obj.memberships.all())

    @staticmethod
    def resolve_tags(obj: Contact) -> list[int]:
        return sorted(t.pk for t in obj.tags.all())


class ContactDetail(ContactOut):
    external_ids: ExternalIds

    @staticmethod
    def resolve_external_ids(obj: Contact) -> dict[str, str]:
        return external_ids_of(obj)


class ContactIn(Schema):
    last_name: Annotated[str, Field(min_length=1, max_length=100)]
    first_name: Annotated[str, Field(max_length=100)] = ""
    email: Annotated[str, Field(max_length=254)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""
    mobile: Annotated[str, Field(max_length=40)] = ""
    job_title: Annotated[str, Field(max_length=120)] = ""
    language: Annotated[str, Field(max_length=8)] = ""
    notes: LongText = ""
    owner: Id | None = Field(None, description="Default: you.")
    account: Id | None = Field(None, description="Place the contact at this account.")
    roles: list[Id] = Field([], description="Roles at ``account``.")
    tags: list[Id] = []
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


class ContactPatch(Schema):
    version: int | None = Field(None, description="The version you loaded (or If-Match).")
    last_name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    first_name: Annotated[str, Field(max_length=100)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    mobile: Annotated[str, Field(max_length=40)] | None = None
    job_title: Annotated[str, Field(max_length=120)] | None = None
    language: Annotated[str, Field(max_length=8)] | None = None
    notes: LongText | None = None
    owner: Id | None = None
    tags: list[Id] | None = None
    custom: dict[str, Any] | None = None
    external_ids: ExternalIds | None = None


ContactFilters = query_schema(LISTS["contacts"], "ContactFilters")
_CONTACT_TEXTS = {"first_name", "email", "phone", "mobile", "job_title", "language", "notes"}


def _contact(request: Any, contact_id: int, response: HttpResponse) -> Contact:
    contact = get_object_or_404(
        selectors.contacts_for(request.auth).prefetch_related("tags"), pk=contact_id
    )
    set_etag(response, contact.version)
    return contact


def _contact_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "owner" in out:
        out["owner"] = one("owner", User, out["owner"])
    if "tags" in out:
        out["tags"] = many("tags", Tag, out["tags"] or [])
    for field in _CONTACT_TEXTS & set(out):
        if out[field] is None:
            out[field] = ""
    if out.get("last_name", "") is None:
        out.pop("last_name")
    return out


@router.get("/contacts", response={200: list[ContactOut], **errors.LIST})
@paginate(Pagination)
def list_contacts(request: Any, filters: Query[ContactFilters]) -> Any:  # type: ignore[valid-type]
    """Contacts the user sees, filtered, searched and sorted like the contacts list."""
    return list_rows(LISTS["contacts"], request).prefetch_related("tags")


@router.get("/contacts/{contact_id}", response={200: ContactDetail, **errors.ITEM})
def get_contact(request: Any, contact_id: PathId, response: HttpResponse) -> Any:
    return _contact(request, contact_id, response)


@router.post("/contacts", response={201: ContactDetail, **errors.CREATE})
def create_contact(request: Any, payload: ContactIn, response: HttpResponse) -> Any:
    user = request.auth
    require_writer(user)
    values = _contact_values(payload.dict())
    values["account"] = one("account", selectors.accounts_for(user), values["account"])
    values["roles"] = many("roles", ContactRole, values["roles"])
    contact = services.create_contact(actor=user, **values)
    return Status(201, _contact(request, contact.pk, response))


@router.patch("/contacts/{contact_id}", response={200: ContactDetail, **errors.WRITE})
def patch_contact(
    request: Any, contact_id: PathId, payload: ContactPatch, response: HttpResponse
) -> Any:
    user = request.auth
    require_writer(user)
    contact = _contact(request, contact_id, response)
    version = expected_version(request, payload.version)
    sent = payload.dict(exclude_unset=True, exclude={"version"})
    services.update_contact(
        contact=contact, actor=user, expected_version=version, **_contact_values(sent)
    )
    return _contact(request, contact_id, response)


class LinkIn(Schema):
    roles: list[Id] | None = Field(None, description="Replaces the roles; null keeps them.")
    is_primary: bool | None = None
    since: Day | None = None
    until: Day | None = None


@router.get("/accounts/{account_id}/contacts", response={200: list[ContactLinkOut], **errors.ITEM})
@paginate(Pagination)
def account_contacts(request: Any, account_id: PathId) -> Any:
    """The contacts at an account with their roles (primary first, leavers last)."""
    account = get_object_or_404(selectors.accounts_for(request.auth), pk=account_id)
    visible = selectors.contacts_for(request.auth).values("pk")
    return selectors.account_contacts(account).filter(contact__in=visible)


@router.put(
    "/contacts/{contact_id}/accounts/{account_id}",
    response={200: ContactLinkOut, **errors.ITEM},
)
def link(request: Any, contact_id: PathId, account_id: PathId, payload: LinkIn) -> Any:
    """Place the contact at the account (or change the link): roles, primary, since/until."""
    user = request.auth
    require_writer(user)
    contact = get_object_or_404(selectors.contacts_for(user), pk=contact_id)
    account = get_object_or_404(selectors.accounts_for(user), pk=account_id)
    roles = None if payload.roles is None else many("roles", ContactRole, payload.roles)
    membership = services.link_contact(
        contact=contact,
        account=account,
        actor=user,
        roles=roles,
        is_primary=payload.is_primary,
        since=payload.since,
        until=payload.until,
    )
    return (
        AccountContact.objects.select_related("account")
        .prefetch_related("roles")
        .get(pk=membership.pk)
    )


@router.delete("/contacts/{contact_id}/accounts/{account_id}", response={204: None, **errors.ITEM})
def unlink(request: Any, contact_id: PathId, account_id: PathId) -> Any:
    """Remove the contact from the account."""
    user = request.auth
    require_writer(user)
    contact = get_object_or_404(selectors.contacts_for(user), pk=contact_id)
    account = get_object_or_404(selectors.accounts_for(user), pk=account_id)
    services.unlink_contact(contact=contact, account=account, actor=user)
    return Status(204, None)


# --- options -----------------------------------------------------------------------------


class AccountOption(Schema):
    id: int
    name: str
    active: bool


class TagOut(Schema):
    id: int
    name: str
    category: Ref


class AccountOptions(Schema):
    statuses: list[AccountOption]
    tiers: list[AccountOption]
    account_types: list[AccountOption]
    industries: list[AccountOption]
    regions: list[AccountOption]
    contact_roles: list[AccountOption]
    tags: list[TagOut]


@router.get("/account-options", response={200: AccountOptions, **errors.LIST})
def account_options(request: Any) -> Any:
    """The admin-configured lists used by accounts and contacts (ids for writes)."""
    return {
        "statuses": AccountStatus.objects.all(),
        "tiers": Tier.objects.all(),
        "account_types": AccountType.objects.all(),
        "industries": Industry.objects.all(),
        "regions": Region.objects.all(),
        "contact_roles": ContactRole.objects.all(),
        "tags": Tag.objects.select_related("category"),
    }
