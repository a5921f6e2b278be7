"""The compiled fast path against marshmallow, on generated records.

Property: for any record, the compiled loaders accept exactly what marshmallow accepts and
return the same values, of the same types and representation (``Decimal("1.0")`` is not
``Decimal("1.00")``). The seed is fixed in the suite (``tests.support.fuzzing``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import string

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validate, validates

from sluice.schemas.compiled import NotCompilable, compile_schema
from sluice.schemas.currencies import ISO_4217
from sluice.schemas.envelope import ITEM_SCHEMAS, EnvelopeSchema, item_schema
from sluice.schemas.items import ProductItemSchema, QuoteItemSchema
from sluice.schemas.normalize import AVAILABILITY
from sluice.schemas.validation import EnvelopeValidator
from tests.support.fuzzing import fuzz_seed

EXAMPLES = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

ABSENT = object()

# -- values: plain ones, edge ones near a rule, and the odd ones a page or a bug produces ---

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
odd = st.one_of(
    json_scalars,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(
        ["", " ", "0", "-0", "1e3", " 12 ", "1_000", "NaN", "-Infinity", "inf", "0x10", "٣"]
    ),
)


class Field:
    """How to draw one field: ``plain`` values (mostly valid) and ``edge`` values."""

    def __init__(self, plain: st.SearchStrategy, edge: st.SearchStrategy | None = None):
        self.plain = plain
        self.edge = st.one_of(edge, odd) if edge is not None else odd


def text_field(max_size: int, *, nullable: bool = False) -> Field:
    plain = st.text(min_size=1, max_size=12)
    return Field(
        st.one_of(st.none(), plain) if nullable else plain,
        st.one_of(
            st.sampled_from(["", "x" * max_size, "x" * (max_size + 1)]),
            st.text(alphabet="\x00\u2028é", max_size=3),
        ),
    )


numbers = st.one_of(
    st.decimals(min_value="0.0001", max_value=10**12, places=4).map(str),
    st.decimals(min_value="0.01", max_value=10**6, allow_nan=False).map(str),
    st.integers(1, 10**6),
    st.floats(min_value=0.01, max_value=1e6),
)
number_edges = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30),
    st.floats(),
    st.sampled_from(["0", "-0.00", "1e400", "-1e-400", "sNaN", "1,5", "5.", ".5", "+7"]),
)
moments = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.one_of(st.none(), st.timezones(), st.just(dt.UTC)),
)
aware = st.datetimes(timezones=st.just(dt.UTC), min_value=dt.datetime(2000, 1, 1))
moment_field = Field(
    st.one_of(
        aware.map(dt.datetime.isoformat),
        aware.map(lambda m: m.isoformat().replace("+00:00", "Z")),
        st.sampled_from(["2026-11-23T08:00:00Z", "2026-11-23T09:00:00+01:00"]),
    ),
    st.one_of(
        moments.map(dt.datetime.isoformat),
        moments.map(lambda m: m.isoformat(sep=" ", timespec="minutes")),
        st.dates().map(dt.date.isoformat),
        st.sampled_from(["yesterday", "20261123", "2026-11-23T08:00:00+25:00"]),
    ),
)
#: what URLs are made of, and what breaks them: unicode letters and digits, whitespace of
#: every kind, separators
URL_CHARACTERS = string.ascii_letters + "09:/.-_?#[]@%+ \t\xa0\u2028\x1c\xe4\u017f\u212a\u0663"
url_field = Field(
    st.one_of(
        st.sampled_from(
            [
                "http://127.0.0.1:8000/shop/p/SKU-1",
                "https://shop.localhost/p/1?x=1#top",
                "http://localhost",
                "HTTPS://Example.COM/A",
                "http://[::1]:8080/x",
                "http://intranet/x",
                "http://user:pw@example.com:99/p",
                "http://münchen.example/ä",
            ]
        ),
        st.text(string.ascii_letters + "-_", min_size=1, max_size=10).map(
            lambda t: f"http://example.com/{t}"
        ),
    ),
    st.one_of(
        st.sampled_from(
            ["http://ex ample.com/", "ftp://example.com/f", "http://", "//example.com/p", ""]
        ),
        st.text(alphabet=URL_CHARACTERS, max_size=24),
        st.text(alphabet=URL_CHARACTERS, max_size=12).map(lambda t: f"http://{t}"),
    ),
)
currency_field = Field(
    st.sampled_from(sorted(ISO_4217)), st.sampled_from(["usd", "XXX", "$", "", "EURO"])
)


def nullable(field: Field) -> Field:
    return Field(st.one_of(st.none(), field.plain), field.edge)


def product_items() -> st.SearchStrategy:
    return record(
        external_id=text_field(512),
        name=text_field(1000),
        brand=text_field(300, nullable=True),
        category=text_field(300, nullable=True),
        price=Field(numbers, number_edges),
        currency=currency_field,
        availability=Field(st.sampled_from(AVAILABILITY), st.sampled_from(["InStock", "IN_STOCK"])),
        rating=Field(st.one_of(st.none(), st.floats(0, 5), st.integers(0, 5)), number_edges),
        review_count=Field(st.one_of(st.none(), st.integers(0, 10**6)), number_edges),
        image_url=nullable(url_field),
        url=url_field,
    )


def quote_items() -> st.SearchStrategy:
    return record(
        symbol=Field(st.from_regex(r"[A-Z0-9.\-]{1,15}", fullmatch=True), st.text(max_size=17)),
        name=Field(st.one_of(st.none(), st.text(max_size=8))),
        exchange=Field(st.one_of(st.none(), st.text(max_size=8))),
        price=Field(numbers, number_edges),
        currency=currency_field,
        change=Field(st.one_of(st.none(), numbers, numbers.map(lambda n: f"-{n}")), number_edges),
        change_pct=Field(st.one_of(st.none(), numbers), number_edges),
        volume=Field(st.one_of(st.none(), st.integers(0, 2**62)), number_edges),
        as_of=moment_field,
        trade_date=Field(st.dates().map(dt.date.isoformat), moment_field.edge),
    )


@st.composite
def record(draw, **shape: Field) -> dict:
    """A record of plain values with a few fields changed to edge or odd values, or left out,
    and sometimes an unknown key: about half of them valid."""
    out = {key: draw(field.plain) for key, field in shape.items()}
    changes = st.lists(st.sampled_from(sorted(shape)), min_size=1, max_size=3)
    for key in draw(st.one_of(st.just([]), changes)):
        if draw(st.booleans()):
            out[key] = draw(shape[key].edge)
        else:
            out.pop(key, None)
    if draw(st.integers(0, 9)) == 0:
        out[draw(st.text(max_size=6))] = draw(json_scalars)
    return out


@st.composite
def envelopes(draw) -> dict:
    """Envelopes whose item mostly matches their schema."""
    schema = draw(st.sampled_from(["product/1", "quote/1"]))
    matching, other = product_items(), quote_items()
    if schema == "quote/1":
        matching, other = other, matching
    return draw(
        record(
            schema=Field(st.just(schema), st.just("product/9")),
            crawl_id=text_field(200),
            spider=text_field(100),
            source=text_field(300),
            url=url_field,
            fetched_at=moment_field,
            item=Field(matching, other),
        )
    )


# -- what "the same" means -------------------------------------------------------------------


def exact(value: object) -> object:
    """A value with its type and representation, so equal-but-different values differ."""
    if isinstance(value, dict):
        return ("dict", [(key, exact(v)) for key, v in value.items()])
    if isinstance(value, list):
        return ("list", [exact(v) for v in value])
    if isinstance(value, decimal.Decimal):
        return ("Decimal", str(value))
    if isinstance(value, dt.datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo))
    return (type(value).__name__, repr(value))


def marshmallow_load(envelope: object):
    """The reference: the envelope, then its item, loaded by marshmallow alone."""
    try:
        loaded = EnvelopeSchema().load(envelope)
    except ValidationError:
        return None
    schema = item_schema(loaded["schema"])
    return loaded, schema.load(loaded["item"])


# -- the properties --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema_class", "items"),
    [(ProductItemSchema, product_items()), (QuoteItemSchema, quote_items())],
)
def test_a_compiled_item_schema_loads_exactly_as_marshmallow(schema_class, items):
    schema = schema_class()
    fast = compile_schema(schema)

    @seed(fuzz_seed())
    @EXAMPLES
    @given(item=items)
    def check(item: dict) -> None:
        try:
            expected = schema.load(item)
        except ValidationError:
            expected = None
        got = fast(item)
        assert (got is None) == (expected is None), (item, expected)
        if got is not None:
            assert exact(got) == exact(expected)

    check()


@seed(fuzz_seed())
@EXAMPLES
@given(envelope=envelopes())
def test_the_fast_path_validates_an_envelope_exactly_as_marshmallow(envelope):
    expected = marshmallow_load(envelope)
    got = EnvelopeValidator().fast_load(envelope)
    assert (got is None) == (expected is None), (envelope, expected)
    if got is not None:
        assert exact([got.envelope, got.item]) == exact(list(expected))


@seed(fuzz_seed())
@EXAMPLES
@given(envelope=envelopes())
def test_load_returns_marshmallows_result_or_raises_its_errors(envelope):
    expected = marshmallow_load(envelope)
    try:
        loaded = EnvelopeValidator().load(envelope)
    except ValidationError as exc:
        assert expected is None
        assert exc.messages == EnvelopeSchema().validate(envelope)
    else:
        assert expected is not None
        assert exact([loaded.envelope, loaded.item]) == exact(list(expected))


@pytest.mark.parametrize("require_tld", [False, True])
def test_the_compiled_url_check_agrees_with_marshmallow(require_tld):
    field = fields.Url(require_tld=require_tld, schemes={"http", "https"})
    fast = compile_schema(Schema.from_dict({"url": field})())

    @seed(fuzz_seed())
    @EXAMPLES
    @given(
        url=st.one_of(
            url_field.plain,
            url_field.edge,
            st.text(alphabet=URL_CHARACTERS, max_size=12).map(lambda t: f"https://{t}"),
            st.tuples(url_field.plain, st.text(alphabet=URL_CHARACTERS, max_size=6)).map("".join),
        )
    )
    def check(url: object) -> None:
        try:
            expected = fields.Url(require_tld=require_tld, schemes={"http", "https"}).deserialize(
                url
            )
        except ValidationError:
            expected = None
        got = fast({"url": url})
        assert (got is None) == (expected is None), url
        if got is not None:
            assert got == {"url": expected}

    check()


# -- the fast path is taken, and refuses what it cannot reproduce ----------------------------


def plain_envelope() -> dict:
    return {
        "schema": "product/1",
        "crawl_id": "c-1",
        "spider": "ecommerce",
        "source": "shop.localhost",
        "url": "http://127.0.0.1:8000/shop/p/SKU-1",
        "fetched_at": "2026-11-23T09:00:00+01:00",
        "item": {
            "external_id": "SKU-1",
            "name": "Kettle",
            "price": "19.90",
            "currency": "EUR",
            "url": "http://127.0.0.1:8000/shop/p/SKU-1",
        },
    }


def test_a_plainly_valid_envelope_takes_the_fast_path():
    loaded = EnvelopeValidator().fast_load(json.loads(json.dumps(plain_envelope())))
    assert loaded is not None
    assert loaded.item["price"] == decimal.Decimal("19.90")
    assert loaded.item["availability"] == "unknown" and loaded.item["brand"] is None
    assert isinstance(loaded.item_schema, ProductItemSchema)


def test_an_item_schema_registered_later_is_validated_on_the_fast_path(monkeypatch):
    validator = EnvelopeValidator()
    monkeypatch.setitem(ITEM_SCHEMAS, "product/2", ProductItemSchema)
    assert validator.fast_load({**plain_envelope(), "schema": "product/2"}) is not None


def test_a_schema_with_a_hook_the_compiler_does_not_know_is_not_compiled():
    class Hooked(Schema):
        name = fields.String(required=True)

        @validates("name")
        def _no_bob(self, value: str, **_: object) -> None:
            if value == "bob":
                raise ValidationError("not bob")

    with pytest.raises(NotCompilable, match="_no_bob"):
        compile_schema(Hooked())


def test_an_uncompiled_item_schema_falls_back_to_marshmallow(monkeypatch):
    class Odd(Schema):
        when = fields.TimeDelta(required=True)

    monkeypatch.setitem(ITEM_SCHEMAS, "odd/1", Odd)
    validator = EnvelopeValidator()
    envelope = {**plain_envelope(), "schema": "odd/1", "item": {"when": 5}}
    assert validator.fast_load(envelope) is None
    assert validator.load(envelope).item == {"when": dt.timedelta(seconds=5)}
    with pytest.raises(ValidationError):
        validator.load({**envelope, "item": {"when": "soon"}})


# -- what the compiler supports beyond the item contract -------------------------------------


def option_schemas() -> list[Schema]:
    """Schemas using the compiled options the contract does not (yet) use."""
    shape = {
        "code": fields.String(validate=validate.Length(equal=3)),
        "kind": fields.String(load_default=lambda: "plain", validate=validate.OneOf(["a", "b"])),
        "email": fields.Email(allow_none=True),
        "count": fields.Integer(strict=True, validate=validate.Range(min=0, max=9)),
        "ratio": fields.Float(
            allow_nan=True, validate=validate.Range(0, 1, min_inclusive=False, max_inclusive=False)
        ),
        "amount": fields.Decimal(places=2, allow_nan=True),
        "day": fields.Date(),
        "moment": fields.AwareDateTime(format="iso", default_timezone=dt.UTC),
        "tags": fields.Dict(load_default=dict),
        "note": fields.String(validate=[validate.Length(max=4), validate.Regexp(r"[a-z]*\Z")]),
    }
    return [Schema.from_dict(shape)(unknown=unknown) for unknown in ("raise", "exclude", "include")]


option_values = st.one_of(
    st.sampled_from(["abc", "ab", "x@example.com", "not-mail", "ab1", "", "nan"]),
    st.integers(-2, 12),
    st.floats(-0.5, 1.5),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(dt.date.isoformat),
    moments.map(dt.datetime.isoformat),
)
option_records = record(
    code=Field(st.sampled_from(["abc", "xyz"]), option_values),
    kind=Field(st.sampled_from(["a", "b"]), option_values),
    email=Field(st.sampled_from(["x@example.com", None]), option_values),
    count=Field(st.integers(0, 9), option_values),
    ratio=Field(st.one_of(st.floats(0.01, 0.99), st.just("nan")), option_values),
    amount=Field(st.decimals(places=3, allow_nan=False).map(str), option_values),
    day=Field(st.dates().map(dt.date.isoformat), option_values),
    moment=Field(moments.map(dt.datetime.isoformat), option_values),
    tags=Field(st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), option_values),
    note=Field(st.from_regex(r"[a-z]{0,4}", fullmatch=True), option_values),
)


@pytest.mark.parametrize("schema", option_schemas(), ids=lambda s: s.unknown)
def test_compiled_options_load_exactly_as_marshmallow(schema):
    fast = compile_schema(schema)

    @seed(fuzz_seed())
    @EXAMPLES
    @given(values=option_records)
    def check(values: dict) -> None:
        try:
            expected = schema.load(values)
        except ValidationError:
            expected = None
        got = fast(values)
        assert (got is None) == (expected is None), (values, expected)
        if got is not None:
            assert exact(got) == exact(expected)

    check()
