"""HTML views: parse input, call services/selectors, render. No business rules here."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salescope.accounts import forms as f
from salescope.accounts import selectors, services
from salescope.accounts.models import Account, AccountContact, Contact
from salescope.core import clock, formatting
from salescope.core.errors import ConflictError, PermissionDenied
from salescope.customfields.models import FieldType
from salescope.customfields.services import definitions
from salescope.org.models import User
from salescope.visibility import can_change

TIMELINE_PAGE = 40
TIMELINE_FILTERS = {
    "all": selectors.TIMELINE_KINDS,
    "changes": ("change",),
    "activities": ("activity",),
    "comments": ("comment",),
    "files": ("file",),
}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def url_or_none(name: str, *args: Any, query: dict[str, Any] | None = None) -> str | None:
    """The URL of a page of another app, or None while that page does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(query)}" if query else url


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _account(request: HttpRequest, pk: int) -> Account:
    """The account if the user sees it; 404 otherwise (never reveal that it exists)."""
    return get_object_or_404(selectors.accounts_for(_user(request)), pk=pk)


def _contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(
        selectors.contacts_for(_user(request)).prefetch_related("tags__category"), pk=pk
    )


def _custom_display(target: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, formatted value) of the custom fields that have a value."""
    out = []
    for d in definitions(target):
        value = values.get(d.key)
        if value in (None, "", []):
            continue
        if d.field_type == FieldType.MONEY and isinstance(value, dict):
            text = formatting.money(value.get("amount"), value.get("currency"))
        elif d.field_type == FieldType.NUMBER:
            text = formatting.number(value)
        elif d.field_type == FieldType.DATE:
            import datetime as dt

            text = formatting.date(dt.date.fromisoformat(value))
        elif d.field_type == FieldType.BOOLEAN:
            text = _("Yes") if value else _("No")
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        else:
            text = str(value)
        out.append((d.label, text))
    return out


def _with_deal_urls(deals: Any) -> list[Any]:
    rows = list(deals)
    for deal in rows:
        deal.url = url_or_none("pipeline:detail", deal.pk)
    return rows


# --- timeline ------------------------------------------------------------------------------


def _describe(event: Any, page: selectors.TimelinePage) -> str:
    """One change of a deal in words."""
    currency = event.opportunity.currency_id
    old, new = event.old_value, event.new_value

    def user_name(pk: Any) -> str:
        user = page.users.get(pk)
        return str(user) if user else "–"

    kind = event.kind
    if kind == "created":
        state = new or {}
        stage = page.stages.get(state.get("stage") or 0)
        return _("Deal created in %(stage)s, %(amount)s, owner %(owner)s") % {
            "stage": stage.name if stage else "–",
            "amount": formatting.money(state.get("amount"), state.get("currency") or currency),
            "owner": user_name(state.get("owner")),
        }
    if kind == "stage":
        return _("Stage: %(old)s → %(new)s") % {
            "old": event.from_stage.name if event.from_stage else "–",
            "new": event.to_stage.name if event.to_stage else "–",
        }
    if kind == "amount":
        return _("Amount: %(old)s → %(new)s") % {
            "old": formatting.money(old, currency),
            "new": formatting.money(new, currency),
        }
    if kind == "probability":
        return _("Probability: %(old)s → %(new)s") % {
            "old": formatting.percent((old or 0) / 100),
            "new": formatting.percent((new or 0) / 100),
        }
    if kind == "expected_close":
        import datetime as dt

        def day(value: Any) -> str:
            return formatting.date(dt.date.fromisoformat(value)) if value else "–"

        return _("Expected close: %(old)s → %(new)s") % {"old": day(old), "new": day(new)}
    if kind == "owner":
        return _("Owner: %(old)s → %(new)s") % {"old": user_name(old), "new": user_name(new)}
    if kind == "outcome":
        labels = {"open": _("open"), "won": _("won"), "lost": _("lost")}
        if new == "open":
            return _("Deal reopened")
        return _("Deal %(outcome)s") % {"outcome": labels.get(new, new)}
    if kind == "account":
        return _("Moved to this account") if new else _("Removed from the account")
    labels = {
        "name": _("Name"),
        "currency": _("Currency"),
        "forecast_category": _("Forecast category"),
        "next_step": _("Next step"),
        "lost_reason": _("Lost reason"),
    }
    if kind == "lost_reason":
        return _("Lost reason recorded")
    return _("%(field)s: %(old)s → %(new)s") % {
        "field": labels.get(kind, kind),
        "old": old if old not in (None, "") else "–",
        "new": new if new not in (None, "") else "–",
    }


def _timeline(request: HttpRequest, account: Account) -> dict[str, Any]:
    show = request.GET.get("show", "all")
    if show not in TIMELINE_FILTERS:
        show = "all"
    page = selectors.account_timeline(
        _user(request),
        account,
        kinds=TIMELINE_FILTERS[show],
        cursor=request.GET.get("before"),
        limit=TIMELINE_PAGE,
    )
    for entry in page.entries:
        entry.events.sort(key=lambda event: event.pk)
        entry.lines = [_describe(e, page) for e in entry.events]  # type: ignore[attr-defined]
        if entry.kind in ("change", "activity", "comment", "file"):
            deal = getattr(entry.obj, "opportunity", None) if entry.kind != "change" else entry.obj
            entry.deal = deal  # type: ignore[attr-defined]
            entry.deal_url = url_or_none("pipeline:detail", deal.pk) if deal else None  # type: ignore[attr-defined]
    more_url = None
    if page.next_cursor:
        more_url = (
            reverse("accounts:timeline", args=[account.pk])
            + "?"
            + urlencode({"show": show, "before": page.next_cursor})
        )
    return {
        "timeline": page.entries,
        "timeline_more_url": more_url,
        "timeline_show": show,
        "timeline_filters": [
            ("all", _("All")),
            ("changes", _("Deal changes")),
            ("activities", _("Activities")),
            ("comments", _("Comments")),
            ("files", _("Files")),
        ],
    }


# --- accounts ------------------------------------------------------------------------------


def _account_page(
    request: HttpRequest,
    account: Account,
    *,
    comment_form: f.CommentForm | None = None,
    attachment_form: f.AttachmentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    deals = _with_deal_urls(selectors.account_deals(user, account))
    memberships = list(selectors.account_contacts(account))
    tags_by_category: dict[str, list[Any]] = defaultdict(list)
    for tag in account.tags.select_related("category"):
        tags_by_category[tag.category.name].append(tag)
    duplicates = list(
        selectors.find_duplicate_accounts(
            name=account.name, domain=account.domain, exclude=account, user=user
        )[:5]
    )
    from django.conf import settings

    context = {
        "account": account,
        "can_change": can_change(user, account),
        "figures": selectors.account_figures(user, account, today=clock.today()),
        "open_deals": [d for d in deals if d.outcome == "open"],
        "closed_deals": [d for d in deals if d.outcome != "open"],
        "memberships": memberships,
        "tags_by_category": dict(tags_by_category),
        "custom_values": _custom_display("account", account.custom),
        "duplicates": duplicates,
        "comment_form": comment_form or f.CommentForm(),
        "attachment_form": attachment_form or f.AttachmentForm(),
        "max_upload_mb": settings.SALESCOPE_MAX_ATTACHMENT_BYTES / 1_048_576,
        "new_deal_url": url_or_none("pipeline:create", query={"account": account.pk}),
        "log_activity_url": url_or_none("activities:create", query={"account": account.pk}),
        "accounts_url": url_or_none("lists:accounts"),
        **_timeline(request, account),
    }
    return render(request, "accounts/account_detail.html", context, status=status)


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _account_page(request, _account(request, pk))


@login_required
def account_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """A page of the timeline (the filter bar's and "load more"'s htmx target)."""
    account = _account(request, pk)
    context = {"account": account, **_timeline(request, account)}
    template = (
        "accounts/_timeline.html" if request.GET.get("before") else "accounts/_timeline_box.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def account_comment(request: HttpRequest, pk: int) -> HttpResponseBase:
    account = _account(request, pk)
    form = f.CommentForm(request.POST)
    if form.is_valid():
        from salescope.activities.services import add_comment

        try:
            add_comment(actor=_user(request), body=form.cleaned_data["body"], account=account)
        except ValidationError as exc:
            f.add_service_errors(form, exc)
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("Comment added."))
            return redirect(reverse("accounts:detail", args=[pk]) + "#timeline")
    return _account_page(request, account, comment_form=form, status=400)


@login_required
@require_POST
def account_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    account = _account(request, pk)
    form = f.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        from salescope.activities.services import add_attachment

        try:
            add_attachment(actor=_user(request), file=form.cleaned_data["file"], account=account)
        except ValidationError as exc:
            f.add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("File attached."))
            return redirect(reverse("accounts:detail", args=[pk]) + "#timeline")
    return _account_page(request, account, attachment_form=form, status=400)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """Download a file attached to an account or a deal the user sees."""
    from salescope.activities.models import Attachment
    from salescope.pipeline.selectors import opportunities_for

    attachment = get_object_or_404(Attachment, pk=pk)
    user = _user(request)
    if attachment.account_id is not None:
        visible = selectors.accounts_for(user).filter(pk=attachment.account_id).exists()
    else:
        deal_id = attachment.opportunity_id or 0
        visible = opportunities_for(user).filter(pk=deal_id).exists()
    if not visible:
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )


def _duplicates_of_account(user: User, form: f.AccountForm) -> list[Account]:
    data = form.cleaned_data
    return list(
        selectors.find_duplicate_accounts(
            name=data.get("name") or "", domain=data.get("website") or "", user=user
        )[:10]
    )


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    duplicates: list[Account] = []
    if request.method == "POST":
        form = f.AccountForm(request.POST, user=user)
        if form.is_valid():
            kwargs = form.service_kwargs()
            merge_into = request.POST.get("merge_into")
            if merge_into:
                target = _account(request, _int(merge_into))
                try:
                    services.fill_account_gaps(account=target, values=kwargs, actor=user)
                except PermissionDenied:
                    form.add_error(None, _("You may not change “%(name)s”.") % {"name": target})
                except ValidationError as exc:
                    f.add_service_errors(form, exc)
                else:
                    messages.success(
                        request, _("Your entries were added to “%(name)s”.") % {"name": target}
                    )
                    return redirect("accounts:detail", pk=target.pk)
            else:
                if not form.cleaned_data.get("confirm_duplicate"):
                    duplicates = _duplicates_of_account(user, form)
                if not duplicates:
                    try:
                        account = services.create_account(actor=user, **kwargs)
                    except ValidationError as exc:
                        f.add_service_errors(form, exc)
                    except PermissionDenied as exc:
                        form.add_error(None, str(exc))
                    else:
                        messages.success(request, _("Account created."))
                        return redirect("accounts:detail", pk=account.pk)
        status = 200 if duplicates and not form.errors else 400
    else:
        form = f.AccountForm(user=user, initial={"name": request.GET.get("name", "")})
        status = 200
    for dup in duplicates:
        dup.can_change = can_change(user, dup)  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/account_form.html",
        {"form": form, "duplicates": duplicates, "creating": True},
        status=status,
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _edit_record(
    request: HttpRequest,
    *,
    record: Any,
    kind: str,
    form_class: Any,
    update: Any,
    detail_url: str,
    template: str,
    cannot_change: str,
    saved: str,
) -> HttpResponse:
    """Edit an account or a contact through its update service, with the optimistic version:
    field errors on the form, a conflict as 409 with "changed by X at T", nothing half-saved."""
    user = _user(request)
    if not can_change(user, record):
        messages.error(request, cannot_change)
        return redirect(detail_url, pk=record.pk)
    conflict = None
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, user=user, **{kind: record})
        if form.is_valid():
            try:
                update(
                    **{kind: record},
                    actor=user,
                    expected_version=form.cleaned_data.get("version"),
                    **form.service_kwargs(),
                )
            except ConflictError as exc:
                conflict = str(exc)
            except ValidationError as exc:
                f.add_service_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, saved)
                return redirect(detail_url, pk=record.pk)
        status = 409 if conflict else 400
    else:
        form = form_class(user=user, **{kind: record})
    context = {"form": form, kind: record, "conflict": conflict, "creating": False}
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_record(
        request, record=_account(request, pk), kind="account", form_class=f.AccountForm,
        update=services.update_account, detail_url="accounts:detail",
        template="accounts/account_form.html",
        cannot_change=_("You may view this account but not change it."),
        saved=_("Account saved."),
    )  # fmt: skip


def _account_counts(account: Account) -> dict[str, int]:
    from salescope.activities.models import Activity, Attachment, Comment
    from salescope.pipeline.models import Opportunity

    return {
        "deals": Opportunity.objects.filter(account=account).count(),
        "contacts": AccountContact.objects.filter(account=account).count(),
        "activities": Activity.objects.filter(account=account).count(),
        "comments": Comment.objects.filter(account=account).count(),
        "files": Attachment.objects.filter(account=account).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def account_merge(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Merge the account ``other`` into the account ``pk`` (which is kept)."""
    user = _user(request)
    keep, merge = _account(request, pk), _account(request, other)
    if keep.pk == merge.pk:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.merge_accounts(keep=keep, merge=merge, actor=user)
        except PermissionDenied as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("“%(merge)s” was merged into this account.") % {"merge": merge}
            )
            return redirect("accounts:detail", pk=keep.pk)
    allowed = can_change(user, keep) and can_change(user, merge)
    return render(
        request,
        "accounts/merge.html",
        {
            "kind": "account",
            "keep": keep,
            "merge": merge,
            "keep_counts": _account_counts(keep),
            "merge_counts": _account_counts(merge),
            "keep_url": reverse("accounts:detail", args=[keep.pk]),
            "merge_url": reverse("accounts:detail", args=[merge.pk]),
            "swap_url": reverse("accounts:merge", args=[merge.pk, keep.pk]),
            "allowed": allowed,
            "error": error,
        },
        status=403 if error else 200,
    )


