"""Reads about accounts and contacts. Callers pass the user; visibility is applied here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce

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


# --- the account page (D5) -----------------------------------------------------------------


def account_deals(user: User, account: Account) -> QuerySet[Any]:
    """The deals on ``account`` that ``user`` sees, open ones first, newest first."""
    from salescope.pipeline.selectors import opportunities_for

    return opportunities_for(user).filter(account=account).order_by("closed_on", "-created_at")


def contact_deals(user: User, contact: Contact) -> QuerySet[Any]:
    from salescope.pipeline.selectors import opportunities_for

    return opportunities_for(user).filter(contacts=contact).order_by("closed_on", "-created_at")


@dataclass
class AccountFigures:
    """Key figures of an account over the deals the viewer sees; money per currency."""

    open_count: int = 0
    open_amount: dict[str, Decimal] = field(default_factory=dict)
    weighted: dict[str, Decimal] = field(default_factory=dict)
    won_this_year: dict[str, Decimal] = field(default_factory=dict)
    won_count: int = 0
    lost_count: int = 0
    last_activity: dt.date | None = None


def account_figures(user: User, account: Account, *, today: dt.date) -> AccountFigures:
    """Open pipeline (amount and weighted, per currency), won revenue this year, deals
    won and lost, and the day of the last activity (done, or held) on the account."""
    from salescope.activities.selectors import activities_for
    from salescope.pipeline.models import Opportunity
    from salescope.visibility import visible_opportunities

    figures = AccountFigures()
    deals = visible_opportunities(user, Opportunity.objects.filter(account=account))
    weighted = ExpressionWrapper(
        F("amount") * F("probability") / 100,
        output_field=DecimalField(max_digits=20, decimal_places=4),
    )
    for row in (
        deals.filter(outcome="open")
        .values("currency_id")
        .annotate(n=Count("pk"), total=Sum("amount"), weighted=Sum(weighted))
        .order_by("currency_id")
    ):
        figures.open_count += row["n"]
        figures.open_amount[row["currency_id"]] = row["total"]
        figures.weighted[row["currency_id"]] = Decimal(row["weighted"]).quantize(Decimal("0.01"))
    for won in (
        deals.filter(outcome="won", closed_on__year=today.year)
        .values("currency_id")
        .annotate(total=Sum("amount"))
        .order_by("currency_id")
    ):
        figures.won_this_year[won["currency_id"]] = won["total"]
    counts = deals.aggregate(
        won=Count("pk", filter=Q(outcome="won")), lost=Count("pk", filter=Q(outcome="lost"))
    )
    figures.won_count, figures.lost_count = counts["won"], counts["lost"]
    activities = activities_for(user).filter(Q(account=account) | Q(opportunity__account=account))
    held = activities.filter(
        Q(done_at__isnull=False) | Q(starts_at__lte=dt.datetime.combine(today, dt.time.max, dt.UTC))
    )
    last = held.aggregate(at=Max(Coalesce("done_at", "starts_at")))["at"]
    if last is not None:
        from django.utils import timezone

        figures.last_activity = timezone.localtime(last).date()
    return figures


# --- the unified timeline ------------------------------------------------------------------

#: Sources of timeline entries, in the order they break ties of equal time.
TIMELINE_KINDS = ("change", "activity", "comment", "file")
#: Event kinds shown on the timeline (the others are details of these).
TIMELINE_EVENT_KINDS = (
    "created", "name", "stage", "account", "owner", "amount", "currency", "probability",
    "expected_close", "forecast_category", "next_step", "outcome", "lost_reason",
)  # fmt: skip


@dataclass
class TimelineEntry:
    kind: str  # one of TIMELINE_KINDS
    at: dt.datetime
    pk: int
    obj: Any
    events: list[Any] = field(default_factory=list)  # changes of one action

    @property
    def cursor(self) -> str:
        return f"{self.at.isoformat()}|{TIMELINE_KINDS.index(self.kind)}|{self.pk}"


@dataclass
class TimelinePage:
    entries: list[TimelineEntry]
    next_cursor: str | None
    users: dict[int, Any]
    stages: dict[int, Any]


def parse_cursor(value: str | None) -> tuple[dt.datetime, int, int] | None:
    """``"<iso time>|<kind rank>|<id>"`` as made by :attr:`TimelineEntry.cursor`, or None."""
    try:
        at, rank, pk = str(value or "").split("|")
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None:
            return None
        return moment, int(rank), int(pk)
    except ValueError:
        return None


def _after_cursor(ts: str, rank: int, cursor: tuple[dt.datetime, int, int] | None) -> Q:
    """Rows that come after ``cursor`` in the order (time, kind rank, id), newest first."""
    if cursor is None:
        return Q()
    at, c_rank, c_pk = cursor
    if rank < c_rank:
        return Q(**{f"{ts}__lte": at})
    if rank > c_rank:
        return Q(**{f"{ts}__lt": at})
    return Q(**{f"{ts}__lt": at}) | Q(**{ts: at, "pk__lt": c_pk})


def account_timeline(
    user: User,
    account: Account,
    *,
    kinds: tuple[str, ...] = TIMELINE_KINDS,
    cursor: str | None = None,
    limit: int = 40,
) -> TimelinePage:
    """One timeline across the account, newest first: the changes of the deals on it that
    ``user`` sees, the activities on it or on those deals, and the comments and files on
    it or on those deals. ``limit`` entries per page (changes of one action are one entry);
    the page's ``next_cursor`` asks for the next one. A fixed number of queries per page."""
    from salescope.activities.models import Attachment, Comment
    from salescope.activities.selectors import activities_for
    from salescope.org.models import User as UserModel
    from salescope.pipeline.models import Opportunity, OpportunityEvent, Stage
    from salescope.visibility import visible_opportunities

    position = parse_cursor(cursor)
    deal_ids = visible_opportunities(user, Opportunity.objects.filter(account=account)).values("pk")
    rows: list[TimelineEntry] = []
    if "change" in kinds:
        events = (
            OpportunityEvent.objects.filter(
                _after_cursor("occurred_at", 0, position),
                opportunity__in=deal_ids,
                kind__in=TIMELINE_EVENT_KINDS,
            )
            .select_related("actor", "opportunity__currency", "from_stage", "to_stage")
            .order_by("-occurred_at", "-pk")[: limit * 4]
        )
        grouped: dict[Any, TimelineEntry] = {}
        for event in events:
            entry = grouped.get(event.action_id)
            if entry is None:
                entry = grouped[event.action_id] = TimelineEntry(
                    "change", event.occurred_at, event.pk, event.opportunity
                )
                rows.append(entry)
            entry.events.append(event)
            entry.pk = min(entry.pk, event.pk)
    if "activity" in kinds:
        ts = Coalesce("done_at", "starts_at", "created_at", output_field=DateTimeField())
        activities = (
            activities_for(user)
            .filter(Q(account=account) | Q(opportunity__in=deal_ids))
            .annotate(ts=ts)
            .filter(_after_cursor("ts", 1, position))
            .order_by("-ts", "-pk")[:limit]
        )
        rows.extend(TimelineEntry("activity", a.ts, a.pk, a) for a in activities)
    on_account = Q(account=account) | Q(opportunity__in=deal_ids)
    if "comment" in kinds:
        comments = (
            Comment.objects.filter(on_account, _after_cursor("created_at", 2, position))
            .select_related("author", "opportunity")
            .order_by("-created_at", "-pk")[:limit]
        )
        rows.extend(TimelineEntry("comment", c.created_at, c.pk, c) for c in comments)
    if "file" in kinds:
        files = (
            Attachment.objects.filter(on_account, _after_cursor("uploaded_at", 3, position))
            .select_related("uploaded_by", "opportunity")
            .order_by("-uploaded_at", "-pk")[:limit]
        )
        rows.extend(TimelineEntry("file", f.uploaded_at, f.pk, f) for f in files)

    def key(e: TimelineEntry) -> tuple[dt.datetime, int, int]:
        return (e.at, TIMELINE_KINDS.index(e.kind), e.pk)

    rows.sort(key=key, reverse=True)
    more = False
    if "change" in kinds and sum(len(e.events) for e in rows) >= limit * 4:
        # The change rows were capped: the oldest action fetched may be incomplete, so it
        # and everything older wait for the next page.
        cut = key(min((e for e in rows if e.kind == "change"), key=key))
        kept = [e for e in rows if key(e) > cut]
        more = len(kept) < len(rows)
        rows = kept
    page = rows[:limit]
    more = more or len(rows) > limit
    next_cursor = page[-1].cursor if more and page else None

    user_ids: set[int] = set()
    stage_ids: set[int] = set()
    for entry in page:
        for event in entry.events:
            if event.kind == "owner":
                user_ids.update(v for v in (event.old_value, event.new_value) if v)
            if event.kind == "created" and isinstance(event.new_value, dict):
                user_ids.add(event.new_value.get("owner") or 0)
                stage_ids.add(event.new_value.get("stage") or 0)
    users = {u.pk: u for u in UserModel.objects.filter(pk__in=user_ids)} if user_ids else {}
    stages = {s.pk: s for s in Stage.objects.filter(pk__in=stage_ids)} if stage_ids else {}
    return TimelinePage(page, next_cursor, users, stages)
