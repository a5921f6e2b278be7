"""A response schema compiled into a plain dump function: the declared fields, formatted as
the fields format them, without marshmallow's generic per-value machinery.

A listing dumps fifty rows of sixteen fields, and marshmallow's generic path (accessors,
per-field dispatch, hooks) costs more there than everything else the request does in Python.
The compiled function walks the same declared fields and formats the values of the types rows
hold (text, integers, decimals as text, ISO dates and times, nested pages) the way each field
does; any other field or value is handed to the field itself. Nothing changes what is sent:
tests/unit/api/test_dumping.py holds the function to marshmallow's own dump of every schema
the API caches.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, missing

Dump = Callable[[Any], Any]
_ABSENT = object()
#: what a fast path answers when the value is for the field itself to format
_no = object()


def compile_dump(schema: Schema) -> Dump:
    """A function dumping a dict (a row, a page) exactly as ``schema.dump`` would; anything
    else goes to ``schema.dump`` itself. For schemas without pre- or post-dump hooks (the
    API's response schemas have none)."""
    steps = [
        (field.data_key or name, field.attribute or name, field, _converter(field))
        for name, field in schema.dump_fields.items()
    ]

    def dump(obj: Any) -> Any:
        if type(obj) is not dict:
            return schema.dump(obj)
        out = {}
        for key, attr, field, convert in steps:
            value = obj.get(attr, _ABSENT)
            if value is _ABSENT:
                if field.dump_default is not missing:
                    out[key] = field.serialize(attr, obj)
                continue
            out[key] = None if value is None else convert(value, attr, obj)
        return out

    return dump


def _converter(field: fields.Field) -> Callable[[Any, str, Any], Any]:
    """How one field formats a value the rows hold; the field itself for anything else."""

    def by_field(_value: Any, attr: str, obj: Any) -> Any:
        return field.serialize(attr, obj)

    if "." in (field.attribute or ""):
        return by_field
    kind = type(field)
    if kind is fields.String:
        return _when(str, lambda v: v, by_field)
    if kind is fields.Integer and not field.as_string and not field.strict:
        return _when(int, lambda v: v, by_field)
    if kind is fields.Decimal and field.as_string and field.places is None:
        return _when(Decimal, lambda v: format(v, "f") if v.is_finite() else _no, by_field)
    if kind in (fields.DateTime, fields.Date) and field.format in (None, "iso"):
        python_type = datetime if kind is fields.DateTime else date
        return _when(python_type, lambda v: v.isoformat(), by_field)
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return _when(dict, dict, by_field)
    if kind is fields.Nested and not field.many:
        return _when(dict, compile_dump(field.schema), by_field)
    if kind is fields.List and type(field.inner) is fields.Nested and not field.inner.many:
        item = compile_dump(field.inner.schema)
        return _when(list, lambda v: [item(each) for each in v], by_field)
    return by_field


def _when(python_type: type, fast: Callable[[Any], Any], slow: Callable) -> Callable:
    """``fast(value)`` for values of exactly ``python_type`` (not a subclass: bool is no int),
    else the field's own ``slow`` path; ``fast`` may decline with ``_no``."""

    def convert(value: Any, attr: str, obj: Any) -> Any:
        if type(value) is python_type:
            done = fast(value)
            if done is not _no:
                return done
        return slow(value, attr, obj)

    return convert
