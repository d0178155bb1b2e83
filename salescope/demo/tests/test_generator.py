"""The demo generator: deterministic, realistic, replayable history, constant queries per size.

The company is generated once per module (it takes seconds), three times over: a small run to
count queries, then the test size through ``generate()`` and again through ``salescope seed
--flush``, so determinism is checked on the whole database content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import statistics
from collections import defaultdict
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher, PBKDF2PasswordHasher
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Avg, Count, F, Q, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salescope.accounts.models import Account, AccountContact, Contact
from salescope.activities.models import Activity, ActivityType, Agreement, Comment
from salescope.customfields.models import CustomFieldDefinition
from salescope.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, generate, normalize_name
from salescope.org.models import Role, Team, User
from salescope.pipeline import domain
from salescope.pipeline.models import (
    EventKind,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Pipeline,
    Stage,
)

END = dt.date(2026, 3, 16)
SIZE = 600
SMALL = 200
SEED = 7


def _cutoff() -> dt.datetime:
    """The history ends when ``END`` begins (local time)."""
    return dt.datetime(END.year, END.month, END.day, tzinfo=timezone.get_default_timezone())


def fingerprint() -> str:
    """A digest of the database content that matters, row by row in pk order."""
    digest = hashlib.sha256()
    tables: list[tuple[Any, tuple[str, ...]]] = [
        (
            User,
            ("username", "password", "role", "team_id", "hired_on", "date_joined", "hourly_cost"),
        ),
        (
            Account,
            (
                "name",
                "normalized_name",
                "domain",
                "status_id",
                "tier_id",
                "owner_id",
                "region_id",
                "custom",
                "created_at",
            ),
        ),
        (Contact, ("first_name", "last_name", "email", "owner_id", "created_at")),
        (AccountContact, ("account_id", "contact_id", "is_primary", "since", "until")),
        (
            Opportunity,
            (
                "name",
                "pipeline_id",
                "stage_id",
                "stage_entered_at",
                "account_id",
                "owner_id",
                "amount",
                "currency_id",
                "probability",
                "expected_close",
                "outcome",
                "closed_on",
                "lost_reason_id",
                "custom",
                "version",
                "created_at",
                "updated_at",
            ),
        ),
        (
            OpportunityEvent,
            (
                "opportunity_id",
                "kind",
                "verb",
                "old_value",
                "new_value",
                "actor_id",
                "occurred_at",
                "action_id",
            ),
        ),
        (
            Activity,
            (
                "activity_type_id",
                "subject",
                "account_id",
                "opportunity_id",
                "owner_id",
                "due_on",
                "starts_at",
                "done_at",
                "duration_minutes",
                "discussion",
            ),
        ),
        (Agreement, ("activity_id", "text", "owner_id", "due_on", "done")),
        (Comment, ("opportunity_id", "author_id", "body", "created_at")),
    ]
    for model, fields in tables:
        for row in model.objects.order_by("pk").values_list("pk", *fields).iterator():
            digest.update(repr(row).encode())
    for through in (
        Opportunity.products.through,
        Opportunity.contacts.through,
        Activity.contacts.through,
        Activity.participant_users.through,
        Account.tags.through,
    ):
        for row in through.objects.order_by("pk").values_list().iterator():
            digest.update(repr(row).encode())
    return digest.hexdigest()


@dataclass
class World:
    counts: dict[str, int]
    fingerprint: str
    seed_command_fingerprint: str
    seed_command_output: str
    queries_small: list[str]
    queries_big: list[str]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Any:
    # The generator refuses a database with data in it, so nothing of other tests is flushed
    # away silently; the module flushes what it made when done.
    with django_db_blocker.unblock():
        with CaptureQueriesContext(connection) as small:
            generate(opportunities=SMALL, seed=SEED, end=END)
        call_command("flush", interactive=False, verbosity=0)
        with CaptureQueriesContext(connection) as big:
            counts = generate(opportunities=SIZE, seed=SEED, end=END)
        first = fingerprint()
        out = StringIO()
        call_command(
            "seed",
            "--opportunities",
            str(SIZE),
            "--seed",
            str(SEED),
            "--end",
            END.isoformat(),
            "--flush",
            stdout=out,
        )
        yield World(
            counts=counts,
            fingerprint=first,
            seed_command_fingerprint=fingerprint(),
            seed_command_output=out.getvalue(),
            queries_small=[q["sql"] for q in small.captured_queries],
            queries_big=[q["sql"] for q in big.captured_queries],
        )
        call_command("flush", interactive=False, verbosity=0)


pytestmark = pytest.mark.django_db


# --- determinism and size -------------------------------------------------------------------


def test_same_seed_and_end_give_the_same_database(world: World) -> None:
    assert world.seed_command_fingerprint == world.fingerprint


def test_a_different_seed_gives_a_different_company(world: World) -> None:
    from salescope.demo.generator import _Generator

    one = _Generator(opportunities=100, seed=1, end=END, progress=None, chunk_size=50)
    two = _Generator(opportunities=100, seed=2, end=END, progress=None, chunk_size=50)
    assert list(one.creation_days()) != list(two.creation_days())


def test_counts_follow_the_size(world: World) -> None:
    counts = world.counts
    assert counts["opportunities"] == Opportunity.objects.count() == SIZE
    assert counts["accounts"] == Account.objects.count() == SIZE // 4
    assert counts["events"] == OpportunityEvent.objects.count()
    assert counts["activities"] == Activity.objects.count()
    assert counts["won"] + counts["lost"] + counts["open"] == SIZE
    assert 4 <= counts["activities"] / SIZE <= 6.5  # about 5 per opportunity
    assert 1.5 <= Contact.objects.count() / counts["accounts"] <= 2.5
    assert Agreement.objects.exists() and Comment.objects.exists()


def test_the_seed_command_reports_and_refuses_a_second_seed(world: World) -> None:
    assert "Elapsed" in world.seed_command_output and "database size" in world.seed_command_output
    before = Opportunity.objects.count()
    with pytest.raises(CommandError, match="--flush"):
        call_command("seed", "--opportunities", "50", stdout=StringIO())
    assert Opportunity.objects.count() == before


def test_query_count_does_not_grow_with_the_size(world: World) -> None:
    def not_inserts(queries: list[str]) -> list[str]:
        return [q for q in queries if not q.lstrip().upper().startswith("INSERT")]

    assert len(not_inserts(world.queries_big)) == len(not_inserts(world.queries_small))
    # Inserts come in batches: 3x the opportunities adds a handful of statements, not hundreds.
    extra = len(world.queries_big) - len(world.queries_small)
    assert extra <= (SIZE - SMALL) // 25, extra


def test_sequences_continue_after_the_seed(world: World) -> None:
    """Rows written with pre-allocated pks leave the sequences ready for normal inserts."""
    rep = User.objects.get(username="rep")
    account = Account.objects.create(
        name="After Seed GmbH",
        normalized_name="after seed",
        status=Account.objects.first().status,
        owner=rep,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    contact = Contact.objects.create(
        last_name="Later", owner=rep, created_at=timezone.now(), updated_at=timezone.now()
    )
    AccountContact.objects.create(account=account, contact=contact)
    activity = Activity.objects.create(
        activity_type=ActivityType.objects.get(code="call"),
        subject="New call",
        owner=rep,
        created_at=timezone.now(),
        updated_at=timezone.now(),
    )
    assert activity.pk > Activity.objects.exclude(pk=activity.pk).order_by("-pk").first().pk


# --- reference data -------------------------------------------------------------------------


def test_reference_data_looks_like_the_seeds_world(world: World) -> None:
    lighting = Pipeline.objects.get(name="Industrial lighting projects")
    assert [s.name for s in lighting.stages.order_by("order")] == [
        "Presentation",
        "Data for the lighting calculation",
        "Technical-commercial offer",
        "Presentation and objections",
        "Equipment on trial",
        "Tender",
        "Contract",
        "Won",
        "Lost",
    ]
    assert Pipeline.objects.count() == 3
    gate = CustomFieldDefinition.objects.get(key="lighting_calc_received")
    assert gate.required_from_stage.name == "Equipment on trial"
    assert CustomFieldDefinition.objects.filter(target="account", key="vat_id").exists()
    assert ActivityType.objects.filter(is_milestone=True).count() >= 4
    assert Team.objects.count() == 3
    assert User.objects.filter(role=Role.REP).count() == 12
    for team in Team.objects.all():
        assert team.manager is not None and team.manager.role == Role.MANAGER
    usernames = set(User.objects.values_list("username", flat=True))
    assert {login["username"] for login in DEMO_LOGINS} <= usernames
    manager = User.objects.get(username="manager")
    assert set(
        User.objects.filter(team__manager=manager, role=Role.REP).values_list("username", flat=True)
    ) >= {"rep", "rep2"}
    assert User.objects.get(username="viewer").role == Role.READ_ONLY
    # One password for everybody (hashed once; the test settings may swap the hasher, so verify
    # with the hasher that made it).
    assert User.objects.values("password").distinct().count() == 1
    encoded = User.objects.get(username="rep").password
    hashers = {h.algorithm: h for h in (PBKDF2PasswordHasher(), MD5PasswordHasher())}
    assert hashers[encoded.split("$", 1)[0]].verify(DEMO_PASSWORD, encoded)
    assert not User.objects.filter(Q(hired_on__isnull=True) | Q(hourly_cost__isnull=True)).exists()


def test_lighting_deals_past_the_trial_gate_have_the_calculation_data(world: World) -> None:
    trial = Stage.objects.get(name="Equipment on trial")
    past_gate = Opportunity.objects.filter(pipeline=trial.pipeline).filter(
        Q(stage__order__gte=trial.order, stage__kind="open") | Q(outcome=Outcome.WON)
    )
    assert past_gate.exists()
    for opp in past_gate:
        assert opp.custom.get("lighting_calc_received") is True, opp


def test_accounts_have_segmentation_and_contacts_with_roles(world: World) -> None:
    account = (
        Account.objects.exclude(status__name="Competitor").filter(memberships__isnull=False).first()
    )
    assert account.normalized_name and account.domain and account.city and account.country
    assert account.owner.role == Role.REP
    assert AccountContact.roles.through.objects.exists()
    assert Account.objects.filter(status__is_customer=True).exists()
    assert normalize_name("Müller Logistik GmbH & Co. KG") == "mueller logistik"


# --- history ----------------------------------------------------------------------------------


def _histories() -> dict[int, list[tuple[str, Any, Any, dt.datetime]]]:
    histories: dict[int, list[tuple[str, Any, Any, dt.datetime]]] = defaultdict(list)
    for opp_id, kind, old, new, at in (
        OpportunityEvent.objects.order_by("opportunity_id", "occurred_at", "id")
        .values_list("opportunity_id", "kind", "old_value", "new_value", "occurred_at")
        .iterator()
    ):
        histories[opp_id].append((kind, old, new, at))
    return histories


def test_every_history_replays_to_the_current_state(world: World) -> None:
    histories = _histories()
    for opp in Opportunity.objects.all():
        events = histories[opp.pk]
        assert events[0][0] == EventKind.CREATED
        assert domain.replay((k, o, n) for k, o, n, _at in events) == domain.snapshot(opp), opp.pk


def test_events_are_ordered_in_time_and_none_after_end(world: World) -> None:
    cutoff = _cutoff()
    assert not OpportunityEvent.objects.filter(occurred_at__gte=cutoff).exists()
    assert not OpportunityEvent.objects.exclude(origin="demo").exists()
    by_id = defaultdict(list)
    for opp_id, at in OpportunityEvent.objects.order_by("id").values_list(
        "opportunity_id", "occurred_at"
    ):
        by_id[opp_id].append(at)
    for times in by_id.values():
        assert times == sorted(times)
    for opp in Opportunity.objects.all():
        assert opp.created_at <= opp.stage_entered_at <= opp.updated_at < cutoff
        assert opp.closed_on is None or opp.closed_on < END


def test_history_has_slips_reopenings_hand_overs_and_reasons(world: World) -> None:
    slips = [
        (o, n)
        for o, n in OpportunityEvent.objects.filter(kind=EventKind.EXPECTED_CLOSE).values_list(
            "old_value", "new_value"
        )
        if n > o
    ]
    assert len(slips) > SIZE // 10
    pushed_twice = (
        OpportunityEvent.objects.filter(kind=EventKind.EXPECTED_CLOSE)
        .values("opportunity")
        .annotate(n=Count("id"))
        .filter(n__gte=2)
    )
    assert pushed_twice.exists()
    assert OpportunityEvent.objects.filter(verb="reopen").exists()
    assert OpportunityEvent.objects.filter(kind=EventKind.OWNER).exists()
    assert OpportunityEvent.objects.filter(kind=EventKind.AMOUNT, verb="change_amount").exists()
    lost = Opportunity.objects.filter(outcome=Outcome.LOST)
    assert lost.exists() and not lost.filter(lost_reason__isnull=True).exists()
    assert lost.values("lost_reason").distinct().count() >= 4
    # Mostly forward: backward moves exist but are rare.
    moves = list(
        OpportunityEvent.objects.filter(kind=EventKind.STAGE, verb="move_to_stage").values_list(
            "from_stage__order", "to_stage__order"
        )
    )
    backward = sum(1 for a, b in moves if b < a)
    assert 0 < backward < len(moves) * 0.15


def test_activities_are_done_in_the_past_and_planned_ahead(world: World) -> None:
    cutoff = _cutoff()
    assert not Activity.objects.filter(done_at__gte=cutoff).exists()
    assert not Activity.objects.filter(
        done_at__isnull=False, duration_minutes__isnull=True
    ).exists()
    assert Activity.objects.filter(done_at__isnull=True, due_on__gte=END).exists()  # planned
    assert Activity.objects.filter(done_at__isnull=True, due_on__lt=END).exists()  # overdue
    assert Activity.objects.exclude(discussion="").filter(agreements__isnull=False).exists()
    assert Activity.participant_users.through.objects.exists()
    mismatched = Activity.objects.filter(opportunity__isnull=False).exclude(
        account_id=F("opportunity__account_id")
    )
    assert not mismatched.exists()


def test_seasonality_fewer_new_deals_in_august(world: World) -> None:
    created = Opportunity.objects.values_list("created_at", flat=True)
    local = [timezone.localtime(c) for c in created]
    august = sum(1 for c in local if c.month == 8)
    october = sum(1 for c in local if c.month == 10)
    assert august < october * 0.75


# --- rep styles -------------------------------------------------------------------------------


def _per_rep() -> dict[str, dict[str, float]]:
    stats = {}
    for user in User.objects.filter(role=Role.REP):
        deals = Opportunity.objects.filter(owner=user)
        agg = deals.aggregate(
            won=Count("id", filter=Q(outcome=Outcome.WON)),
            lost=Count("id", filter=Q(outcome=Outcome.LOST)),
            avg_won=Avg("amount", filter=Q(outcome=Outcome.WON)),
            total=Count("id"),
        )
        meetings = Activity.objects.filter(
            opportunity__owner=user, activity_type__is_meeting=True
        ).count()
        closed = agg["won"] + agg["lost"]
        stats[user.username] = {
            "deals": agg["total"],
            "won": agg["won"],
            "avg_won": float(agg["avg_won"] or 0),
            "win_rate": agg["won"] / closed if closed else 0.0,
            "meetings_per_deal": meetings / agg["total"] if agg["total"] else 0.0,
            "established": user.hired_on < END - dt.timedelta(days=730),
        }
    return stats


def test_rep_styles_show_in_the_numbers(world: World) -> None:
    stats = _per_rep()
    established = {name: s for name, s in stats.items() if s["established"]}
    # The star (rep2): the largest average won deal.
    assert max(stats, key=lambda n: stats[n]["avg_won"]) == "rep2"
    # The weak converter: the lowest win rate and the most meetings per deal.
    assert min(established, key=lambda n: established[n]["win_rate"]) == "m.schulz"
    assert max(stats, key=lambda n: stats[n]["meetings_per_deal"]) == "m.schulz"
    # The steady rep wins the most deals; the new hire has few.
    assert max(stats, key=lambda n: stats[n]["won"]) == "rep"
    new_hire = User.objects.get(username="n.yilmaz")
    assert END - dt.timedelta(days=150) < new_hire.hired_on < END - dt.timedelta(days=90)
    assert stats["n.yilmaz"]["deals"] < min(s["deals"] for s in established.values())


def test_the_steady_rep_is_steadier_than_the_star(world: World) -> None:
    def monthly_cv(username: str) -> float:
        rows = (
            Opportunity.objects.filter(
                owner__username=username,
                outcome=Outcome.WON,
                closed_on__gte=END - dt.timedelta(days=365),
            )
            .values_list("closed_on__year", "closed_on__month")
            .annotate(total=Sum("amount"))
        )
        totals = {(y, m): float(t) for y, m, t in rows}
        months = [(END.year - (1 if m > END.month - 1 else 0), m) for m in range(1, 13)]
        series = [totals.get(key, 0.0) for key in months]
        mean = statistics.mean(series)
        return statistics.pstdev(series) / mean if mean else float("inf")

    assert monthly_cv("rep") < monthly_cv("rep2")
