"""The full export of the company's data and reading it back (Salescope's own format).

The archive is a ZIP with ``manifest.json`` (format, version, company, creation time, row
counts) and one CSV per table, UTF-8, comma separated, one header row, rows in primary-key
order. Every column holds the stored value unchanged (no formula neutralising: the archive
is a faithful copy meant to be read back, see ``docs/export.md``):

* records keep their ids (column ``id``) and refer to each other by id, so an archive read
  into an empty instance has the same ids, URLs, history order and action ids;
* users are referred to by username and teams by name (an empty instance already has the
  administrator who reads the archive back, with an id of its own);
* dates and datetimes are ISO 8601 (datetimes in UTC), booleans ``true``/``false``,
  decimals as stored, JSON columns (custom fields, event values) as compact JSON with sorted
  keys, many-to-many relations as a JSON list of ids (of usernames for users); an empty cell
  is a missing value.

Reading back (:func:`import_archive`) works only into an instance without business data
(users, teams, currencies, exchange rates and the company settings are merged by their
natural keys) and writes everything in one transaction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from salescope.accounts.models import (
    Account,
    AccountContact,
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
from salescope.activities.models import Activity, ActivityType, Agreement, Attachment, Comment
from salescope.core import clock
from salescope.core.errors import PermissionDenied
from salescope.core.models import ExternalId
from salescope.customfields.models import CustomFieldDefinition
from salescope.imports.errors import ImportFileError
from salescope.leads.models import Campaign, Lead
from salescope.org.models import CompanySettings, Currency, ExchangeRate, Role, Team, User
from salescope.pipeline.models import (
    LostReason,
    Opportunity,
    OpportunityEvent,
    Pipeline,
    ProductLine,
    Source,
    Stage,
)

FORMAT = "salescope-export"
VERSION = 1
MANIFEST = "manifest.json"
BATCH = 2000
CODE_NOT_EMPTY = "not_empty"
CODE_BAD_VALUE = "bad_value"
CODE_BAD_ARCHIVE = "bad_archive"


@dataclass(frozen=True)
class TableSpec:
    """One CSV of the archive: a model, its many-to-many columns, how it is read back."""

    name: str
    model: type[models.Model]
    m2m: tuple[str, ...] = ()
    #: ``ids``: records keep their ids, the table must be empty; otherwise the natural key
    #: the rows are merged on (``username``, ``name``, ``code``, ``rate``, ``singleton``).
    mode: str = "ids"
    exclude: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def fields(self) -> list[models.Field[Any, Any]]:
        out = []
        for f in self.model._meta.concrete_fields:
            if f.name in self.exclude:
                continue
            if f.primary_key and self.mode != "ids" and isinstance(f, models.AutoField):
                continue
            out.append(f)
        return out

    def columns(self) -> list[str]:
        return [
            "id" if f.primary_key and self.mode == "ids" else f.name for f in self.fields()
        ] + list(self.m2m)


TABLES: tuple[TableSpec, ...] = (
    TableSpec("teams", Team, mode="name"),
    TableSpec(
        "users",
        User,
        mode="username",
        exclude=("password", "last_login"),
    ),
    TableSpec("currencies", Currency, mode="code"),
    TableSpec("exchange_rates", ExchangeRate, mode="rate"),
    TableSpec("company_settings", CompanySettings, mode="singleton"),
    TableSpec("pipelines", Pipeline),
    TableSpec("stages", Stage),
    TableSpec("lost_reasons", LostReason),
    TableSpec("sources", Source),
    TableSpec("product_lines", ProductLine),
    TableSpec("account_statuses", AccountStatus),
    TableSpec("tiers", Tier),
    TableSpec("account_types", AccountType),
    TableSpec("industries", Industry),
    TableSpec("regions", Region),
    TableSpec("contact_roles", ContactRole),
    TableSpec("tag_categories", TagCategory),
    TableSpec("tags", Tag),
    TableSpec("custom_fields", CustomFieldDefinition),
    TableSpec("activity_types", ActivityType),
    TableSpec("accounts", Account, m2m=("tags", "shared_with")),
    TableSpec("contacts", Contact, m2m=("tags",)),
    TableSpec("account_contacts", AccountContact, m2m=("roles",)),
    TableSpec("opportunities", Opportunity, m2m=("contacts", "products", "shared_with")),
    TableSpec("opportunity_events", OpportunityEvent),
    TableSpec("activities", Activity, m2m=("contacts", "participant_users")),
    TableSpec("agreements", Agreement),
    TableSpec("comments", Comment),
    TableSpec("attachments", Attachment),
    TableSpec("campaigns", Campaign),
    TableSpec("leads", Lead),
    TableSpec("external_ids", ExternalId),
)
SPECS = {spec.name: spec for spec in TABLES}
_BY_MODEL = {spec.model: spec for spec in TABLES}


def _require_admin(actor: User | None, action: str) -> None:
    """The archive is the whole company: only administrators (or the system, CLI) touch it."""
    if actor is None:
        return
    if not actor.is_active or not (actor.is_superuser or actor.role == Role.ADMIN):
        raise PermissionDenied(
            _("Only administrators may %(action)s the full export.") % {"action": action}
        )


# --- values --------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _encode(field: models.Field[Any, Any], value: Any, refs: _Refs) -> str:
    if value is None:
        return ""
    if field.is_relation:
        target = field.related_model
        if target is User:
            return refs.username[value]
        if target is Team:
            return refs.team_name[value]
        if target is ContentType:
            return refs.content_type[value]
        return str(value)
    if isinstance(field, models.JSONField):
        return _json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Refs:
    """Natural keys of the rows other rows refer to (users, teams, content types)."""

    def __init__(self) -> None:
        self.username = dict(User.objects.values_list("pk", "username"))
        self.team_name = dict(Team.objects.values_list("pk", "name"))
        self.content_type = {
            ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()
        }


def _m2m_values(spec: TableSpec, refs: _Refs) -> dict[str, dict[Any, list[str]]]:
    out: dict[str, dict[Any, list[str]]] = {}
    for name in spec.m2m:
        field = spec.model._meta.get_field(name)
        assert isinstance(field, models.ManyToManyField)
        through: Any = field.remote_field.through
        source = field.m2m_field_name()
        target = field.m2m_reverse_field_name()
        values: dict[Any, list[Any]] = defaultdict(list)
        rows = through._default_manager.values_list(f"{source}_id", f"{target}_id")
        for left, right in rows.iterator(chunk_size=10_000):
            values[left].append(right)
        encoded: dict[Any, list[str]] = {}
        for key, ids in values.items():
            if field.related_model is User:
                encoded[key] = sorted(refs.username[i] for i in ids)
            else:
                encoded[key] = sorted(ids)
        out[name] = encoded
    return out


def _rows(spec: TableSpec, refs: _Refs) -> Iterator[list[str]]:
    fields = spec.fields()
    m2m = _m2m_values(spec, refs)
    pk_name = spec.model._meta.pk.attname
    qs = spec.model._default_manager.order_by("pk").values_list(
        pk_name, *(f.attname for f in fields)
    )
    for row in qs.iterator(chunk_size=BATCH):
        pk, values = row[0], row[1:]
        cells = [_encode(f, v, refs) for f, v in zip(fields, values, strict=True)]
        if spec.model is ExternalId:
            cells = _external_id_cells(fields, cells, refs)
        cells.extend(_json(m2m[name].get(pk, [])) for name in spec.m2m)
        yield cells


def _external_id_cells(fields: list[Any], cells: list[str], refs: _Refs) -> list[str]:
    """External ids of users point at the username (user ids differ between instances)."""
    names = [f.name for f in fields]
    ct, obj = names.index("content_type"), names.index("object_id")
    if cells[ct] == "org.user":
        cells[obj] = refs.username[int(cells[obj])]
    return cells


# --- export --------------------------------------------------------------------------------


def export_archive(out: IO[bytes], *, actor: User | None) -> dict[str, Any]:
    """Write the full export to ``out`` (a binary file); returns the manifest."""
    _require_admin(actor, _("run"))
    counts: dict[str, int] = {}
    with transaction.atomic(), zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        # One transaction: a consistent snapshot on PostgreSQL (repeatable within the export).
        refs = _Refs()
        for spec in TABLES:
            n = 0
            with archive.open(spec.file, "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text, lineterminator="\n")
                writer.writerow(spec.columns())
                for cells in _rows(spec, refs):
                    writer.writerow(cells)
                    n += 1
                text.flush()
                text.detach()
            counts[spec.name] = n
        company = CompanySettings.objects.first()
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "company": company.name if company else "",
            "created_at": clock.now().astimezone(dt.UTC).isoformat(),
            "counts": counts,
            "files": [spec.file for spec in TABLES],
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def export_bytes(*, actor: User | None) -> bytes:
    buffer = io.BytesIO()
    export_archive(buffer, actor=actor)
    return buffer.getvalue()


# --- reading back --------------------------------------------------------------------------


def is_native_archive(data: bytes) -> bool:
    """Is ``data`` a ZIP whose ``manifest.json`` says it is a Salescope full export?"""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


def _bad(message: str, code: str = CODE_BAD_ARCHIVE, **where: Any) -> ImportFileError:
    return ImportFileError(message, code=code, **where)


def _read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise _bad(
            _("The archive has no manifest.json: it is not a Salescope full export.")
        ) from None
    except ValueError:
        raise _bad(_("manifest.json is not valid JSON.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _bad(_("manifest.json does not describe a Salescope full export."))
    if manifest.get("version") != VERSION:
        raise _bad(
            _("This archive has format version %(found)r; this Salescope reads version %(v)s.")
            % {"found": manifest.get("version"), "v": VERSION}
        )
    counts = manifest.get("counts")
    if not isinstance(counts, dict):
        raise _bad(_("manifest.json has no row counts."))
    return manifest


def _unreadable(spec: TableSpec, row: int, exc: Exception) -> ImportFileError:
    if isinstance(exc, UnicodeDecodeError):
        message = _("%(file)s, row %(row)s: not UTF-8 text (%(error)s).")
    else:
        message = _("%(file)s, row %(row)s: not valid CSV (%(error)s).")
    return _bad(message % {"file": spec.file, "row": row, "error": exc}, file=spec.file, row=row)


class _Reader:
    """Decodes the CSV cells of one archive into model values, checking references."""

    def __init__(self, archive: zipfile.ZipFile, counts: dict[str, Any]) -> None:
        self.archive = archive
        self.counts = counts
        self.user_ids: dict[str, int] = dict(User.objects.values_list("username", "pk"))
        self.team_ids: dict[str, int] = dict(Team.objects.values_list("name", "pk"))
        self.ids: dict[type[models.Model], set[Any]] = defaultdict(set)
        self.ids[Currency] = set(Currency.objects.values_list("code", flat=True))
        self.content_types: dict[str, ContentType] = {}

    def rows(self, spec: TableSpec) -> Iterator[tuple[int, dict[str, str]]]:
        try:
            raw = self.archive.open(spec.file)
        except KeyError:
            raise _bad(
                _("The archive lacks %(file)s.") % {"file": spec.file}, file=spec.file
            ) from None
        with raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            reader = csv.reader(text, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise _bad(_("%(file)s is empty.") % {"file": spec.file}, file=spec.file) from None
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(spec, 1, exc) from None
            expected = spec.columns()
            if header != expected:
                missing = [c for c in expected if c not in header]
                extra = [c for c in header if c not in expected]
                raise _bad(
                    _("%(file)s: the columns do not match this version (missing: %(missing)s; "
                      "unknown: %(extra)s).")
                    % {"file": spec.file, "missing": ", ".join(missing) or "-",
                       "extra": ", ".join(extra) or "-"},
                    file=spec.file,
                )  # fmt: skip
            n = 0
            line = 1
            try:
                for line, cells in enumerate(reader, start=2):
                    if len(cells) != len(header):
                        raise _bad(
                            _("%(file)s, row %(row)s: %(found)s cells instead of %(expected)s.")
                            % {"file": spec.file, "row": line, "found": len(cells),
                               "expected": len(header)},
                            file=spec.file, row=line,
                        )  # fmt: skip
                    n += 1
                    yield line, dict(zip(header, cells, strict=True))
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _unreadable(spec, line + 1, exc) from None
        expected_count = self.counts.get(spec.name)
        if expected_count != n:
            raise _bad(
                _("%(file)s has %(found)s rows, the manifest says %(expected)s: the archive is "
                  "incomplete or was changed.")
                % {"file": spec.file, "found": n, "expected": expected_count},
                file=spec.file,
            )  # fmt: skip

    def decode(self, spec: TableSpec, field: models.Field[Any, Any], text: str, row: int) -> Any:
        column = "id" if field.primary_key and spec.mode == "ids" else field.name
        try:
            return self._decode(field, text)
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad(
                _("%(file)s, row %(row)s, column %(column)s: %(value)r cannot be read (%(error)s).")
                % {"file": spec.file, "row": row, "column": column, "value": text,
                   "error": exc},
                CODE_BAD_VALUE, file=spec.file, row=row, column=column,
            ) from None  # fmt: skip

    def _decode(self, field: models.Field[Any, Any], text: str) -> Any:
        if text == "" and (field.null or field.is_relation):
            if not field.null:
                raise ValueError(_("a value is required"))
            return None
        if field.is_relation:
            return self.reference(field.related_model, text)
        if isinstance(field, models.JSONField):
            return json.loads(text)
        if isinstance(field, models.BooleanField):
            if text not in ("true", "false"):
                raise ValueError(_("expected true or false"))
            return text == "true"
        if isinstance(field, models.DateTimeField):
            value = dt.datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise ValueError(_("the time zone is missing"))
            return value
        if isinstance(field, models.DateField):
            return dt.date.fromisoformat(text)
        if isinstance(field, models.DecimalField | models.IntegerField | models.UUIDField):
            try:
                return field.to_python(text)
            except Exception as exc:  # Django's ValidationError: a plain message here
                raise ValueError(" ".join(getattr(exc, "messages", [str(exc)]))) from None
        return text

    def reference(self, model: Any, text: str) -> Any:
        if model is User:
            if text not in self.user_ids:
                raise ValueError(_("no user with this username in the archive"))
            return self.user_ids[text]
        if model is Team:
            if text not in self.team_ids:
                raise ValueError(_("no team with this name in the archive"))
            return self.team_ids[text]
        if model is ContentType:
            if text not in self.content_types:
                app_label, _dot, name = text.partition(".")
                self.content_types[text] = ContentType.objects.get_by_natural_key(app_label, name)
            return self.content_types[text].pk
        value = model._meta.pk.to_python(text)
        if value not in self.ids[model]:
            raise ValueError(
                _("no %(model)s with this id in the archive") % {"model": model._meta.verbose_name}
            )
        return value

    def m2m(self, spec: TableSpec, name: str, text: str, row: int) -> list[Any]:
        field = spec.model._meta.get_field(name)
        try:
            values = json.loads(text)
            if not isinstance(values, list):
                raise ValueError(_("expected a JSON list"))
            return [self.reference(field.related_model, str(v)) for v in values]
        except (ValueError, TypeError, KeyError) as exc:
            raise _bad(
                _("%(file)s, row %(row)s, column %(column)s: %(value)r cannot be read (%(error)s).")
                % {"file": spec.file, "row": row, "column": name, "value": text, "error": exc},
                CODE_BAD_VALUE, file=spec.file, row=row, column=name,
            ) from None  # fmt: skip


def _check_empty() -> None:
    filled = []
    for spec in TABLES:
        if spec.mode != "ids":
            continue
        n = spec.model._default_manager.count()
        if n:
            filled.append(f"{spec.name}: {n}")
    if filled:
        raise ImportFileError(
            _("A full export can only be read back into an empty instance, but this one already "
              "holds data (%(tables)s). Start from a new, empty database.")
            % {"tables": ", ".join(filled)},
            code=CODE_NOT_EMPTY,
        )  # fmt: skip


def _values(
    reader: _Reader,
    spec: TableSpec,
    cells: dict[str, str],
    line: int,
    pending: list[tuple[int, str, Any]],
) -> dict[str, Any]:
    values = {}
    for field in spec.fields():
        column = "id" if field.primary_key and spec.mode == "ids" else field.name
        text = cells[column]
        if spec.model is ExternalId and field.name == "object_id":
            continue  # after content_type, below
        if field.is_relation and field.related_model is spec.model and text:
            # A reference within the table (parent account) may point at a later row.
            value = reader.decode(spec, spec.model._meta.pk, text, line)
            pending.append((line, field.name, value))
            values[field.attname] = value
            continue
        values[field.attname] = reader.decode(spec, field, text, line)
    if spec.model is ExternalId:
        values["object_id"] = _external_object(reader, spec, values["content_type_id"], cells, line)
    return values


def _external_object(
    reader: _Reader, spec: TableSpec, content_type_id: int, cells: dict[str, str], line: int
) -> int:
    model = ContentType.objects.get_for_id(content_type_id).model_class()
    text = cells["object_id"]
    try:
        if model is User or model in _BY_MODEL:
            return int(reader.reference(model, text))
        return int(text)
    except (ValueError, TypeError) as exc:
        raise _bad(
            _("%(file)s, row %(row)s, column %(column)s: %(value)r cannot be read (%(error)s).")
            % {"file": spec.file, "row": line, "column": "object_id", "value": text, "error": exc},
            CODE_BAD_VALUE, file=spec.file, row=line, column="object_id",
        ) from None  # fmt: skip


def _import_ids_table(reader: _Reader, spec: TableSpec) -> int:
    model = spec.model
    links: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    batch: list[models.Model] = []
    n = 0
    known = reader.ids[model]
    pending: list[tuple[int, str, Any]] = []
    for line, cells in reader.rows(spec):
        values = _values(reader, spec, cells, line, pending)
        pk = values[model._meta.pk.attname]
        if pk in known:
            raise _bad(
                _("%(file)s, row %(row)s: the id %(id)s appears twice.")
                % {"file": spec.file, "row": line, "id": pk},
                CODE_BAD_VALUE, file=spec.file, row=line, column="id",
            )  # fmt: skip
        known.add(pk)
        for name in spec.m2m:
            links[name].extend((pk, target) for target in reader.m2m(spec, name, cells[name], line))
        batch.append(model(**values))
        n += 1
        if len(batch) >= BATCH:
            model._default_manager.bulk_create(batch)
            batch = []
    if batch:
        model._default_manager.bulk_create(batch)
    for line, column, value in pending:
        if value not in known:
            raise _bad(
                _("%(file)s, row %(row)s, column %(column)s: no row with the id %(id)s.")
                % {"file": spec.file, "row": line, "column": column, "id": value},
                CODE_BAD_VALUE, file=spec.file, row=line, column=column,
            )  # fmt: skip
    for name, pairs in links.items():
        field = model._meta.get_field(name)
        assert isinstance(field, models.ManyToManyField)
        through: Any = field.remote_field.through
        source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
        for start in range(0, len(pairs), BATCH):
            through._default_manager.bulk_create(
                [through(**{source: a, target: b}) for a, b in pairs[start : start + BATCH]]
            )
    return n


def _import_teams(reader: _Reader, spec: TableSpec, actor: User | None) -> tuple[int, dict]:
    """Teams by name, without their managers (users are not there yet)."""
    managers: dict[str, str] = {}
    n = 0
    for line, cells in reader.rows(spec):
        name = cells["name"]
        if not name:
            raise _bad(
                _("%(file)s, row %(row)s: the name is empty.") % {"file": spec.file, "row": line},
                CODE_BAD_VALUE, file=spec.file, row=line, column="name",
            )  # fmt: skip
        team, _created = Team.objects.update_or_create(
            name=name, defaults={"description": cells["description"], "manager": None}
        )
        reader.team_ids[name] = team.pk
        managers[name] = cells["manager"]
        n += 1
    return n, managers


def _import_users(reader: _Reader, spec: TableSpec, actor: User | None) -> int:
    n = 0
    protected = ("is_active", "role", "is_superuser", "is_staff")
    for line, cells in reader.rows(spec):
        values = {
            f.attname: reader.decode(spec, f, cells[f.name], line)
            for f in spec.fields()
            if f.name != "username"
        }
        username = cells["username"]
        if not username:
            raise _bad(
                _("%(file)s, row %(row)s: the username is empty.")
                % {"file": spec.file, "row": line},
                CODE_BAD_VALUE, file=spec.file, row=line, column="username",
            )  # fmt: skip
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, **values)
            user.set_unusable_password()
            user.save()
        else:
            for attname, value in values.items():
                if actor is not None and user.pk == actor.pk and attname in protected:
                    continue  # the administrator reading the archive stays one
                setattr(user, attname, value)
            user.save()
        reader.user_ids[username] = user.pk
        n += 1
    return n


def _set_team_managers(reader: _Reader, managers: dict[str, str]) -> None:
    spec = SPECS["teams"]
    for name, username in managers.items():
        if not username:
            continue
        if username not in reader.user_ids:
            raise _bad(
                _("%(file)s: the manager %(user)r of team %(team)r is not in users.csv.")
                % {"file": spec.file, "user": username, "team": name},
                CODE_BAD_VALUE, file=spec.file, column="manager",
            )  # fmt: skip
        Team.objects.filter(pk=reader.team_ids[name]).update(manager_id=reader.user_ids[username])


def _import_currencies(reader: _Reader, spec: TableSpec) -> int:
    n = 0
    for line, cells in reader.rows(spec):
        values = {f.attname: reader.decode(spec, f, cells[f.name], line) for f in spec.fields()}
        code = values.pop("code")
        Currency.objects.update_or_create(code=code, defaults=values)
        reader.ids[Currency].add(code)
        n += 1
    return n


def _import_rates(reader: _Reader, spec: TableSpec) -> int:
    n = 0
    for line, cells in reader.rows(spec):
        values = {f.attname: reader.decode(spec, f, cells[f.name], line) for f in spec.fields()}
        ExchangeRate.objects.update_or_create(
            currency_id=values["currency_id"],
            valid_from=values["valid_from"],
            defaults={"rate": values["rate"]},
        )
        n += 1
    return n


def _import_settings(reader: _Reader, spec: TableSpec) -> int:
    n = 0
    for line, cells in reader.rows(spec):
        values = {f.attname: reader.decode(spec, f, cells[f.name], line) for f in spec.fields()}
        current = CompanySettings.objects.first()
        if current is None:
            CompanySettings.objects.create(**values)
        else:
            CompanySettings.objects.filter(pk=current.pk).update(**values)
        n += 1
    return n


def _reset_sequences() -> None:
    """PostgreSQL: ids were given explicitly, so move every sequence past the highest."""
    statements = connection.ops.sequence_reset_sql(
        no_style(), [spec.model for spec in TABLES if spec.mode == "ids"]
    )
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def import_archive(
    data: bytes,
    *,
    actor: User | None,
    dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Read a full export back into an empty instance, in one transaction.

    Returns the number of rows read per table. Raises ``ImportFileError`` (a
    ``ValidationError``) naming the file, row and column of the first problem, and
    ``PermissionDenied`` for non-administrators; nothing is written then. A dry run does
    all of it and rolls back.
    """
    _require_admin(actor, _("read back"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise _bad(_("The file is not a ZIP archive: a full export is a .zip file.")) from None
    with archive:
        manifest = _read_manifest(archive)
        counts: dict[str, int] = {}
        with transaction.atomic():
            _check_empty()
            reader = _Reader(archive, manifest["counts"])
            managers: dict[str, str] = {}
            for i, spec in enumerate(TABLES):
                if progress is not None:
                    progress(spec.name, i, len(TABLES))
                if spec.mode == "name":
                    counts[spec.name], managers = _import_teams(reader, spec, actor)
                elif spec.mode == "username":
                    counts[spec.name] = _import_users(reader, spec, actor)
                    _set_team_managers(reader, managers)
                elif spec.mode == "code":
                    counts[spec.name] = _import_currencies(reader, spec)
                elif spec.mode == "rate":
                    counts[spec.name] = _import_rates(reader, spec)
                elif spec.mode == "singleton":
                    counts[spec.name] = _import_settings(reader, spec)
                else:
                    counts[spec.name] = _import_ids_table(reader, spec)
            if dry_run:
                transaction.set_rollback(True)
            else:
                _reset_sequences()
        if progress is not None:
            progress("done", len(TABLES), len(TABLES))
    return counts
