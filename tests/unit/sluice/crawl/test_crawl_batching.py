"""The worker-side halves of batched round trips (pure logic): the fingerprints a worker
knows the filter's answer for (sluice/crawl/bloom.py) and the sites it may send to without a
reservation (sluice/crawl/politeness.py)."""

from __future__ import annotations

from sluice.crawl.bloom import KnownFingerprints
from sluice.crawl.politeness import OpenSites, Reservation

# --- KnownFingerprints ---------------------------------------------------------------------


def test_known_fingerprints_are_remembered_until_the_oldest_must_make_room():
    known = KnownFingerprints(limit=3)
    for fingerprint in ("a", "b", "c", "a", "d"):
        known.add(fingerprint)
    # "a" again was already known: adding it did not refresh it, so it went first.
    assert ("a" in known, "b" in known, "d" in known, len(known)) == (False, True, True, 3)


def test_known_fingerprints_with_no_room_remember_nothing_and_clear_forgets():
    off = KnownFingerprints(limit=0)
    off.add("a")
    known = KnownFingerprints(limit=10)
    known.add("a")
    known.clear()
    assert ("a" in off, "a" in known, len(known)) == (False, False, 0)


# --- OpenSites -----------------------------------------------------------------------------

NOW = 1_000_000


def test_a_site_without_interval_found_unpaused_is_open_for_the_cache_time():
    sites = OpenSites(cache_ms=100)
    sites.note("shop", Reservation(at=NOW, interval_ms=0), NOW)
    assert (sites.is_open("shop", NOW + 99), sites.is_open("shop", NOW + 100)) == (True, False)


def test_a_paced_or_paused_site_is_never_open():
    sites = OpenSites(cache_ms=100)
    sites.note("paced", Reservation(at=NOW, interval_ms=250), NOW)
    sites.note("paused", Reservation(at=NOW + 2_000, interval_ms=0), NOW)
    assert (sites.is_open("paced", NOW), sites.is_open("paused", NOW)) == (False, False)


def test_a_reservation_that_finds_the_site_paced_or_a_close_ends_the_open_time():
    sites = OpenSites(cache_ms=100)
    sites.note("shop", Reservation(at=NOW, interval_ms=0), NOW)
    sites.note("shop", Reservation(at=NOW, interval_ms=250), NOW + 10)
    sites.note("other", Reservation(at=NOW, interval_ms=0), NOW)
    sites.close("other")
    assert (sites.is_open("shop", NOW + 20), sites.is_open("other", NOW + 20)) == (False, False)


def test_no_cache_time_means_every_send_reserves():
    sites = OpenSites(cache_ms=0)
    sites.note("shop", Reservation(at=NOW, interval_ms=0), NOW)
    assert sites.is_open("shop", NOW) is False
