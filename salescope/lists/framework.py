"""The generic list framework: a list declares its columns, filters, search and base queryset.

A :class:`ListSpec` is pure declaration; :func:`parse_state` turns a request's GET
parameters into a :class:`ListState` (unknown or malformed values are dropped with a
warning, never an error); :func:`salescope.lists.selectors.list_queryset` applies it.
Every value shown in a cell or exported comes from :meth:`Column.value_of`.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.db.models import DecimalField, F, OrderBy, Q, QuerySet
from django.db.models.expressions import Expression
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salescope.customfields.models import CustomFieldDefinition, FieldType
from salescope.org.models import User

# Cell formats
TEXT = "text"
MONEY = "money"
DATE = "date"
DATETIME = "datetime"
PERCENT = "percent"
NUMBER = "number"
BADGE = "badge"
BOOL = "bool"
LIST = "list"

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
MAX_SEARCH = 200
# Parameters that are not filters.
RESERVED = {"q", "sort", "cols", "page", "per_page", "view", "clear"}


def attr_path(obj: Any, path: str | None) -> Any:
    if not path:
        return None
    value = obj
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class Column:
    """One column: where its value comes from, how it sorts, shows and exports."""

    key: str
    label: Any
    attr: str | None = None  # dotted attribute path on the row object
    order: str | Expression | None = None  # field path (may start with "-") or expression
    fmt: str = TEXT
    currency_attr: str | None = None  # for MONEY: the attribute holding the currency code
    default: bool = False
    link: str | None = None  # URL name of the record page, reversed with the pk below
    link_attr: str = "pk"
    value: Callable[[Any], Any] | None = None  # computed value (overrides ``attr``)
    badge: Callable[[Any], str] | None = None  # extra CSS class of a badge cell
    colour: Callable[[Any], str | None] | None = None  # a coloured dot before the value
    select: tuple[str, ...] = ()  # select_related paths this column needs
    prefetch: tuple[Any, ...] = ()  # prefetch_related lookups this column needs
    custom: CustomFieldDefinition | None = None
    always: bool = False  # cannot be hidden (the record's name)

    @property
    def sortable(self) -> bool:
        return self.order is not None

    def value_of(self, obj: Any) -> Any:
        if self.custom is not None:
            return _custom_value(self.custom, (getattr(obj, "custom", None) or {}))
        if self.value is not None:
            return self.value(obj)
        return attr_path(obj, self.attr)

    def currency_of(self, obj: Any) -> str | None:
        if self.custom is not None and self.custom.field_type == FieldType.MONEY:
            raw = (getattr(obj, "custom", None) or {}).get(self.custom.key)
            return raw.get("currency") if isinstance(raw, dict) else None
        if self.currency_attr:
            code = attr_path(obj, self.currency_attr)
            return str(code) if code else None
        return None

    def order_by(self, descending: bool) -> list[OrderBy]:
        expr: Any
        if isinstance(self.order, str):
            name = self.order
            if name.startswith("-"):
                name, descending = name[1:], not descending
            expr = F(name)
        else:
            expr = self.order
        assert expr is not None
        primary = expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True)
        return [primary]


def _custom_value(definition: CustomFieldDefinition, values: dict[str, Any]) -> Any:
    raw = values.get(definition.key)
    if raw is None:
        return None
    kind = definition.field_type
    try:
        if kind == FieldType.NUMBER:
            return Decimal(str(raw))
        if kind == FieldType.MONEY:
            return Decimal(str(raw["amount"])) if isinstance(raw, dict) else None
        if kind == FieldType.DATE:
            return dt.date.fromisoformat(str(raw))
    except (InvalidOperation, ValueError, KeyError, TypeError):
        return str(raw)
    if kind == FieldType.MULTI_CHOICE:
        return [str(v) for v in raw] if isinstance(raw, list) else [str(raw)]
    if kind == FieldType.BOOLEAN:
        return bool(raw)
    return str(raw)


_CUSTOM_FORMATS: dict[str, str] = {
    FieldType.TEXT: TEXT,
    FieldType.NUMBER: NUMBER,
    FieldType.MONEY: MONEY,
    FieldType.DATE: DATE,
    FieldType.CHOICE: TEXT,
    FieldType.MULTI_CHOICE: LIST,
    FieldType.BOOLEAN: BOOL,
}


def custom_column(definition: CustomFieldDefinition) -> Column:
    """A column for a custom field; sorts on the JSON key (SQLite and PostgreSQL alike)."""
    key = definition.key
    order: Expression
    if definition.field_type == FieldType.NUMBER:
        order = Cast(
            KeyTextTransform(key, "custom"), DecimalField(max_digits=40, decimal_places=10)
        )
    elif definition.field_type == FieldType.MONEY:
        order = Cast(
            KeyTextTransform("amount", KeyTransform(key, "custom")),
            DecimalField(max_digits=40, decimal_places=10),
        )
    else:
        order = KeyTextTransform(key, "custom")
    return Column(
        key=f"cf_{key}",
        label=definition.label,
        order=None if definition.field_type == FieldType.MULTI_CHOICE else order,
        fmt=_CUSTOM_FORMATS.get(str(definition.field_type), TEXT),
        custom=definition,
    )


# --- filters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter(ABC):
    """A filter of a list. Subclasses parse GET values and narrow the queryset."""

    key: str
    label: Any

    widget = "select"

    def params(self) -> list[str]:
        return [self.key]

    @abstractmethod
    def parse(self, data: QueryDict, warnings: list[str]) -> Any:
        """The filter's value from the GET data (None: not set); problems go to ``warnings``."""

    @abstractmethod
    def apply(self, qs: QuerySet[Any], value: Any, user: User) -> QuerySet[Any]:
        """``qs`` narrowed to ``value``."""

    def options(self, user: User) -> list[tuple[str, str]]:
        return []

    def to_params(self, value: Any) -> dict[str, list[str]]:
        """The clean GET parameters that give ``value`` again."""
        if isinstance(value, list):
            return {self.key: [str(v) for v in value]}
        return {self.key: [str(value)]}


