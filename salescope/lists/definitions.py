"""The four lists (deals, accounts, contacts, activities), declared with the list framework."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext_lazy as _

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
from salescope.accounts.selectors import accounts_for, contacts_for
from salescope.activities.models import Activity, ActivityType
from salescope.activities.selectors import activities_for, overdue_for
from salescope.core import clock
from salescope.customfields.models import Target
from salescope.lists.framework import (
    BADGE,
    BOOL,
    DATE,
    DATETIME,
    LIST,
    MONEY,
    NUMBER,
    PERCENT,
    ChoiceFilter,
    Column,
    Filter,
    ListSpec,
    RangeFilter,
    TextFilter,
)
from salescope.org.models import Role, Team, User
from salescope.pipeline.models import (
    ForecastCategory,
    Opportunity,
    Outcome,
    ProductLine,
    Source,
    Stage,
)
from salescope.pipeline.models import Pipeline as PipelineModel
from salescope.pipeline.selectors import opportunities_for

REASSIGN = "reassign"
ADD_TAG = "add_tag"
REMOVE_TAG = "remove_tag"


# --- option sources (small reference tables; one query each) -----------------------------


def _owners(user: User) -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=Role.READ_ONLY)


def _teams(user: User) -> QuerySet[Team]:
    return Team.objects.all()


def _tags(user: User) -> QuerySet[Tag]:
    return Tag.objects.select_related("category")


def _stages(user: User) -> QuerySet[Stage]:
    return Stage.objects.select_related("pipeline").order_by(
        "pipeline__order", "pipeline__name", "order"
    )


def _simple(model: Any) -> Any:
    return lambda user: model.objects.all()


def _tags_prefetch() -> Prefetch:
    return Prefetch("tags", queryset=Tag.objects.select_related("category"), to_attr="tag_list")


def _tag_names(obj: Any) -> list[str]:
    return [t.name for t in obj.tag_list]


def _labels(choices: Any) -> Callable[[str], Any]:
    """The label of a stored choice value, without Django's per-row display lookup."""
    labels = dict(choices)
    return lambda value: labels.get(value, value)


def _owner_filter() -> ChoiceFilter:
    return ChoiceFilter(key="owner", label=_("Owner"), lookup="owner_id", option_source=_owners)


def _tag_filter(through_field: str, relation: str, target: str = "pk") -> ChoiceFilter:
    """Records having one of the tags (a subquery: no duplicate rows)."""

    def apply(qs: QuerySet[Any], ids: list[Any], user: User) -> QuerySet[Any]:
        through = relation_model(relation)
        rows = through.objects.filter(tag_id__in=ids).values(through_field)
        return qs.filter(**{f"{target}__in": rows})

    return ChoiceFilter(key="tag", label=_("Tag"), option_source=_tags, apply_fn=apply)


def relation_model(relation: str) -> Any:
    return {"account": Account.tags.through, "contact": Contact.tags.through}[relation]


# --- deals -------------------------------------------------------------------------------


def _weighted(opp: Opportunity) -> Decimal:
    return (opp.amount * opp.probability / Decimal(100)).quantize(Decimal("0.01"))


def _days_in_stage(opp: Opportunity) -> int | None:
    if opp.outcome != Outcome.OPEN or opp.stage_entered_at is None:
        return None
    return (clock.now() - opp.stage_entered_at).days


def _outcome_badge(opp: Opportunity) -> str:
    return {"won": "won", "lost": "lost"}.get(opp.outcome, "")


