"""The import wizard: upload → match columns → check (dry run) → import in the background.

Views parse the browser's input, call ``imports.services`` / ``selectors`` and render. Only
administrators and sales managers may import (``services.can_import``).
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from salescope.core import formatting
from salescope.imports import presets, progress, selectors, services
from salescope.imports import values as V
from salescope.imports.forms import (
    DATE_FORMAT_LABELS,
    DECIMAL_LABELS,
    ENTITY_IN_SENTENCE,
    ENTITY_LABELS,
    IGNORE,
    MappingForm,
    ReuploadForm,
    RunForm,
    UploadForm,
    field_label,
    megabytes,
)
from salescope.imports.mapping import FIELD_KINDS, FIELDS, REQUIRED, MappingSpec, TableSpec
from salescope.imports.models import ImportJob, JobStatus
from salescope.imports.reading import Limits
from salescope.imports.tasks import enqueue_import
from salescope.org.models import Role, User

View = Callable[..., HttpResponse]

SAMPLES_PER_COLUMN = 3
ERRORS_SHOWN = 20
HISTORY_PAGE = 25
ANALYSIS_SECONDS = 600
#: Uploads with more rows than this (``SALESCOPE_IMPORT_SYNC_ROWS``) are checked in the
#: background behind the progress bar; smaller ones at once, within the request.
SYNC_ROWS = 5000
#: Order of the engine's phases (progress): reading the files, then one per entity.
PHASES = (
    "reading",
    "users",
    "products",
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "activities",
)
CUSTOM_TARGETS = {"accounts": "account", "contacts": "contact", "opportunities": "opportunity"}
PRESET_SOURCES = {
    "maven": "Maven CRM sample data",
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "pipedrive": "Pipedrive",
    "odoo": "Odoo",
    "salescope": "Salescope",
}


def importer_only(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not services.can_import(request.user):  # type: ignore[arg-type]
            raise PermissionDenied(_("Only administrators and sales managers may import data."))
        return view(request, *args, **kwargs)

    return wrapped


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _job(request: HttpRequest, job_id: UUID) -> ImportJob:
    return get_object_or_404(selectors.visible_jobs(_user(request)), pk=job_id)


def preset_label(name: str | None) -> str:
    if not name:
        return ""
    return PRESET_SOURCES.get(name, name)


def _preset_choices() -> list[tuple[str, str]]:
    return [(name, preset_label(name)) for name in presets.available()]


def _totals(summary: dict[str, dict[str, int]]) -> dict[str, int]:
    keys = ("created", "updated", "unchanged", "rejected")
    return {k: sum(int(c.get(k, 0)) for c in summary.values()) for k in keys}


def _job_row(job: ImportJob) -> dict[str, Any]:
    return {
        "job": job,
        "files": [f.name for f in job.files.all()] or job.options.get("paths", []),
        "totals": _totals(job.summary or {}),
        "preset_label": preset_label(job.preset),
    }


# --- step 1: upload -------------------------------------------------------------------------


@importer_only
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    mappings = list(selectors.saved_mappings(user).select_related("created_by"))
    posted = request.method == "POST"
    form = UploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        presets=_preset_choices(),
        saved_mappings=[(m.pk, m.name) for m in mappings],
    )
    if request.method == "POST" and form.is_valid():
        mapping = None
        chosen = form.saved_mapping_id()
        if chosen is not None:
            saved = next((m for m in mappings if m.pk == chosen), None)
            if saved is None:
                form.add_error("saved_mapping", _("That saved mapping no longer exists."))
            else:
                mapping = saved.spec
        if not form.errors:
            try:
                job = services.create_job(
                    actor=user,
                    files=form.file_pairs(),
                    preset=form.cleaned_data.get("preset") or None,
                    mapping=mapping,
                )
                if services.is_native_job(job):
                    # A full export has nothing to match: straight to the check (dry run).
                    services.run_import(job=job, dry_run=True, actor=user)
                    return HttpResponseRedirect(reverse("imports:review", args=[job.pk]))
                services.analyse(job=job)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
    recent = selectors.visible_jobs(user).prefetch_related("files")[:5]
    return render(
        request,
        "imports/index.html",
        {
            "form": form,
            "saved_mappings": mappings,
            "deletable": {m.pk for m in mappings if services.can_delete_mapping(user, m)},
            "recent": [_job_row(j) for j in recent],
            "max_size": megabytes(Limits.from_settings().max_bytes),
        },
        status=400 if form.errors else 200,
    )


@importer_only
def history(request: HttpRequest) -> HttpResponse:
    jobs = selectors.visible_jobs(_user(request)).prefetch_related("files")
    page = Paginator(jobs, HISTORY_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/history.html",
        {"page": page, "rows": [_job_row(j) for j in page.object_list]},
    )


@importer_only
@require_POST
def delete_mapping(request: HttpRequest) -> HttpResponse:
    """Delete a saved mapping (the picker of the upload or the mapping step), then go back."""
    user = _user(request)
    raw = request.POST.get("mapping") or request.POST.get("apply_saved") or ""
    saved = selectors.saved_mappings(user).filter(pk=int(raw)).first() if raw.isdigit() else None
    if saved is None:
        messages.error(request, _("That saved mapping no longer exists."))
    else:
        try:
            services.delete_mapping(mapping=saved, actor=user)
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("Deleted the saved mapping “%(name)s”.") % {"name": saved.name}
            )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("imports:index")
    return HttpResponseRedirect(target)


# --- step 2: match columns ------------------------------------------------------------------


def _analysis(job: ImportJob) -> services.Analysis:
    """The job's analysis; the files are read once per mapping, not on every click."""
    digest = hashlib.sha256(json.dumps(job.mapping, sort_keys=True).encode()).hexdigest()[:16]
    key = f"imports:analysis:{job.pk}:{job.preset}:{digest}"
    found = cache.get(key)
    if found is None:
        found = services.analyse(job=job)
        cache.set(key, found, ANALYSIS_SECONDS)
    return found


