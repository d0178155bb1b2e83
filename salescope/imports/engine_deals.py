"""Opportunities and their history for the import engine (see :mod:`.engine`).

New opportunities are simulated with the pure transitions of :mod:`salescope.pipeline.domain`
and bulk-inserted chunk by chunk with their events; existing ones (matched by external id, else
name and account) get the verbs that take them to the row's values, at import time, and are
bulk-updated. A row equal to the current state writes nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from salescope.core.bulk import allocate_ids
from salescope.pipeline import domain
from salescope.pipeline.models import (
    EventOrigin,
    Opportunity,
    OpportunityEvent,
    Outcome,
    Pipeline,
    Stage,
    StageKind,
)

from .engine import DEFAULT_DEAL_DAYS, Record, fold

if TYPE_CHECKING:
    from .engine import Importer

CHUNK = 5000
_OUTCOMES = {"open": Outcome.OPEN, "won": Outcome.WON, "lost": Outcome.LOST}


@dataclass
class _Deal:
    rec: Record
    owner: Any
    pipeline: Pipeline
    stage: Stage | None  # final open stage (None: closed without a known open stage)
    outcome: str
    account_id: int | None
    source: Any
    products: list[int]
    contacts: list[int]
    lost_reason: Any
    currency: str | None
    match: int | None = None
    history: list[Record] = field(default_factory=list)


def _active(user: Any) -> Any:
    """Deals of people who left stay theirs: the domain's owner check sees an active user."""
    if user is None or user.is_active:
        return user
    stand_in = copy.copy(user)
    stand_in.is_active = True
    return stand_in


def _at_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


