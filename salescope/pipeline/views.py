"""HTML views: parse input, call services/selectors, render. No business rules here.

The board's script posts with ``Accept: application/json`` and gets JSON back (the
re-rendered columns, a stage-gate form, or an error); every endpoint also works as a plain
form post (redirect with a message) and from htmx on the deal page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from salescope.activities import services as activity_services
from salescope.activities.models import Attachment
from salescope.core.errors import ConflictError
from salescope.customfields.models import CustomFieldDefinition, Target
from salescope.customfields.services import definitions
from salescope.org.models import User
from salescope.org.selectors import company_currency
from salescope.pipeline import selectors, services
from salescope.pipeline.forms import (
    EDITABLE,
    OPEN_ONLY,
    AttachmentForm,
    BoardFilterForm,
    CommentForm,
    DealForm,
    LostForm,
    add_service_errors,
    custom_from_post,
    custom_inputs,
    field_form,
    split_errors,
)
from salescope.pipeline.models import (
    Opportunity,
    Outcome,
    Pipeline,
    Stage,
    StageKind,
)
from salescope.visibility import can_change

FILTER_KEYS = ("owner", "team", "tier", "tag", "source", "product", "close")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required
    return user


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _maybe_url(name: str, *args: Any) -> str | None:
    """A link to a page built by another part of the product, if it exists."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _version(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _conflict_message(exc: ConflictError) -> str:
    when = (
        formats.date_format(timezone.localtime(exc.changed_at), "SHORT_DATETIME_FORMAT")
        if exc.changed_at
        else "?"
    )
    return _("Changed by %(who)s at %(when)s after you opened it. Reload to see their changes.") % {
        "who": exc.changed_by,
        "when": when,
    }


