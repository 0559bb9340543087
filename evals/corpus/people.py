"""Who and what the generated documents are about: people, businesses, addresses.

Invented names and places; drawn from a seeded ``random.Random`` so that a corpus is the same on
every machine.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST_NAMES = (
    "Jordan", "Avery", "Maria", "Wei", "Priya", "Samuel", "Olivia", "Mateo", "Hannah", "Kwame",
    "Elena", "Dmitri", "Grace", "Tomás", "Aisha", "Noah", "Yuki", "Fatima", "Liam", "Rosa",
)  # fmt: skip
MIDDLE_INITIALS = ("A.", "B.", "J.", "K.", "L.", "M.", "R.", "T.", "")
LAST_NAMES = (
    "Rivera", "Nguyen", "Okafor", "Schmidt", "Patel", "Johnson", "Kowalski", "Haddad", "Chen",
    "Garcia", "O'Brien", "Lindqvist", "Moreau", "Tanaka", "Mensah", "Brooks", "Ivanova", "Diaz",
)  # fmt: skip
STREET_NAMES = (
    "Maple Ridge Drive", "Oak Street", "Harbor Way", "Lincoln Avenue", "Cedar Lane",
    "Sunset Boulevard", "River Road", "Elm Court", "Highland Terrace", "Park Place",
)  # fmt: skip
CITIES = (
    ("Columbus", "OH", "432"), ("Austin", "TX", "787"), ("Denver", "CO", "802"),
    ("Portland", "OR", "972"), ("Raleigh", "NC", "276"), ("Madison", "WI", "537"),
    ("Tucson", "AZ", "857"), ("Albany", "NY", "122"), ("Boise", "ID", "837"),
)  # fmt: skip
STATE_NAMES = {
    "OH": "Ohio", "TX": "Texas", "CO": "Colorado", "OR": "Oregon", "NC": "North Carolina",
    "WI": "Wisconsin", "AZ": "Arizona", "NY": "New York", "ID": "Idaho",
}  # fmt: skip
EMPLOYER_WORDS = (
    "Northwind", "Bluegate", "Summit", "Ironwood", "Lakeshore", "Pioneer", "Cobalt", "Redwood",
    "Granite", "Silverline", "Harborview", "Keystone",
)  # fmt: skip
EMPLOYER_TRADES = ("Logistics", "Health Partners", "Manufacturing", "Software", "Foods", "Builders")
EMPLOYER_SUFFIXES = ("LLC", "Inc.", "Corporation", "Co.")
BANK_NAMES = (
    "First Harbor Bank", "Prairie State Bank", "Keystone Federal Credit Union",
    "Lakeside Savings Bank", "Union Square Bank", "Cascade Community Credit Union",
)  # fmt: skip
UTILITY_NAMES = (
    "Evergreen Power & Light", "Riverbend Electric", "Metro Gas Utilities",
    "Clearwater Water Utility", "Summit Energy", "Bluesky Internet",
)  # fmt: skip


@dataclass(frozen=True)
class Party:
    """A person or a business with a postal address."""

    name: str
    street: str
    city_line: str  # "Columbus, OH 43214"
    state: str

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city_line}"


def _address(rng: random.Random) -> tuple[str, str, str]:
    city, state, zip_prefix = rng.choice(CITIES)
    street = f"{rng.randint(12, 9899)} {rng.choice(STREET_NAMES)}"
    return street, f"{city}, {state} {zip_prefix}{rng.randint(10, 99)}", state


def person(rng: random.Random) -> Party:
    middle = rng.choice(MIDDLE_INITIALS)
    name = " ".join(p for p in (rng.choice(FIRST_NAMES), middle, rng.choice(LAST_NAMES)) if p)
    street, city_line, state = _address(rng)
    return Party(name, street, city_line, state)


def employer(rng: random.Random) -> Party:
    words = (rng.choice(EMPLOYER_WORDS), rng.choice(EMPLOYER_TRADES), rng.choice(EMPLOYER_SUFFIXES))
    name = " ".join(words)
    street, city_line, state = _address(rng)
    return Party(name, street, city_line, state)


def business(rng: random.Random, names: tuple[str, ...]) -> Party:
    street, city_line, state = _address(rng)
    return Party(rng.choice(names), street, city_line, state)


def ssn(rng: random.Random) -> str:
    return f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"


def ein(rng: random.Random) -> str:
    return f"{rng.randint(10, 98)}-{rng.randint(1000000, 9999999)}"
