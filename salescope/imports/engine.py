"""The import engine: typed records from tables, references, matching, set-based writes.

``Importer(tables=..., spec=..., actor=...).run(dry_run=...)`` does every step inside one
transaction: parse each row with its :class:`~salescope.imports.mapping.TableSpec` into a typed
record (collecting :class:`RowError`\\ s), then per entity (users, products, accounts,
contacts, leads, opportunities with their history, activities) resolve references from lookup
dicts loaded once, match existing records, compute creates / updates / unchanged and write
them in bulk. A dry run, or a run with rejected rows (unless ``skip_invalid``), rolls the
transaction back, so the counts of a dry run are exactly those of the real run.

Opportunities are built with the pure transitions of :mod:`salescope.pipeline.domain`, so
imported history has the shape of history written one click at a time: original timestamps,
``origin="import"``, and ``reconstructed=True`` for events derived from dates in the deal row
(created, stage dates, closed) rather than read from a history file.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from salescope.accounts.models import (
    Account,
    AccountStatus,
    AccountType,
    Contact,
    ContactRole,
    Industry,
    Region,
    Tag,
    TagCategory,
    Tier,
)
from salescope.accounts.services import (
    check_country,
    check_domain,
    check_email,
    check_employees,
    check_phone,
    check_website,
    domain_from,
    normalize_name,
)
from salescope.accounts.services import check_text as check_plain_text
from salescope.activities.models import Activity, ActivityType
from salescope.core import clock
from salescope.core.bulk import BulkWriter, Rows
from salescope.core.models import ExternalId
from salescope.core.money import parse_amount
from salescope.customfields.services import clean_custom_values, definitions
from salescope.imports import values as V
from salescope.imports.errors import missing_columns
from salescope.imports.mapping import (
    ENTITIES,
    FIELD_KINDS,
    REQUIRED,
    MappingSpec,
    TableSpec,
)
from salescope.imports.reading import Table
from salescope.org.models import Currency, Role, Team, User
from salescope.org.selectors import company_currency
from salescope.org.services import ensure_company_settings
from salescope.pipeline.models import (
    LostReason,
    Opportunity,
    Pipeline,
    ProductLine,
    Source,
    Stage,
    StageKind,
)

ProgressFn = Callable[[str, int, int], None]
COUNT_KEYS = ("created", "updated", "unchanged", "rejected")
UPDATE_BATCH = 2000
DEFAULT_DEAL_DAYS = 30


@dataclass(frozen=True)
class RowError:
    """Why one row (or a whole table when ``row`` is None) was rejected."""

    table: str
    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


@dataclass
class ImportResult:
    dry_run: bool
    written: bool = False
    summary: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    created_references: dict[str, list[str]] = field(default_factory=dict)
    skipped_tables: list[str] = field(default_factory=list)
    total_rows: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, entity: str, key: str) -> int:
        return self.summary.get(entity, {}).get(key, 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "summary": self.summary,
            "errors": [e.as_dict() for e in self.errors],
            "created_references": self.created_references,
            "skipped_tables": self.skipped_tables,
            "total_rows": self.total_rows,
            "seconds": round(self.seconds, 3),
        }


class _Rollback(Exception):
    """Leaves the import's transaction without writing (dry run, rejected rows)."""


@dataclass
class Record:
    """One parsed row: canonical field → typed value (only fields with a value)."""

    table: Table
    spec: TableSpec
    index: int
    values: dict[str, Any]
    raw: dict[str, Any]
    columns: dict[str, str]  # field → source column (for error reports)
    stage_dates: dict[str, dt.datetime] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def row(self) -> int:
        return int(self.table.row_number(self.index))

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")


def fold(text: Any) -> str:
    """Case-, accent- and space-insensitive key for names."""
    value = unicodedata.normalize("NFKD", str(text).casefold())
    value = "".join(c for c in value if not unicodedata.combining(c))
    return " ".join(value.split())


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    """``(field, message)`` pairs of a ValidationError."""
    if hasattr(exc, "error_dict"):
        return [(name, msg) for name, msgs in exc.message_dict.items() for msg in msgs]
    return [("", msg) for msg in exc.messages]


def _split_name(full: str) -> tuple[str, str]:
    parts = full.split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return "", parts[0]
    return " ".join(parts[:-1]), parts[-1]


def _slug(text: str) -> str:
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", ".", value).strip(".") or "user"


# --- parsing rows into records ------------------------------------------------------------

#: Fields naming a lookup that the import creates when it is missing: a name longer than the
#: lookup's own limit is a row error (never a truncated name or a failing insert).
_NAMED_LOOKUPS: dict[tuple[str, str], type[Any]] = {
    ("accounts", "industry"): Industry,
    ("accounts", "account_type"): AccountType,
    ("accounts", "tier"): Tier,
    ("accounts", "status"): AccountStatus,
    ("accounts", "region"): Region,
    ("opportunities", "source"): Source,
    ("opportunities", "lost_reason"): LostReason,
    ("leads", "source"): Source,
    ("activities", "type"): ActivityType,
    ("users", "team"): Team,
}


def _name_limits(entity: str) -> dict[str, int]:
    return {
        target: int(model._meta.get_field("name").max_length or 0)
        for (of, target), model in _NAMED_LOOKUPS.items()
        if of == entity
    }


