"""`python -m bench`: every benchmark, then bench/RESULTS.md (see bench.harness)."""

from bench.harness import main

main()