@dataclass
class Sample:
    raw: str
    parsed: str | None = None
    ok: bool = True
    message: str = ""


@dataclass
class ColumnView:
    index: int
    header: str
    target: str
    label: str
    kind: str
    samples: list[Sample]
    field_name: str
    errors: list[str] = field(default_factory=list)
    question: Any = None  # the bound radio field of an ambiguous date column
    examples: list[dict[str, str]] = field(default_factory=list)
    note: str = ""


@dataclass
class TableView:
    index: int
    name: str
    rows: int
    headers: list[str]
    sample: list[list[str]]
    entity: str
    entity_label: str
    columns: list[ColumnView]
    missing: list[str]
    entity_field: Any
    decimal_field: Any
    owner_field: Any
    pipeline_field: Any
    currency_field: Any
    options: list[tuple[str, str]] = field(default_factory=list)
    custom_options: list[tuple[str, str]] = field(default_factory=list)
    mapped: int = 0


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)


def _column_values(table: services.TableAnalysis, j: int) -> list[Any]:
    return [
        row[j]
        for row in table.sample
        if j < len(row) and row[j] not in (None, "") and str(row[j]).strip()
    ]


def _date_format(table: services.TableAnalysis, header: str, j: int, answer: str) -> str:
    if answer:
        return answer
    if header in table.date_columns:
        return table.date_columns[header]
    guess = V.detect_date_format(_column_values(table, j))
    return guess.format or "iso"


def _parse_sample(
    value: Any, kind: str, *, fmt: str, style: str, tz: str, value_map: dict[str, Any]
) -> Sample:
    raw = _shown(value)
    if value_map and raw in value_map:
        return Sample(raw=raw, parsed=str(value_map[raw]))
    try:
        if kind == "date":
            return Sample(raw=raw, parsed=formatting.date(V.parse_date(value, fmt)))
        if kind == "datetime":
            moment = V.parse_datetime(value, fmt, tz)
            local = moment.astimezone(zoneinfo.ZoneInfo(tz))
            clock_time = "" if local.time() == dt.time(0, 0) else local.strftime(" %H:%M")
            return Sample(raw=raw, parsed=formatting.date(local.date()) + clock_time)
        if kind == "decimal":
            number = V.parse_decimal(value, style)
            shown = formatting.number(number.value, digits=2)
            return Sample(
                raw=raw, parsed=f"{shown} {number.currency}" if number.currency else shown
            )
        if kind == "int":
            return Sample(raw=raw, parsed=formatting.number(V.parse_int(value, style)))
        if kind == "bool":
            return Sample(raw=raw, parsed=_("yes") if V.parse_bool(value) else _("no"))
    except ValueError as exc:
        return Sample(raw=raw, parsed="⚠", ok=False, message=str(exc))
    return Sample(raw=raw)


