"""Reads about accounts and contacts. Callers pass the user; visibility is applied here."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.accounts.services import domain_from, normalize_name
from salescope.org.models import User
from salescope.visibility import visible_accounts, visible_contacts

# Mail providers whose domain says nothing about the company a person works for.
FREE_MAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.de yahoo.fr yahoo.co.uk hotmail.com hotmail.de
    hotmail.fr hotmail.nl hotmail.co.uk outlook.com outlook.de outlook.fr live.com live.de
    live.fr live.nl msn.com icloud.com me.com mac.com aol.com gmx.de gmx.net gmx.at gmx.ch
    web.de t-online.de freenet.de posteo.de mailbox.org orange.fr wanadoo.fr free.fr sfr.fr
    laposte.net bluewin.ch ziggo.nl kpnmail.nl planet.nl home.nl telenet.be skynet.be
    proton.me protonmail.com mail.com""".split()  # noqa: SIM905
)


def _current_first() -> Any:
    """Links without an end date (people still there) first, then the most recent leavers."""
    return F("until").desc(nulls_first=True)


def _memberships() -> Prefetch:
    return Prefetch(
        "memberships",
        queryset=AccountContact.objects.select_related("account").prefetch_related("roles"),
    )


def accounts_for(user: User) -> QuerySet[Account]:
    """The accounts ``user`` sees, with the relations lists show."""
    return visible_accounts(user, Account.objects.all()).select_related(
        "status", "tier", "account_type", "industry", "region", "owner", "parent"
    )


def contacts_for(user: User) -> QuerySet[Contact]:
    """The contacts ``user`` sees, with their accounts and roles there (D4)."""
    return (
        visible_contacts(user, Contact.objects.all())
        .select_related("owner")
        .prefetch_related(_memberships())
    )


def account_contacts(account: Account) -> QuerySet[AccountContact]:
    """The contacts at ``account`` with their roles, primary contact first, leavers last."""
    return (
        AccountContact.objects.filter(account=account)
        .select_related("contact", "contact__owner")
        .prefetch_related("roles")
        .order_by(
            _current_first(), "-is_primary", "contact__last_name", "contact__first_name", "pk"
        )
    )


def contact_accounts(contact: Contact) -> QuerySet[AccountContact]:
    """The accounts ``contact`` is placed at, with their roles there."""
    return (
        AccountContact.objects.filter(contact=contact)
        .select_related("account")
        .prefetch_related("roles")
        .order_by(_current_first(), "-is_primary", "account__name", "pk")
    )


def _clean(value: str | None) -> str:
    """Search input as text the database accepts (PostgreSQL refuses NUL characters)."""
    return str(value or "").replace("\x00", "").strip()


def find_duplicate_accounts(
    *, name: str = "", domain: str = "", exclude: Account | None = None, user: User | None = None
) -> QuerySet[Account]:
    """Accounts that may be the same company (D6): same normalised name or same domain.

    ``domain`` may also be a website or an e-mail address; free-mail domains never match.
    ``user`` restricts the result to what they see; ``exclude`` leaves out a record.
    """
    condition = Q()
    normalized = normalize_name(name)
    if normalized:
        condition |= Q(normalized_name=normalized[:200])
    host = domain_from(_clean(domain))
    if host and host not in FREE_MAIL_DOMAINS:
        condition |= Q(domain__iexact=host)
    if not condition:
        return Account.objects.none()
    qs = Account.objects.filter(condition)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if user is not None:
        qs = visible_accounts(user, qs)
    return qs.select_related("owner", "status").order_by("name", "pk")


def find_duplicate_contacts(
    *,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    exclude: Contact | None = None,
    user: User | None = None,
) -> QuerySet[Contact]:
    """Contacts that may be the same person (D6): same e-mail (any case), or same first and
    last name (any case; both are needed for a name match)."""
    condition = Q()
    email = _clean(email)
    if email:
        condition |= Q(email__iexact=email)
    first, last = _clean(first_name), _clean(last_name)
    if first and last:
        condition |= Q(first_name__iexact=first, last_name__iexact=last)
    if not condition:
        return Contact.objects.none()
    qs = Contact.objects.filter(condition)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    if user is not None:
        qs = visible_contacts(user, qs)
    return qs.select_related("owner").order_by("last_name", "first_name", "pk")