def deal_columns() -> list[Column]:
    outcome = _labels(Outcome.choices)
    forecast = _labels(ForecastCategory.choices)
    weighted = ExpressionWrapper(
        F("amount") * F("probability"), output_field=DecimalField(max_digits=20, decimal_places=2)
    )
    return [
        Column("name", _("Deal"), attr="name", order="name", link="pipeline:detail",
               always=True, default=True),
        Column("account", _("Account"), attr="account.name", order="account__name",
               link="accounts:detail", link_attr="account_id", default=True),
        Column("pipeline", _("Pipeline"), attr="pipeline.name", order="pipeline__name"),
        Column("stage", _("Stage"), attr="stage.name", fmt=BADGE, default=True,
               order="stage__order"),
        Column("amount", _("Amount"), attr="amount", fmt=MONEY, currency_attr="currency_id",
               order="amount", default=True),
        Column("weighted", _("Weighted"), value=_weighted, fmt=MONEY,
               currency_attr="currency_id", order=weighted),
        Column("probability", _("Probability"), value=lambda o: Decimal(o.probability) / 100,
               fmt=PERCENT, order="probability", default=True),
        Column("expected_close", _("Expected close"), attr="expected_close", fmt=DATE,
               order="expected_close", default=True),
        Column("owner", _("Owner"), attr="owner", order="owner__first_name", default=True),
        Column("team", _("Team"), attr="owner.team.name", order="owner__team__name",
               select=("owner__team",)),
        Column("outcome", _("Outcome"), value=lambda o: outcome(o.outcome), fmt=BADGE,
               badge=_outcome_badge, order="outcome", default=True),
        Column("days_in_stage", _("Days in stage"), value=_days_in_stage, fmt=NUMBER,
               order="-stage_entered_at"),
        Column("source", _("Source"), attr="source.name", order="source__name"),
        Column("products", _("Products"), value=lambda o: [p.name for p in o.product_list],
               fmt=LIST, prefetch=(Prefetch("products", to_attr="product_list"),)),
        Column("tier", _("Tier"), attr="account.tier.name", order="account__tier__order",
               select=("account__tier",)),
        Column("forecast_category", _("Forecast category"),
               value=lambda o: forecast(o.forecast_category), order="forecast_category"),
        Column("next_step", _("Next step"), attr="next_step", order="next_step"),
        Column("closed_on", _("Closed on"), attr="closed_on", fmt=DATE, order="closed_on"),
        Column("lost_reason", _("Lost reason"), attr="lost_reason.name",
               order="lost_reason__name", select=("lost_reason",)),
        Column("created_at", _("Created"), attr="created_at", fmt=DATE, order="created_at"),
        Column("updated_at", _("Last change"), attr="updated_at", fmt=DATE, order="updated_at"),
    ]  # fmt: skip


def _deal_products(qs: QuerySet[Any], ids: list[Any], user: User) -> QuerySet[Any]:
    through = Opportunity.products.through
    return qs.filter(pk__in=through.objects.filter(productline_id__in=ids).values("opportunity_id"))


def _deal_tags(qs: QuerySet[Any], ids: list[Any], user: User) -> QuerySet[Any]:
    through = Account.tags.through
    return qs.filter(account_id__in=through.objects.filter(tag_id__in=ids).values("account_id"))


def deal_filters() -> list[Filter]:
    return [
        ChoiceFilter(key="pipeline", label=_("Pipeline"), lookup="pipeline_id",
                     option_source=_simple(PipelineModel)),
        ChoiceFilter(key="stage", label=_("Stage"), lookup="stage_id", option_source=_stages),
        _owner_filter(),
        ChoiceFilter(key="team", label=_("Team"), lookup="owner__team_id", option_source=_teams),
        ChoiceFilter(key="outcome", label=_("Outcome"), lookup="outcome",
                     choices=Outcome.choices),
        ChoiceFilter(key="source", label=_("Source"), lookup="source_id",
                     option_source=_simple(Source)),
        ChoiceFilter(key="product", label=_("Product"), option_source=_simple(ProductLine),
                     apply_fn=_deal_products),
        ChoiceFilter(key="tier", label=_("Tier"), lookup="account__tier_id",
                     option_source=_simple(Tier)),
        ChoiceFilter(key="tag", label=_("Account tag"), option_source=_tags,
                     apply_fn=_deal_tags),
        RangeFilter(key="close", label=_("Expected close"), lookup="expected_close", kind=DATE),
        RangeFilter(key="amount", label=_("Amount"), lookup="amount", kind=NUMBER),
    ]  # fmt: skip


# --- accounts ----------------------------------------------------------------------------