def _questions(
    tables: Sequence[services.TableAnalysis], targets: dict[int, dict[str, str]]
) -> dict[int, dict[str, list[str]]]:
    """Date columns (by their current field) that read as day/month and month/day alike."""
    questions: dict[int, dict[str, list[str]]] = {}
    for i, table in enumerate(tables):
        for j, header in enumerate(table.headers):
            target = targets.get(i, {}).get(header, IGNORE)
            if FIELD_KINDS.get(target) not in ("date", "datetime"):
                continue
            if header in table.ambiguous_dates:
                candidates = table.ambiguous_dates[header]
            elif header in table.date_columns:
                continue  # looked at over every row: not ambiguous
            else:
                guess = V.detect_date_format(_column_values(table, j))
                candidates = list(guess.candidates) if guess.ambiguous else []
            if candidates:
                questions.setdefault(i, {})[header] = candidates
    return questions


def _owner_ref(user: User) -> str:
    return user.email or user.username


def _form_options() -> dict[str, Any]:
    from salescope.customfields.selectors import field_definitions
    from salescope.org.models import Currency
    from salescope.pipeline.selectors import pipelines

    custom = {
        entity: [(f"custom.{d.key}", str(d.label)) for d in field_definitions(target)]
        for entity, target in CUSTOM_TARGETS.items()
    }
    owners = [
        (_owner_ref(u), u.display_name)
        for u in User.objects.filter(is_active=True)
        .exclude(role=Role.READ_ONLY)
        .order_by("first_name", "last_name", "username")
    ]
    return {
        "entities": list(FIELDS),
        "fields_of": {e: list(f) for e, f in FIELDS.items()},
        "custom_fields": custom,
        "owners": owners,
        "pipelines": [p.name for p in pipelines()],
        "currencies": list(
            Currency.objects.filter(active=True).order_by("code").values_list("code", flat=True)
        ),
    }


def _base_spec(analysis: services.Analysis) -> MappingSpec | None:
    return MappingSpec.from_dict(analysis.mapping) if analysis.mapping else None


def _initial(analysis: services.Analysis, base: MappingSpec | None, actor: User) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for i, table in enumerate(analysis.tables):
        spec = base.spec_for(table.name) if base is not None else None
        if base is not None and spec is None:
            initial[f"t{i}_entity"] = ""  # the mapping does not cover this table
        else:
            initial[f"t{i}_entity"] = table.entity
        for j, header in enumerate(table.headers):
            initial[f"t{i}_c{j}"] = table.mapping.get(header, IGNORE)
            if spec is not None and header in spec.date_formats:
                initial[f"t{i}_d{j}"] = spec.date_formats[header]
        defaults = spec.defaults if spec is not None else {}
        initial[f"t{i}_decimal"] = spec.decimal if spec is not None else "auto"
        initial[f"t{i}_owner"] = defaults.get("owner", _owner_ref(actor))
        initial[f"t{i}_pipeline"] = defaults.get("pipeline", "")
        initial[f"t{i}_currency"] = defaults.get("currency", "")
    return initial


def _posted_targets(
    data: Any, tables: Sequence[services.TableAnalysis]
) -> dict[int, dict[str, str]]:
    return {
        i: {h: str(data.get(f"t{i}_c{j}") or IGNORE) for j, h in enumerate(t.headers)}
        for i, t in enumerate(tables)
    }


def _suggest_for_new_entity(data: Any, analysis: services.Analysis) -> Any:
    """When a table's kind changed, suggest the columns for the new kind."""
    from salescope.imports import headers as header_rules

    data = data.copy()
    for i, table in enumerate(analysis.tables):
        entity = data.get(f"t{i}_entity", "")
        previous = data.get(f"t{i}_previous_entity", entity)
        if entity and entity != previous:
            suggested = header_rules.suggest_mapping(table.headers, entity)
            for j, header in enumerate(table.headers):
                data[f"t{i}_c{j}"] = suggested.get(header, IGNORE)
    return data


