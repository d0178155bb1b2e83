"""HTML views: parse input, call services/selectors, render. No business rules here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from salescope.accounts.models import Account, Contact
from salescope.activities import selectors, services
from salescope.activities.forms import (
    ActivityForm,
    AgreementFormSet,
    CompleteForm,
    MinutesForm,
    RescheduleForm,
    agreement_items,
    parse_day,
    responsible_choices,
)
from salescope.activities.models import Activity
from salescope.core import clock
from salescope.core.errors import ConflictError
from salescope.org.models import User
from salescope.pipeline.models import Opportunity
from salescope.visibility import can_change, visible_accounts, visible_opportunities

VIEWS = ("day", "week", "month")
DAY_HOURS = range(7, 21)  # hours the day view always shows (others appear when used)
MONTH_CELL_MAX = 4  # events shown in a month cell before "+N more"

# Names other pages register for records (the first that exists is linked).
DEAL_URL_NAMES = ("pipeline:deal", "pipeline:detail", "pipeline:opportunity")
ACCOUNT_URL_NAMES = ("accounts:detail", "accounts:account")
CONTACT_URL_NAMES = ("accounts:contact", "accounts:contact_detail")


# --- helpers --------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def _record_url(names: Iterable[str], pk: Any) -> str:
    for name in names:
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return ""


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _form_errors(form: Form, exc: ValidationError) -> None:
    """Put a service's field-keyed errors on the form (unknown fields on the form itself)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _version(form: Form) -> int | None:
    return form.cleaned_data.get("version") if form.is_valid() else None


def _activity_or_404(request: HttpRequest, pk: int) -> Activity:
    activity = selectors.activity_detail(_user(request), pk)
    if activity is None:
        raise Http404(_("No such activity."))
    return activity


def _text_colour(hex_colour: str) -> str:
    """Black or white text, whichever reads better on ``hex_colour``."""
    value = hex_colour.lstrip("#")
    try:
        r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return "#fff"
    return "#111827" if (0.299 * r + 0.587 * g + 0.114 * b) > 160 else "#fff"


# --- agenda (A2) ----------------------------------------------------------------------------


@dataclass
class Entry:
    activity: Activity
    start: dt.datetime | None  # local time, for timed activities
    end: dt.datetime | None
    overdue: bool
    text_colour: str
    continues: bool = False  # started on an earlier day


@dataclass
class Day:
    date: dt.date
    is_today: bool
    in_month: bool = True
    all_day: list[Entry] = field(default_factory=list)
    timed: list[Entry] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return self.all_day + self.timed

    @property
    def hidden_count(self) -> int:
        return max(0, len(self.entries) - MONTH_CELL_MAX)

    @property
    def shown(self) -> list[Entry]:
        return self.entries[:MONTH_CELL_MAX]

    @property
    def weekend(self) -> bool:
        return self.date.weekday() >= 5