def account_columns() -> list[Column]:
    return [
        Column("name", _("Account"), attr="name", order="name", link="accounts:detail",
               always=True, default=True),
        Column("status", _("Status"), attr="status.name", fmt=BADGE, order="status__order",
               default=True),
        Column("tier", _("Tier"), attr="tier.name", order="tier__order", default=True,
               colour=lambda a: a.tier.colour if a.tier_id else None),
        Column("account_type", _("Type"), attr="account_type.name", order="account_type__name"),
        Column("industry", _("Industry"), attr="industry.name", order="industry__name",
               default=True),
        Column("region", _("Region"), attr="region.name", order="region__name", default=True),
        Column("owner", _("Owner"), attr="owner", order="owner__first_name", default=True),
        Column("city", _("City"), attr="city", order="city", default=True),
        Column("country", _("Country"), attr="country", order="country"),
        Column("domain", _("Domain"), attr="domain", order="domain"),
        Column("phone", _("Phone"), attr="phone", order="phone"),
        Column("employees", _("Employees"), attr="employees", fmt=NUMBER, order="employees"),
        Column("annual_revenue", _("Annual revenue"), attr="annual_revenue", fmt=NUMBER,
               order="annual_revenue"),
        Column("tags", _("Tags"), value=_tag_names, fmt=LIST, prefetch=(_tags_prefetch(),),
               default=True),
        Column("created_at", _("Created"), attr="created_at", fmt=DATE, order="created_at"),
        Column("updated_at", _("Last change"), attr="updated_at", fmt=DATE, order="updated_at"),
    ]  # fmt: skip


def account_filters() -> list[Filter]:
    return [
        ChoiceFilter(key="status", label=_("Status"), lookup="status_id",
                     option_source=_simple(AccountStatus)),
        ChoiceFilter(key="tier", label=_("Tier"), lookup="tier_id", option_source=_simple(Tier)),
        ChoiceFilter(key="type", label=_("Type"), lookup="account_type_id",
                     option_source=_simple(AccountType)),
        ChoiceFilter(key="industry", label=_("Industry"), lookup="industry_id",
                     option_source=_simple(Industry)),
        ChoiceFilter(key="region", label=_("Region"), lookup="region_id",
                     option_source=_simple(Region)),
        _owner_filter(),
        _tag_filter("account_id", "account"),
    ]  # fmt: skip


# --- contacts ----------------------------------------------------------------------------


def _contact_accounts(contact: Contact) -> list[str]:
    out = []
    for membership in contact.memberships.all():
        roles = ", ".join(r.name for r in membership.roles.all())
        out.append(f"{membership.account.name} ({roles})" if roles else membership.account.name)
    return out


def contact_columns() -> list[Column]:
    return [
        Column("name", _("Name"), value=str, order="last_name", link="accounts:contact",
               always=True, default=True),
        Column("accounts", _("Accounts and roles"), value=_contact_accounts, fmt=LIST,
               default=True),
        Column("job_title", _("Job title"), attr="job_title", order="job_title", default=True),
        Column("email", _("Email"), attr="email", order="email", default=True),
        Column("phone", _("Phone"), attr="phone", order="phone", default=True),
        Column("mobile", _("Mobile"), attr="mobile", order="mobile"),
        Column("owner", _("Owner"), attr="owner", order="owner__first_name", default=True),
        Column("tags", _("Tags"), value=_tag_names, fmt=LIST, prefetch=(_tags_prefetch(),)),
        Column("language", _("Language"), attr="language", order="language"),
        Column("created_at", _("Created"), attr="created_at", fmt=DATE, order="created_at"),
        Column("updated_at", _("Last change"), attr="updated_at", fmt=DATE, order="updated_at"),
    ]  # fmt: skip


def _contact_account(qs: QuerySet[Any], value: str, user: User) -> QuerySet[Any]:
    links = AccountContact.objects.all()
    if value.isdigit() and len(value) < 18:
        links = links.filter(account_id=int(value))
    else:
        links = links.filter(account__name__icontains=value)
    return qs.filter(pk__in=links.values("contact_id"))


def _contact_roles(qs: QuerySet[Any], ids: list[Any], user: User) -> QuerySet[Any]:
    links = AccountContact.objects.filter(roles__in=ids).values("contact_id")
    return qs.filter(pk__in=links)


