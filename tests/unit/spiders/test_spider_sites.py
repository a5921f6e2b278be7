"""SiteProfile and SiteRegistry in spiders/sites.py."""

from __future__ import annotations

import pytest
from scrapy.settings import Settings

from spiders.sites import BUNDLED, DEMO_MARKET, DEMO_SHOP, SiteProfile, SiteRegistry


def test_applies_to_searches_the_match_regex_in_the_url():
    profile = SiteProfile(name="acme", match=r"^https?://(www\.)?acme\.example/")

    assert profile.applies_to("https://acme.example/p/1")
    assert profile.applies_to("http://www.acme.example/")
    assert not profile.applies_to("https://evil.example/?next=https://acme.example/")
    assert not profile.applies_to("https://acme.example.evil/p/1")


def test_needs_browser_only_for_render_js_patterns():
    assert DEMO_SHOP.needs_browser("http://127.0.0.1:8000/shop/c/gadgets")
    assert DEMO_SHOP.needs_browser("http://127.0.0.1:8000/shop/c/gadgets?page=2")
    assert not DEMO_SHOP.needs_browser("http://127.0.0.1:8000/shop/c/gadgets-extra")
    assert not DEMO_SHOP.needs_browser("http://127.0.0.1:8000/shop/c/kitchen")
    # No render_js patterns: nothing needs a browser.
    assert not DEMO_MARKET.needs_browser("http://127.0.0.1:8000/market/quotes")


def test_from_dict_builds_a_full_profile():
    profile = SiteProfile.from_dict(
        {
            "name": "acme",
            "match": r"acme\.example",
            "source": "acme",
            "selectors": {"price": ".price::text"},
            "render_js": [r"/listing"],
            "deny": [r"/cart", r"/account"],
        }
    )

    assert profile == SiteProfile(
        name="acme",
        match=r"acme\.example",
        source="acme",
        selectors={"price": ".price::text"},
        render_js=(r"/listing",),
        deny=(r"/cart", r"/account"),
    )
    # Lists from settings become tuples: the frozen profile cannot change through them.
    assert isinstance(profile.render_js, tuple)
    assert isinstance(profile.deny, tuple)


def test_from_dict_defaults_for_missing_optional_keys():
    profile = SiteProfile.from_dict({"name": "bare", "match": "bare"})

    assert profile.source is None
    assert profile.selectors == {}
    assert profile.render_js == ()
    assert profile.deny == ()


def test_from_dict_names_unknown_keys():
    with pytest.raises(ValueError, match=r"'acme'.*unknown keys \['rendr_js', 'zzz'\]"):
        SiteProfile.from_dict({"name": "acme", "match": "x", "rendr_js": [], "zzz": 1})


def test_for_url_first_matching_profile_wins():
    broad = SiteProfile(name="broad", match=r"example", source="broad")
    narrow = SiteProfile(name="narrow", match=r"shop\.example", source="narrow")

    assert SiteRegistry([narrow, broad]).for_url("https://shop.example/a") is narrow
    assert SiteRegistry([broad, narrow]).for_url("https://shop.example/a") is broad
    assert SiteRegistry([narrow, broad]).for_url("https://other.net/") is None


def test_from_settings_puts_site_profiles_before_the_bundled_ones():
    # A custom profile for the demo shop's paths overrides the bundled demo-shop profile.
    settings = Settings(
        {"SITE_PROFILES": [{"name": "mine", "match": r"/shop/", "source": "my-shop"}]}
    )
    registry = SiteRegistry.from_settings(settings)

    assert [p.name for p in registry.profiles] == ["mine", *(p.name for p in BUNDLED)]
    assert registry.for_url("http://127.0.0.1:8000/shop/p/1").name == "mine"
    assert registry.source_for("http://127.0.0.1:8000/shop/p/1") == "my-shop"
    # The bundled market profile still applies where the custom one does not.
    assert registry.for_url("http://127.0.0.1:8000/market/quotes") is DEMO_MARKET


def test_from_settings_rejects_a_profile_with_unknown_keys():
    settings = Settings({"SITE_PROFILES": [{"name": "bad", "match": "x", "selector": {}}]})

    with pytest.raises(ValueError, match="selector"):
        SiteRegistry.from_settings(settings)


def test_source_for_uses_the_profile_source():
    registry = SiteRegistry(list(BUNDLED))

    assert registry.source_for("http://127.0.0.1:8000/shop/") == "shop.localhost"
    assert registry.source_for("http://localhost:5000/market/quotes") == "market.localhost"


def test_source_for_falls_back_to_the_lowercased_host():
    unnamed = SiteProfile(name="unnamed", match=r"acme\.example")  # matches, but no source
    registry = SiteRegistry([unnamed, *BUNDLED])

    assert registry.source_for("https://Shop.Northwind.EXAMPLE:8443/p/1") == (
        "shop.northwind.example"
    )
    assert registry.source_for("https://acme.example/p/1") == "acme.example"
    assert registry.source_for("not a url") == "unknown"
