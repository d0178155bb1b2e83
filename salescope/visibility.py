"""Who sees what, and who may change what (S1). The one place that defines it.

Every list, KPI, API endpoint and export filters its queryset through these functions.

=============  ============================================================================
Role           Sees
=============  ============================================================================
admin          everything
read-only      everything (and may change nothing)
manager        what the members of the teams they manage own, plus what a rep sees
marketing      every account and contact (campaigns) and the activities on them;
               opportunities like a rep
rep            what they own, what is shared with them, accounts and contacts of the
               opportunities they own, activities assigned to them or on what they see
=============  ============================================================================

Changing a record needs it to be visible; reps and marketing change what they own or what
is shared with them, managers also what their team owns, admins everything, read-only nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, Q, QuerySet

from salescope.org.models import Role, User

M = TypeVar("M", bound=Model)

SEES_EVERYTHING = {Role.ADMIN, Role.READ_ONLY}


def _owners(user: User) -> Q:
    """Owner ids whose records ``user`` sees by ownership: themself, plus their teams' members."""
    if user.role == Role.MANAGER:
        return Q(pk=user.pk) | Q(team__manager=user)
    return Q(pk=user.pk)


def owner_ids(user: User) -> QuerySet[User]:
    return User.objects.filter(_owners(user)).values("pk")  # type: ignore[return-value]


def sees_everything(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.role in SEES_EVERYTHING)


def _none_if_inactive(user: User, qs: QuerySet[M]) -> QuerySet[M] | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return None


def opportunity_scope(user: User, prefix: str = "") -> Q:
    """The Q selecting opportunities ``user`` sees; ``prefix`` reaches them through a relation."""
    p = prefix
    return Q(**{f"{p}owner__in": owner_ids(user)}) | Q(**{f"{p}shared_with": user})


def visible_opportunities(user: User, qs: QuerySet[M]) -> QuerySet[M]:
    inactive = _none_if_inactive(user, qs)
    if inactive is not None:
        return inactive
    if sees_everything(user):
        return qs
    from salescope.pipeline.models import Opportunity

    ids = Opportunity.objects.filter(opportunity_scope(user)).values("pk")
    return qs.filter(pk__in=ids)


def visible_accounts(user: User, qs: QuerySet[M]) -> QuerySet[M]:
    inactive = _none_if_inactive(user, qs)
    if inactive is not None:
        return inactive
    if sees_everything(user) or user.role == Role.MARKETING:
        return qs
    from salescope.accounts.models import Account
    from salescope.pipeline.models import Opportunity

    deal_accounts = Opportunity.objects.filter(opportunity_scope(user)).values("account_id")
    ids = Account.objects.filter(
        Q(owner__in=owner_ids(user)) | Q(shared_with=user) | Q(pk__in=deal_accounts)
    ).values("pk")
    return qs.filter(pk__in=ids)


def visible_contacts(user: User, qs: QuerySet[M]) -> QuerySet[M]:
    inactive = _none_if_inactive(user, qs)
    if inactive is not None:
        return inactive
    if sees_everything(user) or user.role == Role.MARKETING:
        return qs
    from salescope.accounts.models import Account, AccountContact

    accounts = visible_accounts(user, Account.objects.all()).values("pk")
    via_accounts = AccountContact.objects.filter(account__in=accounts).values("contact_id")
    return qs.filter(Q(owner__in=owner_ids(user)) | Q(pk__in=via_accounts))


def visible_activities(user: User, qs: QuerySet[M]) -> QuerySet[M]:
    inactive = _none_if_inactive(user, qs)
    if inactive is not None:
        return inactive
    if sees_everything(user):
        return qs
    from salescope.accounts.models import Account
    from salescope.activities.models import Activity
    from salescope.pipeline.models import Opportunity

    opps = visible_opportunities(user, Opportunity.objects.all()).values("pk")
    accounts = visible_accounts(user, Account.objects.all()).values("pk")
    # A subquery, not a join + distinct(): grouped counts over the result must stay exact.
    ids = Activity.objects.filter(
        Q(owner__in=owner_ids(user))
        | Q(assigned_by=user)
        | Q(participant_users=user)
        | Q(opportunity__in=opps)
        | Q(account__in=accounts)
    ).values("pk")
    return qs.filter(pk__in=ids)


def can_view(user: User, obj: Any) -> bool:
    model = type(obj)
    return _visible_for_model(user, model._default_manager.filter(pk=obj.pk)).exists()


def _visible_for_model(user: User, qs: QuerySet[Any]) -> QuerySet[Any]:
    label = qs.model._meta.label_lower
    selector = {
        "pipeline.opportunity": visible_opportunities,
        "accounts.account": visible_accounts,
        "accounts.contact": visible_contacts,
        "activities.activity": visible_activities,
    }.get(label)
    if selector is None:
        raise TypeError(f"No visibility rule for {label}")
    return selector(user, qs)


def _changes_by_ownership(user: User, obj: Any) -> bool:
    owner_id = getattr(obj, "owner_id", None)
    if owner_id is not None and owner_ids(user).filter(pk=owner_id).exists():
        return True
    shared = getattr(obj, "shared_with", None)
    return shared is not None and shared.filter(pk=user.pk).exists()


def can_change(user: User, obj: Any) -> bool:
    """May ``user`` change ``obj`` (an opportunity, account, contact or activity)?

    By ownership (own, their team's for managers), by share, and: whoever may change a deal
    or an account may work the activities on it; whoever may change an account may edit
    its contacts; whoever assigned an activity may change it.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.READ_ONLY and not user.is_superuser:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if _changes_by_ownership(user, obj):
        return True
    label = obj._meta.label_lower
    if label == "activities.activity":
        if obj.assigned_by_id == user.pk:
            return True
        return any(
            related is not None and _changes_by_ownership(user, related)
            for related in (obj.opportunity, obj.account)
        )
    if label == "accounts.contact":
        return any(_changes_by_ownership(user, account) for account in obj.accounts.all())
    return False


def require_change(user: User, obj: Any) -> None:
    from salescope.core.errors import PermissionDenied

    if not can_change(user, obj):
        raise PermissionDenied(f"{user} may not change {type(obj)._meta.verbose_name} “{obj}”.")


def require_writer(actor: User | None, what: Any) -> None:
    """Read-only and deactivated users write nothing (``what``: the action, for the message).

    ``None`` is the system itself (imports, generators, the command line).
    """
    from django.utils.translation import gettext as _

    from salescope.core.errors import PermissionDenied

    if actor is None:
        return
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(
            _("%(user)s is deactivated and cannot %(action)s.") % {"user": actor, "action": what}
        )
    if actor.role == Role.READ_ONLY and not actor.is_superuser:
        raise PermissionDenied(
            _("%(user)s has a read-only role and cannot %(action)s.")
            % {"user": actor, "action": what}
        )
