"""Mapping specs: how the columns of an input table become the fields of an entity.

A :class:`MappingSpec` holds one :class:`TableSpec` per input table. Specs come from TOML or
YAML files (``load_mapping``), from dicts (``MappingSpec.from_dict``, e.g. stored on an import
job) or from a preset. Every problem is a ``ValidationError`` naming where it is
("tables[0].columns: ..."), translated.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from salescope.core.services import clean_system

ENTITIES: tuple[str, ...] = (
    "users",
    "products",
    "accounts",
    "contacts",
    "leads",
    "opportunities",
    "history",
    "activities",
)

#: The canonical fields of every entity (``custom.<key>`` comes on top where allowed).
FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": (
        "external_id",
        "name",
        "domain",
        "website",
        "phone",
        "street",
        "postal_code",
        "city",
        "country",
        "industry",
        "account_type",
        "tier",
        "status",
        "region",
        "employees",
        "annual_revenue",
        "owner",
        "parent",
        "tags",
        "description",
        "created_at",
    ),
    "contacts": (
        "external_id",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "phone",
        "mobile",
        "job_title",
        "language",
        "account",
        "account_external_id",
        "role",
        "owner",
        "tags",
        "notes",
        "created_at",
    ),
    "opportunities": (
        "external_id",
        "name",
        "account",
        "account_external_id",
        "owner",
        "pipeline",
        "stage",
        "outcome",
        "amount",
        "currency",
        "probability",
        "expected_close",
        "created_at",
        "closed_on",
        "source",
        "product",
        "lost_reason",
        "lost_note",
        "forecast_category",
        "next_step",
        "contact_email",
    ),
    "history": (
        "opportunity_external_id",
        "opportunity",
        "field",
        "stage",
        "old_value",
        "new_value",
        "amount",
        "probability",
        "expected_close",
        "occurred_at",
        "actor",
    ),
    "activities": (
        "external_id",
        "type",
        "subject",
        "description",
        "due_on",
        "starts_at",
        "ends_at",
        "done_at",
        "done",
        "duration_minutes",
        "outcome",
        "owner",
        "account",
        "account_external_id",
        "contact_email",
        "opportunity_external_id",
    ),
    "leads": (
        "external_id",
        "first_name",
        "last_name",
        "full_name",
        "company",
        "email",
        "phone",
        "source",
        "campaign",
        "status",
        "owner",
        "created_at",
        "notes",
    ),
    "users": (
        "name",
        "first_name",
        "last_name",
        "email",
        "role",
        "team",
        "manager",
        "active",
    ),
    "products": ("name", "code", "list_price", "active"),
}
CUSTOM_ENTITIES = frozenset({"accounts", "contacts", "opportunities"})

#: How the value of a field is parsed (fields not listed are text).
FIELD_KINDS: dict[str, str] = {
    "created_at": "datetime",
    "occurred_at": "datetime",
    "starts_at": "datetime",
    "ends_at": "datetime",
    "done_at": "datetime",
    "closed_on": "date",
    "expected_close": "date",
    "due_on": "date",
    "amount": "decimal",
    "annual_revenue": "decimal",
    "list_price": "decimal",
    "employees": "int",
    "probability": "int",
    "duration_minutes": "int",
    "done": "bool",
    "active": "bool",
}

#: Fields a table of the entity must provide (by column or default), alternatives with "|".
REQUIRED: dict[str, tuple[str, ...]] = {
    "accounts": ("name",),
    "contacts": ("last_name|full_name|email",),
    "opportunities": ("owner", "stage|outcome"),
    "history": ("opportunity_external_id", "occurred_at"),
    "activities": ("subject|type", "owner"),
    "leads": ("last_name|full_name|email",),
    "users": ("name|email|last_name",),
    "products": ("name",),
}

#: Keys an entity can match existing records on, in the default order.
MATCH_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("external_id", "domain", "name"),
    "contacts": ("external_id", "email", "name"),
    "opportunities": ("external_id", "name"),
    "activities": ("external_id",),
    "leads": ("external_id", "email", "name"),
    "users": ("email", "name"),
    "products": ("name",),
    "history": (),
}

DATE_FORMATS = ("auto", "iso", "dmy", "mdy", "ymd", "excel")
DECIMAL_STYLES = ("auto", "point", "comma")
IGNORE = "-"
_CUSTOM_KEY = re.compile(r"^custom\.[a-z][a-z0-9_]{0,49}$")
_TABLE_KEYS = frozenset(
    {
        "file",
        "sheet",
        "entity",
        "system",
        "match_on",
        "date_format",
        "date_formats",
        "decimal",
        "timezone",
        "columns",
        "values",
        "defaults",
        "stage_dates",
        "scale",
    }
)
_SPEC_KEYS = frozenset({"name", "tables", "pipelines", "description", "preset"})


def _fail(where: str, message: str) -> ValidationError:
    return ValidationError({"mapping": [f"{where}: {message}"]})


@dataclass
class StageDates:
    """Columns holding the date an opportunity entered a stage (become stage events)."""

    pattern: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    def stage_of(self, header: str) -> str | None:
        if header in self.columns:
            return self.columns[header]
        if self.pattern:
            match = re.fullmatch(self.pattern, header.strip())
            if match:
                return (match.groupdict().get("stage") or match.group(1) or "").strip() or None
        return None


@dataclass
class TableSpec:
    entity: str
    file: str | None = None
    sheet: str | None = None
    system: str = "import"
    match_on: list[str] = field(default_factory=list)
    date_format: str = "auto"
    date_formats: dict[str, str] = field(default_factory=dict)
    decimal: str = "auto"
    timezone: str = "UTC"
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    stage_dates: StageDates | None = None
    scale: dict[str, Any] = field(default_factory=dict)

    def matches(self, table_name: str) -> bool:
        """Does this spec apply to the table called ``table_name`` ("file.csv", "x.xlsx:Sheet")?"""
        if self.file is None:
            return True
        base = table_name.rsplit("/", 1)[-1]
        file_part = base.split(":", 1)[0]
        pattern = self.file.lower()
        return any(
            fnmatch.fnmatchcase(candidate.lower(), pattern) for candidate in (base, file_part)
        )

    def field_of(self, header: str) -> str | None:
        """The field a column maps to (None: not mapped or ignored)."""
        target = self.columns.get(header)
        if target is None or target == IGNORE:
            return None
        return target

    def value_map(self, field_name: str) -> dict[str, Any]:
        return self.values.get(field_name, {})

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"entity": self.entity, "system": self.system}
        for key in ("file", "sheet"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        data.update(
            match_on=list(self.match_on),
            date_format=self.date_format,
            decimal=self.decimal,
            timezone=self.timezone,
            columns=dict(self.columns),
        )
        for key in ("date_formats", "values", "defaults", "scale"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.stage_dates is not None:
            sd: dict[str, Any] = dict(self.stage_dates.columns)
            if self.stage_dates.pattern:
                sd["pattern"] = self.stage_dates.pattern
            data["stage_dates"] = sd
        return data


@dataclass
class PipelineSpec:
    """A pipeline the import creates when it does not exist (open stages in order)."""

    name: str
    stages: list[dict[str, Any]]


@dataclass
class MappingSpec:
    name: str = ""
    tables: list[TableSpec] = field(default_factory=list)
    pipelines: list[PipelineSpec] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> MappingSpec:
        if not isinstance(data, Mapping):
            raise _fail("mapping", _("a mapping must be a table of keys and values."))
        unknown = set(data) - _SPEC_KEYS
        if unknown:
            raise _fail(
                "mapping",
                _("unknown keys %(keys)s; allowed are %(allowed)s.")
                % {"keys": ", ".join(sorted(unknown)), "allowed": ", ".join(sorted(_SPEC_KEYS))},
            )
        name = data.get("name", "")
        if not isinstance(name, str):
            raise _fail("name", _("must be text."))
        tables = data.get("tables")
        if not isinstance(tables, list) or not tables:
            raise _fail("tables", _("at least one [[tables]] entry is needed."))
        specs = [_table(i, t) for i, t in enumerate(tables)]
        pipelines = _pipelines(data.get("pipelines", {}))
        return cls(name=name, tables=specs, pipelines=pipelines)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "tables": [t.as_dict() for t in self.tables]}
        if self.pipelines:
            data["pipelines"] = {p.name: {"stages": p.stages} for p in self.pipelines}
        return data

    def spec_for(self, table_name: str) -> TableSpec | None:
        """The first table spec whose ``file`` glob matches ``table_name``."""
        for spec in self.tables:
            if spec.matches(table_name):
                return spec
        return None


def _text(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, _("must be non-empty text (got %(value)r).") % {"value": value})
    return value.strip()


def _str_map(where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(where, _("must be a table of keys and values."))
    return {str(k): v for k, v in value.items()}


def _check_field(where: str, entity: str, target: str) -> None:
    if target == IGNORE:
        return
    if target.startswith("custom."):
        if entity not in CUSTOM_ENTITIES:
            raise _fail(
                where,
                _("%(entity)s have no custom fields (got %(target)r).")
                % {
                    "entity": entity,
                    "target": target,
                },
            )
        if not _CUSTOM_KEY.match(target):
            raise _fail(
                where,
                _("%(target)r is not a custom field key such as custom.budget_approved.")
                % {"target": target},
            )
        return
    if target not in FIELDS[entity]:
        raise _fail(
            where,
            _("unknown field %(target)r for %(entity)s; known fields are %(fields)s.")
            % {"target": target, "entity": entity, "fields": ", ".join(FIELDS[entity])},
        )


def _table(index: int, data: Any) -> TableSpec:
    where = f"tables[{index}]"
    if not isinstance(data, Mapping):
        raise _fail(where, _("must be a table of keys and values."))
    unknown = set(data) - _TABLE_KEYS
    if unknown:
        raise _fail(
            where,
            _("unknown keys %(keys)s; allowed are %(allowed)s.")
            % {"keys": ", ".join(sorted(unknown)), "allowed": ", ".join(sorted(_TABLE_KEYS))},
        )
    entity = data.get("entity")
    if entity not in ENTITIES:
        raise _fail(
            f"{where}.entity",
            _("%(value)r is not one of %(allowed)s.")
            % {"value": entity, "allowed": ", ".join(ENTITIES)},
        )
    spec = TableSpec(entity=entity)
    if data.get("file") is not None:
        spec.file = _text(f"{where}.file", data["file"])
    if data.get("sheet") is not None:
        spec.sheet = _text(f"{where}.sheet", data["sheet"])
    if data.get("system") is not None:
        try:
            spec.system = clean_system(data["system"])
        except ValueError as exc:
            raise _fail(f"{where}.system", str(exc)) from None
    match_on = data.get("match_on", list(MATCH_KEYS[entity]))
    if isinstance(match_on, str):
        match_on = [match_on]
    if not isinstance(match_on, list) or not all(isinstance(k, str) for k in match_on):
        raise _fail(f"{where}.match_on", _("must be a list of field names."))
    for key in match_on:
        if key not in MATCH_KEYS[entity]:
            raise _fail(
                f"{where}.match_on",
                _("%(entity)s cannot be matched on %(key)r; use %(allowed)s.")
                % {
                    "entity": entity,
                    "key": key,
                    "allowed": ", ".join(MATCH_KEYS[entity]) or "-",
                },
            )
    spec.match_on = list(match_on)
    spec.date_format = _choice(
        f"{where}.date_format", data.get("date_format", "auto"), DATE_FORMATS
    )
    spec.date_formats = {
        col: _choice(f"{where}.date_formats.{col}", fmt, DATE_FORMATS)
        for col, fmt in _str_map(f"{where}.date_formats", data.get("date_formats", {})).items()
    }
    spec.decimal = _choice(f"{where}.decimal", data.get("decimal", "auto"), DECIMAL_STYLES)
    tz = data.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(_text(f"{where}.timezone", tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fail(
            f"{where}.timezone",
            _("%(value)r is not a time zone such as Europe/Berlin.") % {"value": tz},
        ) from None
    spec.timezone = tz.strip()
    columns = _str_map(f"{where}.columns", data.get("columns", {}))
    for column, target in columns.items():
        target = _text(f"{where}.columns.{column!r}", target)
        _check_field(f"{where}.columns.{column!r}", entity, target)
        columns[column] = target
    spec.columns = columns
    values = _str_map(f"{where}.values", data.get("values", {}))
    for name, vmap in values.items():
        _check_field(f"{where}.values", entity, name)
        values[name] = _str_map(f"{where}.values.{name}", vmap)
    spec.values = values
    defaults = _str_map(f"{where}.defaults", data.get("defaults", {}))
    for name, value in defaults.items():
        _check_field(f"{where}.defaults", entity, name)
        if isinstance(value, Mapping | list):
            raise _fail(f"{where}.defaults.{name}", _("must be a single value."))
    spec.defaults = defaults
    scale = _str_map(f"{where}.scale", data.get("scale", {}))
    for name, factor in scale.items():
        _check_field(f"{where}.scale", entity, name)
        if FIELD_KINDS.get(name) not in ("decimal", "int") or isinstance(factor, bool):
            raise _fail(f"{where}.scale.{name}", _("only number fields can be scaled."))
        if not isinstance(factor, int | float):
            raise _fail(f"{where}.scale.{name}", _("the factor must be a number."))
    spec.scale = scale
    if data.get("stage_dates") is not None:
        if entity != "opportunities":
            raise _fail(f"{where}.stage_dates", _("only opportunities have stage dates."))
        raw = dict(_str_map(f"{where}.stage_dates", data["stage_dates"]))
        pattern = raw.pop("pattern", None)
        if pattern is not None:
            try:
                re.compile(_text(f"{where}.stage_dates.pattern", pattern))
            except re.error as exc:
                raise _fail(
                    f"{where}.stage_dates.pattern",
                    _("not a valid regular expression: %(error)s") % {"error": exc},
                ) from None
        spec.stage_dates = StageDates(
            pattern=pattern,
            columns={
                col: _text(f"{where}.stage_dates.{col!r}", stage) for col, stage in raw.items()
            },
        )
    return spec


def _choice(where: str, value: Any, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise _fail(
            where,
            _("%(value)r is not one of %(allowed)s.")
            % {"value": value, "allowed": ", ".join(allowed)},
        )
    return str(value)


def _pipelines(data: Any) -> list[PipelineSpec]:
    result = []
    for name, body in _str_map("pipelines", data).items():
        where = f"pipelines.{name}"
        stages = body.get("stages") if isinstance(body, Mapping) else None
        if not isinstance(stages, list) or not stages:
            raise _fail(where, _("needs a list of open stages."))
        cleaned = []
        for i, stage in enumerate(stages):
            if isinstance(stage, str):
                stage = {"name": stage}
            if not isinstance(stage, Mapping):
                raise _fail(f"{where}.stages[{i}]", _("must be a name or a table."))
            prob = stage.get("probability", min(90, 10 + 80 * i // max(1, len(stages) - 1)))
            if isinstance(prob, bool) or not isinstance(prob, int) or not 0 <= prob <= 100:
                raise _fail(f"{where}.stages[{i}]", _("probability must be 0 to 100."))
            cleaned.append(
                {"name": _text(f"{where}.stages[{i}].name", stage.get("name")), "probability": prob}
            )
        result.append(PipelineSpec(name=name.strip(), stages=cleaned))
    return result


def parse_mapping_text(text: str, *, filename: str = "mapping.toml") -> MappingSpec:
    """A spec from TOML (default) or YAML text (``.yaml``/``.yml`` file names)."""
    if filename.lower().endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise _fail(filename, _("not valid YAML: %(error)s") % {"error": exc}) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _fail(filename, _("not valid TOML: %(error)s") % {"error": exc}) from None
    return MappingSpec.from_dict(data)


def load_mapping(path: str | Path) -> MappingSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(
            str(path), _("cannot read the mapping file: %(error)s") % {"error": exc}
        ) from None
    return parse_mapping_text(text, filename=path.name)
