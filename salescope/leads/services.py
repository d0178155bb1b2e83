"""Every write of the leads app: leads and campaigns.

Each use case is one transaction with keyword-only arguments. All input is checked before
anything is written and every bad value is reported at once, keyed by field name. Updates
take the version the caller loaded (``expected_version``) and raise ``ConflictError`` when
someone saved in between. ``actor=None`` means the system (imports, automation) and skips
the permission checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from salescope.accounts.services import (
    FieldErrors,
    check_email,
    check_option,
    check_owner,
    check_phone,
    check_text,
)
from salescope.core import clock
from salescope.core.concurrency import check_version
from salescope.core.errors import (
    PermissionDenied,
    ValidationError,
    check_date_in_range,
    field_error,
    field_label,
)
from salescope.core.money import parse_amount
from salescope.leads.models import Campaign, CampaignChannel, Lead, LeadStatus
from salescope.leads.selectors import SEES_ALL_LEADS, can_change_lead
from salescope.org.models import Currency, Role, User
from salescope.pipeline.models import Source
from salescope.visibility import require_writer

MAX_NAME = 100
MAX_COMPANY = 200
MAX_CAMPAIGN_NAME = 200
MAX_NOTES = 50_000
MIN_SCORE = -10_000
MAX_SCORE = 10_000
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)

LEAD_FIELDS = frozenset(
    {"first_name", "last_name", "company", "email", "phone", "source", "campaign", "status",
     "owner", "score", "notes"}
)  # fmt: skip
CAMPAIGN_FIELDS = frozenset({"name", "channel", "cost", "currency", "starts_on", "ends_on"})


# --- checks --------------------------------------------------------------------------------


def check_score(value: Any, field: str = "score") -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(
            field,
            _("%(field)s must be a whole number (got %(value)r).")
            % {"field": field_label(field), "value": value},
        )
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise field_error(
            field,
            _("%(field)s must be between %(min)s and %(max)s (got %(value)s).")
            % {"field": field_label(field), "min": MIN_SCORE, "max": MAX_SCORE, "value": value},
        )
    return value


def check_choice(field: str, value: Any, choices: Any) -> str:
    if value not in choices.values:
        raise field_error(
            field,
            _("%(field)s: %(value)r is not one of %(choices)s.")
            % {
                "field": field_label(field),
                "value": value,
                "choices": ", ".join(choices.values),
            },
        )
    return str(value)


def _check_record(field: str, value: Any, model: type[Any]) -> Any:
    """``None`` or a saved instance of ``model`` that still exists."""
    if value is None:
        return None
    if not isinstance(value, model) or value.pk is None:
        raise field_error(
            field,
            _("%(field)s must be a saved %(name)s (got %(value)r).")
            % {"field": field_label(field), "name": model._meta.verbose_name, "value": value},
        )
    if not model._default_manager.filter(pk=value.pk).exists():
        raise field_error(
            field,
            _("%(field)s: %(name)s “%(value)s” no longer exists.")
            % {"field": field_label(field), "name": model._meta.verbose_name, "value": value},
        )
    return value


def _assigns_anyone(actor: User | None) -> bool:
    return actor is None or actor.is_superuser or actor.role in {Role.ADMIN, *SEES_ALL_LEADS}


def _unknown_fields(changes: Mapping[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValidationError(
            {
                k: _("%(field)s is not a field of %(what)s that can be changed here.")
                % {"field": field_label(k), "what": what}
                for k in unknown
            }
        )


def _clean_lead(
    data: Mapping[str, Any], *, actor: User | None, current: Lead | None, errors: FieldErrors
) -> dict[str, Any]:
    """Check the given lead fields; returns the clean values of those that passed."""
    out: dict[str, Any] = {}
    texts = {"first_name": MAX_NAME, "last_name": MAX_NAME, "company": MAX_COMPANY,
             "notes": MAX_NOTES}  # fmt: skip
    for field, value in data.items():
        if field in texts:
            out[field] = errors.check(
                field, check_text, field, value, texts[field], required=field == "last_name"
            )
        elif field == "email":
            out[field] = errors.check(field, check_email, value)
        elif field == "phone":
            out[field] = errors.check(field, check_phone, value)
        elif field == "score":
            out[field] = errors.check(field, check_score, value)
        elif field == "status":
            out[field] = errors.check(field, check_choice, field, value, LeadStatus)
        elif field == "source":
            out[field] = errors.check(
                field,
                check_option,
                field,
                value,
                Source,
                current_id=current.source_id if current else None,
            )
        elif field == "campaign":
            out[field] = errors.check(field, _check_record, field, value, Campaign)
        elif field == "owner":
            out[field] = _clean_owner(value, actor=actor, current=current, errors=errors)
    return {k: v for k, v in out.items() if not (v is None and k not in _NULLABLE)}


_NULLABLE = {"source", "campaign", "owner"}


def _clean_owner(
    value: Any, *, actor: User | None, current: Lead | None, errors: FieldErrors
) -> User | None:
    current_id = current.owner_id if current else None
    if value is None:
        if not _assigns_anyone(actor):
            errors.add(
                "owner",
                _("%(field)s: only managers, marketing and admins can leave a lead unassigned.")
                % {"field": field_label("owner")},
            )
        return None
    owner = errors.check("owner", check_owner, value, current_id=current_id)
    if owner is None:
        return None
    if not _assigns_anyone(actor) and actor is not None and owner.pk not in (actor.pk, current_id):
        errors.add(
            "owner",
            _("%(field)s: you can only assign leads to yourself, not to %(user)s.")
            % {"field": field_label("owner"), "user": owner},
        )
    return owner


# --- leads ---------------------------------------------------------------------------------


@transaction.atomic
def create_lead(
    *,
    actor: User | None,
    last_name: str,
    first_name: str = "",
    company: str = "",
    email: str = "",
    phone: str = "",
    source: Source | None = None,
    campaign: Campaign | None = None,
    status: str = LeadStatus.NEW,
    owner: User | None = None,
    score: int = 0,
    notes: str = "",
) -> Lead:
    """Create a lead; the owner defaults to the actor (a rep always owns what they create)."""
    require_writer(actor, _("create leads"))
    errors = FieldErrors()
    data = {
        "first_name": first_name, "last_name": last_name, "company": company, "email": email,
        "phone": phone, "source": source, "campaign": campaign, "status": status,
        "owner": owner or actor, "score": score, "notes": notes,
    }  # fmt: skip
    values = _clean_lead(data, actor=actor, current=None, errors=errors)
    errors.raise_if_any()

    now = clock.now()
    lead = Lead(created_at=now, updated_at=now, created_by=actor, updated_by=actor, **values)
    lead.save()
    return lead


@transaction.atomic
def update_lead(
    *, lead: Lead, actor: User | None, expected_version: int | None = None, **changes: Any
) -> Lead:
    """Change the given fields of a lead; unknown fields are refused by name."""
    _unknown_fields(changes, LEAD_FIELDS, _("a lead"))
    current = (
        Lead.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=lead.pk)
    )
    if actor is not None:
        require_writer(actor, _("change leads"))
        if not can_change_lead(actor, current):
            raise PermissionDenied(
                _("%(user)s may not change the lead “%(lead)s”.") % {"user": actor, "lead": current}
            )
    check_version(current, expected_version)
    errors = FieldErrors()
    values = _clean_lead(changes, actor=actor, current=current, errors=errors)
    errors.raise_if_any()

    changed = False
    for field, value in values.items():
        attr = f"{field}_id" if field in _NULLABLE else field
        new = value.pk if field in _NULLABLE and value is not None else value
        if getattr(current, attr) != new:
            setattr(current, field, value)
            changed = True
    if changed:
        current.version += 1
        current.updated_at = clock.now()
        current.updated_by = actor
        current.save()
    return current


# --- campaigns -----------------------------------------------------------------------------


def _require_campaign_manager(actor: User | None) -> None:
    if actor is None:
        return
    require_writer(actor, _("manage campaigns"))
    if not (actor.is_superuser or actor.role in {Role.ADMIN, Role.MARKETING}):
        raise PermissionDenied(_("Only marketing and admins manage campaigns."))


def _clean_campaign(
    data: Mapping[str, Any], *, current: Campaign | None, errors: FieldErrors
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field == "name":
            name = errors.check(field, check_text, field, value, MAX_CAMPAIGN_NAME, required=True)
            same = Campaign.objects.filter(name__iexact=name)
            if current is not None:
                same = same.exclude(pk=current.pk)
            if name and same.exists():
                errors.add(field, _("A campaign named “%(name)s” already exists.") % {"name": name})
            out[field] = name
        elif field == "channel":
            out[field] = errors.check(field, check_choice, field, value, CampaignChannel)
        elif field == "cost":
            out[field] = errors.check(field, parse_amount, value, field=field)
        elif field == "currency":
            out[field] = errors.check(field, _check_record, field, value, Currency)
            if value is None:
                errors.add(field, _("%(field)s is required.") % {"field": field_label(field)})
        elif field in ("starts_on", "ends_on"):
            out[field] = (
                None
                if value is None
                else errors.check(
                    field, check_date_in_range, field, value, earliest=MIN_DATE, latest=MAX_DATE
                )
            )
    return out


def _check_period(values: Mapping[str, Any], current: Campaign | None, errors: FieldErrors) -> None:
    starts = values.get("starts_on", current.starts_on if current else None)
    ends = values.get("ends_on", current.ends_on if current else None)
    if starts and ends and ends < starts:
        errors.add(
            "ends_on",
            _("%(field)s is before the start (%(start)s).")
            % {"field": field_label("ends_on"), "start": starts.isoformat()},
        )


@transaction.atomic
def create_campaign(
    *,
    actor: User | None,
    name: str,
    currency: Currency,
    channel: str = CampaignChannel.OTHER,
    cost: Decimal | str = Decimal("0"),
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Campaign:
    _require_campaign_manager(actor)
    errors = FieldErrors()
    data = {"name": name, "channel": channel, "cost": cost, "currency": currency,
            "starts_on": starts_on, "ends_on": ends_on}  # fmt: skip
    values = _clean_campaign(data, current=None, errors=errors)
    _check_period(values, None, errors)
    errors.raise_if_any()
    return Campaign.objects.create(**values)


@transaction.atomic
def update_campaign(*, campaign: Campaign, actor: User | None, **changes: Any) -> Campaign:
    _unknown_fields(changes, CAMPAIGN_FIELDS, _("a campaign"))
    _require_campaign_manager(actor)
    current = Campaign.objects.select_for_update().get(pk=campaign.pk)
    errors = FieldErrors()
    values = _clean_campaign(changes, current=current, errors=errors)
    _check_period(values, current, errors)
    errors.raise_if_any()
    for field, value in values.items():
        setattr(current, field, value)
    current.save()
    return current
