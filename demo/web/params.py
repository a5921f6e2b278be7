"""Reading and checking request parameters; a bad one becomes a 400 that names it."""

from __future__ import annotations

import re
from datetime import date

from werkzeug.exceptions import BadRequest

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadParameter(BadRequest):
    """A request parameter that is missing its expected form; the message names it."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        super().__init__(f"parameter {name!r}: {value!r} is not {expected}")
        self.parameter = name


def parse_day(name: str, value: object) -> date:
    """A ``YYYY-MM-DD`` string as a date, or BadParameter naming ``name``."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise BadParameter(name, value, "a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, value, "a valid calendar date") from None


def parse_page(value: str | None) -> int:
    """The ``page`` query parameter: a positive integer, 1 when absent."""
    if value is None or value == "":
        return 1
    if not value.isdigit() or int(value) < 1:
        raise BadParameter("page", value, "a positive integer")
    return int(value)


def page_count(total: int, per_page: int) -> int:
    """How many pages ``total`` items fill (at least one, so an empty list still has a page)."""
    return max(1, -(-total // per_page))
