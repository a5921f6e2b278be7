"""The scale benchmark's pure parts: catalog sizes, chunks, index definitions, disk, cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from api.pagination import decode_cursor
from api.schemas import PRODUCT_SORTS
from bench import scale_data, scale_model
from bench.scale_cases import CASES, PRICES, SORTS, Sample, covered_filters, documented_filters

SAMPLE = Sample(
    42,
    "scale-3.localhost",
    "category-7",
    "brand-9",
    "in_stock",
    Decimal("19.9900"),
    "Oak Lamp M42",
    datetime(2026, 5, 1, 12, tzinfo=UTC),
    415,
)


def test_a_size_names_its_schema_and_counts_its_rows():
    size = scale_data.Size(1_000_000)
    assert size.prices == 10_000_000
    assert size.schema == "bench_scale_1000000x10"
    assert size.label == "1,000,000 products, 10,000,000 price rows"
    assert scale_data.Size(5, 2, tag="plans_ab").schema == "bench_scale_plans_ab"


@pytest.mark.parametrize(("scale", "expected"), [(1, 10_000_000), (0.05, 500_000), (1e-9, 10_000)])
def test_the_harness_scale_shrinks_the_catalog_to_a_floor(scale, expected):
    assert scale_data.scaled(10_000_000, scale) == expected


def test_chunks_cover_every_row_once():
    assert scale_data.chunks(25, 10) == [(1, 10), (11, 20), (21, 25)]
    assert scale_data.chunks(10, 10) == [(1, 10)]
    assert scale_data.chunks(0, 10) == []


def test_price_ids_are_the_products_own_run():
    size = scale_data.Size(100, 10)
    assert list(scale_data.price_ids(1, size)) == list(range(1, 11))
    assert scale_data.price_ids(3, size) == range(21, 31)


def test_an_index_of_public_is_made_for_the_catalog_schema():
    indexdef = "CREATE UNIQUE INDEX products_pkey ON public.products USING btree (id)"
    assert scale_data.rebind_index(indexdef, "bench_scale_9x1") == (
        'CREATE UNIQUE INDEX products_pkey ON "bench_scale_9x1".products USING btree (id)'
    )
    with pytest.raises(ValueError, match="not an index"):
        scale_data.rebind_index("CREATE INDEX i ON other.products (id)", "bench_scale_9x1")


def test_only_a_scratch_schema_is_ever_dropped():
    with pytest.raises(ValueError, match="not a scratch"):
        scale_data.drop(None, "public")


def test_the_disk_check_says_what_fits():
    size = scale_data.Size(10_000_000)
    needed = scale_model.disk_needed(size)
    scale_model.check_disk(size, needed + scale_model.DISK_MARGIN)
    with pytest.raises(SystemExit, match="about 5,000,000 products fit"):
        scale_model.check_disk(size, needed // 2 + scale_model.DISK_MARGIN)


def test_the_api_reads_the_catalog_schema_first():
    url = scale_model.reader_url("postgresql://r:pw@127.0.0.1:5432/sluice", "bench_scale_5x10")
    options = parse_qs(urlsplit(url).query)["options"]
    assert options == ["-csearch_path=bench_scale_5x10,public"]


def test_every_documented_filter_and_sort_is_a_case():
    assert covered_filters() == documented_filters()
    assert {case.sort for case in SORTS} == {*PRODUCT_SORTS, *(f"-{s}" for s in PRODUCT_SORTS)}
    assert len({case.key for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", SORTS, ids=[case.key for case in SORTS])
def test_a_deep_page_starts_after_the_sample_in_its_order(case):
    path, params = case.deep_page(SAMPLE)
    kind = PRODUCT_SORTS[case.sort.lstrip("-")]
    value, row_id = decode_cursor(params["cursor"], case.sort, kind)
    assert row_id == SAMPLE.id
    column = case.sort.lstrip("-")
    assert value == getattr(SAMPLE, column)
    assert params["sort"] == case.sort and path == "/api/v1/products"


def test_the_price_history_pages_after_a_price_row():
    path, params = PRICES.deep_page(SAMPLE)
    assert path == "/api/v1/products/42/prices"
    assert decode_cursor(params["cursor"], "id", "int") == (415, 415)


def test_filters_take_the_samples_values():
    by_key = {case.key: case for case in CASES}
    assert by_key["category"].first_page(SAMPLE)[1] == {"limit": "50", "category": "category-7"}
    assert by_key["q"].first_page(SAMPLE)[1]["q"] == "M42"
    assert by_key["q_word"].first_page(replace(SAMPLE, name="Mini Tent M1"))[1]["q"] == "Tent"
