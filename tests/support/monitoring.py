"""What monitoring/README.md documents, read the way the tests compare configuration to it."""

from __future__ import annotations

import re
from pathlib import Path


def readme_jobs(project_dir: Path) -> set[str]:
    """The job names of README's "Scrape jobs are named after the component: ..." sentence."""
    readme = (project_dir / "monitoring" / "README.md").read_text(encoding="utf-8")
    found = re.search(r"Scrape jobs are named after the component:(.*?)\.\s*$", readme,
                      re.DOTALL | re.MULTILINE)  # fmt: skip
    assert found, "README.md no longer names the scrape jobs"
    return set(re.findall(r"`([\w-]+)`", found.group(1)))