class _Deals:
    def __init__(self, imp: Importer) -> None:
        self.imp = imp
        self.lk = imp.lookups
        self.defs = self.lk.custom_defs["opportunity"]
        self.contact_by_email: dict[str, int] | None = None
        self.stage_by_id = {s.pk: s for stages in self.lk.stages.values() for s in stages}

    def kind_stage(self, pipeline: Pipeline, kind: str) -> Stage:
        stage = self.lk.stage_of_kind(pipeline, kind)
        if stage is None:
            raise ValidationError(
                {
                    "stage": _("Pipeline %(pipeline)s has no %(kind)s stage.")
                    % {"pipeline": pipeline.name, "kind": domain.outcome_word(kind)}
                }
            )
        return stage

    # -- resolving a row ------------------------------------------------------------------

    def resolve(self, rec: Record) -> _Deal | None:
        imp, lk = self.imp, self.lk
        owner = imp.owner_of(rec, "opportunities", required=True)
        if owner is False:
            return None
        pipeline = lk.pipeline(rec.get("pipeline"))
        if pipeline is None:
            imp.reject(
                rec,
                "pipeline",
                _("No pipeline %(value)s.") % {"value": rec.get("pipeline") or "-"},
            )
            return None
        outcome: str = Outcome.OPEN
        stage: Stage | None = None
        if rec.has("outcome"):
            outcome_value = _OUTCOMES.get(fold(rec.get("outcome")))
            if outcome_value is None:
                imp.reject(
                    rec,
                    "outcome",
                    _("%(value)r is not an outcome; use open, won or lost (or a value map).")
                    % {"value": rec.get("outcome")},
                )
                return None
            outcome = outcome_value
        if rec.has("stage"):
            stage = lk.stage(pipeline, rec.get("stage"))
            if stage is None:
                names = ", ".join(s.name for s in lk.stages[pipeline.pk])
                imp.reject(
                    rec,
                    "stage",
                    _("Unknown stage %(value)r in pipeline %(pipeline)s (stages: %(stages)s).")
                    % {"value": rec.get("stage"), "pipeline": pipeline.name, "stages": names},
                )
                return None
            if stage.kind != StageKind.OPEN:
                if rec.has("outcome") and outcome != stage.kind:
                    imp.reject(
                        rec,
                        "outcome",
                        _("Outcome %(outcome)s contradicts stage %(stage)s.")
                        % {"outcome": outcome, "stage": stage.name},
                    )
                    return None
                outcome = stage.kind
                stage = None
        elif outcome == Outcome.OPEN:
            stage = lk.first_open_stage(pipeline)
        account_id = imp.account_ref(rec, owner if owner else None, "opportunities")
        if account_id is False:
            return None
        currency = rec.get("currency")
        if currency is not None:
            currency = str(currency).strip().upper()
            if currency not in lk.currencies:
                imp.reject(
                    rec,
                    "currency",
                    _("%(value)r is not an active currency.") % {"value": rec.get("currency")},
                )
                return None
        source = lk.sources.get(rec.get("source")) if rec.has("source") else None
        products = []
        if rec.has("product"):
            for name in str(rec.get("product")).split(";"):
                if name.strip():
                    products.append(lk.products.get(name).pk)
        contacts = []
        if rec.has("contact_email"):
            if self.contact_by_email is None:
                from salescope.accounts.models import Contact

                self.contact_by_email = {
                    e.lower(): pk
                    for pk, e in Contact.objects.exclude(email="").values_list("pk", "email")
                }
            for email in str(rec.get("contact_email")).replace(",", ";").split(";"):
                pk = self.contact_by_email.get(email.strip().lower())
                if email.strip() and pk is None:
                    imp.reject(
                        rec,
                        "contact_email",
                        _("No contact with the e-mail address %(value)s.")
                        % {"value": email.strip()},
                    )
                    return None
                if pk is not None:
                    contacts.append(pk)
        lost_reason = None
        if outcome == Outcome.LOST:
            if not rec.has("lost_reason"):
                imp.reject(
                    rec,
                    "lost_reason",
                    _("A lost opportunity needs a lost reason (map a column or set a default)."),
                )
                return None
            lost_reason = lk.lost_reasons.get(rec.get("lost_reason"))
        return _Deal(
            rec=rec,
            owner=owner,
            pipeline=pipeline,
            stage=stage,
            outcome=outcome,
            account_id=account_id,
            source=source,
            products=products,
            contacts=contacts,
            lost_reason=lost_reason,
            currency=currency,
        )

    # -- new opportunities ------------------------------------------------------------------

    def events_for(
        self,
        opp: Opportunity,
        before: dict[str, Any] | None,
        verb: str,
        at: dt.datetime,
        actor_id: int | None,
        reconstructed: bool,
    ) -> list[dict[str, Any]]:
        """The rows :func:`domain.build_events` describes, as dicts for the bulk writer.

        Same snapshot and diff, same columns; without a model instance per event, which at
        a million events costs more than inserting them.
        """
        after = domain.snapshot(opp)
        common = {
            "id": None,
            "opportunity_id": opp.pk,
            "verb": verb,
            "actor_id": actor_id,
            "occurred_at": at,
            "recorded_at": self.lk.now,
            "action_id": uuid.uuid4(),
            "origin": EventOrigin.IMPORT.value,
            "reconstructed": reconstructed,
        }
        if before is None:
            return [
                {
                    **common,
                    "kind": "created",
                    "old_value": None,
                    "new_value": after,
                    "from_stage_id": None,
                    "to_stage_id": after["stage"],
                }
            ]
        rows = []
        for name, old, new in domain.diff(before, after):
            stage = name == "stage"
            rows.append(
                {
                    **common,
                    "kind": name,
                    "old_value": old,
                    "new_value": new,
                    "from_stage_id": old if stage else None,
                    "to_stage_id": new if stage else None,
                }
            )
        return rows

    def build_new(self, deal: _Deal, pk: int) -> tuple[Opportunity, list[dict[str, Any]]]:
        """Simulate the life of a new opportunity; raises ValidationError (field → message)."""
        rec, lk = deal.rec, self.lk
        tz = zoneinfo.ZoneInfo(rec.spec.timezone)
        pipeline = deal.pipeline
        path: list[tuple[dt.datetime, Stage]] = []
        close_at: dt.datetime | None = None
        for name, when in rec.stage_dates.items():
            stage = lk.stage(pipeline, name)
            if stage is None:
                raise ValidationError(
                    {
                        "stage": _("Unknown stage %(value)r in pipeline %(pipeline)s.")
                        % {"value": name, "pipeline": pipeline.name}
                    }
                )
            if stage.kind == StageKind.OPEN:
                path.append((when, stage))
            elif stage.kind == deal.outcome:
                close_at = when
        path.sort(key=lambda item: (item[0], item[1].order))
        closed_on: dt.date | None = rec.get("closed_on")
        if deal.outcome != Outcome.OPEN:
            if closed_on is None and close_at is not None:
                closed_on = close_at.date()
            if closed_on is None:
                raise ValidationError(
                    {"closed_on": _("A won or lost opportunity needs the date it closed.")}
                )
            if close_at is None or close_at.date() != closed_on:
                close_at = _at_midnight(closed_on, tz)
        elif rec.has("closed_on"):
            raise ValidationError(
                {"closed_on": _("An open opportunity has no close date; map it as expected_close.")}
            )
        history = sorted(deal.history, key=lambda h: h.get("occurred_at"))
        created_at = rec.get("created_at")
        candidates = [t for t, _s in path] + ([history[0].get("occurred_at")] if history else [])
        if created_at is None:
            created_at = min(candidates) if candidates else close_at or lk.now
        elif candidates and min(candidates) < created_at:
            created_at = min(candidates)
        if close_at is not None and close_at < created_at:
            raise ValidationError(
                {
                    "closed_on": _(
                        "The opportunity closed on %(closed)s, before it was created (%(created)s)."
                    )
                    % {"closed": closed_on, "created": created_at.date()}
                }
            )
        first_open = lk.first_open_stage(pipeline)
        init_stage = path[0][1] if path else deal.stage or first_open
        owner = _active(deal.owner)
        amount = rec.get("amount")
        if amount is None and deal.products:
            price = self._list_price(deal.products[0])
            amount = price if price is not None else Decimal(0)
        if amount is None:
            amount = Decimal(0)
        expected_close = (
            rec.get("expected_close")
            or closed_on
            or (created_at.date() + dt.timedelta(days=DEFAULT_DEAL_DAYS))
        )
        steps: list[tuple[dt.datetime, Stage]] = list(path[1:])
        if (
            deal.stage is not None
            and (not path or path[-1][1] != deal.stage)
            and init_stage != deal.stage
        ):
            steps.append((path[-1][0] if path else created_at, deal.stage))
        probability = rec.get("probability") if deal.outcome == Outcome.OPEN else None
        opp = Opportunity(
            id=pk,
            created_at=created_at,
            created_by_id=self.imp.actor_id,
            updated_by_id=self.imp.actor_id,
        )
        first_hist = history[0] if history else None
        if first_hist is not None and first_hist.has("stage"):
            hist_stage = lk.stage(pipeline, first_hist.get("stage"))
            if hist_stage is not None and hist_stage.kind == StageKind.OPEN:
                init_stage = hist_stage
        if init_stage is None:
            raise ValidationError({"stage": _("The pipeline has no open stage.")})
        domain.init_opportunity(
            opp,
            name=rec.get("name") or self.default_name(deal),
            stage=init_stage,
            owner=owner,
            amount=(
                first_hist.get("amount") if first_hist and first_hist.has("amount") else amount
            ),
            currency=deal.currency or lk.company_currency,
            expected_close=(
                first_hist.get("expected_close")
                if first_hist and first_hist.has("expected_close")
                else expected_close
            ),
            probability=(
                first_hist.get("probability")
                if first_hist and first_hist.has("probability")
                else (probability if not steps and not history else None)
            ),
            source=deal.source,
            forecast_category=rec.get("forecast_category"),
            next_step=rec.get("next_step") or "",
            custom=rec.custom or None,
            defs=self.defs,
            at=created_at,
        )
        opp.account_id = deal.account_id
        opp.version = 1
        actor_id = deal.owner.pk
        events = self.events_for(opp, None, "create_opportunity", created_at, actor_id, not history)
        state = dict(events[0]["new_value"] or {})
        last = created_at

        def step(verb: str, at: dt.datetime, mutate: Any, reconstructed: bool, who: int) -> None:
            nonlocal state, last
            at = max(at, last)
            mutate()
            new = self.events_for(opp, state, verb, at, who, reconstructed)
            if not new:
                return
            if opp.stage_id != state["stage"]:
                opp.stage_entered_at = at
            for event in new:
                state[event["kind"]] = event["new_value"]
            opp.version += 1
            last = at
            events.extend(new)

        for h in history[1:] if history else []:
            self.history_step(opp, deal, h, step)
        if history:
            self.imp.count("history", "created", len(history))
        for at, stage in steps:
            if opp.outcome == Outcome.OPEN and opp.stage_id != stage.pk:
                step(
                    "move_to_stage",
                    at,
                    lambda s=stage: domain.move_to_stage(opp, stage=s, defs=self.defs),
                    True,
                    actor_id,
                )
        self.finish(opp, deal, step, close_at, closed_on, probability, amount, last, actor_id)
        opp.updated_at = last
        return opp, events

    def finish(
        self,
        opp: Opportunity,
        deal: _Deal,
        step: Any,
        close_at: dt.datetime | None,
        closed_on: dt.date | None,
        probability: int | None,
        amount: Decimal,
        last: dt.datetime,
        actor_id: int,
    ) -> None:
        """Take the simulated opportunity to the row's final values (reconstructed events)."""
        rec = deal.rec
        when = close_at or last
        if deal.outcome == Outcome.OPEN:
            if opp.outcome != Outcome.OPEN:
                target = deal.stage or self.kind_stage(deal.pipeline, StageKind.OPEN)
                step("reopen", last, lambda: domain.reopen(opp, stage=target), True, actor_id)
            elif deal.stage is not None and opp.stage_id != deal.stage.pk:
                step(
                    "move_to_stage",
                    last,
                    lambda: domain.move_to_stage(opp, stage=deal.stage, defs=self.defs),
                    True,
                    actor_id,
                )
        if opp.amount != amount and rec.has("amount"):
            step(
                "change_amount",
                when,
                lambda: domain.change_amount(opp, amount=amount),
                True,
                actor_id,
            )
        if deal.outcome == Outcome.OPEN:
            if probability is not None and opp.probability != probability:
                step(
                    "change_probability",
                    last,
                    lambda: domain.change_probability(opp, probability=probability),
                    True,
                    actor_id,
                )
            return
        assert closed_on is not None
        if opp.outcome != Outcome.OPEN and opp.outcome != deal.outcome:
            target = self.kind_stage(deal.pipeline, StageKind.OPEN)
            step("reopen", when, lambda: domain.reopen(opp, stage=target), True, actor_id)
        if opp.outcome == Outcome.OPEN:
            if deal.outcome == Outcome.WON:
                won = self.lk.stage_of_kind(deal.pipeline, StageKind.WON)
                if won is None:
                    raise ValidationError({"stage": _("The pipeline has no won stage.")})
                step(
                    "mark_won",
                    when,
                    lambda: domain.mark_won(
                        opp, won_stage=won, closed_on=closed_on, defs=self.defs
                    ),
                    True,
                    actor_id,
                )
            else:
                lost = self.lk.stage_of_kind(deal.pipeline, StageKind.LOST)
                if lost is None:
                    raise ValidationError({"stage": _("The pipeline has no lost stage.")})
                step(
                    "mark_lost",
                    when,
                    lambda: domain.mark_lost(
                        opp,
                        lost_stage=lost,
                        reason=deal.lost_reason,
                        closed_on=closed_on,
                        note=rec.get("lost_note") or "",
                    ),
                    True,
                    actor_id,
                )

    def history_step(self, opp: Opportunity, deal: _Deal, h: Record, step: Any) -> None:
        """One row of a history file: the values the opportunity had from ``occurred_at`` on."""
        lk = self.lk
        at = h.get("occurred_at")
        actor = lk.find_user(h.get("actor")) if h.has("actor") else None
        who = actor.pk if actor is not None else deal.owner.pk
        values = dict(h.values)
        kind = fold(values.get("field") or "stage")
        if values.get("new_value") not in (None, "") and kind in (
            "stage",
            "amount",
            "probability",
            "expected_close",
        ):
            values.setdefault(kind, values["new_value"])
            raw = values[kind]
            try:
                if kind == "amount":
                    values[kind] = Decimal(str(raw).replace(",", ""))
                elif kind == "probability":
                    values[kind] = int(Decimal(str(raw)))
                elif kind == "expected_close" and isinstance(raw, str):
                    values[kind] = dt.date.fromisoformat(raw[:10])
            except (ArithmeticError, ValueError):
                raise ValidationError(
                    {
                        "new_value": _("%(value)r is not a valid %(field)s.")
                        % {"value": raw, "field": kind}
                    }
                ) from None
        if values.get("stage"):
            stage = lk.stage(deal.pipeline, values["stage"])
            if stage is None:
                raise ValidationError(
                    {
                        "stage": _("Unknown stage %(value)r in pipeline %(pipeline)s.")
                        % {"value": values["stage"], "pipeline": deal.pipeline.name}
                    }
                )
            if stage.kind == StageKind.OPEN:
                if opp.outcome != Outcome.OPEN:
                    step("reopen", at, lambda: domain.reopen(opp, stage=stage), False, who)
                elif opp.stage_id != stage.pk:
                    step(
                        "move_to_stage",
                        at,
                        lambda: domain.move_to_stage(
                            opp,
                            stage=stage,
                            probability=values.get("probability"),
                            defs=self.defs,
                        ),
                        False,
                        who,
                    )
            elif opp.outcome != stage.kind:
                if opp.outcome != Outcome.OPEN:
                    first = self.kind_stage(deal.pipeline, StageKind.OPEN)
                    step("reopen", at, lambda: domain.reopen(opp, stage=first), False, who)
                if stage.kind == StageKind.WON:
                    step(
                        "mark_won",
                        at,
                        lambda: domain.mark_won(
                            opp, won_stage=stage, closed_on=at.date(), defs=self.defs
                        ),
                        False,
                        who,
                    )
                else:
                    reason = deal.lost_reason or lk.lost_reasons.get(
                        deal.rec.get("lost_reason") or _("Not specified")
                    )
                    step(
                        "mark_lost",
                        at,
                        lambda: domain.mark_lost(
                            opp, lost_stage=stage, reason=reason, closed_on=at.date()
                        ),
                        False,
                        who,
                    )
        if values.get("amount") is not None and opp.amount != values["amount"]:
            step(
                "change_amount",
                at,
                lambda: domain.change_amount(opp, amount=values["amount"]),
                False,
                who,
            )
        if opp.outcome == Outcome.OPEN:
            prob = values.get("probability")
            if prob is not None and opp.probability != prob:
                step(
                    "change_probability",
                    at,
                    lambda: domain.change_probability(opp, probability=prob),
                    False,
                    who,
                )
            close = values.get("expected_close")
            if close is not None and opp.expected_close != close:
                step(
                    "change_expected_close",
                    at,
                    lambda: domain.change_expected_close(opp, expected_close=close),
                    False,
                    who,
                )

    def _list_price(self, product_id: int) -> Decimal | None:
        for product in self.lk.products.by_name.values():
            if product.pk == product_id:
                return product.list_price
        return None

    def default_name(self, deal: _Deal) -> str:
        parts = []
        if deal.account_id is not None:
            parts.append(self.lk.account_names.get(deal.account_id, ""))
        if deal.rec.has("product"):
            parts.append(str(deal.rec.get("product")))
        name = " – ".join(p for p in parts if p)
        return name or str(deal.rec.get("external_id") or _("Imported opportunity"))

    # -- existing opportunities -------------------------------------------------------------

    def update_existing(self, deal: _Deal, opp: Opportunity) -> list[OpportunityEvent]:
        """Apply the row's values to ``opp`` with the domain verbs; returns the new events."""
        rec, lk = deal.rec, self.lk
        opp.stage = self.stage_by_id[opp.stage_id]
        before = domain.snapshot(opp)
        now = lk.now
        owner = _active(deal.owner)
        if rec.has("owner") and owner.pk != opp.owner_id:
            domain.reassign(opp, owner=owner)
        target_closed = deal.outcome != Outcome.OPEN
        stage_given = rec.has("stage") or rec.has("outcome")
        if stage_given:
            if not target_closed and deal.stage is not None:
                if opp.outcome != Outcome.OPEN:
                    domain.reopen(opp, stage=deal.stage)
                elif opp.stage_id != deal.stage.pk:
                    domain.move_to_stage(opp, stage=deal.stage, defs=self.defs)
            elif target_closed and opp.outcome != deal.outcome:
                closed_on = rec.get("closed_on") or lk.now.date()
                if opp.outcome != Outcome.OPEN:
                    first = self.kind_stage(deal.pipeline, StageKind.OPEN)
                    domain.reopen(opp, stage=first)
                if deal.outcome == Outcome.WON:
                    won = self.kind_stage(deal.pipeline, StageKind.WON)
                    domain.mark_won(opp, won_stage=won, closed_on=closed_on, defs=self.defs)
                else:
                    lost = self.kind_stage(deal.pipeline, StageKind.LOST)
                    domain.mark_lost(
                        opp,
                        lost_stage=lost,
                        reason=deal.lost_reason,
                        closed_on=closed_on,
                        note=rec.get("lost_note") or "",
                    )
            elif target_closed and rec.has("closed_on") and opp.closed_on != rec.get("closed_on"):
                domain.check_date("closed_on", rec.get("closed_on"))
                opp.closed_on = rec.get("closed_on")
            if (
                deal.outcome == Outcome.LOST
                and opp.outcome == Outcome.LOST
                and deal.lost_reason is not None
                and opp.lost_reason_id != deal.lost_reason.pk
            ):
                domain.change_lost_reason(opp, reason=deal.lost_reason)
        if rec.has("amount") or deal.currency:
            amount = rec.get("amount", opp.amount)
            if amount != opp.amount or (deal.currency and deal.currency != opp.currency_id):
                domain.change_amount(opp, amount=amount, currency=deal.currency)
        if opp.outcome == Outcome.OPEN:
            if rec.has("probability") and opp.probability != rec.get("probability"):
                domain.change_probability(opp, probability=rec.get("probability"))
            if rec.has("expected_close") and opp.expected_close != rec.get("expected_close"):
                domain.change_expected_close(opp, expected_close=rec.get("expected_close"))
            if rec.has("forecast_category") and opp.forecast_category != rec.get(
                "forecast_category"
            ):
                domain.set_forecast_category(opp, category=rec.get("forecast_category"))
        details: dict[str, Any] = {}
        if rec.has("name") and rec.get("name") != opp.name:
            details["name"] = rec.get("name")
        if (
            rec.has("account") or rec.has("account_external_id")
        ) and deal.account_id != opp.account_id:
            opp.account_id = deal.account_id
        if deal.source is not None and opp.source_id != deal.source.pk:
            details["source"] = deal.source
        if rec.has("next_step") and rec.get("next_step") != opp.next_step:
            details["next_step"] = rec.get("next_step")
        if rec.custom and domain.differs_from(before, "custom", rec.custom):
            details["custom"] = rec.custom
        if details:
            domain.update_details(opp, defs=self.defs, **details)
        events = domain.build_events(
            opp=opp,
            before=before,
            verb="import",
            actor_id=self.imp.actor_id,
            at=now,
            recorded_at=now,
            origin=EventOrigin.IMPORT,
            action_id=uuid.uuid4(),
        )
        if events:
            if opp.stage_id != before["stage"]:
                opp.stage_entered_at = now
            opp.version += 1
            opp.updated_at = now
            opp.updated_by_id = self.imp.actor_id
        return events


