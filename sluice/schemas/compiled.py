"""Marshmallow schemas compiled into fast loaders for plainly valid records.

A compiled loader is derived from a schema's load fields (their type, ``required``,
``allow_none``, ``load_default`` and validators) and returns exactly the dict
``schema.load`` returns — or ``None`` when the record is not plainly valid. It never rejects
on its own: ``None`` means "ask marshmallow", which then loads the record or words the errors,
so marshmallow stays the one judge and the one voice of the contract. What the loader
accepts, marshmallow accepts with the same output, and for JSON input the other way round
(``tests/unit/sluice/schemas/test_compiled.py`` checks both on generated records).

The field types and validators the item contract uses are compiled; a schema with anything
else (another field type, load hooks, ``data_key``) is not compiled at all, and its records
all go through marshmallow.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import inspect
import logging
import math
import numbers
import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from marshmallow import Schema, ValidationError, fields, missing, validate
from marshmallow.constants import EXCLUDE, INCLUDE, RAISE

log = logging.getLogger(__name__)

#: a compiled loader: the loaded record, or None for "let marshmallow decide"
Loader = Callable[[Any], dict[str, Any] | None]


class NotCompilable(Exception):
    """The schema uses something the compiler does not reproduce exactly."""


class _NotFast(Exception):
    """This value is not plainly valid; marshmallow decides."""


def compile_schema(schema: Schema, *, handled_hooks: Collection[str] = ()) -> Loader:
    """A fast loader for ``schema`` (an instance, bound as marshmallow binds its fields).

    ``handled_hooks`` names schema hooks whose checks the caller performs itself after a fast
    load (the envelope's item check). Raises :class:`NotCompilable` naming what is not
    supported.
    """
    name = type(schema).__name__
    for method in _methods(type(schema)):
        if method not in handled_hooks:
            raise NotCompilable(f"{name}: method {method!r} (a load hook?) is not compiled")
    if schema.many or schema.partial:
        raise NotCompilable(f"{name}: many/partial loading is not compiled")
    if schema.unknown not in (RAISE, EXCLUDE, INCLUDE):
        raise NotCompilable(f"{name}: unknown={schema.unknown!r}")
    plan = []
    for key, field in schema.load_fields.items():
        if field.data_key is not None or field.attribute is not None:
            raise NotCompilable(f"{name}.{key}: data_key/attribute are not compiled")
        if field.pre_load or field.post_load:
            raise NotCompilable(f"{name}.{key}: field processors are not compiled")
        try:
            plan.append((key, field, _deserializer(field)))
        except NotCompilable as exc:
            raise NotCompilable(f"{name}.{key}: {exc}") from exc
    return _generate(name, plan, schema.unknown, schema.dict_class)


def _methods(cls: type[Schema]) -> set[str]:
    """Functions the schema's own classes define, below marshmallow's ``Schema``.

    Load hooks (``@validates``, ``@pre_load``...) are such functions. The compiler reproduces
    field declarations only, so any function a schema defines, other than the hooks its
    caller handles, makes it refuse: safer than reading the hook registry marshmallow keeps
    to itself, and a schema with a plain helper method simply loads through marshmallow.
    """
    found: set[str] = set()
    for klass in cls.__mro__:
        if klass is Schema or not issubclass(klass, Schema):
            continue
        for attr, value in vars(klass).items():
            if inspect.isfunction(value) or isinstance(value, staticmethod | classmethod):
                found.add(attr)
    return found


def _generate(name: str, plan: list, unknown: str, dict_class: type) -> Loader:
    """The loader as one straight-line function: a field costs a few bytecodes, not calls.

    The source is built from the schema's own field names (as ``repr`` literals) and the
    names of converters bound below it, nothing else.
    """
    scope: dict[str, Any] = {
        "missing": missing,
        "dict_class": dict_class,
        "known": frozenset(key for key, _, _ in plan),
        "failed": (_NotFast, ValidationError),
    }
    lines = [
        "def load(data):",
        "    if type(data) is not dict:",
        "        return None",
    ]
    if unknown == RAISE:
        lines += ["    if not known.issuperset(data):", "        return None"]
    lines += ["    out = dict_class()", "    try:"]
    for n, (key, field, deserialize) in enumerate(plan):
        k = repr(key)
        lines += [f"        value = data.get({k}, missing)", "        if value is missing:"]
        if field.required:
            lines.append("            return None")
        elif field.load_default is missing:
            lines.append("            pass")
        else:
            scope[f"default_{n}"] = field.load_default
            call = "()" if callable(field.load_default) else ""
            lines.append(f"            out[{k}] = default_{n}{call}")
        lines += _present(n, k, field, deserialize, scope)
    lines += ["    except failed:", "        return None"]
    if unknown == INCLUDE:
        lines += ["    for key in data.keys() - known:", "        out[key] = data[key]"]
    lines.append("    return out")
    exec(compile("\n".join(lines), f"<compiled {name}>", "exec"), scope)  # noqa: S102 - see above
    return scope["load"]


def _present(n: int, k: str, field: fields.Field, deserialize, scope: dict) -> list[str]:
    """The lines that load a present value of field number ``n`` (key literal ``k``), as
    ``Field.deserialize`` would: None, then the type, then the validators."""
    if field.allow_none:
        none = ["        elif value is None:", f"            out[{k}] = None"]
    else:
        none = ["        elif value is None:", "            return None"]
    check = _checks(field.validators)
    if deserialize is not _string:
        scope[f"deserialize_{n}"] = deserialize
        lines = [*none, "        else:", f"            value = deserialize_{n}(value)"]
        if check is not None:
            scope[f"check_{n}"] = check
            lines.append(f"            check_{n}(value)")
        return [*lines, f"            out[{k}] = value"]
    # Strings are most fields: their type and a length bound are checked inline.
    test = "type(value) is str"
    only = field.validators[0] if len(field.validators) == 1 else None
    if type(only) is validate.Length and only.equal is None:
        low, high, check = only.min or 0, only.max, None
        if high is not None:
            test += f" and {low!r} <= len(value) <= {high!r}"
        elif low:
            test += f" and len(value) >= {low!r}"
    lines = [f"        elif {test}:"]
    if check is not None:
        scope[f"check_{n}"] = check
        lines.append(f"            check_{n}(value)")
    return [
        *lines,
        f"            out[{k}] = value",
        *none,
        "        else:",
        "            return None",
    ]


def compile_or_none(schema: Schema, *, handled_hooks: Collection[str] = ()) -> Loader | None:
    """:func:`compile_schema`, or None (logged) when the schema cannot be compiled."""
    try:
        return compile_schema(schema, handled_hooks=handled_hooks)
    except NotCompilable as exc:
        log.warning("schema=%s loads through marshmallow only: %s", type(schema).__name__, exc)
        return None


def _deserializer(field: fields.Field) -> Callable[[Any], Any]:
    # Exact types only: a subclass may deserialize differently.
    kind = type(field)
    if kind in (fields.String, fields.Url, fields.Email):
        return _string
    if kind is fields.Integer:
        return _integer(strict=field.strict)
    if kind is fields.Float:
        return _float(allow_nan=field.allow_nan)
    if kind is fields.Decimal:
        return _decimal(field.places, field.rounding, allow_nan=field.allow_nan)
    if kind in (fields.AwareDateTime, fields.Date):
        parse = kind.DESERIALIZATION_FUNCS.get(field.format)
        if parse is None:
            raise NotCompilable(f"{kind.__name__} format {field.format!r} is not compiled")
        if kind is fields.Date:
            return _temporal(parse, dt.date)
        return _aware_datetime(parse, field.default_timezone)
    if kind is fields.Dict and field.key_field is None and field.value_field is None:
        return _mapping
    raise NotCompilable(f"field type {kind.__name__} is not compiled")


def _string(value: Any) -> str:
    # JSON gives str; bytes (which marshmallow decodes) are left to marshmallow.
    if type(value) is not str:
        raise _NotFast
    return value


def _integer(*, strict: bool) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if type(value) is int:
            return value
        if strict and not isinstance(value, numbers.Integral):
            raise _NotFast
        if value is True or value is False:
            raise _NotFast
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _NotFast from exc

    return convert


def _float(*, allow_nan: bool) -> Callable[[Any], float]:
    def convert(value: Any) -> float:
        if value is True or value is False:
            raise _NotFast
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise _NotFast from exc
        if not allow_nan and not math.isfinite(number):
            raise _NotFast
        return number

    return convert


def _decimal(places, rounding, *, allow_nan: bool) -> Callable[[Any], decimal.Decimal]:
    def convert(value: Any) -> decimal.Decimal:
        if value is True or value is False:
            raise _NotFast
        try:
            number = decimal.Decimal(str(value))
            if allow_nan and number.is_nan():
                return decimal.Decimal("NaN")
            if places is not None and number.is_finite():
                number = number.quantize(places, rounding=rounding)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _NotFast from exc
        if not allow_nan and not number.is_finite():
            raise _NotFast
        return number

    return convert


def _temporal(parse: Callable[[str], Any], kind: type) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, kind):
            return value
        try:
            return parse(value)
        except (TypeError, AttributeError, ValueError) as exc:
            raise _NotFast from exc

    return convert


def _aware_datetime(parse: Callable[[str], dt.datetime], default_timezone) -> Callable:
    as_datetime = _temporal(parse, dt.datetime)

    def convert(value: Any) -> dt.datetime:
        moment = as_datetime(value)
        zone = moment.tzinfo
        if zone is None or zone.utcoffset(moment) is None:
            if default_timezone is None:
                raise _NotFast
            moment = moment.replace(tzinfo=default_timezone)
        return moment

    return convert


def _mapping(value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise _NotFast
    return dict(value)


def _checks(validators: list) -> Callable[[Any], None] | None:
    """All of a field's validators as one call that raises on the first failure."""
    compiled = [_check(v) for v in validators]
    if not compiled:
        return None
    if len(compiled) == 1:
        return compiled[0]

    def check_all(value: Any) -> None:
        for check in compiled:
            check(value)

    return check_all


def _check(validator: Callable[[Any], Any]) -> Callable[[Any], None]:
    kind = type(validator)
    if kind is validate.Length:
        return _length(validator)
    if kind is validate.Range:
        return _range(validator)
    if kind is validate.OneOf:
        return _one_of(validator)
    if kind is validate.Regexp:
        return _regexp(validator)
    if kind is validate.URL:
        return _url(validator)
    # Any other validator (the contract's own functions) is called as marshmallow calls it:
    # it raises ValidationError to refuse; what it returns does not matter.
    return validator


def _length(v: validate.Length) -> Callable[[Any], None]:
    equal, low, high = v.equal, v.min, v.max

    def check(value: Any) -> None:
        length = len(value)
        if equal is not None:
            if length != equal:
                raise _NotFast
        elif (low is not None and length < low) or (high is not None and length > high):
            raise _NotFast

    return check


def _range(v: validate.Range) -> Callable[[Any], None]:
    low, high = v.min, v.max
    below = operator.lt if v.min_inclusive else operator.le
    above = operator.gt if v.max_inclusive else operator.ge

    def check(value: Any) -> None:
        if (low is not None and below(value, low)) or (high is not None and above(value, high)):
            raise _NotFast

    return check


def _one_of(v: validate.OneOf) -> Callable[[Any], None]:
    choices = v.choices
    # Unhashable choices stay the sequence marshmallow searches.
    with contextlib.suppress(TypeError):
        choices = frozenset(choices)

    def check(value: Any) -> None:
        try:
            found = value in choices
        except TypeError as exc:
            raise _NotFast from exc
        if not found:
            raise _NotFast

    return check


def _regexp(v: validate.Regexp) -> Callable[[Any], None]:
    match = v.regex.match

    def check(value: Any) -> None:
        if match(value) is None:
            raise _NotFast

    return check


def _url(v: validate.URL) -> Callable[[Any], None]:
    # The check is marshmallow's own; equal URL validators (an envelope's url and its item's)
    # share what they accepted, so a URL seen twice in one record is matched once.
    seen = _URLS_ACCEPTED.setdefault(
        (v.relative, v.absolute, v.require_tld, frozenset(v.schemes)), {}
    )
    # Marshmallow builds its URL regex on first use: one check now, not on the first record.
    with contextlib.suppress(ValidationError):
        v("http://localhost/")

    def check(value: Any) -> None:
        if value in seen:
            return
        v(value)
        if len(seen) >= _URL_MEMORY:
            seen.clear()
        seen[value] = True

    return check


_URL_MEMORY = 1024
_URLS_ACCEPTED: dict[tuple, dict[str, bool]] = {}
