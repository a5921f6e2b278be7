"""The schema.org nodes of one syntax as one linked graph, and the Products in it.

JSON-LD, microdata and RDFa reach this module in different shapes. :func:`build` makes them
alike: property names and types without their schema.org prefix, ``{"@value": ...}`` wrappers
and one-element lists unwrapped, and every ``{"@id": ...}`` reference replaced by the node it
names (JSON-LD ``@graph`` pages and RDFa point at nodes instead of nesting them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from spiders.extract.values import as_list

PRODUCT_TYPES = frozenset(
    {"Product", "ProductGroup", "IndividualProduct", "ProductModel", "SomeProducts"}
)

_SCHEMA_PREFIXES = (
    "http://schema.org/",
    "https://schema.org/",
    "http://www.schema.org/",
    "https://www.schema.org/",
    "schema:",
)


def short_name(name: str) -> str:
    """A schema.org term without its prefix: "https://schema.org/Product" is "Product"."""
    for prefix in _SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def types_of(node: object) -> set[str]:
    """The short schema.org types of a node (empty for anything that is not a node)."""
    if not isinstance(node, dict):
        return set()
    return {short_name(str(t)) for t in as_list(node.get("@type"))}


def is_product(node: object) -> bool:
    """Whether a node is a Product or one of the product types treated as one."""
    return bool(types_of(node) & PRODUCT_TYPES)


@dataclass(frozen=True)
class Found:
    """A Product node with what surrounds it: its ProductGroup and an Offer that offers it."""

    node: dict
    group: dict | None = None
    offer: dict | None = None


def build(items: list) -> list:
    """The syntax's items as linked, compacted root nodes (``@graph`` containers opened)."""
    roots: list = []
    for item in items:
        compacted = _compact(item)
        if isinstance(compacted, dict) and "@graph" in compacted:
            roots.extend(as_list(compacted.pop("@graph")))
            if set(compacted) - {"@context"}:
                roots.append(compacted)
        else:
            roots.extend(as_list(compacted))
    index = _index(roots)
    _link(roots, index, set())
    for entry in index.values():
        _link(entry, index, set())
    return roots


def find_products(roots: list) -> list[Found]:
    """Every Product reachable from the roots, once each, in document order.

    A ProductGroup with variants stands for its variants, which are returned in its place.
    Other Products nested in a Product (related or similar items) are not the page's product
    and are not searched.
    """
    groups = _groups_by_variant(roots)
    found: list[Found] = []
    seen: set[int] = set()

    def visit(value: object, offer: dict | None) -> None:
        if isinstance(value, list):
            for element in value:
                visit(element, offer)
            return
        if not isinstance(value, dict) or id(value) in seen:
            return
        seen.add(id(value))
        if is_product(value):
            variants = _variants(value)
            for variant in variants:
                if id(variant) not in seen:
                    seen.add(id(variant))
                    found.append(Found(variant, value, None))
            if not variants:
                found.append(Found(value, groups.get(id(value)), offer))
            return
        is_offer = bool(types_of(value) & {"Offer", "AggregateOffer"})
        for key, child in value.items():
            if key not in ("@id", "@type", "@context"):
                visit(child, value if is_offer and key == "itemOffered" else None)

    visit(roots, None)
    return found


def _variants(node: dict) -> list[dict]:
    return [v for v in as_list(node.get("hasVariant")) if is_product(v)]


def _groups_by_variant(roots: list) -> dict[int, dict]:
    groups: dict[int, dict] = {}
    for node in _nodes(roots):
        if not is_product(node):
            continue
        for variant in _variants(node):
            groups.setdefault(id(variant), node)
        parent = node.get("isVariantOf")
        if is_product(parent):
            groups.setdefault(id(node), parent)
    return groups


def _nodes(value: object, seen: set[int] | None = None) -> Iterator[dict]:
    seen = set() if seen is None else seen
    if isinstance(value, list | dict) and id(value) not in seen:
        seen.add(id(value))
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict):
            yield value
        for child in children:
            yield from _nodes(child, seen)


def _compact(value: object) -> object:
    if isinstance(value, list):
        elements = [c for c in (_compact(v) for v in value) if c is not None]
        return elements[0] if len(elements) == 1 else elements or None
    if not isinstance(value, dict):
        return value
    if "@value" in value:
        return value["@value"]
    if "properties" in value and "@type" not in value and "type" not in value:
        # extruct leaves a microdata item without itemtype in its raw shape.
        value = {**value.get("properties", {}), **({"@id": value["id"]} if "id" in value else {})}
    node: dict = {}
    for key, child in value.items():
        if key == "@type":
            node["@type"] = [short_name(str(t)) for t in as_list(child)]
        elif key == "@context":
            continue
        elif key.startswith("@"):
            node[key] = _compact(child)
        else:
            node[short_name(key)] = _compact(child)
    return node


def _index(roots: list) -> dict[str, dict]:
    """One merged node per ``@id``; a page may describe the same node in several places."""
    index: dict[str, dict] = {}
    for node in list(_nodes(roots)):
        node_id = node.get("@id")
        if not isinstance(node_id, str) or set(node) <= {"@id"}:
            continue
        entry = index.setdefault(node_id, {"@id": node_id, "@type": []})
        for key, child in node.items():
            if key == "@type":
                entry["@type"] += [t for t in child if t not in entry["@type"]]
            elif key not in entry:
                entry[key] = child
    return index


def _link(container: dict | list, index: dict[str, dict], seen: set[int]) -> None:
    if id(container) in seen:
        return
    seen.add(id(container))
    keys = list(container) if isinstance(container, dict) else range(len(container))
    for key in keys:
        child = container[key]
        if isinstance(child, dict) and isinstance(child.get("@id"), str):
            node_id = child["@id"]
            if node_id in index:
                container[key] = index[node_id]
                continue
            if set(child) == {"@id"}:
                # A reference to nothing on the page is just a link (RDFa writes URLs this way).
                container[key] = node_id
                continue
        if isinstance(child, dict | list):
            _link(child, index, seen)
