"""The seed of random-input tests: fixed in the suite, fresh in the scheduled fuzz workflow.

``SLUICE_FUZZ_SEED`` unset runs every property test with :data:`SUITE_SEED`, so a red
`make test` is reproducible and a green one stays green; ``SLUICE_FUZZ_SEED=fresh`` (the
weekly workflow) draws a new seed each run, and any number replays that seed.
"""

from __future__ import annotations

import os
import secrets

SUITE_SEED = 20261206


def fuzz_seed() -> int:
    """The seed this run's property tests use (printed by Hypothesis on a failure)."""
    chosen = os.environ.get("SLUICE_FUZZ_SEED", "").strip()
    if not chosen:
        return SUITE_SEED
    if chosen == "fresh":
        return secrets.randbits(32)
    return int(chosen)


def negative_data() -> bool:
    """Whether to also send data the document forbids (the scheduled workflow does)."""
    return os.environ.get("SLUICE_FUZZ_NEGATIVE") == "1"