def _messages_of(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _deal(request: HttpRequest, pk: int) -> Opportunity:
    """The deal if the user sees it, else 404 (never a hint that it exists)."""
    return get_object_or_404(selectors.opportunities_for(_user(request)), pk=pk)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return default


# --- the board ----------------------------------------------------------------------------


def _pipeline_from(value: str | None) -> Pipeline:
    all_pipelines = selectors.pipelines()
    if value and value.isdigit():
        found = all_pipelines.filter(pk=int(value)).first()
        if found is not None:
            return found
    default = all_pipelines.first()
    if default is None:
        raise Http404(_("No pipeline is set up yet."))
    return default


def _filter_query(data: QueryDict) -> str:
    query = QueryDict(mutable=True)
    for key in FILTER_KEYS:
        if data.get(key):
            query[key] = str(data.get(key))
    return query.urlencode()


def _card_formatters() -> tuple[Any, Any]:
    """Money and date formatting for thousands of cards (the shared, cached formatters)."""
    from salescope.core import formatting

    dates: dict[Any, str] = {}

    def money(amount: Any, currency: str) -> str:
        return formatting.money(amount, currency, whole=True)

    def day(value: Any) -> str:
        if value not in dates:
            dates[value] = formatting.date(value, style="short")
        return dates[value]

    return money, day


def _decorate(columns: list[selectors.Column]) -> list[selectors.Column]:
    """Display strings for the cards (computed once here, not per card in the template)."""
    money, day = _card_formatters()
    detail = reverse("pipeline:detail", args=[0])
    for column in columns:
        for c in column.cards:
            c["url"] = detail.replace("/0/", f"/{c['pk']}/")
            # Strings, not numbers: the template would localize every number it prints.
            for key in ("pk", "version", "stage_id", "days_in_stage"):
                c[key] = str(c[key])
            c["amount_display"] = money(c["amount"], c["currency_id"])
            c["close_display"] = day(c["expected_close"])
            c["owner"] = (
                f"{c['owner__first_name']} {c['owner__last_name']}".strip() or c["owner__username"]
            )
    return columns


def _columns_html(
    request: HttpRequest, pipeline: Pipeline, stages: list[Stage], filter_query: str
) -> dict[str, str]:
    user = _user(request)
    form = BoardFilterForm(QueryDict(filter_query), user=user)
    all_stages = selectors.stages_of(pipeline)
    columns = _decorate(selectors.board_columns(user, pipeline, form.filters(), stages=stages))
    context = {"open_stages": [s for s in all_stages if s.is_open], "can_create": True}
    return {
        str(c.stage.pk): render_to_string(
            "pipeline/_column.html", {**context, "column": c}, request=request
        )
        for c in columns
    }


def _summary_html(request: HttpRequest, pipeline: Pipeline, filter_query: str) -> str:
    form = BoardFilterForm(QueryDict(filter_query), user=_user(request))
    totals = selectors.board_totals(_user(request), pipeline, form.filters())
    return render_to_string("pipeline/_summary.html", {"totals": totals}, request=request)


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    pipeline = _pipeline_from(request.GET.get("pipeline"))
    form = BoardFilterForm(request.GET, user=user)
    filters = form.filters()
    stages = selectors.stages_of(pipeline)
    open_stages = [s for s in stages if s.is_open]
    columns = _decorate(selectors.board_columns(user, pipeline, filters, stages=open_stages))
    filter_query = _filter_query(request.GET)
    context = {
        "pipeline": pipeline,
        "pipelines": list(selectors.pipelines()),
        "form": form,
        "filters": filters,
        "filter_query": filter_query,
        "columns": columns,
        "open_stages": open_stages,
        "won_stage": next((s for s in stages if s.kind == StageKind.WON), None),
        "lost_stage": next((s for s in stages if s.kind == StageKind.LOST), None),
        "totals": selectors.sum_totals(columns),
        "lost_form": LostForm(),
        "company_currency": company_currency(),
        "can_create": user.role != "readonly",
    }
    return render(request, "pipeline/board.html", context)


# --- moving, winning, losing, reopening ---------------------------------------------------


def _gate_html(
    request: HttpRequest, opp: Opportunity, stage: Stage, errors: dict[str, list[str]]
) -> str:
    keys = {k.split(".", 1)[1] for k in errors}
    defs = [d for d in definitions(Target.OPPORTUNITY) if d.key in keys]
    return render_to_string(
        "pipeline/_gate_form.html",
        {
            "opp": opp,
            "stage": stage,
            "rows": custom_inputs(defs, opp.custom, errors),
            "currencies": _currencies(),
        },
        request=request,
    )


def _currencies() -> list[str]:
    from salescope.org.models import Currency

    return list(Currency.objects.filter(active=True).values_list("code", flat=True))


def _close_action(
    request: HttpRequest, opp: Opportunity, target: Stage, custom: dict[str, Any] | None
) -> Opportunity:
    """Apply the action that brings ``opp`` into ``target`` (open, won or lost stage)."""
    user = _user(request)
    version = _version(request)
    if target.kind == StageKind.WON:
        return services.mark_won(
            opportunity=opp, actor=user, custom=custom or None, expected_version=version
        )
    if target.kind == StageKind.LOST:
        form = LostForm(request.POST)
        form.is_valid()
        return services.mark_lost(
            opportunity=opp,
            actor=user,
            reason=form.cleaned_data.get("lost_reason"),
            note=form.cleaned_data.get("note") or "",
            expected_version=version,
        )
    return services.move_to_stage(
        opportunity=opp, stage=target, actor=user, custom=custom or None, expected_version=version
    )


def _action_response(
    request: HttpRequest, opp: Opportunity, target: Stage | None, run: Any
) -> HttpResponse:
    """Run a state change and answer in the medium the caller speaks (JSON, htmx, plain)."""
    detail = reverse("pipeline:detail", args=[opp.pk])
    from_stage_id = opp.stage_id
    try:
        updated = run()
    except ConflictError as exc:
        return _action_error(request, opp, _conflict_message(exc), status=409, conflict=True)
    except ValidationError as exc:
        custom_errors, other = split_errors(exc)
        if custom_errors and not other and target is not None:
            html = _gate_html(request, opp, target, custom_errors)
            if _wants_json(request):
                return JsonResponse({"gate": html}, status=422)
            if _is_htmx(request):
                return HttpResponse(html, status=200)
        return _action_error(request, opp, " ".join(_messages_of(exc)), status=422)
    label = (
        _("Marked won.")
        if updated.outcome == Outcome.WON
        else _("Marked lost.")
        if updated.outcome == Outcome.LOST
        else _("Moved to %(stage)s.") % {"stage": updated.stage.name}
    )
    if _wants_json(request):
        pipeline = updated.pipeline
        stage_ids = {from_stage_id, updated.stage_id}
        stages = [s for s in selectors.stages_of(pipeline) if s.pk in stage_ids and s.is_open]
        return JsonResponse(
            {
                "ok": True,
                "message": f"{updated.name}: {label}",
                "columns": _columns_html(
                    request, pipeline, stages, request.POST.get("filters", "")
                ),
                "summary": _summary_html(request, pipeline, request.POST.get("filters", "")),
            }
        )
    messages.success(request, label)
    if _is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _safe_next(request, detail)
        return response
    return HttpResponseRedirect(_safe_next(request, detail))


def _action_error(
    request: HttpRequest, opp: Opportunity, message: str, *, status: int, conflict: bool = False
) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message, "conflict": conflict}, status=status)
    if _is_htmx(request):
        html = render_to_string(
            "pipeline/_action_error.html", {"message": message, "conflict": conflict}
        )
        return HttpResponse(html, status=200)
    messages.error(request, message)
    return HttpResponseRedirect(_safe_next(request, reverse("pipeline:detail", args=[opp.pk])))


