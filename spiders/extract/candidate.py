"""A product record in the making, and merging the records that describe one product."""

from __future__ import annotations

from dataclasses import dataclass, field

from sluice.schemas.items import PRODUCT_FIELDS

FIELDS = PRODUCT_FIELDS


@dataclass
class Candidate:
    """The contract's fields as one source on the page gives them.

    ``external_id`` holds only an identifier the page published (never a URL yet) and ``url``
    only the product's own link; the page-level fallbacks are applied once merging is done.
    ``identifiers`` holds every identifier seen, to recognise the product in another syntax.
    """

    fields: dict[str, object]
    identifiers: frozenset[str] = field(default_factory=frozenset)

    def missing(self, name: str) -> bool:
        """Whether a field has no value worth keeping ("unknown" availability counts as none)."""
        value = self.fields.get(name)
        return value is None or (name == "availability" and value == "unknown")

    def fill_gaps(self, other: Candidate) -> None:
        """Take the other record's values for the fields this one lacks."""
        for name in FIELDS:
            if self.missing(name) and not other.missing(name):
                self.fields[name] = other.fields[name]
        self.identifiers |= other.identifiers

    def same_product(self, other: Candidate) -> bool:
        """Whether two records describe one product: a shared identifier, else the same name.

        Two records that both carry identifiers and share none are different products (variants
        of one model often share a name).
        """
        if self.identifiers and other.identifiers:
            return bool(self.identifiers & other.identifiers)
        return _name_key(self) is not None and _name_key(self) == _name_key(other)


def merge(candidates: list[Candidate]) -> list[Candidate]:
    """One record per product, earlier records winning and later ones filling their gaps."""
    merged: list[Candidate] = []
    for candidate in candidates:
        for kept in merged:
            if kept.same_product(candidate):
                kept.fill_gaps(candidate)
                break
        else:
            merged.append(Candidate(dict(candidate.fields), candidate.identifiers))
    return merged


def identifier_key(value: str) -> str:
    """The form identifiers are compared in ("ab-12 " and "AB-12" are one SKU)."""
    return value.strip().casefold()


def _name_key(candidate: Candidate) -> str | None:
    name = candidate.fields.get("name")
    return " ".join(str(name).casefold().split()) if name else None
