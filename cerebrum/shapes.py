"""API output serializers derived from the shapes selectors return (issue 16 item 5).

A selector that builds a dict declares its shape once, as a `TypedDict`; the API builds its output
serializer from that shape with `serializer_for` instead of restating every key:

    class LeaderRow(TypedDict):            # courses/selectors.py
        rank: int
        name: str

    LeaderRowSerializer = serializer_for(LeaderRow)   # courses/apis.py → OpenAPI component "LeaderRow"

Keys become fields in the shape's order: `int` IntegerField, `str` CharField, `bool` BooleanField,
`float` FloatField, `datetime` DateTimeField, `date` DateField, `dict` DictField, `Literal[...]` a
ChoiceField, `list[T]` a ListField of T (or, for a TypedDict T, its serializer with many=True), a nested
TypedDict its own serializer; `T | None` allows null, `NotRequired[T]` is not required, and
`Annotated[T, "text"]` is documented with that help text (the schema's description).
The serializer class is named `<Shape>Serializer`, so drf-spectacular names its component `<Shape>`,
and one class is made per shape (a shape used in two places is one component).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import types
from datetime import date, datetime
from typing import Annotated, Any, Literal, NotRequired, Union, get_args, get_origin, get_type_hints, is_typeddict

from rest_framework import serializers

_SCALARS: dict[type, type[serializers.Field]] = {
    bool: serializers.BooleanField,
    int: serializers.IntegerField,
    float: serializers.FloatField,
    str: serializers.CharField,
    datetime: serializers.DateTimeField,
    date: serializers.DateField,
    dict: serializers.DictField,
}
_built: dict[tuple, type[serializers.Serializer]] = {}


def serializer_for(
    shape: type,
    *,
    exclude: tuple[str, ...] = (),
    fields: dict[str, serializers.Field] | None = None,
) -> type[serializers.Serializer]:
    """The Serializer class of the TypedDict `shape` (see the module docstring). `exclude` leaves keys
    out (keys a selector returns for the pages only); `fields` gives a key a field of the API's own
    choosing (an EmailField for a `str`), kept in the shape's order."""
    key = (shape, exclude, tuple(sorted((fields or {}).items())))
    if key not in _built:
        hints = get_type_hints(shape, include_extras=True)
        chosen = fields or {}
        declared = {name: chosen.get(name) or _field(hint) for name, hint in hints.items() if name not in exclude}
        _in_order(declared.values())
        # No docstring: the shape's would become the component's description and change the schema.
        attrs = {"__module__": shape.__module__, "__doc__": None, **declared}
        _built[key] = type(f"{shape.__name__}Serializer", (serializers.Serializer,), attrs)
    return _built[key]


def _field(hint, **options) -> serializers.Field:
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        if isinstance(args[1], serializers.Field):
            return args[1]
        return _field(args[0], help_text=args[1], **options)
    if origin is NotRequired:
        return _field(args[0], required=False, **options)
    if origin is Literal:
        return serializers.ChoiceField(choices=list(args), **options)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _field(inner, allow_null=True, **options)
    if is_typeddict(hint):
        return serializer_for(hint)(**options)
    if origin is list:
        (item,) = args
        if is_typeddict(item):
            return serializer_for(item)(many=True, **options)
        return serializers.ListField(child=_field(item), **options)
    if origin is dict:
        return serializers.DictField(**options)
    return _SCALARS[hint](**options)


_order = itertools.count(10**9)


def _in_order(fields) -> None:
    """DRF orders declared fields by creation; an Annotated field was made before the shape's others."""
    for field in fields:
        field._creation_counter = next(_order)


@functools.cache  # shapes are module-level types: a key built per request costs no get_type_hints
def shape_digest(shape: Any) -> str:
    """8 hex characters naming a shape's keys and types (a TypedDict, or a type such as `dict[str, Entry]`),
    nested shapes included: part of the key of cached values of this shape (`cerebrum.cache.shaped`), so a
    deploy that adds, drops, retypes or un-optionals a key never reads the previous release's dicts (their missing key would be a KeyError in the serializer, a 500, until they expire)."""
    return hashlib.sha256(_shape_text(shape).encode()).hexdigest()[:8]


def _shape_text(annotation) -> str:
    if is_typeddict(annotation):
        hints = get_type_hints(annotation)
        # "?" marks a NotRequired key: readers index a required key, so a key becoming required is a change.
        # (__optional_keys__ misses NotRequired in string annotations on Python 3.11.)
        extras = get_type_hints(annotation, include_extras=True)
        optional = {key for key, hint in extras.items() if get_origin(hint) is NotRequired}
        return (
            "{" + ",".join(f"{key}{'?' * (key in optional)}:{_shape_text(hint)}" for key, hint in hints.items()) + "}"
        )
    args = get_args(annotation)
    if args:
        origin = get_origin(annotation)
        return f"{getattr(origin, '__name__', repr(origin))}[{','.join(_shape_text(arg) for arg in args)}]"
    return getattr(annotation, "__qualname__", repr(annotation))