def _window(view: str, day: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first shown day, day after the last, previous anchor, next anchor)."""
    if view == "day":
        return day, day + dt.timedelta(days=1), day - dt.timedelta(days=1), day + dt.timedelta(1)
    if view == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=7), day - dt.timedelta(7), day + dt.timedelta(7)
    first = day.replace(day=1)
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    prev_month = (first - dt.timedelta(days=1)).replace(day=1)
    start = first - dt.timedelta(days=first.weekday())
    end = next_month + dt.timedelta(days=(7 - next_month.weekday()) % 7)
    return start, end, prev_month, next_month


def _lay_out(
    activities: Iterable[Activity], start: dt.date, end: dt.date, month: int | None
) -> list[Day]:
    today = clock.today()
    now = clock.now()
    days = {}
    current = start
    while current < end:
        days[current] = Day(
            date=current,
            is_today=current == today,
            in_month=month is None or current.month == month,
        )
        current += dt.timedelta(days=1)
    for activity in activities:
        colour = _text_colour(activity.activity_type.colour)
        open_ = activity.done_at is None
        if activity.starts_at is None:
            if activity.due_on in days:
                overdue = open_ and activity.due_on < today
                days[activity.due_on].all_day.append(Entry(activity, None, None, overdue, colour))
            continue
        local_start = timezone.localtime(activity.starts_at)
        local_end = timezone.localtime(activity.ends_at) if activity.ends_at else None
        last = (local_end - dt.timedelta(microseconds=1)).date() if local_end else None
        last = max(last or local_start.date(), local_start.date())
        overdue = open_ and (activity.ends_at or activity.starts_at) < now
        day = max(local_start.date(), start)
        while day <= last and day < end:
            entry = Entry(
                activity, local_start, local_end, overdue, colour, local_start.date() < day
            )
            days[day].timed.append(entry)
            day += dt.timedelta(days=1)
    return list(days.values())


def _hours(day: Day) -> list[tuple[int, list[Entry]]]:
    by_hour: dict[int, list[Entry]] = {h: [] for h in DAY_HOURS}
    for entry in day.timed:
        hour = 0 if entry.continues or entry.start is None else entry.start.hour
        by_hour.setdefault(hour, []).append(entry)
    return sorted(by_hour.items())


def _agenda_url(**params: Any) -> str:
    return reverse("activities:agenda") + "?" + urlencode({k: v for k, v in params.items() if v})


@login_required
def agenda(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    view = request.GET.get("view") or "week"
    if view not in VIEWS:
        view = "week"
    today = clock.today()
    anchor = parse_day(request.GET.get("date"), today)
    people = list(selectors.agenda_people(user).order_by("first_name", "last_name", "username"))
    person_ids = {p.pk for p in people}
    raw_user = request.GET.get("user") or ""
    if raw_user == "all":
        owners = person_ids
        selected = "all"
    else:
        try:
            owner_id = int(raw_user) if raw_user else user.pk
        except ValueError:
            raise Http404(_("No such agenda.")) from None
        if owner_id not in person_ids and owner_id != user.pk:
            raise Http404(_("You cannot see this person's agenda."))
        owners = {owner_id}
        selected = str(owner_id)
    start, end, prev_anchor, next_anchor = _window(view, anchor)
    activities = list(selectors.agenda(user, start, end, owners=owners))
    days = _lay_out(activities, start, end, anchor.month if view == "month" else None)
    shown_user = raw_user if raw_user else ""
    here = _agenda_url(view=view, date=anchor.isoformat(), user=shown_user)
    viewed = next((p for p in people if str(p.pk) == selected), None)
    context = {
        "view": view,
        "anchor": anchor,
        "start": start,
        "last": end - dt.timedelta(days=1),
        "days": days,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "hours": _hours(days[0]) if view == "day" else [],
        "people": people,
        "selected": selected,
        "viewed": viewed,
        "show_owner": selected == "all" or (viewed is not None and viewed.pk != user.pk),
        "types": list(selectors.activity_types()),
        "views": [
            (v, label, _agenda_url(view=v, date=anchor.isoformat(), user=shown_user))
            for v, label in (("day", _("Day")), ("week", _("Week")), ("month", _("Month")))
        ],
        "prev_url": _agenda_url(view=view, date=prev_anchor.isoformat(), user=shown_user),
        "next_url": _agenda_url(view=view, date=next_anchor.isoformat(), user=shown_user),
        "today_url": _agenda_url(view=view, user=shown_user),
        "here": here,
        "create_owner": viewed.pk if viewed is not None and viewed.pk != user.pk else "",
        "count": len(activities),
    }
    return render(request, "activities/agenda.html", context)


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    people = list(selectors.agenda_people(user).order_by("first_name", "last_name", "username"))
    person_ids = {p.pk for p in people}
    raw_user = request.GET.get("user") or ""
    if raw_user == "all":
        owners, selected = person_ids, "all"
    else:
        try:
            owner_id = int(raw_user) if raw_user else user.pk
        except ValueError:
            raise Http404(_("No such agenda.")) from None
        if owner_id not in person_ids and owner_id != user.pk:
            raise Http404(_("You cannot see this person's agenda."))
        owners, selected = {owner_id}, str(owner_id)
    qs = selectors.overdue_for(user, owners=owners)
    rows = list(qs[:200])
    today = clock.today()
    context = {
        "rows": [(a, _text_colour(a.activity_type.colour)) for a in rows],
        "total": len(rows) if len(rows) < 200 else qs.count(),
        "people": people,
        "selected": selected,
        "today": today,
        "here": request.get_full_path(),
        "show_owner": selected != str(user.pk),
    }
    return render(request, "activities/overdue.html", context)


# --- create and edit (A2, A3) -----------------------------------------------------------------


def _initial_from_query(request: HttpRequest, user: User) -> dict[str, Any]:
    """Prefill from ``?opportunity= &account= &date= &time= &type= &owner=`` (ids and codes)."""
    q = request.GET
    initial: dict[str, Any] = {"owner": user.pk}
    opp_id, account_id = q.get("opportunity", ""), q.get("account", "")
    if opp_id.isdigit():
        opp = (
            visible_opportunities(user, Opportunity.objects.all())
            .select_related("account")
            .filter(pk=int(opp_id))
            .first()
        )
        if opp is not None:
            initial["opportunity"] = opp.pk
            if opp.account_id:
                initial["account"] = opp.account_id
            initial["contacts"] = list(opp.contacts.values_list("pk", flat=True))
    if account_id.isdigit() and "account" not in initial:
        account = visible_accounts(user, Account.objects.all()).filter(pk=int(account_id)).first()
        if account is not None:
            initial["account"] = account.pk
    chosen = [int(v) for v in q.getlist("contacts") if v.isdigit()]
    if chosen:
        initial["contacts"] = chosen
    code = q.get("type", "")
    if code:
        kind = selectors.activity_types().filter(code=code).first()
        if kind is not None:
            initial["activity_type"] = kind.pk
    owner = q.get("owner", "")
    if owner.isdigit() and selectors.assignable_users(user).filter(pk=int(owner)).exists():
        initial["owner"] = int(owner)
    day = parse_day(q.get("date"), clock.today()) if q.get("date") else None
    time = None
    try:
        time = dt.time.fromisoformat(q["time"]) if q.get("time") else None
    except ValueError:
        time = None
    if day is not None and time is not None:
        starts = dt.datetime.combine(day, time)
        initial["starts_at"] = starts
        initial["ends_at"] = starts + dt.timedelta(hours=1)
    elif day is not None:
        initial["due_on"] = day
    return initial


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if request.method == "POST":
        form = ActivityForm(request.POST, user=user)
        if form.is_valid():
            values = form.service_values()
            try:
                activity = services.create_activity(
                    actor=user,
                    activity_type=values["activity_type"],
                    subject=values["subject"],
                    owner=values["owner"],
                    account=values["account"],
                    opportunity=values["opportunity"],
                    contacts=values["contacts"],
                    due_on=values["due_on"],
                    starts_at=values["starts_at"],
                    ends_at=values["ends_at"],
                    duration_minutes=values["duration_minutes"],
                    description=values["description"],
                    done=bool(values.get("done")),
                    outcome=values.get("outcome") or "",
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, _("Activity “%(subject)s” saved.") % {"subject": activity.subject}
                )
                detail = reverse("activities:detail", args=[activity.pk])
                if activity.activity_type.is_meeting and activity.done_at is not None:
                    url = reverse("activities:minutes", args=[activity.pk])
                    nxt = _safe_next(request, "")
                    return redirect(url + ("?" + urlencode({"next": nxt}) if nxt else ""))
                return redirect(_safe_next(request, detail))
    else:
        form = ActivityForm(initial=_initial_from_query(request, user), user=user)
    context = {
        "form": form,
        "activity": None,
        "next": _safe_next(request, ""),
        "meeting_types": [t.pk for t in selectors.activity_types() if t.is_meeting],
    }
    return render(request, "activities/activity_form.html", context)


@login_required
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    if not can_change(user, activity):
        raise Http404(_("No such activity."))
    if request.method == "POST":
        form = ActivityForm(request.POST, user=user, activity=activity)
        version_raw = request.POST.get("version", "")
        if form.is_valid():
            values = form.service_values()
            values.pop("done", None)
            values.pop("outcome", None)
            try:
                services.update_activity(
                    activity=activity,
                    actor=user,
                    expected_version=int(version_raw) if version_raw.isdigit() else None,
                    **values,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Activity saved."))
                return redirect(_safe_next(request, reverse("activities:detail", args=[pk])))
    else:
        initial = {
            "activity_type": activity.activity_type_id,
            "subject": activity.subject,
            "owner": activity.owner_id,
            "opportunity": activity.opportunity_id,
            "account": activity.account_id,
            "contacts": [c.pk for c in activity.contacts.all()],
            "due_on": activity.due_on,
            "starts_at": timezone.localtime(activity.starts_at) if activity.starts_at else None,
            "ends_at": timezone.localtime(activity.ends_at) if activity.ends_at else None,
            "duration_minutes": activity.duration_minutes,
            "description": activity.description,
        }
        form = ActivityForm(initial=initial, user=user, activity=activity)
    context = {
        "form": form,
        "activity": activity,
        "next": _safe_next(request, ""),
        "meeting_types": [],
    }
    return render(request, "activities/activity_form.html", context)


# --- detail, minutes (A3) -----------------------------------------------------------------


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    recipients, without_email = selectors.minutes_recipients(activity)
    agreements = list(activity.agreements.all())
    has_minutes = bool(activity.discussion.strip() or agreements)
    local_start = timezone.localtime(activity.starts_at) if activity.starts_at else None
    context = {
        "activity": activity,
        "colour": activity.activity_type.colour,
        "text_colour": _text_colour(activity.activity_type.colour),
        "may_change": can_change(user, activity),
        "agreements": agreements,
        "contacts": [(c, _record_url(CONTACT_URL_NAMES, c.pk)) for c in activity.contacts.all()],
        "participants": list(activity.participant_users.all()),
        "has_minutes": has_minutes,
        "recipients": recipients,
        "without_email": without_email,
        "deal_url": _record_url(DEAL_URL_NAMES, activity.opportunity_id)
        if activity.opportunity_id
        else "",
        "account_url": _record_url(ACCOUNT_URL_NAMES, activity.account_id)
        if activity.account_id
        else "",
        "overdue": activity.done_at is None
        and (
            (activity.due_on is not None and activity.due_on < clock.today())
            or (
                activity.starts_at is not None
                and (activity.ends_at or activity.starts_at) < clock.now()
            )
        ),
        "agenda_url": _agenda_url(
            view="week",
            date=(
                local_start.date() if local_start else activity.due_on or clock.today()
            ).isoformat(),
        ),
        "reschedule_form": RescheduleForm(
            initial={
                "date": local_start.date() if local_start else activity.due_on or clock.today(),
                "time": local_start.time().replace(second=0, microsecond=0)
                if local_start
                else None,
                "version": activity.version,
            }
        ),
        "complete_form": CompleteForm(
            initial={"duration_minutes": activity.duration_minutes, "version": activity.version}
        ),
        "here": request.get_full_path(),
    }
    return render(request, "activities/activity_detail.html", context)


def _minutes_people(
    user: User, activity: Activity, data: Any = None
) -> tuple[list[User], list[Contact]]:
    """Who may be made responsible for an agreement: colleagues and the customer's people."""
    users = list(
        User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")
    )
    chosen = [c.pk for c in activity.contacts.all()]
    if data is not None:
        chosen += [int(v) for v in data.getlist("participant_contacts") if str(v).isdigit()]
    contacts = list(selectors.contacts_for_activity(user, account=activity.account, include=chosen))
    return users, contacts


