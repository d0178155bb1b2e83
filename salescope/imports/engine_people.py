"""Contacts, leads and activities for the import engine (see :mod:`.engine`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from salescope.accounts.models import AccountContact, Contact
from salescope.accounts.services import check_email, check_language, check_phone
from salescope.accounts.services import check_text as check_plain_text
from salescope.activities.models import Activity
from salescope.customfields.services import clean_custom_values
from salescope.pipeline.models import Opportunity

from .engine import UPDATE_BATCH, Record, _messages, _split_name, fold

if TYPE_CHECKING:
    from .engine import Importer


class _Collect:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> None:
        try:
            self.values[name] = fn()
        except ValidationError as exc:
            for _f, message in _messages(exc):
                self.errors.setdefault(name, []).append(message)

    def done(self) -> dict[str, Any]:
        if self.errors:
            raise ValidationError(self.errors)
        return self.values


def _person(rec: Record, texts: dict[str, int]) -> _Collect:
    c = _Collect()
    first, last = rec.get("first_name", ""), rec.get("last_name", "")
    if rec.has("full_name") and not (first or last):
        first, last = _split_name(rec.get("full_name"))
    if rec.has("email"):
        c("email", lambda: check_email(rec.get("email")))
    if not last:
        last = (c.values.get("email") or "").split("@")[0]
    c("first_name", lambda: check_plain_text("first_name", first, 100))
    c("last_name", lambda: check_plain_text("last_name", last, 100, required=True))
    for name, limit in texts.items():
        if rec.has(name):
            if name in ("phone", "mobile"):
                c(name, partial(check_phone, rec.get(name), name))
            else:
                c(name, partial(check_plain_text, name, rec.get(name), limit or None))
    return c


def _name_key(*parts: Any) -> str:
    """Who a row is when it has neither an external id nor an e-mail: its folded names."""
    return "|".join(fold(str(p or "")) for p in parts)


def _diff_apply(obj: Any, values: dict[str, Any]) -> set[str]:
    changed = {k for k, v in values.items() if getattr(obj, k) != v}
    for k in changed:
        setattr(obj, k, values[k])
    return {k[:-3] if k.endswith("_id") else k for k in changed}


def _update(
    imp: Importer,
    entity: str,
    obj: Any,
    values: dict[str, Any],
    updates: list[Any],
    fields: set[str],
) -> None:
    """Apply the row's ``values`` to the matched record; queue and count it (or unchanged)."""
    changed = _diff_apply(obj, values)
    if changed:
        imp.touch(obj)
        updates.append(obj)
        fields |= changed
        imp.count(entity, "updated")
    else:
        imp.count(entity, "unchanged")


# --- contacts -----------------------------------------------------------------------------


