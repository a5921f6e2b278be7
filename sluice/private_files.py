"""Files only their owner may read: passwords and keys the local services need."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` with mode 0600, which it has before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # os.open's mode applies only to a new file: an older one is narrowed too.
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    return path


def create_private_once(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (mode 0600) only if no file is there; False when one is.

    Two processes racing to create the same file both see one whole file afterwards: the text
    is written to a file of this process's own, then linked into place, which fails when the
    other process's file is already there.
    """
    own = path.with_name(f".{path.name}.{os.getpid()}")
    write_private(own, text)
    try:
        os.link(own, path)
    except FileExistsError:
        return False
    finally:
        own.unlink()
    return True
