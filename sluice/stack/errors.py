"""Errors the stack reports to a person: which service, what went wrong, how to fix it."""

from __future__ import annotations

from collections.abc import Iterable


class StackError(Exception):
    """One service could not be installed, prepared or started."""

    def __init__(self, service: str, cause: str, fix: str) -> None:
        super().__init__(f"{service}: {cause}")
        self.service = service
        self.cause = cause
        self.fix = fix

    def describe(self) -> str:
        """The message shown to the user: service, cause and fix."""
        return f"{self.service}: {self.cause}\n  fix: {self.fix}"


class StackErrors(Exception):
    """Several services failed the same step; each is reported, none hides another."""

    def __init__(self, errors: Iterable[StackError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    def describe(self) -> str:
        """All problems, one block each."""
        return "\n".join(e.describe() for e in self.errors)