def import_opportunities(imp: Importer, records: list[Record], history: list[Record]) -> None:
    lk = imp.lookups
    lk.load_accounts()
    deals = _Deals(imp)
    records = imp.duplicate_check(records, "external_id", "opportunities")
    imp.prefetch_accounts(records)
    total = len(records)
    imp.progress("opportunities", 0, total)
    systems = {r.spec.system for r in records} | {h.spec.system for h in history}
    ext_maps = {s: imp.external_ids(Opportunity, s) for s in systems}
    by_name: dict[tuple[str, int | None], int] | None = None
    if any(not r.has("external_id") and "name" in r.spec.match_on for r in records):
        by_name = {
            (fold(name), account): pk
            for pk, name, account in Opportunity.objects.values_list("pk", "name", "account_id")
        }
    history_by_key: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for h in history:
        key = h.get("opportunity_external_id") or h.get("opportunity")
        if not key:
            imp.reject(h, "opportunity_external_id", _("The row names no opportunity."))
            continue
        history_by_key[(h.spec.system, str(key))].append(h)
    resolved: list[_Deal] = []
    for n, rec in enumerate(records, 1):
        deal = deals.resolve(rec)
        if n % 5000 == 0:
            imp.progress("opportunities", n // 4, total)
        if deal is None:
            continue
        if rec.has("external_id"):
            deal.match = ext_maps[rec.spec.system].get(str(rec.get("external_id")))
            deal.history = history_by_key.pop((rec.spec.system, str(rec.get("external_id"))), [])
        if deal.match is None and by_name is not None and "name" in rec.spec.match_on:
            name = rec.get("name") or deals.default_name(deal)
            deal.match = by_name.get((fold(name), deal.account_id))
        if deal.match is None and rec.has("name") and not rec.has("external_id"):
            deal.history = history_by_key.pop((rec.spec.system, str(rec.get("name"))), [])
        resolved.append(deal)
    for (system, key), rows in history_by_key.items():
        ext_pk = ext_maps.get(system, {}).get(key)
        if ext_pk is not None:
            imp.count("history", "unchanged", len(rows))  # imported with the opportunity before
            continue
        for h in rows:
            imp.reject(
                h,
                "opportunity_external_id",
                _("No opportunity %(value)s in this import or the database.") % {"value": key},
                "history",
            )
    new = [d for d in resolved if d.match is None]
    old = [d for d in resolved if d.match is not None]
    done = 0
    ids = allocate_ids(Opportunity, len(new))
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        opps: list[Opportunity] = []
        events: list[dict[str, Any]] = []
        ext_rows: list[tuple[int, str, str]] = []
        products: list[tuple[int, int]] = []
        contacts: list[tuple[int, int]] = []
        for deal, pk in zip(chunk, ids[start : start + CHUNK], strict=True):
            try:
                opp, opp_events = deals.build_new(deal, pk)
            except ValidationError as exc:
                imp.reject_validation(deal.rec, exc, "opportunities")
                if deal.history:
                    imp.count("history", "rejected", len(deal.history))
                continue
            opps.append(opp)
            events.extend(opp_events)
            imp.count("opportunities", "created")
            if deal.rec.has("external_id"):
                ext_rows.append((pk, deal.rec.spec.system, str(deal.rec.get("external_id"))))
            products.extend((pk, p) for p in dict.fromkeys(deal.products))
            contacts.extend((pk, c) for c in dict.fromkeys(deal.contacts))
        imp.writer.objects(Opportunity, opps, with_pk=True)
        imp.writer.objects(OpportunityEvent, events)
        imp.write_external_ids(Opportunity, ext_rows)
        imp.writer.links(
            Opportunity.products.through, ("opportunity_id", "productline_id"), products
        )
        imp.writer.links(Opportunity.contacts.through, ("opportunity_id", "contact_id"), contacts)
        done += len(chunk)
        imp.progress("opportunities", total // 4 + done * 3 // 4, total)
    _update(imp, deals, old)
    imp.progress("opportunities", total, total)


# Every tracked field (their changes are the events) plus the bookkeeping of a change.
_UPDATE_FIELDS = [
    *domain.TRACKED_FIELDS,
    "stage_entered_at",
    "version",
    "updated_at",
    "updated_by",
]


def _update(imp: Importer, deals: _Deals, old: list[_Deal]) -> None:
    if not old:
        return
    through_p = Opportunity.products.through
    through_c = Opportunity.contacts.through
    for start in range(0, len(old), CHUNK):
        chunk = old[start : start + CHUNK]
        by_pk = {d.match: d for d in chunk if d.match is not None}
        ids = list(by_pk)
        current = {
            row["pk"]: row
            for row in Opportunity.objects.filter(pk__in=ids).values("pk", *_QUICK_FIELDS)
        }
        # Rows equal to the current state (the usual case on a re-run) need no instances.
        slow = [pk for pk in ids if not _same(by_pk[pk], current[pk])]
        existing = Opportunity.objects.in_bulk(slow)
        have_p = set(
            through_p.objects.filter(opportunity_id__in=ids).values_list(
                "opportunity_id", "productline_id"
            )
        )
        have_c = set(
            through_c.objects.filter(opportunity_id__in=ids).values_list(
                "opportunity_id", "contact_id"
            )
        )
        changed: list[Opportunity] = []
        events: list[OpportunityEvent] = []
        products: list[tuple[int, int]] = []
        contacts: list[tuple[int, int]] = []
        for deal in chunk:
            pk = deal.match
            assert pk is not None
            opp = existing.get(pk)
            new_events: list[OpportunityEvent] = []
            if opp is not None:
                try:
                    new_events = deals.update_existing(deal, opp)
                except ValidationError as exc:
                    imp.reject_validation(deal.rec, exc, "opportunities")
                    continue
            links_p = [(pk, p) for p in dict.fromkeys(deal.products) if (pk, p) not in have_p]
            links_c = [(pk, c) for c in dict.fromkeys(deal.contacts) if (pk, c) not in have_c]
            products.extend(links_p)
            contacts.extend(links_c)
            if deal.history:
                imp.count("history", "unchanged", len(deal.history))
            if new_events and opp is not None:
                changed.append(opp)
                events.extend(new_events)
                imp.count("opportunities", "updated")
            elif links_p or links_c:
                imp.count("opportunities", "updated")
            else:
                imp.count("opportunities", "unchanged")
        Opportunity.objects.bulk_update(changed, _UPDATE_FIELDS, batch_size=1000)
        imp.writer.objects(OpportunityEvent, events)
        imp.writer.links(through_p, ("opportunity_id", "productline_id"), products)
        imp.writer.links(through_c, ("opportunity_id", "contact_id"), contacts)


_QUICK_FIELDS = (
    "stage_id",
    "owner_id",
    "amount",
    "currency_id",
    "probability",
    "expected_close",
    "outcome",
    "closed_on",
    "lost_reason_id",
    "name",
    "account_id",
    "source_id",
    "next_step",
    "forecast_category",
)


def _same(deal: _Deal, row: dict[str, Any]) -> bool:
    """Does the row leave the opportunity as it is? (False: check with the domain verbs.)"""
    rec = deal.rec
    if rec.custom:
        return False
    if rec.has("owner") and deal.owner.pk != row["owner_id"]:
        return False
    if rec.has("stage") or rec.has("outcome"):
        if row["outcome"] != deal.outcome:
            return False
        if deal.outcome == Outcome.OPEN:
            if deal.stage is not None and row["stage_id"] != deal.stage.pk:
                return False
        else:
            if rec.has("closed_on") and row["closed_on"] != rec.get("closed_on"):
                return False
            if deal.lost_reason is not None and row["lost_reason_id"] != deal.lost_reason.pk:
                return False
    if rec.has("amount") and row["amount"] != rec.get("amount"):
        return False
    if deal.currency and deal.currency != row["currency_id"]:
        return False
    if row["outcome"] == Outcome.OPEN:
        for name in ("probability", "expected_close", "forecast_category"):
            if rec.has(name) and row[name] != rec.get(name):
                return False
    if rec.has("name") and row["name"] != rec.get("name"):
        return False
    if (rec.has("account") or rec.has("account_external_id")) and row[
        "account_id"
    ] != deal.account_id:
        return False
    if deal.source is not None and row["source_id"] != deal.source.pk:
        return False
    return not (rec.has("next_step") and row["next_step"] != rec.get("next_step"))
