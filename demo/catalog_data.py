"""The vocabulary the demo catalog is generated from: categories, brands and product words.

Counts and order are fixed so that skus (numbered in this order) are the same for every seed;
the seed only changes which words, prices and ratings each sku gets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategorySpec:
    """How to generate the products of one category."""

    slug: str
    title: str
    count: int
    brands: tuple[str, ...]
    nouns: tuple[str, ...]
    model_prefixes: tuple[str, ...]
    price_low: float
    price_high: float


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "laptops",
        "Laptops",
        62,
        ("Arcturo", "Novabyte", "Keplerix", "Lumora", "Tessel"),
        ("ProBook 14", "AirLite 13", "Carbon 16", "Vector 15", "Zen Slim 14", "Workstation 17"),
        ("G", "X", "A"),
        349.0,
        2899.0,
    ),
    CategorySpec(
        "phones",
        "Phones",
        64,
        ("Pixelon", "Orbitel", "Kairo", "Novabyte"),
        ("Nova", "Edge", "Pulse", "Lite", "Fold", "Mini"),
        ("", "S", "Pro "),
        129.0,
        1499.0,
    ),
    CategorySpec(
        "audio",
        "Audio",
        70,
        ("Audiora", "Tembre", "Quietwave", "Lumora"),
        (
            "Wireless Headphones",
            "True Wireless Earbuds",
            "Bookshelf Speakers",
            "Soundbar",
            "Turntable",
            "Portable Speaker",
        ),
        ("H", "Q", "SB-"),
        19.0,
        899.0,
    ),
    CategorySpec(
        "cameras",
        "Cameras",
        56,
        ("Optika", "Lumex", "Fotora", "Kestrel"),
        (
            "Mirrorless Camera",
            "Action Camera",
            "Instant Camera",
            "50mm f/1.8 Lens",
            "Travel Tripod",
            "Camera Backpack",
        ),
        ("M", "Z", "K-"),
        39.0,
        3299.0,
    ),
    CategorySpec(
        "kitchen",
        "Kitchen",
        68,
        ("Copperleaf", "Brightpan", "Oakhearth", "Vitra Cook"),
        (
            "Stand Mixer",
            "Cast Iron Skillet",
            "Espresso Machine",
            "Blender",
            "Electric Kettle",
            "Dutch Oven",
            "Chef Knife",
        ),
        ("KM-", "CI-", "E"),
        12.0,
        749.0,
    ),
    CategorySpec(
        "books",
        "Books",
        84,
        ("Harbor House", "Quillstone Press", "Northwind Books", "Lanternlight"),
        (),  # titles are composed from BOOK_ADJECTIVES and BOOK_NOUNS instead
        (),
        6.0,
        59.0,
    ),
    CategorySpec(
        "toys",
        "Toys",
        60,
        ("Tumblewood", "Brickly", "Starling Toys", "Pip and Pine"),
        (
            "Building Set",
            "Jigsaw Puzzle",
            "Plush Fox",
            "Remote Control Car",
            "Marble Run",
            "Wooden Train Set",
        ),
        ("T", "B-", "P"),
        7.0,
        189.0,
    ),
    CategorySpec(
        "garden",
        "Garden",
        58,
        ("Greenreach", "Fernway", "Terrabloom", "Hedgerow Tools"),
        (
            "Pruning Shears",
            "Hose Reel",
            "Raised Bed Kit",
            "Solar Path Light",
            "Compost Bin",
            "Cordless Hedge Trimmer",
        ),
        ("GR-", "F", "H"),
        9.0,
        459.0,
    ),
    CategorySpec(
        "gadgets",
        "Gadgets",
        24,
        ("Gizmotek", "Tinkerly", "Quanta Labs"),
        (
            "Smart Plug",
            "Key Finder",
            "USB-C Hub",
            "Pocket Projector",
            "Desk Lamp",
            "Wireless Charger",
        ),
        ("GT-", "Q"),
        9.0,
        299.0,
    ),
)

# Pre-release products that exist only behind the robots-disallowed /shop/private/ pages. They
# are numbered after every listed product, so adding them never shifts a public sku.
PRIVATE_CATEGORIES: tuple[str, ...] = ("phones", "laptops", "cameras")

BOOK_ADJECTIVES: tuple[str, ...] = (
    "Silent",
    "Crimson",
    "Hidden",
    "Last",
    "Winter",
    "Distant",
    "Paper",
    "Glass",
    "Northern",
    "Quiet",
    "Burning",
    "Lost",
    "Golden",
    "Small",
    "Restless",
)
BOOK_NOUNS: tuple[str, ...] = (
    "Orchard",
    "Harbor",
    "Cartographer",
    "Lighthouse",
    "Garden",
    "River",
    "Archive",
    "Engine",
    "Kingdom",
    "Letters",
    "Atlas",
    "Clockmaker",
    "Meadow",
    "Signal",
)
BOOK_FORMS: tuple[str, ...] = ("Hardcover", "Paperback")