def contact_filters() -> list[Filter]:
    return [
        TextFilter(key="account", label=_("Account"), apply_fn=_contact_account),
        ChoiceFilter(key="role", label=_("Role"), option_source=_simple(ContactRole),
                     apply_fn=_contact_roles),
        _owner_filter(),
        _tag_filter("contact_id", "contact"),
    ]  # fmt: skip


# --- activities --------------------------------------------------------------------------

DONE, OPEN, OVERDUE = "done", "open", "overdue"
STATES = [(OPEN, _("Open")), (OVERDUE, _("Overdue")), (DONE, _("Done"))]


def _when(act: Activity) -> Any:
    return act.starts_at or act.due_on


def _state(act: Activity) -> str:
    if act.done_at is not None:
        return DONE
    today = clock.today()
    if act.due_on is not None:
        return OVERDUE if act.due_on < today else OPEN
    end = act.ends_at or act.starts_at
    return OVERDUE if end is not None and end < clock.now() else OPEN


def _state_label(act: Activity) -> str:
    return str(dict(STATES)[_state(act)])


def _state_badge(act: Activity) -> str:
    return {DONE: "won", OVERDUE: "lost"}.get(_state(act), "")


def activity_columns() -> list[Column]:
    when = Coalesce(TruncDate("starts_at"), F("due_on"))
    return [
        Column("subject", _("Subject"), attr="subject", order="subject",
               link="activities:detail", always=True, default=True),
        Column("type", _("Type"), attr="activity_type.name", fmt=BADGE,
               order="activity_type__order", default=True,
               colour=lambda a: a.activity_type.colour),
        Column("when", _("When"), value=_when, fmt=DATETIME, order=when, default=True),
        Column("state", _("Status"), value=_state_label, fmt=BADGE, badge=_state_badge,
               order="done_at", default=True),
        Column("owner", _("Assigned to"), attr="owner", order="owner__first_name", default=True),
        Column("account", _("Account"), attr="account.name", order="account__name",
               link="accounts:detail", link_attr="account_id", default=True),
        Column("opportunity", _("Deal"), attr="opportunity.name", order="opportunity__name",
               link="pipeline:detail", link_attr="opportunity_id", default=True),
        Column("duration", _("Time spent (min)"), attr="duration_minutes", fmt=NUMBER,
               order="duration_minutes"),
        Column("outcome", _("Outcome"), attr="outcome", order="outcome"),
        Column("assigned_by", _("Assigned by"), attr="assigned_by",
               order="assigned_by__first_name"),
        Column("done_at", _("Done at"), attr="done_at", fmt=DATETIME, order="done_at"),
        Column("minutes_sent", _("Minutes sent"), value=lambda a: a.minutes_sent_at is not None,
               fmt=BOOL, order="minutes_sent_at"),
        Column("created_at", _("Created"), attr="created_at", fmt=DATE, order="created_at"),
    ]  # fmt: skip


def _activity_state(qs: QuerySet[Any], values: list[Any], user: User) -> QuerySet[Any]:
    condition = Q()
    if DONE in values:
        condition |= Q(done_at__isnull=False)
    if OVERDUE in values:
        condition |= Q(pk__in=overdue_for(user).order_by().values("pk"))
    if OPEN in values:
        condition |= Q(done_at__isnull=True)
    return qs.filter(condition)


def _activity_dates(qs: QuerySet[Any], low: Any, high: Any) -> QuerySet[Any]:
    timed = Q(starts_at__isnull=False)
    dated = Q(starts_at__isnull=True)
    if low is not None:
        timed &= Q(starts_at__date__gte=low)
        dated &= Q(due_on__gte=low)
    if high is not None:
        timed &= Q(starts_at__date__lte=high)
        dated &= Q(due_on__lte=high)
    return qs.filter(timed | dated)


def activity_filters() -> list[Filter]:
    return [
        ChoiceFilter(key="type", label=_("Type"), lookup="activity_type_id",
                     option_source=_simple(ActivityType)),
        _owner_filter(),
        ChoiceFilter(key="state", label=_("Status"), choices=STATES, apply_fn=_activity_state),
        RangeFilter(key="date", label=_("Date"), kind=DATE, apply_fn=_activity_dates),
    ]  # fmt: skip