def _mapping_form(
    request: HttpRequest, job: ImportJob, analysis: services.Analysis, data: Any = None
) -> MappingForm:
    options = _form_options()
    base = _base_spec(analysis)
    initial = _initial(analysis, base, _user(request))
    if data is not None:
        targets = _posted_targets(data, analysis.tables)
    else:
        targets = {
            i: {h: str(initial.get(f"t{i}_c{j}", IGNORE)) for j, h in enumerate(t.headers)}
            for i, t in enumerate(analysis.tables)
        }
    return MappingForm(
        data,
        initial=initial,
        tables=analysis.tables,
        questions=_questions(analysis.tables, targets),
        **options,
    )


def _table_views(
    form: MappingForm, analysis: services.Analysis, base: MappingSpec | None
) -> list[TableView]:
    views = []
    custom_labels = {k: v for pairs in form.custom_fields.values() for k, v in pairs}
    for i, table in enumerate(analysis.tables):
        chosen = form.table_choices(i)
        entity = chosen["entity"]
        spec: TableSpec | None = base.spec_for(table.name) if base is not None else None
        tz = spec.timezone if spec is not None else "UTC"
        value_maps = spec.values if spec is not None and spec.entity == entity else {}
        columns = []
        for j, header in enumerate(table.headers):
            target = chosen["columns"].get(header, IGNORE) if entity else IGNORE
            kind = FIELD_KINDS.get(target, "text") if target != IGNORE else ""
            if target.startswith("custom."):
                kind = "text"
            raw_values = _column_values(table, j)[:SAMPLES_PER_COLUMN]
            fmt = _date_format(table, header, j, chosen["date_formats"].get(header, ""))
            style = chosen["decimal"]
            if style == "auto" and kind in ("decimal", "int"):
                style = V.detect_decimal_style(_column_values(table, j))
            samples = (
                [
                    _parse_sample(
                        v, kind, fmt=fmt, style=style, tz=tz, value_map=value_maps.get(target, {})
                    )
                    for v in raw_values
                ]
                if target != IGNORE
                else [Sample(raw=_shown(v)) for v in raw_values]
            )
            column = ColumnView(
                index=j,
                header=header,
                target=target,
                label=field_label(target, custom_labels) if target != IGNORE else "",
                kind=kind,
                samples=samples,
                field_name=f"t{i}_c{j}",
                errors=[str(e) for e in form.errors.get(f"t{i}_c{j}", [])],
            )
            question_name = f"t{i}_d{j}"
            if question_name in form.fields and target != IGNORE:
                column.question = form[question_name]
                column.examples = _date_examples(raw_values, form.fields[question_name])
            elif kind in ("date", "datetime") and raw_values:
                column.note = _("Read as: %(format)s") % {
                    "format": DATE_FORMAT_LABELS.get(fmt, fmt)
                }
            elif kind in ("decimal", "int") and raw_values and chosen["decimal"] == "auto":
                column.note = _("Recognised: %(style)s") % {
                    "style": DECIMAL_LABELS.get(style, style)
                }
            columns.append(column)
        present = {c.target for c in columns if c.target != IGNORE}
        present |= {k for k in ("owner", "pipeline", "currency") if chosen[k]}
        if spec is not None and spec.entity == entity:
            present |= set(spec.defaults)
        missing = []
        for group in REQUIRED.get(entity, ()) if entity else ():
            options = group.split("|")
            if not any(o in present for o in options):
                missing.append(_(" or ").join(field_label(o) for o in options))
        views.append(
            TableView(
                index=i,
                name=table.name,
                rows=table.rows,
                headers=table.headers,
                sample=[[_shown(v) for v in row] for row in table.sample],
                entity=entity,
                entity_label=str(ENTITY_LABELS.get(entity, entity)) if entity else "",
                columns=columns,
                missing=missing,
                entity_field=form[f"t{i}_entity"],
                decimal_field=form[f"t{i}_decimal"],
                owner_field=form[f"t{i}_owner"],
                pipeline_field=form[f"t{i}_pipeline"],
                currency_field=form[f"t{i}_currency"],
                options=[(n, field_label(n)) for n in FIELDS.get(entity, ())],
                custom_options=list(form.custom_fields.get(entity, [])),
                mapped=sum(1 for c in columns if c.target != IGNORE),
            )
        )
    return views


def _date_examples(raw_values: Sequence[Any], question: Any) -> list[dict[str, str]]:
    """How the first ambiguous value reads in every candidate format."""
    examples = []
    for value, candidate in ((v, c) for v in raw_values[:1] for c, _label in question.choices):
        try:
            shown = formatting.date(V.parse_date(value, candidate), style="long")
        except ValueError:
            shown = "–"
        examples.append({"format": candidate, "raw": _shown(value), "reads": shown})
    return examples


