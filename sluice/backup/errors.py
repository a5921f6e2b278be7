"""The one error the backup package raises, and the wrapping of client-library errors into it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
from pymongo.errors import PyMongoError


class BackupError(Exception):
    """A backup cannot be written, verified or restored.

    The message names the step, the object (file, table, collection, command) and the cause;
    ``fix`` says what to do about it when that is known.
    """

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def first_line(exc: BaseException) -> str:
    """The useful part of a client error: pymongo appends a long topology description."""
    text = str(exc).split(", Timeout:")[0].split(", full error:")[0].strip()
    return (text.splitlines() or [repr(exc)])[0][:400]


@contextlib.contextmanager
def step(what: str) -> Iterator[None]:
    """Turn a database or file-system error raised inside the block into a :class:`BackupError`.

    ``what`` names the step ("postgres: dumping sluice"), so the message says where it failed
    without the caller catching three libraries' exception types at every call.
    """
    try:
        yield
    except BackupError:
        raise
    except psycopg.OperationalError as exc:
        raise BackupError(
            f"{what}: {first_line(exc)}", fix="start the stack (`sluice stack up`) or check the URL"
        ) from exc
    except psycopg.Error as exc:
        raise BackupError(f"{what}: {first_line(exc)}") from exc
    except PyMongoError as exc:
        raise BackupError(f"{what}: {first_line(exc)}") from exc
    except OSError as exc:
        raise BackupError(f"{what}: {exc}") from exc