# --- contacts ------------------------------------------------------------------------------


def _contact_page(
    request: HttpRequest, contact: Contact, *, add_form: Any = None, status: int = 200
) -> HttpResponse:
    from salescope.activities.selectors import activities_for

    user = _user(request)
    memberships = list(selectors.contact_accounts(contact))
    shown = selectors.accounts_for(user).filter(pk__in=[m.account_id for m in memberships])
    visible_ids = set(shown.values_list("pk", flat=True))
    for m in memberships:
        m.visible = m.account_id in visible_ids  # type: ignore[attr-defined]
        m.form = f.MembershipForm(  # type: ignore[attr-defined]
            initial={"roles": list(m.roles.all()), "is_primary": m.is_primary},
            current=m.roles.all(),
            prefix=f"m{m.pk}",
        )
    duplicates = list(
        selectors.find_duplicate_contacts(
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            exclude=contact,
            user=user,
        )[:5]
    )
    activities = list(
        activities_for(user).filter(contacts=contact).order_by("-starts_at", "-due_on", "-pk")[:20]
    )
    context = {
        "contact": contact,
        "can_change": can_change(user, contact),
        "memberships": memberships,
        "deals": _with_deal_urls(selectors.contact_deals(user, contact)[:50]),
        "activities": activities,
        "duplicates": duplicates,
        "custom_values": _custom_display("contact", contact.custom),
        "add_form": add_form or _AddToAccountForm(user=user),
        "contacts_url": url_or_none("lists:contacts"),
    }
    return render(request, "accounts/contact_detail.html", context, status=status)