def import_contacts(imp: Importer, records: list[Record]) -> None:
    lk = imp.lookups
    lk.load_accounts()
    records = imp.duplicate_check(records, "external_id", "contacts")
    records = imp.duplicate_check(records, "email", "contacts")
    systems = {r.spec.system for r in records}
    ext_maps = {s: imp.external_ids(Contact, s) for s in systems}
    emails = {
        e.lower(): pk for pk, e in Contact.objects.exclude(email="").values_list("pk", "email")
    }
    by_name: dict[str, int] = {}  # first|last|account name (empty without an account)
    if any("name" in r.spec.match_on for r in records):
        for pk, first, last, account in Contact.objects.values_list(
            "pk", "first_name", "last_name", "accounts__name"
        ):
            by_name.setdefault(_name_key(first, last, account), pk)
    plans: list[tuple[Record, dict[str, Any], int | None, Any, int | None]] = []
    for rec in records:
        c = _person(rec, {"phone": 40, "mobile": 40, "job_title": 120, "notes": 0})
        if rec.has("language"):
            c("language", partial(check_language, rec.get("language")))
        if rec.custom:
            c(
                "custom",
                partial(
                    clean_custom_values,
                    target="contact",
                    values=rec.custom,
                    defs=lk.custom_defs["contact"],
                ),
            )
        try:
            values = c.done()
        except ValidationError as exc:
            imp.reject_validation(rec, exc, "contacts")
            continue
        values = {k: v for k, v in values.items() if v not in ("", None) or rec.has(k)}
        match = None
        for key in rec.spec.match_on:
            if key == "external_id" and rec.has("external_id"):
                match = ext_maps[rec.spec.system].get(str(rec.get("external_id")))
            elif key == "email" and values.get("email"):
                match = emails.get(values["email"].lower())
            elif key == "name" and not values.get("email") and not rec.has("account_external_id"):
                match = by_name.get(
                    _name_key(values.get("first_name"), values.get("last_name"), rec.get("account"))
                )
            if match is not None:
                break
        owner = imp.owner_of(rec, "contacts", required=match is None)
        if owner is False:
            continue
        account_id = imp.account_ref(rec, owner or imp.actor, "contacts")
        if account_id is False:
            continue
        plans.append((rec, values, match, owner, account_id))
    existing = Contact.objects.in_bulk([p[2] for p in plans if p[2] is not None])
    creates: list[Contact] = []
    create_plans = []
    updates: list[Contact] = []
    fields: set[str] = set()
    ext_rows = []
    memberships: list[tuple[Record, Contact, int]] = []
    for rec, values, match, owner, account_id in plans:
        if match is None:
            contact = Contact(
                owner=owner,
                created_at=rec.get("created_at") or lk.now,
                updated_at=lk.now,
                created_by_id=imp.actor_id,
                updated_by_id=imp.actor_id,
                **values,
            )
            creates.append(contact)
            create_plans.append(rec)
            imp.count("contacts", "created")
        else:
            contact = existing[match]
            if owner:
                values["owner_id"] = owner.pk
            if "custom" in values:
                values["custom"] = {**contact.custom, **values["custom"]}
            _update(imp, "contacts", contact, values, updates, fields)
        if account_id is not None:
            memberships.append((rec, contact, account_id))
    Contact.objects.bulk_create(creates, batch_size=UPDATE_BATCH)
    imp.bulk_update(Contact, updates, fields)
    for rec, contact in zip(create_plans, creates, strict=True):
        if rec.has("external_id"):
            ext_rows.append((contact.pk, rec.spec.system, str(rec.get("external_id"))))
    imp.write_external_ids(Contact, ext_rows)
    _memberships(imp, memberships)


def _memberships(imp: Importer, memberships: list[tuple[Record, Contact, int]]) -> None:
    if not memberships:
        return
    have = {
        (m.account_id, m.contact_id): m
        for m in AccountContact.objects.filter(contact_id__in={c.pk for _r, c, _a in memberships})
    }
    new: list[AccountContact] = []
    roles: list[tuple[AccountContact, int]] = []
    for rec, contact, account_id in memberships:
        membership = have.get((account_id, contact.pk))
        if membership is None:
            membership = AccountContact(account_id=account_id, contact_id=contact.pk)
            have[(account_id, contact.pk)] = membership
            new.append(membership)
        if rec.has("role"):
            for name in str(rec.get("role")).split(","):
                if name.strip():
                    roles.append((membership, imp.lookups.roles.get(name).pk))
    AccountContact.objects.bulk_create(new)
    through = AccountContact.roles.through
    pairs = {(m.pk, r) for m, r in roles}
    existing = set(
        through.objects.filter(accountcontact_id__in={m for m, _r in pairs}).values_list(
            "accountcontact_id", "contactrole_id"
        )
    )
    imp.writer.links(through, ("accountcontact_id", "contactrole_id"), sorted(pairs - existing))


# --- leads --------------------------------------------------------------------------------