def _detected(analysis: services.Analysis, views: Sequence[TableView]) -> dict[str, Any] | None:
    if not analysis.preset:
        return None
    kinds = []
    for view in views:
        noun = str(ENTITY_IN_SENTENCE.get(view.entity, view.entity_label)) if view.entity else ""
        if noun and noun not in kinds:
            kinds.append(noun)
    if len(kinds) > 1:
        what = _("%(first)s and %(last)s") % {"first": ", ".join(kinds[:-1]), "last": kinds[-1]}
    else:
        what = kinds[0] if kinds else ""
    return {"source": preset_label(analysis.preset), "what": what}


def _mapping_context(
    request: HttpRequest, job: ImportJob, analysis: services.Analysis, form: MappingForm
) -> dict[str, Any]:
    base = _base_spec(analysis)
    views = _table_views(form, analysis, base)
    user = _user(request)
    saved = list(selectors.saved_mappings(user))
    return {
        "job": job,
        "form": form,
        "tables": views,
        "detected": _detected(analysis, views),
        "saved_mappings": saved,
        "may_delete_mappings": any(services.can_delete_mapping(user, m) for m in saved),
        "ignore": IGNORE,
        "questions": [c for v in views for c in v.columns if c.question is not None],
    }


def _spec_from_form(
    form: MappingForm, analysis: services.Analysis, base: MappingSpec | None
) -> dict[str, Any]:
    cleaned = form.cleaned_data
    active = [i for i in range(len(analysis.tables)) if cleaned.get(f"t{i}_entity")]
    tables = []
    for i in active:
        table = analysis.tables[i]
        entity = cleaned[f"t{i}_entity"]
        chosen = form.table_choices(i)
        spec = base.spec_for(table.name) if base is not None else None
        data: dict[str, Any] = {}
        if spec is not None:
            data = spec.as_dict()
            data.pop("file", None)
            data.pop("sheet", None)
            if spec.entity != entity:
                data = {k: data[k] for k in ("system", "timezone") if k in data}
        data["entity"] = entity
        if len(active) > 1:
            data["file"] = glob.escape(table.name)
        data["columns"] = dict(chosen["columns"])
        formats = dict(data.get("date_formats", {}))
        formats.update(chosen["date_formats"])
        if formats:
            data["date_formats"] = formats
        data["decimal"] = chosen["decimal"]
        defaults = dict(data.get("defaults", {}))
        for key in ("owner", "pipeline", "currency"):
            if key not in FIELDS.get(entity, ()):
                continue
            if chosen[key]:
                defaults[key] = chosen[key]
            else:
                defaults.pop(key, None)
        if defaults:
            data["defaults"] = defaults
        else:
            data.pop("defaults", None)
        tables.append(data)
    result: dict[str, Any] = {"name": base.name if base is not None else "", "tables": tables}
    if base is not None and base.pipelines:
        result["pipelines"] = base.as_dict()["pipelines"]
    return result


@importer_only
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job(request, job_id)
    user = _user(request)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING) or (
        job.status == JobStatus.SUCCEEDED and not job.dry_run
    ):
        return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
    if services.is_native_job(job):
        if _checked(job):
            return HttpResponseRedirect(reverse("imports:review", args=[job.pk]))
        return render(
            request,
            "imports/unreadable.html",
            {"job": job, "problems": [job.message or _("The full export could not be read.")]},
            status=422,
        )
    try:
        analysis = _analysis(job)
    except ValidationError as exc:
        return render(
            request,
            "imports/unreadable.html",
            {"job": job, "problems": exc.messages},
            status=422,
        )
    if request.method == "POST" and request.POST.get("apply_saved"):
        saved = selectors.saved_mappings(user).filter(pk=request.POST["apply_saved"]).first()
        if saved is None:
            messages.error(request, _("That saved mapping no longer exists."))
        else:
            services.set_mapping(job=job, mapping=saved.spec, actor=user)
            messages.success(
                request, _("Applied the saved mapping “%(name)s”.") % {"name": saved.name}
            )
        return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
    if request.method == "POST":
        data = _suggest_for_new_entity(request.POST, analysis)
        form = _mapping_form(request, job, analysis, data)
        if form.is_valid():
            base = _base_spec(analysis)
            spec = _spec_from_form(form, analysis, base)
            try:
                services.set_mapping(job=job, mapping=spec, actor=user)
                name = form.cleaned_data.get("save_name", "").strip()
                if name:
                    services.save_mapping(
                        name=name,
                        spec=spec,
                        actor=user,
                        shared=bool(form.cleaned_data.get("save_shared")),
                    )
                    messages.success(
                        request, _("Saved the column matching as “%(name)s”.") % {"name": name}
                    )
                job.refresh_from_db()
                # Every row is looked at now: a date column may turn out ambiguous.
                fresh = _analysis(job)
                recheck = _mapping_form(request, job, fresh, data)
                if not recheck.is_valid():
                    form, analysis = recheck, fresh
                    raise ValidationError(
                        _("Please answer the question about the dates before checking.")
                    )
                target = _check(job, user, rows=sum(t.rows for t in fresh.tables))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                return HttpResponseRedirect(target)
        status = 422
    else:
        form = _mapping_form(request, job, analysis)
        status = 200
    context = _mapping_context(request, job, analysis, form)
    return render(request, "imports/mapping.html", context, status=status)


