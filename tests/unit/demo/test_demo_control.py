"""The /_demo/ control endpoints: the current day, repricing and the reset."""

from __future__ import annotations

from datetime import date


def test_day_switch_changes_the_shown_prices(client, catalog, day):
    assert client.get("/_demo/day").get_json() == {"day": day.isoformat()}
    later = date(2026, 3, 9)
    # A product whose price differs between the two days, so the switch is visible.
    product = next(
        p
        for p in catalog.products
        if p.base_price is not None
        and p.markup == "json-ld"
        and catalog.price_on(p, day) != catalog.price_on(p, later)
    )
    before = client.get(product.path).get_data(as_text=True)
    assert f'"price": "{catalog.price_on(product, day)}"' in before

    response = client.post("/_demo/day", json={"day": later.isoformat()})
    assert response.status_code == 200
    assert response.get_json() == {"day": "2026-03-09"}
    assert client.get("/_demo/day").get_json() == {"day": "2026-03-09"}
    after = client.get(product.path).get_data(as_text=True)
    assert f'"price": "{catalog.price_on(product, later)}"' in after
    assert client.get("/market/api/quotes").get_json()["date"] == "2026-03-09"


def test_bad_day_is_a_400_naming_the_problem(client, day):
    for body in ({"day": "2026-02-30"}, {"day": "tomorrow"}, {"day": 20260301}):
        response = client.post("/_demo/day", json=body)
        assert response.status_code == 400
        assert "'day'" in response.get_json()["error"]
    response = client.post("/_demo/day", data="not json")
    assert response.status_code == 400
    assert "day" in response.get_json()["error"]
    assert client.get("/_demo/day").get_json() == {"day": day.isoformat()}


def test_day_defaults_to_today_utc():
    from datetime import UTC, datetime

    from demo.app import create_app

    app = create_app()
    body = app.test_client().get("/_demo/day").get_json()
    assert body["day"] in {
        datetime.now(UTC).date().isoformat(),
        # The test may straddle midnight UTC.
        date.fromordinal(datetime.now(UTC).date().toordinal() - 1).isoformat(),
    }


def test_hits_count_served_pages_with_their_query_and_reset_forgets_them(client):
    client.get("/shop/")
    client.get("/shop/")
    client.get("/shop/c/laptops?page=2")
    client.get("/_demo/day")
    hits = client.get("/_demo/hits").get_json()
    assert hits == {"/shop/": 2, "/shop/c/laptops?page=2": 1}
    client.post("/_demo/reset")
    assert client.get("/_demo/hits").get_json() == {}


def test_reprice_shows_the_first_products_one_unit_dearer_until_a_reset(client, catalog, day):
    response = client.post("/_demo/reprice", json={"count": 5})
    repriced = response.get_json()["repriced"]
    product = next(
        p for p in catalog.products if p.sku in repriced and p.markup == "json-ld"
    )  # fmt: skip
    price = catalog.price_on(product, day)
    dearer = client.get(product.path).get_data(as_text=True)
    client.post("/_demo/reset")
    again = client.get(product.path).get_data(as_text=True)
    assert (len(repriced), f'"price": "{price + 1}"' in dearer, f'"price": "{price}"' in again) == (
        5,
        True,
        True,
    )


def test_a_reprice_without_a_count_is_a_400_naming_it(client):
    response = client.post("/_demo/reprice", json={"count": "five"})
    assert (response.status_code, "count" in response.get_json()["error"]) == (400, True)