def _bad(warnings: list[str], label: Any, raw: str) -> None:
    warnings.append(
        _("Ignored the filter “%(label)s”: “%(value)s” is not a valid value.")
        % {"label": label, "value": raw[:40]}
    )


@dataclass(frozen=True)
class ChoiceFilter(Filter):
    """One or more values out of a list (ids of options, or fixed choices).

    ``lookup`` filters ``<lookup>__in=values``; ``apply_fn`` replaces it (for subqueries
    over many-to-many relations, which must not duplicate rows).
    """

    lookup: str = ""
    choices: Sequence[tuple[str, Any]] | None = None  # fixed choices (value, label)
    option_source: Callable[[User], Iterable[Any]] | None = None  # records with pk and str()
    integer: bool = True
    apply_fn: Callable[[QuerySet[Any], list[Any], User], QuerySet[Any]] | None = None

    def parse(self, data: QueryDict, warnings: list[str]) -> list[Any] | None:
        values: list[Any] = []
        allowed = {str(v) for v, _label in self.choices} if self.choices is not None else None
        for raw in data.getlist(self.key):
            raw = raw.strip()
            if not raw:
                continue
            if allowed is not None:
                if raw not in allowed:
                    _bad(warnings, self.label, raw)
                    continue
                values.append(raw)
            elif self.integer:
                if not raw.isdigit() or len(raw) > 18:
                    _bad(warnings, self.label, raw)
                    continue
                values.append(int(raw))
            else:
                values.append(raw[:MAX_SEARCH])
        return values or None

    def apply(self, qs: QuerySet[Any], value: list[Any], user: User) -> QuerySet[Any]:
        if self.apply_fn is not None:
            return self.apply_fn(qs, value, user)
        return qs.filter(**{f"{self.lookup}__in": value})

    def options(self, user: User) -> list[tuple[str, str]]:
        if self.choices is not None:
            return [(str(v), str(label)) for v, label in self.choices]
        assert self.option_source is not None
        return [(str(o.pk), str(o)) for o in self.option_source(user)]