def import_leads(imp: Importer, records: list[Record]) -> None:
    from salescope.leads.models import Campaign, Lead, LeadStatus

    lk = imp.lookups
    records = imp.duplicate_check(records, "external_id", "leads")
    records = imp.duplicate_check(records, "email", "leads")
    systems = {r.spec.system for r in records}
    lk.content_types.setdefault(Lead, _content_type(Lead))  # type: ignore[arg-type]
    ext_maps = {s: imp.external_ids(Lead, s) for s in systems}
    emails = {e.lower(): pk for pk, e in Lead.objects.exclude(email="").values_list("pk", "email")}
    by_name = {
        _name_key(first, last, company): pk
        for pk, first, last, company in Lead.objects.values_list(
            "pk", "first_name", "last_name", "company"
        ).order_by("-pk")
    }
    campaigns = {fold(c.name): c for c in Campaign.objects.all()}
    plans = []
    for rec in records:
        c = _person(rec, {"phone": 40, "company": 200, "notes": 0})
        if rec.has("status"):
            status = fold(rec.get("status")).replace(" ", "_")
            if status not in LeadStatus.values:
                c.errors["status"] = [
                    _("%(value)r is not one of %(allowed)s.")
                    % {"value": rec.get("status"), "allowed": ", ".join(LeadStatus.values)}
                ]
            else:
                c.values["status"] = status
        try:
            values = c.done()
        except ValidationError as exc:
            imp.reject_validation(rec, exc, "leads")
            continue
        values = {k: v for k, v in values.items() if v not in ("", None) or rec.has(k)}
        if rec.has("source"):
            values["source_id"] = lk.sources.get(rec.get("source")).pk
        if rec.has("campaign"):
            campaign = campaigns.get(fold(rec.get("campaign")))
            if campaign is None:
                campaign = Campaign.objects.create(
                    name=rec.get("campaign")[:200], currency_id=lk.company_currency
                )
                campaigns[fold(campaign.name)] = campaign
                imp.report.setdefault("campaigns", []).append(campaign.name)
            values["campaign_id"] = campaign.pk
        match = None
        for key in rec.spec.match_on:
            if key == "external_id" and rec.has("external_id"):
                match = ext_maps[rec.spec.system].get(str(rec.get("external_id")))
            elif key == "email" and values.get("email"):
                match = emails.get(values["email"].lower())
            elif key == "name" and not values.get("email"):
                match = by_name.get(
                    _name_key(
                        values.get("first_name"), values.get("last_name"), values.get("company")
                    )
                )
            if match is not None:
                break
        owner = imp.owner_of(rec, "leads", required=False)
        if owner is False:
            continue
        if owner:
            values["owner_id"] = owner.pk
        plans.append((rec, values, match))
    existing = Lead.objects.in_bulk([m for _r, _v, m in plans if m is not None])
    creates, create_recs = [], []
    updates: list[Lead] = []
    fields: set[str] = set()
    for rec, values, match in plans:
        if match is None:
            lead = Lead(
                created_at=rec.get("created_at") or lk.now,
                updated_at=lk.now,
                created_by_id=imp.actor_id,
                updated_by_id=imp.actor_id,
                **values,
            )
            creates.append(lead)
            create_recs.append(rec)
            imp.count("leads", "created")
            continue
        lead = existing[match]
        _update(imp, "leads", lead, values, updates, fields)
    Lead.objects.bulk_create(creates, batch_size=UPDATE_BATCH)
    imp.bulk_update(Lead, updates, fields)
    imp.write_external_ids(
        Lead,
        [
            (lead.pk, rec.spec.system, str(rec.get("external_id")))
            for rec, lead in zip(create_recs, creates, strict=True)
            if rec.has("external_id")
        ],
    )


def _content_type(model: type[Any]) -> int:
    from django.contrib.contenttypes.models import ContentType

    return int(ContentType.objects.get_for_model(model).pk)


# --- activities ---------------------------------------------------------------------------