@login_required
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage of its pipeline; a won or lost stage closes it."""
    opp = _deal(request, pk)
    stage_id = request.POST.get("stage", "")
    target = (
        Stage.objects.filter(pk=int(stage_id), pipeline_id=opp.pipeline_id).first()
        if stage_id.isdigit()
        else None
    )
    if target is None:
        return _action_error(request, opp, _("Choose a stage of this pipeline."), status=422)
    custom = custom_from_post(request.POST, definitions(Target.OPPORTUNITY))
    return _action_response(
        request, opp, target, lambda: _close_action(request, opp, target, custom)
    )


@login_required
@require_POST
def deal_won(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _deal(request, pk)
    target = Stage.objects.filter(pipeline_id=opp.pipeline_id, kind=StageKind.WON).first()
    if target is None:
        return _action_error(request, opp, _("This pipeline has no won stage."), status=422)
    custom = custom_from_post(request.POST, definitions(Target.OPPORTUNITY))
    return _action_response(
        request, opp, target, lambda: _close_action(request, opp, target, custom)
    )


@login_required
@require_POST
def deal_lost(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _deal(request, pk)
    target = Stage.objects.filter(pipeline_id=opp.pipeline_id, kind=StageKind.LOST).first()
    if target is None:
        return _action_error(request, opp, _("This pipeline has no lost stage."), status=422)
    return _action_response(request, opp, None, lambda: _close_action(request, opp, target, None))


@login_required
@require_POST
def deal_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _deal(request, pk)
    return _action_response(
        request,
        opp,
        None,
        lambda: services.reopen(
            opportunity=opp, actor=_user(request), expected_version=_version(request)
        ),
    )


# --- creating -----------------------------------------------------------------------------


def _create_defs(stage: Stage | None, *, quick: bool) -> list[CustomFieldDefinition]:
    defs = definitions(Target.OPPORTUNITY)
    if not quick:
        return defs

    def needed(d: CustomFieldDefinition) -> bool:
        gate = d.required_from_stage
        return d.required_on_create or (
            stage is not None
            and gate is not None
            and gate.pipeline_id == stage.pipeline_id
            and gate.order <= stage.order
        )

    return [d for d in defs if needed(d)]


@login_required
@require_http_methods(["GET", "POST"])
def deal_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    quick = (request.GET.get("quick") or request.POST.get("quick")) == "1"
    data = request.POST if request.method == "POST" else None
    initial: dict[str, Any] = {"currency": company_currency()}
    account_id = request.GET.get("account", "")
    stage_id = request.GET.get("stage") or request.POST.get("stage") or ""
    form = DealForm(data, user=user, quick=quick, initial=initial)
    if account_id.isdigit():
        account = form.fields["account"].queryset.filter(pk=int(account_id)).first()  # type: ignore[attr-defined]
        if account is not None:
            form.initial["account"] = account.pk
    stage = None
    if stage_id.isdigit():
        stage = form.fields["stage"].queryset.filter(pk=int(stage_id)).first()  # type: ignore[attr-defined]
    if stage is None:
        pipeline = selectors.default_pipeline()
        stage = selectors.open_stages(pipeline).first() if pipeline else None
    if stage is not None:
        form.initial["stage"] = stage.pk
    defs = _create_defs(stage, quick=quick)
    custom_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if user.role == "readonly":
            raise PermissionDenied
        custom = custom_from_post(request.POST, defs)
        if form.is_valid():
            cd = form.cleaned_data
            try:
                opp = services.create_opportunity(
                    actor=user,
                    name=cd["name"],
                    stage=cd["stage"],
                    amount=cd["amount"],
                    expected_close=cd["expected_close"],
                    owner=cd.get("owner") or user,
                    currency=cd["currency"].pk if cd.get("currency") else None,
                    account=cd.get("account"),
                    source=cd.get("source"),
                    products=cd.get("products") or (),
                    next_step=cd.get("next_step") or "",
                    custom=custom or None,
                )
            except ValidationError as exc:
                custom_errors = add_service_errors(form, exc)
            else:
                message = _("Deal “%(name)s” created.") % {"name": opp.name}
                if _wants_json(request):
                    stages = [opp.stage]
                    return JsonResponse(
                        {
                            "ok": True,
                            "message": message,
                            "columns": _columns_html(
                                request, opp.pipeline, stages, request.POST.get("filters", "")
                            ),
                            "summary": _summary_html(
                                request, opp.pipeline, request.POST.get("filters", "")
                            ),
                        }
                    )
                messages.success(request, message)
                return HttpResponseRedirect(reverse("pipeline:detail", args=[opp.pk]))
    context = {
        "form": form,
        "quick": quick,
        "stage": stage,
        "rows": custom_inputs(defs, {}, custom_errors, request.POST if data else None),
        "currencies": _currencies(),
    }
    if quick:
        html = render_to_string("pipeline/_quick_add.html", context, request=request)
        if _wants_json(request):
            return JsonResponse({"form": html}, status=422)
        return HttpResponse(html)
    return render(request, "pipeline/create.html", context)


# --- the deal page ------------------------------------------------------------------------

FACTS = (
    ("name", gettext_lazy("Deal name")),
    ("account", gettext_lazy("Account")),
    ("amount", gettext_lazy("Amount")),
    ("stage", gettext_lazy("Stage")),
    ("probability", gettext_lazy("Probability")),
    ("owner", gettext_lazy("Owner")),
    ("expected_close", gettext_lazy("Expected close")),
    ("forecast_category", gettext_lazy("Forecast category")),
    ("source", gettext_lazy("Source")),
    ("next_step", gettext_lazy("Next step")),
    ("products", gettext_lazy("Products")),
    ("contacts", gettext_lazy("Contacts")),
)


def _fact_label(name: str) -> str:
    for key, label in FACTS:
        if key == name:
            return str(label)
    return name


def _deal_context(request: HttpRequest, opp: Opportunity, show: str = "all") -> dict[str, Any]:
    user = _user(request)
    stages = selectors.stages_of(opp.pipeline)
    defs = definitions(Target.OPPORTUNITY)
    editable = can_change(user, opp)
    return {
        "opp": opp,
        "can_edit": editable,
        "facts": [
            {"name": n, "label": _fact_label(n), "editable": editable and _field_editable(opp, n)}
            for n, _label in FACTS
        ],
        "stagebar": selectors.stage_bar(opp, stages),
        "weighted": selectors.weighted_amount(opp),
        "timeline": selectors.timeline(user, opp, show),
        "show": show,
        "contacts": selectors.deal_contacts(opp),
        "products": list(opp.products.all()),
        "custom_rows": custom_inputs(defs, opp.custom),
        "lost_form": LostForm(),
        "lost_reason_name": opp.lost_reason.name if opp.lost_reason else "",
        "account_url": _maybe_url("accounts:detail", opp.account_id) if opp.account_id else None,
        "log_activity_url": (
            f"{url}?opportunity={opp.pk}"
            if (url := _maybe_url("activities:create")) and editable
            else None
        ),
        "comment_form": CommentForm(),
        "attachment_form": AttachmentForm(),
    }


def _field_editable(opp: Opportunity, name: str) -> bool:
    if name in OPEN_ONLY and opp.outcome != Outcome.OPEN:
        return False
    return not (name == "contacts" and not opp.account_id)


def _load_deal(request: HttpRequest, pk: int) -> Opportunity:
    opp = _deal(request, pk)
    return (
        Opportunity.objects.select_related(
            "stage",
            "pipeline",
            "account",
            "owner",
            "currency",
            "source",
            "lost_reason",
            "updated_by",
        )
        .prefetch_related("products")
        .get(pk=opp.pk)
    )


@login_required
@require_GET
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _load_deal(request, pk)
    show = request.GET.get("show", "all")
    if show not in selectors.TIMELINE_FILTERS:
        show = "all"
    return render(request, "pipeline/detail.html", _deal_context(request, opp, show))


@login_required
@require_GET
def deal_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _load_deal(request, pk)
    show = request.GET.get("show", "all")
    if show not in selectors.TIMELINE_FILTERS:
        show = "all"
    user = _user(request)
    return render(
        request,
        "pipeline/_timeline.html",
        {"opp": opp, "timeline": selectors.timeline(user, opp, show), "show": show},
    )


def _refresh(request: HttpRequest, opp: Opportunity, message: str = "") -> HttpResponse:
    """After an inline edit: the facts panel, plus header, stage bar and timeline (out of band)."""
    fresh = _load_deal(request, opp.pk)
    context = _deal_context(request, fresh)
    context["flash"] = message
    response = render(request, "pipeline/_deal_refresh.html", context)
    response["HX-Retarget"] = "#facts"
    response["HX-Reswap"] = "outerHTML"
    return response


def _edit_response(
    request: HttpRequest,
    opp: Opportunity,
    name: str,
    form: Any,
    *,
    error: str = "",
    conflict: bool = False,
    rows: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "pipeline/_fact_edit.html",
        {
            "opp": opp,
            "fact": {"name": name, "label": _fact_label(name)},
            "form": form,
            "error": error,
            "conflict": conflict,
            "rows": rows or [],
            "currencies": _currencies(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def deal_field(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Inline editing of one field (htmx): GET the form, POST the value through a verb."""
    if field not in EDITABLE or field == "custom":
        raise Http404
    opp = _load_deal(request, pk)
    user = _user(request)
    if request.method == "GET":
        if request.GET.get("cancel"):
            context = _deal_context(request, opp)
            fact = next(f for f in context["facts"] if f["name"] == field)
            return render(request, "pipeline/_fact.html", {**context, "fact": fact})
        if not (can_change(user, opp) and _field_editable(opp, field)):
            raise PermissionDenied
        return _edit_response(request, opp, field, field_form(field, opp, user))
    form = field_form(field, opp, user, request.POST)
    if not form.is_valid():
        return _edit_response(request, opp, field, form)
    value = form.cleaned_data["value"]
    version = _version(request)
    defs = definitions(Target.OPPORTUNITY)
    try:
        if field == "stage":
            services.move_to_stage(
                opportunity=opp,
                stage=value,
                actor=user,
                custom=custom_from_post(request.POST, defs) or None,
                expected_version=version,
            )
        elif field == "contacts":
            services.set_contacts(
                opportunity=opp, contacts=value, actor=user, expected_version=version
            )
        elif field == "products":
            services.set_products(
                opportunity=opp, products=value, actor=user, expected_version=version
            )
        else:
            changes: dict[str, Any] = {field: value}
            if field == "amount":
                changes["currency"] = form.cleaned_data["currency"].pk
            services.update_opportunity(
                opportunity=opp, actor=user, changes=changes, expected_version=version
            )
    except ConflictError as exc:
        return _edit_response(
            request, opp, field, form, error=_conflict_message(exc), conflict=True
        )
    except ValidationError as exc:
        custom_errors, other = split_errors(exc)
        rows = []
        if custom_errors:
            keys = {k.split(".", 1)[1] for k in custom_errors}
            rows = custom_inputs(
                [d for d in defs if d.key in keys], opp.custom, custom_errors, request.POST
            )
        for key, msgs in other.items():
            for m in msgs:
                form.add_error("value" if key in (field, "currency") else None, m)
        if custom_errors and not other:
            form.add_error(None, _("Fill in the mandatory fields for this stage."))
        return _edit_response(request, opp, field, form, rows=rows)
    return _refresh(request, opp, _("Saved."))


