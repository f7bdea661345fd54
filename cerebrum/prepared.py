"""Querysets and one-row writes compiled once per process, for the exam's hot requests.

Compiling a queryset (Django's SQLCompiler: columns, joins, quoting) costs more CPU than PostgreSQL
spends running a primary-key lookup: in a live mock's storm it was most of a start's and a submit's
Python work, the same SQL text every time with other numbers in it. A PreparedQuery keeps the
ORM as the one place the SQL comes from (the vendor's, so the embedded SQLite runs it too) and
pays for it once: the queryset is built with stand-in ids for its arguments, compiled, and each
stand-in's place among the parameters remembered; a call runs that SQL with its own arguments and applies the
compiler's converters (JSON, SQLite's datetimes), as the queryset would.

Only for `values_list()` querysets whose arguments are integers (ids): every stand-in must appear
among the compiled parameters (checked at the first compile), and no constant of the query may equal
one (STAND_IN_ID and up). PreparedInsert and PreparedUpdate do the same for save()'s INSERT and UPDATE of one
row with plain values (no expressions).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.subqueries import InsertQuery

# The ids a PreparedQuery's builder is called with to compile it (the first argument gets this, the next
# this + 1, ...): large enough that no constant in a hot query equals one.
STAND_IN_ID = 918_273_645


class PreparedQuery:
    """`PreparedQuery(lambda pk: Model.objects.filter(pk=pk).values_list(...))(42)` → rows. The builder's
    arguments without a default are the ids each call passes, in order."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        arguments = [p for p in inspect.signature(build).parameters.values() if p.default is p.empty]
        self._build, self._stand_ins = build, tuple(STAND_IN_ID + index for index in range(len(arguments)))
        self._compiled: dict[str, tuple] = {}  # by vendor: (model, for_write, sql, slots, converters)

    def __call__(self, *args) -> list[tuple]:
        model, for_write, sql, slots, converters = self._compile()
        alias = router.db_for_write(model) if for_write else router.db_for_read(model)
        params = [args[slot] if isinstance(slot, int) else slot[0] for slot in slots]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = [_converted(row, converters, connection) for row in rows]
        return rows

    def _compile(self) -> tuple:
        vendor = connections["default"].vendor
        compiled = self._compiled.get(vendor)
        if compiled is None:
            compiled = self._compiled[vendor] = _compile(self._build(*self._stand_ins), self._stand_ins)
        return compiled


class PreparedInsert:
    """The INSERT of one new row of `model` (its primary key made by the database), compiled once.

    Calling it with obj writes every concrete field as save() would (auto_now values included) and
    sets obj.pk. Like bulk_create it sends no signals: the caller has post_save sent where receivers
    need it (courses.caches.attempt_written).
    """

    def __init__(self, model: type[Model]) -> None:
        self._model = model
        self._compiled: dict[str, tuple] = {}  # by vendor: (sql, fields, returning)

    def __call__(self, obj: Model) -> None:
        connection = connections[router.db_for_write(self._model, instance=obj)]
        sql, fields, returning = self._compile(connection, obj)
        params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            meta = self._model._meta
            if returning:
                obj.pk = cursor.fetchone()[0]
            else:
                obj.pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        obj._state.adding, obj._state.db = False, connection.alias

    def _compile(self, connection, example: Model) -> tuple:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            meta = self._model._meta
            fields = [field for field in meta.local_concrete_fields if field is not meta.auto_field]
            query = InsertQuery(self._model)
            query.insert_values(fields, [example])
            compiler = query.get_compiler(connection=connection)
            returning = connection.features.can_return_columns_from_insert
            compiler.returning_fields = [meta.pk] if returning else None
            [(sql, _params)] = compiler.as_sql()
            compiled = self._compiled[connection.vendor] = (sql, fields, returning)
        return compiled


class PreparedUpdate:
    """`UPDATE <table> SET <fields> WHERE <pk>`: save(update_fields=fields) of one row without its
    compiling, and without its signals (the caller sends post_save where receivers need it)."""

    def __init__(self, model: type[Model], field_names: Sequence[str]) -> None:
        self._model, self._field_names = model, tuple(field_names)
        self._compiled: dict[str, tuple] = {}  # by vendor: (sql, fields)

    def __call__(self, obj: Model) -> int:
        """Rows updated (0: no such row)."""
        connection = connections[router.db_for_write(self._model, instance=obj)]
        sql, fields = self._compile(connection)
        params = [field.get_db_prep_save(field.pre_save(obj, False), connection) for field in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, obj.pk])
            return cursor.rowcount

    def _compile(self, connection) -> tuple[str, list]:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            meta, quote = self._model._meta, connection.ops.quote_name
            fields = [meta.get_field(name) for name in self._field_names]
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608
            compiled = self._compiled[connection.vendor] = (sql, fields)
        return compiled


def model_from_row(model: type[Model], row: Sequence, start: int = 0) -> Model:
    """An instance of `model` from the values at `start` of a row selected with `model_columns(model)`;
    its `_state.db` names "default", the primary, where any save of it goes whichever database it came from."""
    names = model_columns(model)
    return model.from_db("default", names, list(row[start : start + len(names)]))


def model_columns(model: type[Model], prefix: str = "") -> list[str]:
    """Every concrete field's attname (foreign keys as `<name>_id`), in the model's order."""
    return [prefix + field.attname for field in model._meta.concrete_fields]


def _compile(queryset: QuerySet, stand_ins: tuple) -> tuple:
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    slots = []
    for param in params:
        found = [index for index, stand_in in enumerate(stand_ins) if type(param) is int and param == stand_in]
        slots.append(found[0] if found else (param,))
    if {slot for slot in slots if isinstance(slot, int)} != set(range(len(stand_ins))):
        raise ValueError(f"every argument must appear among the parameters: {params!r}")
    converters = compiler.get_converters([expression for expression, _, _ in compiler.select])
    return queryset.model, queryset._for_write, sql, slots, converters


def _converted(row: tuple, converters: dict, connection) -> tuple:
    row = list(row)
    for position, (functions, expression) in converters.items():
        value = row[position]
        for function in functions:
            value = function(value, expression, connection)
        row[position] = value
    return tuple(row)