class _AddToAccountForm(f.MembershipForm):
    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django import forms

        self.fields["account"] = forms.ModelChoiceField(
            label=_("Account"),
            queryset=selectors.accounts_for(user).select_related(None).only("pk", "name"),
        )
        self.order_fields(["account", "roles", "is_primary"])


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _contact_page(request, _contact(request, pk))


@login_required
@require_POST
def contact_link(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Place the contact at an account with roles (or change the roles of a place)."""
    user = _user(request)
    contact = _contact(request, pk)
    membership_pk = request.POST.get("membership")
    if membership_pk:
        membership = get_object_or_404(
            AccountContact.objects.select_related("account"),
            pk=_int(membership_pk),
            contact=contact,
        )
        form: Any = f.MembershipForm(
            request.POST, current=membership.roles.all(), prefix=f"m{membership.pk}"
        )
        account = membership.account
    else:
        form = _AddToAccountForm(request.POST, user=user)
        account = None
    if form.is_valid():
        account = account or form.cleaned_data["account"]
        try:
            services.link_contact(
                contact=contact,
                account=account,
                actor=user,
                roles=list(form.cleaned_data["roles"]),
                is_primary=form.cleaned_data["is_primary"],
            )
        except ValidationError as exc:
            f.add_service_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Saved."))
            return redirect("accounts:contact", pk=pk)
    if membership_pk:
        messages.error(
            request, " ".join(str(e) for e in form.non_field_errors()) or _("Not saved.")
        )
        return redirect("accounts:contact", pk=pk)
    return _contact_page(request, contact, add_form=form, status=400)


@login_required
@require_POST
def contact_unlink(request: HttpRequest, pk: int, account_pk: int) -> HttpResponseBase:
    contact = _contact(request, pk)
    account = get_object_or_404(Account, pk=account_pk)
    try:
        services.unlink_contact(contact=contact, account=account, actor=_user(request))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Removed from “%(name)s”.") % {"name": account})
    return redirect("accounts:contact", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    accounts = selectors.accounts_for(user).select_related(None).only("pk", "name")
    duplicates: list[Contact] = []
    preset = None
    if request.GET.get("account"):
        preset = _account(request, _int(request.GET["account"]))
    if request.method == "POST":
        form = f.ContactForm(request.POST, user=user, accounts=accounts)
        if form.is_valid():
            kwargs = form.service_kwargs()
            data = form.cleaned_data
            account = data.get("account")
            roles = list(data.get("roles") or [])
            merge_into = request.POST.get("merge_into")
            if merge_into:
                target = _contact(request, _int(merge_into))
                try:
                    services.fill_contact_gaps(contact=target, values=kwargs, actor=user)
                    if account is not None:
                        services.link_contact(
                            contact=target, account=account, actor=user,
                            roles=roles or None, is_primary=data.get("is_primary") or None,
                        )  # fmt: skip
                except PermissionDenied:
                    form.add_error(None, _("You may not change “%(name)s”.") % {"name": target})
                except ValidationError as exc:
                    f.add_service_errors(form, exc)
                else:
                    messages.success(
                        request, _("Your entries were added to “%(name)s”.") % {"name": target}
                    )
                    return redirect("accounts:contact", pk=target.pk)
            else:
                if not data.get("confirm_duplicate"):
                    duplicates = list(
                        selectors.find_duplicate_contacts(
                            email=data.get("email") or "",
                            first_name=data.get("first_name") or "",
                            last_name=data.get("last_name") or "",
                            user=user,
                        )[:10]
                    )
                if not duplicates:
                    links = [(account, roles, bool(data.get("is_primary")))] if account else None
                    try:
                        contact = services.create_contact(actor=user, accounts=links, **kwargs)
                    except ValidationError as exc:
                        f.add_service_errors(form, exc)
                    except PermissionDenied as exc:
                        form.add_error(None, str(exc))
                    else:
                        messages.success(request, _("Contact created."))
                        if account is not None:
                            return redirect("accounts:detail", pk=account.pk)
                        return redirect("accounts:contact", pk=contact.pk)
        status = 200 if duplicates and not form.errors else 400
    else:
        form = f.ContactForm(user=user, accounts=accounts, initial={"account": preset})
        status = 200
    for dup in duplicates:
        dup.can_change = can_change(user, dup)  # type: ignore[attr-defined]
    return render(
        request,
        "accounts/contact_form.html",
        {"form": form, "duplicates": duplicates, "creating": True, "preset": preset},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_record(
        request, record=_contact(request, pk), kind="contact", form_class=f.ContactForm,
        update=services.update_contact, detail_url="accounts:contact",
        template="accounts/contact_form.html",
        cannot_change=_("You may view this contact but not change it."),
        saved=_("Contact saved."),
    )  # fmt: skip


def _contact_counts(contact: Contact) -> dict[str, int]:
    from salescope.activities.models import Activity
    from salescope.pipeline.models import Opportunity

    return {
        "accounts": AccountContact.objects.filter(contact=contact).count(),
        "deals": Opportunity.objects.filter(contacts=contact).count(),
        "activities": Activity.objects.filter(contacts=contact).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def contact_merge(request: HttpRequest, pk: int, other: int) -> HttpResponse:
    """Merge the contact ``other`` into the contact ``pk`` (which is kept)."""
    user = _user(request)
    keep, merge = _contact(request, pk), _contact(request, other)
    if keep.pk == merge.pk:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            services.merge_contacts(keep=keep, merge=merge, actor=user)
        except PermissionDenied as exc:
            error = str(exc)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request, _("“%(merge)s” was merged into this contact.") % {"merge": merge}
            )
            return redirect("accounts:contact", pk=keep.pk)
    return render(
        request,
        "accounts/merge.html",
        {
            "kind": "contact",
            "keep": keep,
            "merge": merge,
            "keep_counts": _contact_counts(keep),
            "merge_counts": _contact_counts(merge),
            "keep_url": reverse("accounts:contact", args=[keep.pk]),
            "merge_url": reverse("accounts:contact", args=[merge.pk]),
            "swap_url": reverse("accounts:contact_merge", args=[merge.pk, keep.pk]),
            "allowed": can_change(user, keep) and can_change(user, merge),
            "error": error,
        },
        status=403 if error else 200,
    )
