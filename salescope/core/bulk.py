"""Fast bulk inserts for generators and imports.

:class:`Rows` builds row dicts of a model with its defaults; :class:`BulkWriter` inserts model
instances or row dicts (``executemany`` on SQLite, ``COPY`` on PostgreSQL) without the
per-value bookkeeping of ``bulk_create``. :func:`allocate_ids` reserves primary keys for rows
that other rows point to before they are inserted (opportunities and their events).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


class Rows:
    """Rows of ``model`` as dicts of field attnames, with the model's defaults for the rest.

    For rows that only go to :class:`BulkWriter`: a model instance per activity costs more than
    inserting it. ``instance()`` builds a real (unsaved) instance positionally instead.
    """

    def __init__(self, model: type[Any]) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.names = [f.attname for f in fields]
        self.defaults = {f.attname: None if f.primary_key else f.get_default() for f in fields}
        self.dynamic = [f for f in fields if f.has_default() and callable(f.default)]

    def __call__(self, **values: Any) -> dict[str, Any]:
        unknown = values.keys() - self.defaults.keys()
        if unknown:
            raise TypeError(
                f"Unknown fields for {self.model.__name__}: {', '.join(sorted(unknown))}"
            )
        row = dict(self.defaults)
        for f in self.dynamic:
            row[f.attname] = f.get_default()
        row.update(values)
        return row

    def instance(self, **values: Any) -> Any:
        row = self(**values)
        return self.model(*[row[name] for name in self.names])


class BulkWriter:
    """Bulk inserts of model instances or row dicts, pks given or left to the database.

    ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. Values go through the
    backend adapters Django's own inserts end in (datetimes, dates, JSON, UUIDs; anything else
    through the field's ``get_db_prep_save``), without the per-value bookkeeping of
    ``bulk_create``, which costs more than the insert itself at these volumes.
    """

    PLAIN = frozenset(
        {
            "AutoField",
            "BigAutoField",
            "CharField",
            "TextField",
            "SlugField",
            "EmailField",
            "URLField",
            "IntegerField",
            "BigIntegerField",
            "SmallIntegerField",
            "PositiveIntegerField",
            "PositiveSmallIntegerField",
            "PositiveBigIntegerField",
            "BooleanField",
            "ForeignKey",
        }
    )
    SLICE = 10000

    def __init__(self) -> None:
        self.tables: dict[tuple[type[Any], bool], tuple[str, list[tuple[str, Any]]]] = {}

    def _table(self, model: type[Any], with_pk: bool) -> tuple[str, list[tuple[str, Any]]]:
        key = (model, with_pk)
        if key not in self.tables:
            qn = connection.ops.quote_name
            fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
            sql = "INSERT INTO {} ({}) VALUES ({})".format(
                qn(model._meta.db_table),
                ", ".join(qn(f.column) for f in fields),
                ", ".join(["%s"] * len(fields)),
            )
            # Datetimes repeat (one step's events share theirs): one cache per column.
            self.tables[key] = (
                sql,
                [(f.attname, self._converter(f, [None, None])) for f in fields],
            )
        return self.tables[key]

    def _converter(self, f: Any, last: list[Any]) -> Callable[[Any], Any] | None:
        kind = f.get_internal_type()
        ops = connection.ops
        if kind in self.PLAIN:
            return None
        if kind == "DateTimeField":

            def datetime_value(v: Any) -> Any:
                if v is not last[0]:
                    last[0], last[1] = v, ops.adapt_datetimefield_value(v)
                return last[1]

            return datetime_value
        if kind == "DateField":
            return ops.adapt_datefield_value
        if kind == "JSONField":  # None is SQL NULL, as in JSONField.get_db_prep_save
            encoder = f.encoder

            def json_value(v: Any) -> Any:
                return None if v is None else ops.adapt_json_value(v, encoder)

            return json_value
        if kind == "UUIDField" and not connection.features.has_native_uuid_field:
            return lambda v: None if v is None else v.hex
        if kind == "UUIDField":
            return None
        return lambda v: f.get_db_prep_save(v, connection)

    def objects(self, model: type[Any], objs: Sequence[Any], *, with_pk: bool = False) -> None:
        sql, converters = self._table(model, with_pk)
        # One C-level call takes every column out of the row dict (or instance __dict__) in
        # order; only the few columns that need a database adapter are touched in Python.
        names = [name for name, _convert in converters]
        take: Callable[[Any], Any] = operator.itemgetter(*names)
        if len(names) == 1:  # itemgetter of one key returns the value, not a tuple
            take = lambda values: (values[names[0]],)  # noqa: E731
        adapted = [(i, convert) for i, (_name, convert) in enumerate(converters) if convert]
        for start in range(0, len(objs), self.SLICE):
            rows = []
            for obj in objs[start : start + self.SLICE]:
                row = list(take(obj if isinstance(obj, dict) else obj.__dict__))
                for i, convert in adapted:
                    row[i] = convert(row[i])
                rows.append(row)
            self._execute(sql, rows)

    @staticmethod
    def _execute(sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: one stream instead of a statement per row (parsed and planned each time
                # with the client-side binding Django uses).
                copy_sql = sql.replace("INSERT INTO", "COPY", 1).split(" VALUES ", 1)[0]
                with cursor.cursor.copy(f"{copy_sql} FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, rows)

    def links(
        self, through: type[Any], columns: tuple[str, str], rows: Sequence[tuple[int, int]]
    ) -> None:
        """Rows of a many-to-many table: pairs of ids."""
        qn = connection.ops.quote_name
        table, first, second = qn(through._meta.db_table), qn(columns[0]), qn(columns[1])
        sql = f"INSERT INTO {table} ({first}, {second}) VALUES (%s, %s)"
        for start in range(0, len(rows), self.SLICE):
            self._execute(sql, rows[start : start + self.SLICE])


def allocate_ids(model: type[Any], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``, inside the caller's transaction.

    PostgreSQL takes them from the table's sequence (safe beside concurrent writers). SQLite
    has one writer at a time (the transaction holds the write lock): the keys follow the
    largest one in use, and inserting them with ``with_pk=True`` moves SQLite's own counter.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, pk])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
        qn = connection.ops.quote_name
        cursor.execute(f"SELECT MAX({qn(pk)}) FROM {qn(table)}")
        last = cursor.fetchone()[0] or 0
        if connection.vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            if row and row[0]:
                last = max(last, row[0])
    return list(range(last + 1, last + 1 + count))