@importer_only
@require_POST
def preview(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """One table card of the mapping step, re-rendered for the choices posted (htmx)."""
    job = _job(request, job_id)
    analysis = _analysis(job)
    try:
        index = int(request.GET.get("table", "0"))
    except ValueError:
        index = -1
    if not 0 <= index < len(analysis.tables):
        return HttpResponse(_("No such table."), status=404)
    data = _suggest_for_new_entity(request.POST, analysis)
    form = _mapping_form(request, job, analysis, data)
    context = _mapping_context(request, job, analysis, form)
    context["table"] = context["tables"][index]
    return render(request, "imports/_table.html", context)


# --- step 3: check (dry run) ---------------------------------------------------------------


def _checked(job: ImportJob) -> bool:
    return job.dry_run and job.finished_at is not None and job.status == JobStatus.ANALYSED


def _sync_rows() -> int:
    return int(getattr(settings, "SALESCOPE_IMPORT_SYNC_ROWS", SYNC_ROWS))


def _check(job: ImportJob, actor: User, *, rows: int) -> str:
    """Run the dry run: a small upload at once, a large one in the background (the job page
    shows its progress and then leads to the review). Returns where to go next."""
    if rows > _sync_rows():
        enqueue_import(job=job, actor=actor, dry_run=True)
        return reverse("imports:job", args=[job.pk])
    services.run_import(job=job, dry_run=True, actor=actor)
    return reverse("imports:review", args=[job.pk])


def _result_context(job: ImportJob) -> dict[str, Any]:
    summary = job.summary or {}
    order = list(ENTITY_LABELS)
    rows = [
        {"entity": entity, "label": ENTITY_LABELS.get(entity, entity), **counts}
        for entity, counts in sorted(
            summary.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99
        )
    ]
    errors = selectors.job_errors(job)
    error_count = errors.count()
    references = {
        key: names
        for key, names in (job.options or {}).get("created_references", {}).items()
        if names
    }
    totals = _totals(summary)
    return {
        "job": job,
        "rows": rows,
        "totals": totals,
        "errors": list(errors[:ERRORS_SHOWN]),
        "error_count": error_count,
        "more_errors": max(0, error_count - ERRORS_SHOWN),
        "references": references,
        "valid_rows": max(0, job.total_rows - errors.values("table", "row").distinct().count()),
        "has_deals": "opportunities" in summary or "history" in summary,
    }


@importer_only
def review(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job(request, job_id)
    if not _checked(job):
        return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
    context = _result_context(job)
    context.update(run_form=RunForm(), reupload_form=ReuploadForm())
    return render(request, "imports/review.html", context)


@importer_only
@require_POST
def reupload(request: HttpRequest, job_id: UUID) -> HttpResponse:
    """A corrected file: a new job with this job's mapping, checked at once."""
    job = _job(request, job_id)
    user = _user(request)
    form = ReuploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            new = services.create_job(
                actor=user,
                files=form.file_pairs(),
                preset=job.preset or None,
                mapping=job.mapping or None,
            )
            target = _check(new, user, rows=sum(t.rows for t in _analysis(new).tables))
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return HttpResponseRedirect(target)
    if not _checked(job):
        return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
    context = _result_context(job)
    context.update(run_form=RunForm(), reupload_form=form)
    return render(request, "imports/review.html", context, status=422)


# --- step 4: import in the background ------------------------------------------------------


@importer_only
@require_POST
def run(request: HttpRequest, job_id: UUID) -> HttpResponse:
    job = _job(request, job_id)
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
    if not _checked(job):
        messages.error(request, _("Check the import (dry run) before importing."))
        return HttpResponseRedirect(reverse("imports:mapping", args=[job.pk]))
    form = RunForm(request.POST)
    form.is_valid()
    skip = bool(form.cleaned_data.get("skip_invalid"))
    enqueue_import(job=job, actor=_user(request), skip_invalid=skip)
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))