class _Parser:
    """Turns the rows of one table into records with typed values."""

    def __init__(self, table: Table, spec: TableSpec, errors: list[RowError]) -> None:
        self.table = table
        self.spec = spec
        self.errors = errors
        self.tz = zoneinfo.ZoneInfo(spec.timezone)
        self.name_limits = _name_limits(spec.entity)
        self.mapped: list[tuple[int, str, str]] = []  # (column index, header, field)
        self.date_columns: list[tuple[int, str, str]] = []  # (index, header, stage)
        for i, header in enumerate(table.headers):
            target = spec.field_of(header)
            if target is not None:
                self.mapped.append((i, header, target))
            elif spec.stage_dates is not None:
                stage = spec.stage_dates.stage_of(header)
                if stage:
                    self.date_columns.append((i, header, stage))
        self.fields = {f for _i, _h, f in self.mapped}
        self.field_columns = {f: h for _i, h, f in self.mapped}
        self.formats: dict[int, str] = {}
        self.folded_maps: dict[str, dict[str, Any]] = {}
        self.styles: dict[int, str] = {}

    def check_columns(self) -> None:
        present = self.fields | set(self.spec.defaults)
        missing = []
        for group in REQUIRED[self.spec.entity]:
            options = group.split("|")
            if not any(o in present for o in options):
                missing.append(" / ".join(options))
        if self.spec.entity == "history" and "opportunity" in present:
            missing = [m for m in missing if "opportunity_external_id" not in m]
        if missing:
            raise missing_columns(self.table.name, missing)

    def _column_values(self, index: int) -> list[Any]:
        return [
            row[index]
            for row in self.table.rows
            if index < len(row) and isinstance(row[index], str) and str(row[index]).strip()
        ]

    def detect(self) -> None:
        """Date format and decimal style per column (given by the spec or detected)."""
        for index, header, target in self.mapped:
            kind = FIELD_KINDS.get(target)
            if kind in ("date", "datetime"):
                self.formats[index] = self._date_format(index, header)
            elif kind == "decimal" or (target.startswith("custom.")):
                style = self.spec.decimal
                if style == "auto":
                    values = self._column_values(index)
                    style = V.detect_decimal_style(values) if values else "point"
                self.styles[index] = style
        for index, header, _stage in self.date_columns:
            self.formats[index] = self._date_format(index, header)

    def _date_format(self, index: int, header: str) -> str:
        fmt = self.spec.date_formats.get(header, self.spec.date_format)
        if fmt != "auto":
            return fmt
        values = self._column_values(index)
        if not values:
            return "iso"
        guess = V.detect_date_format(values)
        if guess.ambiguous:
            self.errors.append(
                RowError(
                    self.table.name,
                    None,
                    header,
                    str(values[0]),
                    _(
                        "The dates in column %(column)s could be read as %(candidates)s; "
                        "set date_format for this column in the mapping."
                    )
                    % {"column": header, "candidates": ", ".join(guess.candidates)},
                )
            )
        return str(guess.format)

    def _mapped_value(self, target: str, raw: Any) -> Any:
        vmap = self.spec.values.get(target)
        if not vmap or raw is None:
            return raw
        key = raw.strip() if isinstance(raw, str) else raw
        if isinstance(key, float) and key.is_integer():
            key = int(key)
        text = str(key)
        if text in vmap:
            return vmap[text]
        folded_map = self.folded_maps.get(target)
        if folded_map is None:
            folded_map = self.folded_maps[target] = {fold(k): v for k, v in vmap.items()}
        return folded_map.get(fold(text), raw)

    def convert(self, target: str, raw: Any, index: int | None) -> Any:
        """The typed value of ``raw`` for ``target``; raises ValueError with a message."""
        kind = FIELD_KINDS.get(target, "text")
        if target.startswith("custom."):
            return raw.strip() if isinstance(raw, str) else raw
        if kind == "datetime":
            return self._datetime(raw, index)
        if kind == "date":
            return self._date(raw, index)
        if kind == "decimal":
            value = self._decimal(raw, index)
            factor = self.spec.scale.get(target)
            if factor is not None:
                value = (value * Decimal(str(factor))).quantize(Decimal("0.01"))
            return value
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError(_("expected a whole number"))
            if isinstance(raw, str) and raw.isdigit():
                raw = int(raw)
            whole = raw if isinstance(raw, int) else V.parse_int(raw)
            factor = self.spec.scale.get(target)
            return int(whole * factor) if factor is not None else whole
        if kind == "bool":
            return raw if isinstance(raw, bool) else V.parse_bool(raw)
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, dt.datetime | dt.date):
            return raw.isoformat()
        text = str(raw).strip()
        limit = self.name_limits.get(target)
        if limit and len(text) > limit:
            raise ValueError(
                _("is %(length)s characters long; at most %(max)s are allowed")
                % {"length": len(text), "max": limit}
            )
        return text

    def _fmt(self, index: int | None) -> str:
        return self.formats.get(index, "iso") if index is not None else "iso"

    def _datetime(self, raw: Any, index: int | None) -> dt.datetime:
        if isinstance(raw, str) and self._fmt(index) == "iso" and _ISO_FAST.match(raw):
            try:  # the common case, in C; anything unusual goes to the full parser
                value = dt.datetime.fromisoformat(raw)
            except ValueError:
                pass
            else:
                if value.tzinfo is None:
                    value = value.replace(tzinfo=self.tz)
                return value.astimezone(dt.UTC)
        if isinstance(raw, dt.datetime):
            return raw if raw.tzinfo else raw.replace(tzinfo=self.tz)
        if isinstance(raw, dt.date):
            return dt.datetime.combine(raw, dt.time(), tzinfo=self.tz)
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = str(raw)
        return V.parse_datetime(raw, self._fmt(index), self.tz)

    def _date(self, raw: Any, index: int | None) -> dt.date:
        if isinstance(raw, str) and len(raw) == 10 and self._fmt(index) == "iso":
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            raw = str(raw)
        return V.parse_date(raw, self._fmt(index))

    def _decimal(self, raw: Any, index: int | None) -> Decimal:
        if isinstance(raw, bool):
            raise ValueError(_("expected a number"))
        if isinstance(raw, int):
            return Decimal(raw)
        if isinstance(raw, float):
            return Decimal(repr(raw))
        if isinstance(raw, Decimal):
            return raw
        style = self.styles.get(index, "point") if index is not None else "point"
        if style == "point" and _PLAIN_NUMBER.match(raw):
            return Decimal(raw)
        if style == "auto":
            style = "point"
        return Decimal(V.parse_decimal(raw, style).value)

    def records(self) -> list[Record]:
        self.check_columns()
        self.detect()
        out = []
        defaults = self.spec.defaults
        # Per column, once: does it have a value map? (Most do not; the call is then skipped.)
        mapped = [
            (index, header, target, bool(self.spec.values.get(target)))
            for index, header, target in self.mapped
        ]
        has_custom = any(target.startswith("custom.") for target in self.fields) or any(
            target.startswith("custom.") for target in defaults
        )
        for i, row in enumerate(self.table.rows):
            values: dict[str, Any] = {}
            raw_values: dict[str, Any] = {}
            columns = self.field_columns
            bad = False
            width = len(row)
            for index, header, target, has_map in mapped:
                raw = row[index] if index < width else None
                if isinstance(raw, str) and not raw.strip():
                    raw = None
                if has_map:
                    raw = self._mapped_value(target, raw)
                if raw is None or raw == "":
                    continue
                raw_values[target] = raw
                try:
                    values[target] = self.convert(target, raw, index)
                except (ValueError, ValidationError, InvalidOperation) as exc:
                    message = (
                        "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    )
                    self.errors.append(
                        RowError(
                            self.table.name,
                            int(self.table.row_number(i)),
                            header,
                            _display(raw),
                            message or _("cannot be read"),
                        )
                    )
                    bad = True
            for target, default in defaults.items():
                if target in values:
                    continue
                raw = self._mapped_value(target, default)
                try:
                    values[target] = self.convert(target, raw, None)
                except (ValueError, ValidationError, InvalidOperation) as exc:
                    message = (
                        "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                    )
                    self.errors.append(
                        RowError(self.table.name, None, target, _display(default), message)
                    )
                    bad = True
            stage_dates: dict[str, dt.datetime] = {}
            for index, header, stage in self.date_columns:
                raw = row[index] if index < len(row) else None
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    continue
                try:
                    stage_dates[stage] = self._datetime(raw, index)
                except (ValueError, ValidationError) as exc:
                    self.errors.append(
                        RowError(
                            self.table.name,
                            int(self.table.row_number(i)),
                            header,
                            _display(raw),
                            str(exc),
                        )
                    )
                    bad = True
            if bad:
                out.append(_REJECTED)
                continue
            custom: dict[str, Any] = {}
            if has_custom:
                custom = {k[7:]: v for k, v in values.items() if k.startswith("custom.")}
                for key in custom:
                    del values[f"custom.{key}"]
            out.append(
                Record(
                    table=self.table,
                    spec=self.spec,
                    index=i,
                    values=values,
                    raw=raw_values,
                    columns=columns,
                    stage_dates=stage_dates,
                    custom=custom,
                )
            )
        return out


_REJECTED: Any = object()
_ISO_FAST = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([+-]\d{2}:\d{2}|Z)?$")
_PLAIN_NUMBER = re.compile(r"-?\d{1,15}(\.\d{1,6})?$")


# --- lookups ------------------------------------------------------------------------------


class _Named:
    """Rows of a simple named table by folded name, created when missing (and reported)."""

    def __init__(
        self,
        model: type[Any],
        kind: str,
        report: dict[str, list[str]],
        extra: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.kind = kind
        self.report = report
        self.extra = extra
        self.by_name: dict[str, Any] = {fold(o.name): o for o in model._default_manager.all()}
        if model is ActivityType:
            for o in list(self.by_name.values()):
                self.by_name.setdefault(fold(o.code), o)

    def get(self, name: str, *, create: bool = True) -> Any:
        key = fold(name)
        obj = self.by_name.get(key)
        if obj is None and create:
            values = {"name": name.strip()[:100]}
            if self.extra is not None:
                values.update(self.extra(name))
            obj = self.model._default_manager.create(**values)
            self.by_name[key] = obj
            self.report.setdefault(self.kind, []).append(obj.name)
        return obj


class Lookups:
    """Everything rows refer to, loaded once per import."""

    def __init__(self, actor: User | None, report: dict[str, list[str]]) -> None:
        self.actor = actor
        self.report = report
        self.now = clock.now()
        self.users_by_email: dict[str, User] = {}
        self.users_by_name: dict[str, User] = {}
        self.users_by_username: dict[str, User] = {}
        for user in User.objects.all():
            self._index_user(user)
        ensure_company_settings()  # a fresh installation: the currencies and company settings
        self.currencies = set(Currency.objects.filter(active=True).values_list("code", flat=True))
        self.company_currency = company_currency()
        self.pipelines = {fold(p.name): p for p in Pipeline.objects.all()}
        self.default_pipeline = (
            Pipeline.objects.filter(is_default=True, active=True).first()
            or Pipeline.objects.filter(active=True).first()
        )
        self.stages: dict[int, list[Stage]] = defaultdict(list)
        for stage in Stage.objects.select_related("pipeline").order_by("pipeline", "order"):
            self.stages[stage.pipeline_id].append(stage)
        self.sources = _Named(Source, "sources", report)
        self.products = _Named(ProductLine, "product lines", report)
        self.lost_reasons = _Named(LostReason, "lost reasons", report)
        self.industries = _Named(Industry, "industries", report)
        self.account_types = _Named(AccountType, "account types", report)
        self.tiers = _Named(Tier, "tiers", report)
        self.regions = _Named(Region, "regions", report)
        self.statuses = _Named(AccountStatus, "account statuses", report)
        self.roles = _Named(ContactRole, "contact roles", report)
        self.activity_types = _Named(
            ActivityType,
            "activity types",
            report,
            extra=lambda name: {"code": _unique_code(name)},
        )
        self.teams = _Named(Team, "teams", report)
        self.tag_categories = _Named(TagCategory, "tag categories", report)
        self.tags: dict[tuple[int, str], Tag] = {
            (t.category_id, fold(t.name)): t for t in Tag.objects.all()
        }
        self.default_status = (
            AccountStatus.objects.filter(is_default=True).first() or AccountStatus.objects.first()
        )
        self.custom_defs = {
            target: definitions(target) for target in ("account", "contact", "opportunity")
        }
        self.content_types = {
            model: ContentType.objects.get_for_model(model).pk
            for model in (Account, Contact, Opportunity, Activity)
        }
        self.accounts_loaded = False
        self._stage_cache: dict[int, dict[str, Stage | None]] = {}
        self.account_refs: dict[str, int] = {}
        self.account_by_domain: dict[str, int] = {}
        self.account_by_name: dict[str, int] = {}
        self.account_names: dict[int, str] = {}
        self.account_owner: dict[int, int] = {}

    # users

    def _index_user(self, user: User) -> None:
        if user.email:
            self.users_by_email.setdefault(user.email.lower(), user)
        full = fold(user.get_full_name())
        if full:
            self.users_by_name.setdefault(full, user)
        self.users_by_username.setdefault(user.username.lower(), user)

    def find_user(self, ref: str) -> User | None:
        text = ref.strip()
        if "@" in text:
            return self.users_by_email.get(text.lower())
        return self.users_by_name.get(fold(text)) or self.users_by_username.get(text.lower())

    def new_username(self, base: str) -> str:
        name = base[:140]
        n = 1
        while name.lower() in self.users_by_username:
            n += 1
            name = f"{base[:140]}{n}"
        return name

    def create_user(
        self,
        *,
        first_name: str = "",
        last_name: str = "",
        email: str = "",
        role: str = Role.REP,
        team: Team | None = None,
        active: bool = True,
    ) -> User:
        base = email.split("@")[0] if email else _slug(f"{first_name} {last_name}")
        user = User(
            username=self.new_username(base),
            first_name=first_name[:150],
            last_name=last_name[:150],
            email=email,
            role=role,
            team=team,
            is_active=active,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
            password=make_password(None),
            date_joined=self.now,
        )
        user.save()
        self._index_user(user)
        return user

    def user(self, ref: str) -> User:
        """The user named or e-mailed ``ref``; unknown ones are created inactive (reported)."""
        found = self.find_user(ref)
        if found is not None:
            return found
        text = ref.strip()
        if "@" in text:
            email = check_email(text)
            first, last = "", email.split("@")[0]
        else:
            email = ""
            first, last = _split_name(text)
        user = self.create_user(first_name=first, last_name=last, email=email, active=False)
        self.report.setdefault("users (inactive)", []).append(text)
        return user

    # accounts

    def load_accounts(self) -> None:
        if self.accounts_loaded:
            return
        for pk, name, normalized, dom, owner in Account.objects.values_list(
            "pk", "name", "normalized_name", "domain", "owner_id"
        ):
            if dom:
                self.account_by_domain.setdefault(dom, pk)
            if normalized:
                self.account_by_name.setdefault(normalized, pk)
            self.account_names[pk] = name
            self.account_owner[pk] = owner
        self.accounts_loaded = True

    def index_account(self, pk: int, name: str, dom: str, owner_id: int) -> None:
        if dom:
            self.account_by_domain.setdefault(dom, pk)
        normalized = normalize_name(name)
        if normalized:
            self.account_by_name.setdefault(normalized, pk)
        self.account_names[pk] = name
        self.account_owner[pk] = owner_id

    # pipelines

    def pipeline(self, name: str | None) -> Pipeline | None:
        if name:
            return self.pipelines.get(fold(name))
        return self.default_pipeline

    def stage(self, pipeline: Pipeline, name: str) -> Stage | None:
        cache = self._stage_cache.setdefault(pipeline.pk, {})
        if name in cache:
            return cache[name]
        key = fold(name)
        found = next((s for s in self.stages[pipeline.pk] if fold(s.name) == key), None)
        if found is None and key in (StageKind.WON, StageKind.LOST):
            found = self.stage_of_kind(pipeline, key)
        cache[name] = found
        return found

    def stage_of_kind(self, pipeline: Pipeline, kind: str) -> Stage | None:
        return next((s for s in self.stages[pipeline.pk] if s.kind == kind), None)

    def first_open_stage(self, pipeline: Pipeline) -> Stage | None:
        return self.stage_of_kind(pipeline, StageKind.OPEN)

    def tag(self, text: str) -> Tag:
        category_name, _sep, name = text.rpartition(":")
        category = self.tag_categories.get(category_name.strip() or "Import")
        key = (category.pk, fold(name))
        tag = self.tags.get(key)
        if tag is None:
            tag = Tag.objects.create(category=category, name=name.strip()[:80])
            self.tags[key] = tag
            self.report.setdefault("tags", []).append(str(tag))
        return tag


def _unique_code(name: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", _slug(name)).strip("_")[:24] or "type"
    code, n = base, 1
    while ActivityType.objects.filter(code=code).exists():
        n += 1
        code = f"{base}_{n}"
    return code


# --- the importer -------------------------------------------------------------------------


class Importer:
    def __init__(
        self,
        *,
        tables: Sequence[Table],
        spec: MappingSpec,
        actor: User | None,
        skip_invalid: bool = False,
        progress: ProgressFn | None = None,
    ) -> None:
        self.tables = list(tables)
        self.spec = spec
        self.actor = actor
        self.actor_id = actor.pk if actor is not None else None
        self.skip_invalid = skip_invalid
        self.progress = progress or (lambda phase, done, total: None)
        self.errors: list[RowError] = []
        self.report: dict[str, list[str]] = {}
        self.summary: dict[str, dict[str, int]] = {}
        self.writer = BulkWriter()
        self.skipped: list[str] = []

    # -- helpers ----------------------------------------------------------------------------

    def count(self, entity: str, key: str, n: int = 1) -> None:
        counts = self.summary.setdefault(entity, dict.fromkeys(COUNT_KEYS, 0))
        counts[key] += n

    def reject(self, rec: Record, field_name: str, message: str, entity: str | None = None) -> None:
        column = rec.columns.get(field_name, field_name)
        value = rec.raw.get(field_name, rec.values.get(field_name))
        self.errors.append(RowError(rec.table.name, rec.row, column, _display(value), message))
        self.count(entity or rec.spec.entity, "rejected")

    def reject_validation(
        self, rec: Record, exc: ValidationError, entity: str | None = None
    ) -> None:
        pairs = _messages(exc)
        for i, (name, message) in enumerate(pairs):
            column = rec.columns.get(name, name)
            value = rec.raw.get(name, rec.values.get(name))
            self.errors.append(RowError(rec.table.name, rec.row, column, _display(value), message))
            if i == 0:
                self.count(entity or rec.spec.entity, "rejected")

    # -- run --------------------------------------------------------------------------------

    def parse(self) -> dict[str, list[Record]]:
        by_entity: dict[str, list[Record]] = defaultdict(list)
        for table in self.tables:
            spec = self.spec.spec_for(table.name)
            if spec is None:
                self.skipped.append(table.name)
                continue
            parser = _Parser(table, spec, self.errors)
            records = parser.records()
            for rec in records:
                if rec is _REJECTED:
                    self.count(spec.entity, "rejected")
                else:
                    by_entity[spec.entity].append(rec)
        if not by_entity and not any(self.summary.values()):
            raise ValidationError(
                {
                    "file": [
                        _("No table matches the mapping (tables: %(tables)s).")
                        % {"tables": ", ".join(t.name for t in self.tables) or "-"}
                    ]
                }
            )
        return by_entity

    def run(self, *, dry_run: bool) -> ImportResult:
        started = time.monotonic()
        result = ImportResult(dry_run=dry_run)
        result.total_rows = sum(len(t.rows) for t in self.tables)
        try:
            with transaction.atomic():
                if connection.vendor == "sqlite":  # index pages of big tables stay in memory
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA cache_size = -131072")
                self.progress("reading", 0, 1)
                records = self.parse()
                self.progress("reading", 1, 1)
                self.lookups = Lookups(self.actor, self.report)
                self.ensure_pipelines()
                handlers: dict[str, Callable[..., None]] = {
                    "users": self.import_users,
                    "products": self.import_products,
                    "accounts": self.import_accounts,
                    "contacts": self.import_contacts,
                    "leads": self.import_leads,
                    "activities": self.import_activities,
                }
                for entity in ENTITIES:
                    if entity == "history":
                        continue
                    if entity == "opportunities":
                        if records.get("opportunities") or records.get("history"):
                            self.import_opportunities(
                                records.get("opportunities", []), records.get("history", [])
                            )
                        continue
                    if records.get(entity):
                        handlers[entity](records[entity])
                if dry_run or (self.errors and not self.skip_invalid):
                    raise _Rollback
                result.written = True
        except _Rollback:
            result.written = False
        for counts in self.summary.values():
            for key in COUNT_KEYS:
                counts.setdefault(key, 0)
        result.summary = self.summary
        result.errors = self.errors
        result.created_references = self.report
        result.skipped_tables = self.skipped
        result.seconds = time.monotonic() - started
        return result

    def ensure_pipelines(self) -> None:
        from salescope.pipeline.services import create_pipeline

        for spec in self.spec.pipelines:
            if fold(spec.name) in self.lookups.pipelines:
                continue
            pipeline = create_pipeline(name=spec.name, stages=spec.stages)
            self.lookups.pipelines[fold(pipeline.name)] = pipeline
            for stage in pipeline.stages.order_by("order"):
                self.lookups.stages[pipeline.pk].append(stage)
            if self.lookups.default_pipeline is None:
                self.lookups.default_pipeline = pipeline
            self.report.setdefault("pipelines", []).append(pipeline.name)

    # -- external ids -----------------------------------------------------------------------

    def external_ids(self, model: type[Any], system: str) -> dict[str, int]:
        ct = self.lookups.content_types[model]
        return dict(
            ExternalId.objects.filter(content_type_id=ct, system=system).values_list(
                "value", "object_id"
            )
        )

    def write_external_ids(self, model: type[Any], pairs: Iterable[tuple[int, str, str]]) -> None:
        ct = self.lookups.content_types[model]
        new = Rows(ExternalId)
        rows = [
            new(content_type_id=ct, object_id=pk, system=system, value=value)
            for pk, system, value in pairs
        ]
        self.writer.objects(ExternalId, rows)

    def duplicate_check(self, records: list[Record], key: str, entity: str) -> list[Record]:
        """Drop (and report) rows whose ``key`` repeats an earlier row of the import."""
        seen: dict[str, Record] = {}
        out = []
        for rec in records:
            value = rec.get(key)
            if value:
                folded = fold(value) if key != "external_id" else str(value)
                first = seen.get(folded)
                if first is not None:
                    self.reject(
                        rec,
                        key,
                        _("%(value)s appears twice in the import (first in %(table)s row %(row)s).")
                        % {"value": value, "table": first.table.name, "row": first.row},
                        entity,
                    )
                    continue
                seen[folded] = rec
            out.append(rec)
        return out

    def owner_of(self, rec: Record, entity: str, *, required: bool) -> Any:
        """The row's owner (a User), None when it names none, False when rejected."""
        ref = rec.get("owner")
        if not ref:
            if required:
                if self.actor is not None:
                    return self.actor
                self.reject(rec, "owner", _("owner is required."), entity)
                return False
            return None
        try:
            user = self.lookups.user(ref)
        except ValidationError as exc:
            self.reject_validation(rec, exc, entity)
            return False
        if user.role == Role.READ_ONLY:
            self.reject(
                rec,
                "owner",
                _("%(user)s has a read-only role and cannot own records.") % {"user": user},
                entity,
            )
            return False
        return user

    def touch(self, obj: Any) -> None:
        obj.version = getattr(obj, "version", 1) + 1
        obj.updated_at = self.lookups.now
        obj.updated_by_id = self.actor_id

    def bulk_update(self, model: type[Any], objs: list[Any], fields: set[str]) -> None:
        if objs:
            names = sorted(fields | {"version", "updated_at", "updated_by"})
            model._default_manager.bulk_update(objs, names, batch_size=UPDATE_BATCH)

    # -- users ------------------------------------------------------------------------------

    def import_users(self, records: list[Record]) -> None:
        lk = self.lookups
        self.progress("users", 0, len(records))
        for n, rec in enumerate(records, 1):
            try:
                self._user_row(rec)
            except ValidationError as exc:
                self.reject_validation(rec, exc, "users")
            if n % 1000 == 0:
                self.progress("users", n, len(records))
        self.progress("users", len(records), len(records))
        del lk

    def _user_row(self, rec: Record) -> None:
        lk = self.lookups
        first, last = rec.get("first_name", ""), rec.get("last_name", "")
        if rec.has("name") and not (first or last):
            first, last = _split_name(rec.get("name"))
        email = check_email(rec.get("email", "")) if rec.has("email") else ""
        role = str(rec.get("role", "") or "").strip().lower()
        if role and role not in Role.values:
            raise ValidationError(
                {
                    "role": _("%(value)r is not one of %(allowed)s.")
                    % {"value": role, "allowed": ", ".join(Role.values)}
                }
            )
        manager = None
        if rec.has("manager"):
            manager = lk.find_user(rec.get("manager"))
            if manager is None:
                m_first, m_last = _split_name(rec.get("manager"))
                manager = lk.create_user(first_name=m_first, last_name=m_last, role=Role.MANAGER)
                self.count("users", "created")
        team = None
        if manager is not None:
            # One team per manager; a team column (region, office) names it together.
            leader = manager.get_full_name() or manager.username
            label = f"{rec.get('team')} ({leader})" if rec.has("team") else leader
            team = lk.teams.get(label)
        elif rec.has("team"):
            team = lk.teams.get(rec.get("team"))
        if team is not None and manager is not None and team.manager_id != manager.pk:
            team.manager = manager
            team.save(update_fields=["manager"])
            if manager.team_id is None:
                manager.team = team
                manager.save(update_fields=["team"])
        ref = email or f"{first} {last}".strip()
        user = lk.find_user(ref) if ref else None
        if user is None and email and (first or last):
            user = lk.find_user(f"{first} {last}")
        active = rec.get("active", True)
        if user is None:
            lk.create_user(
                first_name=first,
                last_name=last or (email.split("@")[0] if email else ""),
                email=email,
                role=role or Role.REP,
                team=team,
                active=active,
            )
            self.count("users", "created")
            return
        changes: dict[str, Any] = {}
        if email and user.email != email:
            changes["email"] = email
        if role and user.role != role:
            changes.update(role=role, is_staff=role == Role.ADMIN, is_superuser=role == Role.ADMIN)
        if team is not None and user.team_id != team.pk:
            changes["team"] = team
        if rec.has("active") and user.is_active != active:
            changes["is_active"] = active
        if first and user.first_name != first:
            changes["first_name"] = first
        if last and user.last_name != last:
            changes["last_name"] = last
        if changes:
            for key, value in changes.items():
                setattr(user, key, value)
            user.save(update_fields=list(changes))
            self.count("users", "updated")
        else:
            self.count("users", "unchanged")

    # -- products ---------------------------------------------------------------------------

    def import_products(self, records: list[Record]) -> None:
        lk = self.lookups
        for rec in self.duplicate_check(records, "name", "products"):
            name = rec.get("name")
            product = lk.products.get(name, create=False)
            price = rec.get("list_price")
            if price is not None:
                try:
                    price = parse_amount(price, field="list_price")
                except ValidationError as exc:
                    self.reject_validation(rec, exc, "products")
                    continue
            code = rec.get("code")
            if product is None:
                product = ProductLine.objects.create(
                    name=name[:100], code=(code or "")[:40], list_price=price
                )
                lk.products.by_name[fold(name)] = product
                self.count("products", "created")
                continue
            changed = []
            if price is not None and product.list_price != price:
                product.list_price = price
                changed.append("list_price")
            if code and product.code != code:
                product.code = code[:40]
                changed.append("code")
            if rec.has("active") and product.active != rec.get("active"):
                product.active = rec.get("active")
                changed.append("active")
            if changed:
                product.save(update_fields=changed)
                self.count("products", "updated")
            else:
                self.count("products", "unchanged")

    # -- accounts ---------------------------------------------------------------------------

    _ACCOUNT_TEXT = {
        "name": 200,
        "phone": None,
        "street": 200,
        "postal_code": 20,
        "city": 100,
        "description": None,
    }

    def _account_values(self, rec: Record) -> dict[str, Any]:
        lk = self.lookups
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}

        def attempt(name: str, fn: Callable[[], Any]) -> None:
            try:
                values[name] = fn()
            except ValidationError as exc:
                for _f, message in _messages(exc):
                    errors.setdefault(name, []).append(message)

        for name, limit in self._ACCOUNT_TEXT.items():
            if rec.has(name):
                if name == "phone":
                    attempt(name, lambda: check_phone(rec.get("phone")))
                else:
                    attempt(name, partial(check_plain_text, name, rec.get(name), limit))
        if rec.has("website"):
            attempt("website", lambda: check_website(rec.get("website")))
        if rec.has("domain"):
            attempt("domain", lambda: check_domain(rec.get("domain")))
        elif values.get("website"):
            values["domain"] = domain_from(values["website"])
        if rec.has("country"):
            attempt("country", lambda: check_country(rec.get("country")))
        if rec.has("employees"):
            attempt("employees", lambda: check_employees(rec.get("employees")))
        if rec.has("annual_revenue"):
            attempt(
                "annual_revenue",
                lambda: parse_amount(rec.get("annual_revenue"), field="annual_revenue"),
            )
        for name, named in (
            ("industry", lk.industries),
            ("account_type", lk.account_types),
            ("tier", lk.tiers),
            ("region", lk.regions),
            ("status", lk.statuses),
        ):
            if rec.has(name):
                values[f"{name}_id"] = named.get(rec.get(name)).pk
        if rec.has("created_at"):
            values["created_at"] = rec.get("created_at")
        if rec.custom:
            attempt(
                "custom",
                lambda: clean_custom_values(
                    target="account", values=rec.custom, defs=lk.custom_defs["account"]
                ),
            )
        if errors:
            raise ValidationError(errors)
        return values

    def import_accounts(self, records: list[Record]) -> None:
        lk = self.lookups
        lk.load_accounts()
        total = len(records)
        self.progress("accounts", 0, total)
        by_system: dict[str, dict[str, int]] = {}
        records = self.duplicate_check(records, "external_id", "accounts")
        creates: list[tuple[Record, Account]] = []
        updates: list[Account] = []
        update_fields: set[str] = set()
        new_ext: list[tuple[Account, str, str]] = []
        parents: list[tuple[Record, Account]] = []
        tags: list[tuple[Record, Account]] = []
        seen_new: dict[str, Account] = {}
        existing_ids: list[int] = []
        pending: list[tuple[Record, dict[str, Any], int | None]] = []
        for rec in records:
            try:
                values = self._account_values(rec)
            except ValidationError as exc:
                self.reject_validation(rec, exc, "accounts")
                continue
            system = rec.spec.system
            ext_map = by_system.setdefault(system, self.external_ids(Account, system))
            match = self._match_account(rec, values, ext_map)
            if match is None:
                key = normalize_name(values["name"])
                if key in seen_new:
                    self.reject(
                        rec,
                        "name",
                        _("%(value)s appears twice in the import.") % {"value": values["name"]},
                        "accounts",
                    )
                    continue
            pending.append((rec, values, match))
            if match is not None:
                existing_ids.append(match)
            else:
                seen_new[normalize_name(values["name"])] = Account()
        existing = Account.objects.in_bulk(existing_ids)
        for rec, values, match in pending:
            owner = self.owner_of(rec, "accounts", required=match is None)
            if owner is False:
                continue
            if match is None:
                status_id = values.pop("status_id", None) or (
                    lk.default_status.pk if lk.default_status else lk.statuses.get("Prospect").pk
                )
                created_at = values.pop("created_at", lk.now)
                assert isinstance(owner, User)
                account = Account(
                    status_id=status_id,
                    owner=owner,
                    created_at=created_at,
                    updated_at=lk.now,
                    created_by_id=self.actor_id,
                    updated_by_id=self.actor_id,
                    **values,
                )
                account.normalized_name = normalize_name(account.name)
                creates.append((rec, account))
                self.count("accounts", "created")
            else:
                account = existing[match]
                values.pop("created_at", None)
                if owner:
                    assert isinstance(owner, User)
                    values["owner_id"] = owner.pk
                if "custom" in values:
                    values["custom"] = {**account.custom, **values["custom"]}
                changed = {k for k, v in values.items() if getattr(account, k) != v}
                if changed:
                    for k in changed:
                        setattr(account, k, values[k])
                    if "name" in changed:
                        account.normalized_name = normalize_name(account.name)
                        changed.add("normalized_name")
                    self.touch(account)
                    updates.append(account)
                    update_fields |= {k[:-3] if k.endswith("_id") else k for k in changed}
                    self.count("accounts", "updated")
                else:
                    self.count("accounts", "unchanged")
            if rec.has("external_id"):
                ext_map = by_system[rec.spec.system]
                if rec.get("external_id") not in ext_map:
                    new_ext.append((account, rec.spec.system, rec.get("external_id")))
            if rec.has("parent"):
                parents.append((rec, account))
            if rec.has("tags"):
                tags.append((rec, account))
        made = Account.objects.bulk_create([a for _r, a in creates], batch_size=UPDATE_BATCH)
        for account in made:
            lk.index_account(account.pk, account.name, account.domain, account.owner_id)
        self.bulk_update(Account, updates, update_fields)
        self.write_external_ids(Account, [(a.pk, s, v) for a, s, v in new_ext])
        for system, ext_map in by_system.items():
            ext_map.update({v: a.pk for a, s, v in new_ext if s == system})
        self._account_parents(parents, by_system)
        self._account_tags(tags)
        self.progress("accounts", total, total)

    def _match_account(
        self, rec: Record, values: Mapping[str, Any], ext_map: Mapping[str, int]
    ) -> int | None:
        lk = self.lookups
        for key in rec.spec.match_on:
            if key == "external_id" and rec.has("external_id"):
                pk = ext_map.get(rec.get("external_id"))
                if pk is not None:
                    return pk
            elif key == "domain" and values.get("domain"):
                pk = lk.account_by_domain.get(values["domain"])
                if pk is not None:
                    return pk
            elif key == "name" and values.get("name"):
                pk = lk.account_by_name.get(normalize_name(values["name"]))
                if pk is not None:
                    return pk
        return None

    def _account_parents(
        self, parents: list[tuple[Record, Account]], by_system: Mapping[str, Mapping[str, int]]
    ) -> None:
        changed = []
        for rec, account in parents:
            ref = rec.get("parent")
            pk = by_system.get(rec.spec.system, {}).get(ref) or self.lookups.account_by_name.get(
                normalize_name(ref)
            )
            if pk is None:
                self.reject(
                    rec, "parent", _("No account %(value)s to be the parent.") % {"value": ref}
                )
                continue
            if pk == account.pk:
                self.reject(rec, "parent", _("An account cannot be its own parent."))
                continue
            if account.parent_id != pk:
                account.parent_id = pk
                changed.append(account)
        if changed:
            Account.objects.bulk_update(changed, ["parent"], batch_size=UPDATE_BATCH)

    def _account_tags(self, tags: list[tuple[Record, Account]]) -> None:
        through = Account.tags.through
        pairs = set()
        for rec, account in tags:
            for text in str(rec.get("tags")).split(","):
                if text.strip():
                    pairs.add((account.pk, self.lookups.tag(text).pk))
        have = set(
            through.objects.filter(account_id__in={a for a, _t in pairs}).values_list(
                "account_id", "tag_id"
            )
        )
        self.writer.links(through, ("account_id", "tag_id"), sorted(pairs - have))

    def account_ref(self, rec: Record, owner: User | None, entity: str) -> Any:
        """The account a row points to (by external id, then name); None if it names none.

        An account named but unknown is created (owner: the row's owner) and reported.
        """
        lk = self.lookups
        lk.load_accounts()
        if rec.has("account_external_id"):
            system = rec.spec.system
            ext = self._account_ext.get(system)
            if ext is None:  # loaded once per system, not once per row
                ext = self._account_ext[system] = self.external_ids(Account, system)
            pk = ext.get(rec.get("account_external_id"))
            if pk is None:
                self.reject(
                    rec,
                    "account_external_id",
                    _("No account has the %(system)s id %(value)s.")
                    % {"system": system, "value": rec.get("account_external_id")},
                    entity,
                )
                return False
            return pk
        if not rec.has("account"):
            return None
        name = rec.get("account")
        pk = lk.account_refs.get(name)
        if pk is not None:
            return pk
        dom = domain_from(name) if "." in name and " " not in name else ""
        pk = (lk.account_by_domain.get(dom) if dom else None) or lk.account_by_name.get(
            normalize_name(name)
        )
        if pk is not None:
            lk.account_refs[name] = pk
            return pk
        if owner is None:
            owner = self.actor
        if owner is None:
            self.reject(rec, "account", _("No account %(value)s.") % {"value": name}, entity)
            return False
        try:
            clean = check_plain_text("account", name, 200, required=True)
        except ValidationError as exc:
            self.reject_validation(rec, exc, entity)
            return False
        status = lk.default_status or lk.statuses.get("Prospect")
        account = Account.objects.create(
            name=clean,
            normalized_name=normalize_name(clean),
            status=status,
            owner=owner,
            created_at=lk.now,
            updated_at=lk.now,
            created_by_id=self.actor_id,
            updated_by_id=self.actor_id,
        )
        lk.index_account(account.pk, account.name, "", owner.pk)
        lk.account_refs[name] = account.pk
        self.count("accounts", "created")
        self.report.setdefault("accounts", []).append(account.name)
        return account.pk

    _account_ext: dict[str, dict[str, int]]

    def prefetch_accounts(self, records: Sequence[Record]) -> None:
        """Create the accounts named in ``records`` but unknown, in one bulk insert.

        (``account_ref`` would create them one by one; a deals file naming 10,000 new
        companies should not cost 10,000 inserts.) Names that are not valid stay for
        ``account_ref`` to reject with the row.
        """
        lk = self.lookups
        lk.load_accounts()
        status = lk.default_status or lk.statuses.get("Prospect")
        new: dict[str, Account] = {}
        names: dict[str, list[str]] = {}
        for rec in records:
            if rec.has("account_external_id") or not rec.has("account"):
                continue
            name = rec.get("account")
            if name in lk.account_refs:
                continue
            dom = domain_from(name) if "." in name and " " not in name else ""
            key = normalize_name(name)
            pk = (lk.account_by_domain.get(dom) if dom else None) or lk.account_by_name.get(key)
            if pk is not None:
                lk.account_refs[name] = pk
                continue
            if not key or len(name.strip()) > 200 or "\x00" in name:
                continue
            if key not in new:
                owner = (lk.find_user(rec.get("owner")) if rec.has("owner") else None) or self.actor
                if owner is None:
                    continue
                new[key] = Account(
                    name=name.strip(),
                    normalized_name=key,
                    status=status,
                    owner=owner,
                    created_at=lk.now,
                    updated_at=lk.now,
                    created_by_id=self.actor_id,
                    updated_by_id=self.actor_id,
                )
            names.setdefault(key, []).append(name)
        if not new:
            return
        Account.objects.bulk_create(new.values(), batch_size=UPDATE_BATCH)
        for key, account in new.items():
            lk.index_account(account.pk, account.name, "", account.owner_id)
            for name in names[key]:
                lk.account_refs[name] = account.pk
            self.count("accounts", "created")
            self.report.setdefault("accounts", []).append(account.name)

    # -- contacts ---------------------------------------------------------------------------

    def import_contacts(self, records: list[Record]) -> None:
        from salescope.imports.engine_people import import_contacts

        import_contacts(self, records)

    def import_leads(self, records: list[Record]) -> None:
        from salescope.imports.engine_people import import_leads

        import_leads(self, records)

    def import_activities(self, records: list[Record]) -> None:
        from salescope.imports.engine_people import import_activities

        import_activities(self, records)

    def import_opportunities(self, records: list[Record], history: list[Record]) -> None:
        from salescope.imports.engine_deals import import_opportunities

        import_opportunities(self, records, history)


def run_import(
    *,
    tables: Sequence[Table],
    spec: MappingSpec,
    actor: User | None,
    dry_run: bool,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
) -> ImportResult:
    importer = Importer(
        tables=tables, spec=spec, actor=actor, skip_invalid=skip_invalid, progress=progress
    )
    importer._account_ext = {}
    return importer.run(dry_run=dry_run)
