"""Where reports are written, and writing one so a reader never sees half a page."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sluice.report import report_filename
from sluice.settings import Settings


def default_path(settings: Settings, crawl_id: str) -> Path:
    """Where a report goes without ``--output``: ``<stack dir>/reports/<crawl id>.html``."""
    return settings.stack_dir / "reports" / report_filename(crawl_id)


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a reader never sees half a page.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        # mkstemp makes the file private; a report is meant to be shared like any other file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
