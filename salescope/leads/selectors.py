"""Reads of the leads app, filtered by who may see which lead.

Admins, read-only users, managers and marketing see every lead (marketing generates them,
managers distribute them); reps see the leads they own.
"""

from __future__ import annotations

from django.db.models import QuerySet

from salescope.leads.models import Campaign, Lead
from salescope.org.models import Role, User
from salescope.visibility import sees_everything

SEES_ALL_LEADS = {Role.MANAGER, Role.MARKETING}


def sees_all_leads(user: User) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return sees_everything(user) or user.role in SEES_ALL_LEADS


def visible_leads(user: User, qs: QuerySet[Lead] | None = None) -> QuerySet[Lead]:
    qs = Lead.objects.all() if qs is None else qs
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if sees_all_leads(user):
        return qs
    return qs.filter(owner=user)


def leads_for(user: User) -> QuerySet[Lead]:
    """The leads ``user`` sees, newest first, with what a list shows."""
    return visible_leads(user).select_related("owner", "source", "campaign")


def can_view_lead(user: User, lead: Lead) -> bool:
    return visible_leads(user).filter(pk=lead.pk).exists()


def can_change_lead(user: User, lead: Lead) -> bool:
    """Read-only users change nothing; reps change their own leads; the others every lead."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.READ_ONLY and not user.is_superuser:
        return False
    if user.is_superuser or user.role in {Role.ADMIN, *SEES_ALL_LEADS}:
        return True
    return lead.owner_id == user.pk


def campaigns() -> QuerySet[Campaign]:
    """Campaigns are company-wide reference data: everyone sees them."""
    return Campaign.objects.select_related("currency")