@dataclass(frozen=True)
class JsonValueFilter(Filter):
    """A custom field of type choice or yes/no: exact match on the JSON key."""

    json_key: str = ""
    choices: Sequence[tuple[str, Any]] = ()
    boolean: bool = False

    def parse(self, data: QueryDict, warnings: list[str]) -> Any:
        raw = data.get(self.key, "").strip()
        if not raw:
            return None
        if raw not in {str(v) for v, _label in self.choices}:
            _bad(warnings, self.label, raw)
            return None
        return raw

    def apply(self, qs: QuerySet[Any], value: Any, user: User) -> QuerySet[Any]:
        if self.boolean:
            if value == "yes":
                return qs.filter(**{f"custom__{self.json_key}": True})
            missing = Q(**{f"custom__{self.json_key}__isnull": True})
            return qs.filter(missing | ~Q(**{f"custom__{self.json_key}": True}))
        return qs.filter(**{f"custom__{self.json_key}": value})

    def options(self, user: User) -> list[tuple[str, str]]:
        return [(str(v), str(label)) for v, label in self.choices]


@dataclass(frozen=True)
class TextFilter(Filter):
    apply_fn: Callable[[QuerySet[Any], str, User], QuerySet[Any]] | None = None
    widget = "text"

    def parse(self, data: QueryDict, warnings: list[str]) -> str | None:
        raw = data.get(self.key, "").replace("\x00", "").strip()
        return raw[:MAX_SEARCH] or None

    def apply(self, qs: QuerySet[Any], value: str, user: User) -> QuerySet[Any]:
        assert self.apply_fn is not None
        return self.apply_fn(qs, value, user)


@dataclass(frozen=True)
class RangeFilter(Filter):
    """From/to bounds (both optional) on a date or a number."""

    lookup: str = ""
    kind: str = DATE  # DATE or NUMBER
    apply_fn: Callable[[QuerySet[Any], Any, Any], QuerySet[Any]] | None = None

    @property
    def widget(self) -> str:  # type: ignore[override]
        return "daterange" if self.kind == DATE else "numrange"

    def params(self) -> list[str]:
        return [f"{self.key}_from", f"{self.key}_to"]

    def _convert(self, raw: str) -> Any:
        if self.kind == DATE:
            return dt.date.fromisoformat(raw)
        text = raw.replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        number = Decimal(text)
        if not number.is_finite() or abs(number) >= Decimal("1e13"):
            raise ValueError(raw)
        return number

    def parse(self, data: QueryDict, warnings: list[str]) -> tuple[Any, Any] | None:
        bounds: list[Any] = []
        for param in self.params():
            raw = data.get(param, "").strip()
            if not raw:
                bounds.append(None)
                continue
            try:
                bounds.append(self._convert(raw))
            except (ValueError, InvalidOperation):
                _bad(warnings, self.label, raw)
                bounds.append(None)
        if bounds == [None, None]:
            return None
        return bounds[0], bounds[1]

    def to_params(self, value: Any) -> dict[str, list[str]]:
        return {
            param: [bound.isoformat() if isinstance(bound, dt.date) else str(bound)]
            for param, bound in zip(self.params(), value, strict=True)
            if bound is not None
        }

    def apply(self, qs: QuerySet[Any], value: tuple[Any, Any], user: User) -> QuerySet[Any]:
        low, high = value
        if self.apply_fn is not None:
            return self.apply_fn(qs, low, high)
        if low is not None:
            qs = qs.filter(**{f"{self.lookup}__gte": low})
        if high is not None:
            qs = qs.filter(**{f"{self.lookup}__lte": high})
        return qs


# --- the list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSpec:
    key: str
    title: Any
    record_name: Any  # plural noun for messages ("deals")
    base: Callable[[User], QuerySet[Any]]
    columns: Callable[[], list[Column]]
    filters: Callable[[], list[Filter]]
    search: tuple[str, ...]
    default_sort: str
    custom_target: str | None = None
    create_url: str | None = None
    create_label: Any = None
    bulk_actions: tuple[str, ...] = ()
    extra_select: tuple[str, ...] = ()

    def all_columns(self, defs: Sequence[CustomFieldDefinition] = ()) -> list[Column]:
        return [*self.columns(), *(custom_column(d) for d in defs)]

    def all_filters(self, defs: Sequence[CustomFieldDefinition] = ()) -> list[Filter]:
        filters = self.filters()
        for d in defs:
            if d.field_type == FieldType.CHOICE:
                filters.append(
                    JsonValueFilter(
                        key=f"cf_{d.key}",
                        label=d.label,
                        json_key=d.key,
                        choices=[(c, c) for c in d.choices],
                    )
                )
            elif d.field_type == FieldType.BOOLEAN:
                filters.append(
                    JsonValueFilter(
                        key=f"cf_{d.key}",
                        label=d.label,
                        json_key=d.key,
                        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
                        boolean=True,
                    )
                )
        return filters


