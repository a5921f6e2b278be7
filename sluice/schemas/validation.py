"""Validating an envelope and its item in one pass.

Marshmallow alone loads a message three times (the envelope, its item inside the envelope's
schema check, then the item again for its values). :class:`EnvelopeValidator` loads each
part once through loaders compiled from the same schemas (:mod:`sluice.schemas.compiled`)
and turns to marshmallow only for a record that is not plainly valid, so a rejection carries
marshmallow's own messages and reasons.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from marshmallow import Schema

from sluice.schemas.compiled import Loader, compile_or_none
from sluice.schemas.envelope import ITEM_SCHEMAS, EnvelopeSchema, item_schema

#: the envelope's item check, done here by loading the item with its own compiled schema
ITEM_CHECK = EnvelopeSchema._item_matches_schema.__name__


class Loaded(NamedTuple):
    """A valid envelope, its loaded item and the schema that loaded it."""

    envelope: dict[str, Any]
    item: dict[str, Any]
    item_schema: Schema


class EnvelopeValidator:
    """Loads envelopes as ``EnvelopeSchema`` and their items as their item schema would."""

    def __init__(self) -> None:
        self.envelope_schema = EnvelopeSchema()
        self._envelope = compile_or_none(self.envelope_schema, handled_hooks={ITEM_CHECK}) or _never
        self._items: dict[type[Schema], tuple[Loader, Schema]] = {}
        # Compiled now rather than on the first message; a schema registered later is
        # compiled when first seen.
        for name in ITEM_SCHEMAS:
            self._item_loader(name)

    def load(self, envelope: Any) -> Loaded:
        """The loaded envelope and item; raises marshmallow's ValidationError if invalid.

        The result equals ``EnvelopeSchema().load(envelope)`` followed by loading its item
        with the item's schema.
        """
        fast = self.fast_load(envelope)
        if fast is not None:
            return fast
        loaded = self.envelope_schema.load(envelope)
        schema = item_schema(loaded["schema"])
        return Loaded(loaded, schema.load(loaded["item"]), schema)

    def fast_load(self, envelope: Any) -> Loaded | None:
        """What :meth:`load` returns, from the compiled loaders alone; None when marshmallow
        has to decide (the record is not plainly valid, or a schema is not compiled)."""
        loaded = self._envelope(envelope)
        if loaded is None:
            return None
        # Item schemas are looked up by name at validation time, as the envelope does, so a
        # schema registered later (a new version) is known.
        name = loaded["schema"]
        loader, schema = self._items.get(ITEM_SCHEMAS[name]) or self._item_loader(name)
        item = loader(loaded["item"])
        if item is None:
            return None
        return Loaded(loaded, item, schema)

    def _item_loader(self, name: str) -> tuple[Loader, Schema]:
        """The compiled loader of item schema ``name`` and its shared marshmallow instance."""
        cls = ITEM_SCHEMAS[name]
        if cls not in self._items:
            schema = item_schema(name)
            self._items[cls] = (compile_or_none(schema) or _never, schema)
        return self._items[cls]


def _never(_: Any) -> None:
    """The loader of a schema that is not compiled: marshmallow decides every record."""
    return None