@login_required
@require_http_methods(["GET", "POST"])
def deal_custom(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the deal's custom field values (all at once, htmx)."""
    opp = _load_deal(request, pk)
    user = _user(request)
    defs = definitions(Target.OPPORTUNITY)
    if request.method == "GET":
        if request.GET.get("cancel"):
            return render(
                request,
                "pipeline/_custom_view.html",
                {"opp": opp, "custom_rows": custom_inputs(defs, opp.custom), "can_edit": True},
            )
        if not can_change(user, opp):
            raise PermissionDenied
        rows = custom_inputs(defs, opp.custom)
        return render(
            request,
            "pipeline/_custom_edit.html",
            {"opp": opp, "rows": rows, "currencies": _currencies()},
        )
    try:
        services.update_details(
            opportunity=opp,
            actor=user,
            custom=custom_from_post(request.POST, defs),
            expected_version=_version(request),
        )
    except ConflictError as exc:
        rows = custom_inputs(defs, opp.custom, None, request.POST)
        return render(
            request,
            "pipeline/_custom_edit.html",
            {"opp": opp, "rows": rows, "error": _conflict_message(exc), "conflict": True,
             "currencies": _currencies()},
        )  # fmt: skip
    except ValidationError as exc:
        custom_errors, other = split_errors(exc)
        rows = custom_inputs(defs, opp.custom, custom_errors, request.POST)
        error = " ".join(m for msgs in other.values() for m in msgs)
        return render(
            request,
            "pipeline/_custom_edit.html",
            {"opp": opp, "rows": rows, "error": error, "currencies": _currencies()},
        )
    response = _refresh(request, opp, _("Saved."))
    return response


def _after_timeline_write(request: HttpRequest, opp: Opportunity, message: str) -> HttpResponse:
    if _is_htmx(request):
        user = _user(request)
        response = render(
            request,
            "pipeline/_timeline.html",
            {"opp": opp, "timeline": selectors.timeline(user, opp, "all"), "show": "all",
             "flash": message},
        )  # fmt: skip
        response["HX-Retarget"] = "#timeline"
        response["HX-Reswap"] = "outerHTML"
        return response
    messages.success(request, message)
    return HttpResponseRedirect(reverse("pipeline:detail", args=[opp.pk]))


def _write_error(request: HttpRequest, opp: Opportunity, errors: list[str]) -> HttpResponse:
    message = " ".join(errors)
    if _is_htmx(request):
        html = render_to_string(
            "pipeline/_action_error.html", {"message": message, "conflict": False}
        )
        response = HttpResponse(html)
        response["HX-Retarget"] = "#write-errors"
        response["HX-Reswap"] = "innerHTML"
        return response
    messages.error(request, message)
    return HttpResponseRedirect(reverse("pipeline:detail", args=[opp.pk]))


@login_required
@require_POST
def deal_comment(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _deal(request, pk)
    try:
        activity_services.add_comment(
            actor=_user(request), body=request.POST.get("body", ""), opportunity=opp
        )
    except ValidationError as exc:
        return _write_error(request, opp, _messages_of(exc))
    return _after_timeline_write(request, opp, _("Comment added."))


@login_required
@require_POST
def deal_attach(request: HttpRequest, pk: int) -> HttpResponse:
    opp = _deal(request, pk)
    try:
        activity_services.add_attachment(
            actor=_user(request), file=request.FILES.get("file"), opportunity=opp
        )
    except ValidationError as exc:
        return _write_error(request, opp, _messages_of(exc))
    return _after_timeline_write(request, opp, _("File attached."))


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    opp = _deal(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, opportunity=opp)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=not attachment.content_type.startswith("image/"),
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