# --- leads -------------------------------------------------------------------------------


def _lead_base(user: User) -> QuerySet[Any]:
    from salescope.leads.selectors import leads_for

    return leads_for(user)


def lead_columns() -> list[Column]:
    from salescope.leads.models import LeadStatus

    return [
        Column("name", _("Name"), value=str, order="last_name", always=True, default=True),
        Column("company", _("Company"), attr="company", order="company", default=True),
        Column("email", _("Email"), attr="email", order="email", default=True),
        Column("phone", _("Phone"), attr="phone", order="phone"),
        Column("status", _("Status"), attr="status", value=lambda lead: _labels(
            LeadStatus.choices)(lead.status), order="status", fmt=BADGE, default=True),
        Column("score", _("Score"), attr="score", order="score", fmt=NUMBER, default=True),
        Column("source", _("Source"), attr="source", order="source__name", default=True),
        Column("campaign", _("Campaign"), attr="campaign", order="campaign__name",
               default=True),
        Column("owner", _("Owner"), attr="owner", order="owner__first_name", default=True),
        Column("created_at", _("Created"), attr="created_at", fmt=DATE, order="created_at",
               default=True),
        Column("updated_at", _("Last change"), attr="updated_at", fmt=DATE, order="updated_at"),
    ]  # fmt: skip


def lead_filters() -> list[Filter]:
    from salescope.leads.models import Campaign, LeadStatus

    return [
        ChoiceFilter(key="status", label=_("Status"), lookup="status",
                     choices=LeadStatus.choices, integer=False),
        _owner_filter(),
        ChoiceFilter(key="source", label=_("Source"), lookup="source_id",
                     option_source=_simple(Source)),
        ChoiceFilter(key="campaign", label=_("Campaign"), lookup="campaign_id",
                     option_source=_simple(Campaign)),
        RangeFilter(key="score", label=_("Score"), lookup="score", kind=NUMBER),
    ]  # fmt: skip


# --- the registry ------------------------------------------------------------------------

LISTS: dict[str, ListSpec] = {
    "deals": ListSpec(
        key="deals",
        title=_("Deals"),
        record_name=_("deals"),
        base=opportunities_for,
        columns=deal_columns,
        filters=deal_filters,
        search=("name", "account__name", "next_step"),
        default_sort="expected_close",
        custom_target=Target.OPPORTUNITY,
        create_url="pipeline:create",
        create_label=_("New deal"),
        bulk_actions=(REASSIGN,),
    ),
    "accounts": ListSpec(
        key="accounts",
        title=_("Accounts"),
        record_name=_("accounts"),
        base=accounts_for,
        columns=account_columns,
        filters=account_filters,
        search=("name", "city", "domain", "phone"),
        default_sort="name",
        custom_target=Target.ACCOUNT,
        create_url="accounts:create",
        create_label=_("New account"),
        bulk_actions=(REASSIGN, ADD_TAG, REMOVE_TAG),
    ),
    "contacts": ListSpec(
        key="contacts",
        title=_("Contacts"),
        record_name=_("contacts"),
        base=contacts_for,
        columns=contact_columns,
        filters=contact_filters,
        search=("first_name", "last_name", "email", "phone", "mobile", "job_title"),
        default_sort="name",
        custom_target=Target.CONTACT,
        create_url="accounts:contact_create",
        create_label=_("New contact"),
        bulk_actions=(REASSIGN, ADD_TAG, REMOVE_TAG),
    ),
    "activities": ListSpec(
        key="activities",
        title=_("Activities"),
        record_name=_("activities"),
        base=activities_for,
        columns=activity_columns,
        filters=activity_filters,
        search=("subject", "account__name", "opportunity__name"),
        default_sort="-when",
        bulk_actions=(REASSIGN,),
    ),
    "leads": ListSpec(
        key="leads",
        title=_("Leads"),
        record_name=_("leads"),
        base=_lead_base,
        columns=lead_columns,
        filters=lead_filters,
        search=("first_name", "last_name", "company", "email", "phone"),
        default_sort="-created_at",
    ),
}