@dataclass
class ListState:
    """What a request asks of a list: search, filters, sort, columns, page."""

    q: str = ""
    sort_key: str = ""
    descending: bool = False
    sort_column: Column | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    page: str = "1"
    per_page: int = DEFAULT_PAGE_SIZE
    warnings: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)  # the clean filter params
    explicit_columns: bool = False

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort_key

    def query(self, drop: Iterable[str] = (), **overrides: Any) -> str:
        """The query string of this state, with some parameters replaced (None drops one)
        and the filter parameters named in ``drop`` left out."""
        dropped = set(drop)
        items: list[tuple[str, str]] = []
        base: dict[str, Any] = {
            "q": self.q or None,
            "sort": self.sort_param,
            "per_page": self.per_page if self.per_page != DEFAULT_PAGE_SIZE else None,
            "cols": [c.key for c in self.columns] if self.explicit_columns else None,
        }
        base.update(overrides)
        for name, values in self.params.items():
            if name not in dropped:
                items.extend((name, v) for v in values)
        for name, value in base.items():
            if value is None or value == "":
                continue
            if isinstance(value, list):
                items.extend((name, str(v)) for v in value)
            else:
                items.append((name, str(value)))
        return urlencode(items)

    def filter_query(self) -> str:
        """Filters, search and sort without columns and paging (what a saved view keeps)."""
        return self.query(cols=None, per_page=None)


def parse_state(
    spec: ListSpec,
    data: QueryDict,
    *,
    columns: list[Column],
    filters: list[Filter],
    saved_columns: Sequence[str] | None = None,
) -> ListState:
    state = ListState()
    warnings = state.warnings
    state.q = data.get("q", "").replace("\x00", "").strip()[:MAX_SEARCH]

    by_key = {c.key: c for c in columns}
    sort = data.get("sort", "").strip()
    key = sort.lstrip("-")
    if sort and (key not in by_key or not by_key[key].sortable):
        warnings.append(_("Cannot sort by “%(column)s”; using the default order.") % {
            "column": key[:40]
        })  # fmt: skip
        sort = ""
    if not sort:
        sort = spec.default_sort
    state.sort_key = sort.lstrip("-")
    state.descending = sort.startswith("-")
    state.sort_column = by_key.get(state.sort_key)

    for flt in filters:
        value = flt.parse(data, warnings)
        if value is not None:
            state.filters[flt.key] = value
            state.params.update(flt.to_params(value))

    requested = [c for c in data.getlist("cols") if c]
    if not requested and saved_columns:
        requested = list(saved_columns)
    if requested:
        unknown = [c for c in requested if c not in by_key]
        if unknown:
            warnings.append(
                _("Ignored unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)[:80]}
            )
        wanted = set(requested)
        chosen = [c for c in columns if c.key in wanted or c.always]
        state.explicit_columns = True
    else:
        chosen = [c for c in columns if c.default or c.always]
    state.columns = chosen or [c for c in columns if c.default or c.always]

    raw_size = data.get("per_page", "")
    if raw_size:
        if raw_size.isdigit() and int(raw_size) in PAGE_SIZES:
            state.per_page = int(raw_size)
        else:
            warnings.append(
                _("Page size “%(size)s” is not offered; showing %(default)s rows.")
                % {"size": raw_size[:10], "default": DEFAULT_PAGE_SIZE}
            )
    state.page = data.get("page", "1")[:10]
    return state


def search_q(fields: Iterable[str], text: str) -> Q:
    """Every word must match one of ``fields`` (case-insensitive contains)."""
    condition = Q()
    for word in text.split()[:8]:
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        condition &= any_field
    return condition


def link_pattern(url_name: str | None) -> str | None:
    """The record URL with a placeholder for the pk, or None when the page does not exist."""
    if not url_name:
        return None
    marker = 987654321
    try:
        return reverse(url_name, args=[marker]).replace(str(marker), "{pk}")
    except NoReverseMatch:
        return None


def with_label(column: Column, label: Any) -> Column:
    return replace(column, label=label)
