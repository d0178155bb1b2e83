"""The Analysis page (pick a KPI, dimension, grain, period, filters, chart), the records
behind any number (drill-down), and the exports of a widget's data.

Every view reads a :class:`~salescope.kpis.widgets.WidgetSpec` from the query string
(``filter=dim:1,2`` as in saved widgets, or one multi-select ``f_<dim>`` per dimension as the
form sends it) and computes it for the signed-in user, in their scope. A spec that cannot be
computed is shown as a message next to its field (status 400 for partials and files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salescope.kpis import dimensions as dims
from salescope.kpis import engine, export, periods, registry
from salescope.kpis.render import WidgetView, error_text, widget_view
from salescope.kpis.widgets import CHARTS, PERIODS, WidgetSpec

#: what the Analysis page shows before anything is chosen
DEFAULT = {"kpi": "won_revenue", "grain": "month", "period": "last_12_months", "chart": "bar"}
RECORDS_PER_PAGE = 50
GRAINS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"),
    "year": gettext_lazy("Year"),
    "fiscal_quarter": gettext_lazy("Fiscal quarter"),
    "fiscal_year": gettext_lazy("Fiscal year"),
}
CATEGORIES = {
    "outcomes": gettext_lazy("Outcomes"),
    "pipeline": gettext_lazy("Pipeline"),
    "funnel": gettext_lazy("Funnel"),
    "activity": gettext_lazy("Activity"),
}


# --- reading the spec -------------------------------------------------------------------------


def spec_params(query: Mapping[str, Any], *, drop_for_kpi: bool = False) -> QueryDict:
    """The spec's query string: ``f_<dim>`` multi-selects folded into ``filter=dim:a,b``.

    ``drop_for_kpi`` (the KPI was just changed in the form): the dimension, grain and
    filters the new KPI does not support are left out rather than reported.
    """
    source: Any = query
    params = QueryDict(mutable=True)
    getlist = getattr(source, "getlist", None)

    def values(key: str) -> list[str]:
        if getlist is not None:
            return [str(v) for v in getlist(key)]
        raw = source.get(key)
        if raw is None:
            return []
        return [str(v) for v in raw] if isinstance(raw, list | tuple) else [str(raw)]

    for key in list(source):
        if key.startswith("f_"):
            chosen = [v for v in values(key) if v.strip()]
            if chosen:
                params.appendlist("filter", f"{key[2:]}:{','.join(chosen)}")
        elif key not in ("page", "group", "bucket", "vmin", "vmax", "vlast"):
            for value in values(key):
                params.appendlist(key, value)
    if drop_for_kpi:
        kpi_key = params.get("kpi", "")
        if registry.exists(kpi_key):
            kpi = registry.get(kpi_key)
            if params.get("by") and params["by"] not in kpi.dimensions:
                params.pop("by")
            if not kpi.grains:
                params.pop("grain", None)
            kept = [f for f in params.getlist("filter") if f.partition(":")[0] in kpi.dimensions]
            params.setlist("filter", kept)
    return params


def read_spec(request: HttpRequest) -> tuple[WidgetSpec | None, dict[str, list[str]]]:
    """The spec of the request, or the errors per field."""
    changed = request.headers.get("HX-Trigger-Name") == "kpi"
    return parse_spec(request.GET, drop_for_kpi=changed)


def parse_spec(
    query: Mapping[str, Any], *, drop_for_kpi: bool = False, data_only: bool = False
) -> tuple[WidgetSpec | None, dict[str, list[str]]]:
    """The spec of a query string, or the errors per field.

    ``data_only`` (records, exports): the chart is left out, so a drill-down or an export
    never fails over how the numbers would be drawn.
    """
    params = spec_params(query, drop_for_kpi=drop_for_kpi)
    if data_only:
        params.setlist("chart", ["table"])
    try:
        return WidgetSpec.from_params(params), {}
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return None, {k: [str(m) for m in v] for k, v in error.message_dict.items()}
        return None, {"__all__": [str(m) for m in error.messages]}


# --- the form -----------------------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    selected: bool = False


@dataclass
class FilterField:
    key: str
    label: str
    choices: list[Choice]
    errors: list[str]

    @property
    def name(self) -> str:
        return f"f_{self.key}"

    @property
    def active(self) -> bool:
        return any(c.selected for c in self.choices)


def _values_of(key: str, user: Any) -> list[tuple[str, str]]:
    """Filter values of dimension ``key`` that ``user`` may pick, as (value, label)."""
    from salescope.accounts.models import AccountType, Region, Tag, Tier
    from salescope.activities.models import ActivityType
    from salescope.org.models import Team, User
    from salescope.pipeline.models import LostReason, Outcome, Pipeline, ProductLine, Source, Stage
    from salescope.visibility import owner_ids, sees_everything

    if key == "rep":
        users = (
            User.objects.all()
            if sees_everything(user)
            else User.objects.filter(pk__in=owner_ids(user))
        )
        return [
            (str(u.pk), u.get_full_name() or u.username)
            for u in users.order_by("first_name", "last_name", "username")
        ]
    if key == "stage":
        return [
            (str(s.pk), f"{s.pipeline.name}: {s.name}")
            for s in Stage.objects.select_related("pipeline").order_by("pipeline__name", "order")
        ]
    if key == "tag_category":
        return [
            (str(t.pk), f"{t.category.name}: {t.name}")
            for t in Tag.objects.select_related("category").order_by("category__name", "name")
        ]
    if key == "outcome":
        return [(str(v), str(label)) for v, label in Outcome.choices]
    models: dict[str, Any] = {
        "team": Team,
        "pipeline": Pipeline,
        "tier": Tier,
        "source": Source,
        "product": ProductLine,
        "region": Region,
        "account_type": AccountType,
        "activity_type": ActivityType,
        "lost_reason": LostReason,
    }
    model = models.get(key)
    if model is None:  # pragma: no cover - every dimension is listed above
        return []
    return [(str(o.pk), str(o)) for o in model.objects.order_by("name")]


def _form(
    request: HttpRequest, spec: WidgetSpec | None, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """What the form shows: the chosen values (also when invalid) and the options."""
    params = spec_params(request.GET, drop_for_kpi=request.headers.get("HX-Trigger-Name") == "kpi")
    if spec is not None:
        chosen: dict[str, str] = {k: v for k, v in spec.params() if k != "filter"}
        chosen_filters = {k: list(v) for k, v in spec.filters.items()}
    else:
        chosen = {k: params.get(k, "") for k in params if k != "filter"}
        chosen_filters = {}
        for item in params.getlist("filter"):
            key, _sep, vals = item.partition(":")
            chosen_filters[key] = [v for v in vals.split(",") if v]
    kpi_key = chosen.get("kpi", "")
    kpi = registry.get(kpi_key) if registry.exists(kpi_key) else None
    groups: dict[str, list[dict[str, Any]]] = {}
    for k in registry.all_kpis():
        label = str(CATEGORIES.get(k.category, k.category.title()))
        groups.setdefault(label, []).append(
            {"key": k.key, "name": str(k.name), "formula": str(k.formula),
             "description": str(k.description),
             "selected": k.key == kpi_key}
        )  # fmt: skip
    allowed = kpi.dimensions if kpi is not None else dims.DIMENSION_KEYS
    dimensions = [Choice(k, str(dims.get(k).label), k == chosen.get("by")) for k in allowed]
    filters = []
    for key in allowed:
        picked = set(chosen_filters.get(key, []))
        choices = [Choice(dims.NONE_VALUE, _("(none)"), dims.NONE_VALUE in picked)]
        choices += [Choice(v, label, v in picked) for v, label in _values_of(key, request.user)]
        filters.append(
            FilterField(key, str(dims.get(key).label), choices, errors.get(f"filter.{key}", []))
        )
    from salescope.org.models import Currency

    currencies = list(
        Currency.objects.filter(active=True).order_by("code").values_list("code", flat=True)
    )
    other_errors = [
        m for k, v in errors.items()
        if k not in ("kpi", "by", "grain", "period", "from", "to", "compare", "currency", "chart")
        and not k.startswith("filter.")
        for m in v
    ]  # fmt: skip
    return {
        "chosen": chosen,
        "kpi": kpi,
        "kpi_groups": groups,
        "dimensions": dimensions,
        "grains": [Choice(k, str(v), k == chosen.get("grain")) for k, v in GRAINS.items()],
        "grains_allowed": kpi is None or kpi.grains,
        "periods": [Choice(k, str(v), k == chosen.get("period", "")) for k, v in PERIODS.items()],
        "charts": [
            Choice(k, str(v), k == chosen.get("chart", "number")) for k, v in CHARTS.items()
        ],
        "currencies": [Choice(c, c, c == chosen.get("currency")) for c in currencies],
        "filters": filters,
        "filters_open": any(f.active or f.errors for f in filters),
        "errors": errors,
        "other_errors": other_errors,
    }


def _save_form(request: HttpRequest, spec: WidgetSpec | None) -> dict[str, Any] | None:
    """The "Save to dashboard" form (None without the route or a valid spec)."""
    if spec is None:
        return None
    try:
        action = reverse("kpis:widget_add")
    except NoReverseMatch:
        return None
    from salescope.kpis.queries import can_edit_dashboard, visible_dashboards

    user: Any = request.user
    if user.role == "readonly" and not user.is_superuser:
        return None
    dashboards = [d for d in visible_dashboards(user) if can_edit_dashboard(user, d)]
    params = [(k, v) for k, v in spec.params() if k != "title"]
    return {"action": action, "dashboards": dashboards, "params": params}


def _context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    spec, errors = read_spec(request) if request.GET else (None, {})
    if not request.GET:
        spec = WidgetSpec.from_params(DEFAULT)
    view: WidgetView | None = widget_view(spec, request.user) if spec is not None else None
    status = 200
    if spec is None or (view is not None and view.error):
        status = 400
    context = {
        "spec": spec,
        "w": view,
        "form": _form(request, spec, errors),
        "save": _save_form(request, spec) if view is not None and not view.error else None,
        "show_table": True,
        "page_url": reverse("kpis:analysis"),
    }
    return context, status


@login_required
def analysis(request: HttpRequest) -> HttpResponse:
    context, _status = _context(request)
    # The whole page still renders with the messages next to the fields.
    return render(request, "kpis/analysis.html", context)


@login_required
def analysis_result(request: HttpRequest) -> HttpResponse:
    context, status = _context(request)
    response = render(request, "kpis/_analysis_result.html", context, status=status)
    query = request.GET.urlencode()
    spec = context["spec"]
    if spec is not None and request.headers.get("HX-Trigger-Name") == "kpi":
        query = spec_params(request.GET, drop_for_kpi=True).urlencode()
    response["HX-Push-Url"] = reverse("kpis:analysis") + (f"?{query}" if query else "")
    return response


# --- drill-down -----------------------------------------------------------------------------


@dataclass
class Drill:
    spec: WidgetSpec
    query: engine.KpiQuery
    records: engine.Records
    group_label: str
    bucket_label: str
    range_label: str
    #: the records add up to the number clicked (count or sum KPIs)
    adds_up: bool


def _drill(request: HttpRequest) -> Drill:
    return drill(request.GET, request.user)


def drill(params: QueryDict, user: Any) -> Drill:
    """The records behind the number a drill-down link names (the spec, ``group``,
    ``bucket``, a histogram bin's ``vmin``/``vmax``); ValidationError when the input is bad."""
    spec, errors = parse_spec(params, data_only=True)
    if spec is None:
        raise ValidationError(errors)
    query = spec.query(user)
    kpi = engine.check_query(query)
    group: Any = engine._ANY
    group_label = ""
    raw_group = params.get("group")
    if raw_group is not None and spec.by:
        dimension = dims.get(spec.by)
        group = dimension.parse([raw_group])[0]
        group_label = dims.group_labels(dimension, [group]).get(group, str(group))
    bucket = None
    bucket_label = ""
    raw_bucket = params.get("bucket")
    if raw_bucket and spec.grain:
        bucket = periods.parse_day(raw_bucket, "bucket")
        bucket_label = periods.bucket_label(bucket, spec.grain, periods.fiscal_start_month())
    records = engine.records(query, group=group, bucket=bucket)
    range_label = ""
    vmin, vmax = params.get("vmin"), params.get("vmax")
    if vmin and vmax:
        try:
            lo, hi = Decimal(vmin), Decimal(vmax)
        except ArithmeticError:
            raise ValidationError({"vmin": [_("Not a number.")]}) from None
        qs = records.queryset.filter(v__gte=float(lo))
        qs = qs.filter(v__lte=float(hi)) if params.get("vlast") else qs.filter(v__lt=float(hi))
        records = engine.Records(records.kpi, qs, None)
        per = Decimal(records.kpi.per)
        ccy = query.currency or engine.context_currency()
        low_text = engine.display(records.kpi, lo / per, ccy)
        range_label = f"{low_text} – {engine.display(records.kpi, hi / per, ccy)}"
    adds_up = (
        not kpi.is_derived
        and kpi.aggregate in ("count", "count_distinct", "sum")
        and not range_label
    )
    return Drill(spec, query, records, group_label, bucket_label, range_label, adds_up)


def _bad_request(error: ValidationError) -> HttpResponse:
    return HttpResponse(error_text(error), status=400, content_type="text/plain; charset=utf-8")


@login_required
def records(request: HttpRequest) -> HttpResponse:
    try:
        drill = _drill(request)
        count = drill.records.queryset.count()
        total = drill.records.total()
    except ValidationError as error:
        return render(request, "kpis/records.html", {"error": error_text(error)}, status=400)
    kpi = drill.records.kpi
    qs = drill.records.queryset
    time_path = (
        kpi.time_field.path
        if kpi.time_field is not None and _subject(qs.model) == kpi.subject
        else None
    )
    ordering = [F(time_path).desc(nulls_last=True), "-pk"] if time_path else ["-pk"]
    qs = _with_related(qs).order_by(*ordering)
    page = Paginator(qs, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    widget_kpi = registry.get(drill.spec.kpi)
    currency = drill.query.currency or engine.context_currency()
    has_value = "v" in qs.query.annotations
    for record in page.object_list:
        v = getattr(record, "v", None) if has_value else None
        value = None if v is None else Decimal(str(v)) / kpi.per
        record.value_text = engine.display(kpi, value, currency)
    value_label = engine.display(kpi, total, currency) if drill.records.value_field else ""
    base_query = request.GET.copy()
    base_query.pop("page", None)
    return render(
        request,
        "kpis/records.html",
        {
            "drill": drill,
            "kpi": kpi,
            "widget_kpi": widget_kpi,
            "subject": _subject(qs.model),
            "page": page,
            "count": count,
            "total": total,
            "total_text": value_label,
            "currency": currency,
            "has_value": has_value,
            "csv_url": reverse("kpis:records_csv") + "?" + base_query.urlencode(),
            "back_url": reverse("kpis:analysis") + "?" + drill.spec.querystring(),
            "page_query": base_query.urlencode(),
            "period_text": _period_text(drill),
        },
    )


def _period_text(drill: Drill) -> str:
    from salescope.kpis.render import period_text

    if drill.records.kpi.snapshot:
        return _("as of now")
    return period_text(drill.query.period.start, drill.query.period.end)


def _subject(model: Any) -> str:
    from salescope.activities.models import Activity
    from salescope.pipeline.models import OpportunityEvent

    if model is OpportunityEvent:
        return "event"
    if model is Activity:
        return "activity"
    return "opportunity"


def _with_related(qs: Any) -> Any:
    subject = _subject(qs.model)
    if subject == "event":
        return qs.select_related("opportunity", "to_stage")
    if subject == "activity":
        return qs.select_related("activity_type", "owner", "opportunity")
    return qs.select_related("account", "owner", "stage")


def _download(body: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def records_csv(request: HttpRequest) -> HttpResponse:
    try:
        drill = _drill(request)
        body = export.records_csv(drill.records)
    except ValidationError as error:
        return _bad_request(error)
    return _download(body, f"{drill.spec.kpi}-records.csv", "text/csv; charset=utf-8")


def _export_view(request: HttpRequest) -> tuple[WidgetView | None, HttpResponse | None]:
    spec, errors = parse_spec(request.GET, data_only=True)
    if spec is None:
        return None, _bad_request(ValidationError(errors))
    view = widget_view(spec, request.user)
    if view.error or view.result is None:
        return None, HttpResponse(view.error, status=400, content_type="text/plain; charset=utf-8")
    return view, None


def _filename(view: WidgetView, ext: str) -> str:
    assert view.result is not None
    period = view.result.period
    return f"{view.spec.kpi}-{period.start.isoformat()}-{period.last_day.isoformat()}.{ext}"


@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    view, problem = _export_view(request)
    if problem is not None:
        return problem
    assert view is not None and view.result is not None
    return _download(
        export.widget_csv(view.result), _filename(view, "csv"), "text/csv; charset=utf-8"
    )


@login_required
def export_xlsx(request: HttpRequest) -> HttpResponse:
    view, problem = _export_view(request)
    if problem is not None:
        return problem
    assert view is not None and view.result is not None
    return _download(
        export.widget_xlsx(view.spec, view.result),
        _filename(view, "xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


urlpatterns: list[URLPattern] = [
    path("", analysis, name="analysis"),
    path("result/", analysis_result, name="analysis_result"),
    path("records/", records, name="records"),
    path("records.csv", records_csv, name="records_csv"),
    path("export.csv", export_csv, name="export_csv"),
    path("export.xlsx", export_xlsx, name="export_xlsx"),
]