def _planned_phases(job: ImportJob) -> list[str]:
    """The phases the run goes through: those of the last run's summary, or (a first check)
    those of the kinds of records the mapping names."""
    kinds = set(job.summary or {})
    if not kinds:
        tables = (job.mapping or {}).get("tables", [])
        kinds = {"users", *(str(t.get("entity", "")) for t in tables if isinstance(t, dict))}
    if "history" in kinds:
        kinds.add("opportunities")
    return ["reading", *(p for p in PHASES if p in kinds)]


def _progress_context(job: ImportJob) -> dict[str, Any]:
    state = progress.get_progress(job.pk) or {}
    finished = job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) and not job.dry_run
    checked = _checked(job)  # a background check is done: the review follows
    phase = str(state.get("phase", ""))
    done, total = int(state.get("done", 0) or 0), int(state.get("total", 0) or 0)
    planned = _planned_phases(job)
    if finished or checked:
        percent = 100
    elif phase in planned:
        share = done / total if total else 0.0
        percent = int(100 * (planned.index(phase) + share) / len(planned))
    else:
        percent = 0
    percent = max(0, min(100, percent))
    labels = {
        "queued": _("Waiting for the background worker…"),
        "starting": _("Starting…"),
        "reading": _("Reading the files…"),
        "done": _("Finishing…"),
        "failed": _("Stopped."),
    }
    if finished:
        text = (
            _("Done.") if job.status == JobStatus.SUCCEEDED else _("Stopped: nothing was written.")
        )
    elif checked:
        text = _("Done.")
    elif phase in ENTITY_LABELS:
        numbers = {
            "what": str(ENTITY_IN_SENTENCE.get(phase, ENTITY_LABELS[phase])),
            "done": formatting.number(done),
            "total": formatting.number(total),
        }
        if job.dry_run:
            text = _("Checking %(what)s… %(done)s of %(total)s") % numbers
        else:
            text = _("Importing %(what)s… %(done)s of %(total)s") % numbers
    else:
        text = str(labels.get(phase, _("Waiting for the background worker…")))
    return {
        "job": job,
        "percent": percent,
        "percent_text": formatting.percent(percent / 100),
        "progress_text": text,
        "finished": finished,
        "checked": checked,
        "checking": job.dry_run,
        "polling": job.status in (JobStatus.QUEUED, JobStatus.RUNNING),
    }


@importer_only
def job(request: HttpRequest, job_id: UUID) -> HttpResponse:
    current = _job(request, job_id)
    if current.status in (JobStatus.UPLOADED, JobStatus.ANALYSED):
        target = "imports:review" if _checked(current) else "imports:mapping"
        return HttpResponseRedirect(reverse(target, args=[current.pk]))
    if current.status == JobStatus.FAILED and current.dry_run:
        return HttpResponseRedirect(reverse("imports:mapping", args=[current.pk]))
    context = _result_context(current)
    context.update(_progress_context(current))
    return render(request, "imports/job.html", context)


@importer_only
def progress_fragment(request: HttpRequest, job_id: UUID) -> HttpResponse:
    current = _job(request, job_id)
    context = _progress_context(current)
    response = render(request, "imports/_progress.html", context)
    if not context["polling"]:
        response["HX-Refresh"] = "true"  # show the summary
    return response


@importer_only
def errors_csv(request: HttpRequest, job_id: UUID) -> HttpResponse:
    current = _job(request, job_id)
    response = HttpResponse(services.errors_csv(current), content_type="text/csv; charset=utf-8")
    stamp = current.created_at.strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="import-errors-{stamp}.csv"'
    return response