def import_activities(imp: Importer, records: list[Record]) -> None:
    lk = imp.lookups
    lk.load_accounts()
    records = imp.duplicate_check(records, "external_id", "activities")
    systems = {r.spec.system for r in records}
    ext_maps = {s: imp.external_ids(Activity, s) for s in systems}
    opp_maps = {s: imp.external_ids(Opportunity, s) for s in systems}
    contact_by_email = {
        e.lower(): pk for pk, e in Contact.objects.exclude(email="").values_list("pk", "email")
    }
    plans = []
    for rec in records:
        owner = imp.owner_of(rec, "activities", required=True)
        if owner is False:
            continue
        c = _Collect()
        kind = lk.activity_types.get(rec.get("type") or _("Task"))
        c.values["activity_type_id"] = kind.pk
        subject = rec.get("subject") or kind.name
        c("subject", partial(check_plain_text, "subject", subject, 200, required=True))
        for name in ("description", "outcome"):
            if rec.has(name):
                c(
                    name,
                    partial(
                        check_plain_text, name, rec.get(name), 300 if name == "outcome" else None
                    ),
                )
        for name in ("due_on", "starts_at", "ends_at", "done_at", "duration_minutes"):
            if rec.has(name):
                c.values[name] = rec.get(name)
        if rec.get("duration_minutes") is not None and rec.get("duration_minutes") < 0:
            c.errors["duration_minutes"] = [_("duration_minutes cannot be negative.")]
        starts, ends = rec.get("starts_at"), rec.get("ends_at")
        if starts and ends and ends < starts:
            c.errors["ends_at"] = [_("The activity ends before it starts.")]
        if rec.get("done") and not rec.has("done_at"):
            c.values["done_at"] = ends or starts or lk.now
        if rec.has("opportunity_external_id"):
            opp = opp_maps[rec.spec.system].get(str(rec.get("opportunity_external_id")))
            if opp is None:
                c.errors["opportunity_external_id"] = [
                    _("No opportunity %(value)s.") % {"value": rec.get("opportunity_external_id")}
                ]
            c.values["opportunity_id"] = opp
        contacts = []
        if rec.has("contact_email"):
            for email in str(rec.get("contact_email")).replace(",", ";").split(";"):
                if email.strip():
                    pk = contact_by_email.get(email.strip().lower())
                    if pk is None:
                        c.errors["contact_email"] = [
                            _("No contact with the e-mail address %(value)s.")
                            % {"value": email.strip()}
                        ]
                    contacts.append(pk)
        try:
            values = c.done()
        except ValidationError as exc:
            imp.reject_validation(rec, exc, "activities")
            continue
        account_id = imp.account_ref(rec, owner, "activities")
        if account_id is False:
            continue
        values["account_id"] = account_id
        values["owner_id"] = owner.pk
        match = None
        if rec.has("external_id"):
            match = ext_maps[rec.spec.system].get(str(rec.get("external_id")))
        plans.append((rec, values, match, contacts))
    # Rows without an external id match on their natural key (re-runs never duplicate).
    natural: dict[tuple[Any, ...], int] = {}
    subjects = {v["subject"] for r, v, m, _c in plans if m is None and not r.has("external_id")}
    if subjects:
        for row in Activity.objects.filter(subject__in=subjects).values(
            "pk",
            "subject",
            "owner_id",
            "activity_type_id",
            "due_on",
            "starts_at",
            "account_id",
            "opportunity_id",
        ):
            natural.setdefault(_natural(dict(row)), row["pk"])
    existing = Activity.objects.in_bulk(
        [m for _r, _v, m, _c in plans if m is not None]
        + [natural[k] for k in (_natural(v) for r, v, m, _c in plans if m is None) if k in natural]
    )
    creates, create_plans = [], []
    updates: list[Activity] = []
    fields: set[str] = set()
    links: list[tuple[int, int]] = []
    for rec, values, match, contacts in plans:
        if match is None and not rec.has("external_id"):
            match = natural.get(_natural(values))
        if match is None:
            activity = Activity(
                created_at=lk.now,
                updated_at=lk.now,
                created_by_id=imp.actor_id,
                updated_by_id=imp.actor_id,
                **values,
            )
            creates.append(activity)
            create_plans.append((rec, contacts))
            imp.count("activities", "created")
            continue
        activity = existing[match]
        _update(imp, "activities", activity, values, updates, fields)
    Activity.objects.bulk_create(creates, batch_size=UPDATE_BATCH)
    imp.bulk_update(Activity, updates, fields)
    ext_rows = []
    for (rec, contacts), activity in zip(create_plans, creates, strict=True):
        links.extend((activity.pk, c) for c in dict.fromkeys(contacts) if c is not None)
        if rec.has("external_id"):
            ext_rows.append((activity.pk, rec.spec.system, str(rec.get("external_id"))))
    imp.write_external_ids(Activity, ext_rows)
    imp.writer.links(Activity.contacts.through, ("activity_id", "contact_id"), links)


def _natural(values: dict[str, Any]) -> tuple[Any, ...]:
    return (
        values.get("subject"),
        values.get("owner_id"),
        values.get("activity_type_id"),
        values.get("due_on"),
        values.get("starts_at"),
        values.get("account_id"),
        values.get("opportunity_id"),
    )