@login_required
def minutes_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    if not can_change(user, activity):
        raise Http404(_("No such activity."))
    detail = reverse("activities:detail", args=[pk])
    if not activity.activity_type.is_meeting:
        messages.error(
            request,
            _("A %(type)s has no minutes; only meetings, visits and demos do.")
            % {"type": activity.activity_type},
        )
        return redirect(detail)
    data = request.POST if request.method == "POST" else None
    users, contacts = _minutes_people(user, activity, data)
    choices = responsible_choices(users, contacts)
    if data is not None:
        form = MinutesForm(data, user=user, activity=activity)
        formset = AgreementFormSet(data, prefix="agreements", form_kwargs={"responsible": choices})
        if form.is_valid() and formset.is_valid():
            items = agreement_items(formset, {u.pk: u for u in users}, {c.pk: c for c in contacts})
            try:
                services.record_minutes(
                    activity=activity,
                    actor=user,
                    discussion=form.cleaned_data["discussion"] or "",
                    participant_users=list(form.cleaned_data["participant_users"]),
                    participant_contacts=list(form.cleaned_data["participant_contacts"]),
                    agreements=items,
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Minutes saved."))
                return redirect(detail)
    else:
        participant_ids = [u.pk for u in activity.participant_users.all()]
        form = MinutesForm(
            initial={
                "participant_users": participant_ids or [activity.owner_id],
                "participant_contacts": [c.pk for c in activity.contacts.all()],
                "discussion": activity.discussion,
                "version": activity.version,
            },
            user=user,
            activity=activity,
        )
        rows = [
            {
                "text": a.text,
                "responsible": f"u:{a.owner_id}"
                if a.owner_id
                else (f"c:{a.owner_contact_id}" if a.owner_contact_id else ""),
                "due_on": a.due_on,
            }
            for a in activity.agreements.all()
        ]
        formset = AgreementFormSet(
            initial=rows, prefix="agreements", form_kwargs={"responsible": choices}
        )
    context = {
        "activity": activity,
        "form": form,
        "formset": formset,
        "colour": activity.activity_type.colour,
        "next": _safe_next(request, ""),
    }
    return render(request, "activities/minutes_form.html", context)


@login_required
@require_POST
def send_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    if not can_change(user, activity):
        raise Http404(_("No such activity."))
    try:
        sent = services.send_minutes(activity=activity, actor=user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        names = ", ".join(r.name or r.email for r in sent.recipients)
        messages.success(request, _("Minutes sent to %(names)s.") % {"names": names})
        if sent.without_email:
            messages.warning(
                request,
                _("Not sent to %(names)s: no e-mail address.")
                % {"names": ", ".join(sent.without_email)},
            )
    return redirect(reverse("activities:detail", args=[pk]))


# --- complete, reschedule (A2) ------------------------------------------------------------


def _changed_response(request: HttpRequest, fallback: str) -> HttpResponse:
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "agenda-changed"
        return response
    return redirect(_safe_next(request, fallback))


def _refused(request: HttpRequest, message: str, fallback: str) -> HttpResponse:
    if _is_htmx(request):
        return HttpResponse(message, status=422, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return redirect(_safe_next(request, fallback))


@login_required
def complete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    if not can_change(user, activity):
        raise Http404(_("No such activity."))
    detail = reverse("activities:detail", args=[pk])
    if request.method == "POST":
        form = CompleteForm(request.POST)
        if form.is_valid():
            try:
                services.complete_activity(
                    activity=activity,
                    actor=user,
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    outcome=form.cleaned_data["outcome"] or "",
                    expected_version=form.cleaned_data["version"],
                )
            except ValidationError as exc:
                if _is_htmx(request):
                    return _refused(request, _error_text(exc), detail)
                _form_errors(form, exc)
            except ConflictError as exc:
                return _refused(request, str(exc), detail)
            else:
                if not _is_htmx(request):
                    messages.success(
                        request, _("“%(subject)s” is done.") % {"subject": activity.subject}
                    )
                return _changed_response(request, detail)
        elif _is_htmx(request):
            return _refused(
                request, " ".join(" ".join(str(m) for m in e) for e in form.errors.values()), detail
            )
    else:
        form = CompleteForm(
            initial={"duration_minutes": activity.duration_minutes, "version": activity.version}
        )
    context = {"activity": activity, "form": form, "next": _safe_next(request, "")}
    return render(request, "activities/complete.html", context)


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    detail = reverse("activities:detail", args=[pk])
    try:
        services.reopen_activity(activity=activity, actor=user)
    except ValidationError as exc:
        return _refused(request, _error_text(exc), detail)
    messages.success(request, _("Activity reopened."))
    return redirect(_safe_next(request, detail))


@login_required
@require_POST
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    activity = _activity_or_404(request, pk)
    detail = reverse("activities:detail", args=[pk])
    if not can_change(user, activity):
        return _refused(request, _("You may not move this activity."), detail)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _refused(request, _("Give a valid date (and time) to move the activity to."), detail)
    try:
        services.reschedule_to_day(
            activity=activity,
            actor=user,
            day=form.cleaned_data["date"],
            time=form.cleaned_data["time"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        return _refused(request, _error_text(exc), detail)
    except ConflictError as exc:
        return _refused(request, str(exc), detail)
    if not _is_htmx(request):
        messages.success(request, _("Activity moved."))
    return _changed_response(request, detail)
