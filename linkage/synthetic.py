"""Deterministic synthetic customer records with realistic duplicates and hard negatives.

Used by the demo (to seed the demo sources), by benchmarks and by matching-quality evaluation:
every record carries ``person_id``, the truth, so a matcher's clusters can be scored.

A population of people is drawn first (some in deliberately confusable groups: twins, parent and
child of the same name, spouses, namesakes); each person's appearances in the sources are then
independent noisy views: typos, nicknames, old names and addresses, other email addresses and
phone formats, missing fields. Only ``random.Random(seed)`` is used and ages are computed against
a fixed date, so the same arguments give the same records on every run, on any day.
"""

from __future__ import annotations

import csv
import gc
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from itertools import accumulate
from math import log
from os import PathLike
from random import Random
from typing import Any

import pandas as pd

from linkage import synthetic_vocabulary as vocab
from linkage.attributes import CANONICAL_ATTRIBUTES

__all__ = [
    "DEFAULT_SOURCES", "SCENARIOS", "generate_records", "generate_records_dataframe", "write_csv",
]

Record = dict[str, str | None]

SCENARIOS: tuple[str, ...] = ("single", "twin", "parent_child", "spouse", "common_name")
DEFAULT_SOURCES: tuple[str, ...] = ("crm", "billing", "support", "webshop")
_REFERENCE_ORDINAL = date(2025, 1, 1).toordinal()
_RECORD_KEYS = ("source", "source_key", "person_id", *CANONICAL_ATTRIBUTES)
_CSV_COLUMNS = ("source", "source_key", *CANONICAL_ATTRIBUTES, "cluster")
_NO_ADDRESS = dict.fromkeys(("address_line", "address_line2", "locality", "postcode", "region"))
_KEY_MIX, _KEY_MASK = 0x9E3779B97F4B, (1 << 48) - 1


def _pick(items: Iterable, weights: Iterable[float]) -> Callable[[Callable[[], float]], Any]:
    """Weighted choice over fixed items, drawn with a ``random`` method; weights summed once."""
    items, cumulative = tuple(items), list(accumulate(weights))
    total = cumulative[-1]
    return lambda rnd: items[bisect(cumulative, rnd() * total)]


def _zipf(names: Sequence[str], offset: int = 10) -> Callable[[Callable[[], float]], str]:
    # The offset flattens the head: the top name gets a few percent, not a third of everyone.
    return _pick(names, [1 / (rank + offset) for rank in range(1, len(names) + 1)])


def _choice(rnd: Callable[[], float], seq: Sequence):
    # Several times faster than Random.choice, which matters at a million records.
    return seq[int(rnd() * len(seq))]


_COUNTRY = _pick(vocab.COUNTRY_WEIGHTS, vocab.COUNTRY_WEIGHTS.values())
_GIVEN = {"F": _zipf(vocab.FEMALE_GIVEN_NAMES), "M": _zipf(vocab.MALE_GIVEN_NAMES)}
_FAMILY_HEAD = _zipf(vocab.COMMON_FAMILY_NAMES)
_TAIL = {c: _pick(w, w.values()) for c, w in vocab.TAIL_WEIGHTS_BY_COUNTRY.items()}
_CITY = {c: _pick(cities, [city[4] for city in cities]) for c, cities in vocab.CITIES.items()}
_PROVIDER = {c: _pick([p for p, _ in ps], [w for _, w in ps])
             for c, ps in vocab.EMAIL_PROVIDERS.items()}
_EMAIL_PATTERN = _pick(range(8), (30, 15, 12, 10, 6, 4, 15, 8))


class _Profile:
    """How one kind of source captures and mangles data (fields: vocab.SOURCE_PROFILES)."""

    def __init__(self, source: str) -> None:
        fields = vocab.SOURCE_PROFILES.get(source) or {
            **vocab.DEFAULT_SOURCE_PROFILE, "key_prefix": source.upper() + "-"}
        self.key_width, self.key_start, self.hashed_keys = 0, 1, False
        self.__dict__.update(fields)
        self.phone_style = _pick(range(7), self.phone_styles)
        self.missing_by_key = [(k, q) for k, q in zip(CANONICAL_ATTRIBUTES, self.missing,
                                                      strict=True) if q]


class _Person:
    """The truth about one real person, from which every source record is a noisy view."""

    __slots__ = ("pid", "scenario", "group", "country", "sex", "given", "family", "maiden",
                 "junior", "birth", "birth_iso", "home", "old_home", "mobile", "email",
                 "work_email", "national_id")


class _Context:
    """Generator state: the random stream and the identifiers already issued (kept unique)."""

    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)
        self.rnd = self.rng.random
        self.issued: set[str] = set()  # phones, emails, national IDs: no format overlaps


_ASCII_CACHE: dict[str, str] = {}


def _ascii(name: str) -> str:
    """Fold a name for an email local part: "Łukasz" -> "lukasz", "O'Brien" -> "obrien"."""
    folded = _ASCII_CACHE.get(name)
    if folded is None:
        text = name.lower().replace("ł", "l").replace("ß", "ss").replace("ø", "o")
        text = unicodedata.normalize("NFKD", text)
        folded = "".join(ch for ch in text if ch.isascii() and ch.isalnum()) or "x"
        _ASCII_CACHE[name] = folded
    return folded


def _family(rnd: Callable[[], float], country: str) -> str:
    if rnd() < 0.5:
        return _FAMILY_HEAD(rnd)
    stems, suffixes = vocab.FAMILY_NAME_TAILS[_TAIL[country](rnd)]
    return _choice(rnd, stems) + _choice(rnd, suffixes)


def _birth(rng: Random, min_age: int = 18) -> date:
    days = rng.triangular(min_age * 365.25, 95 * 365.25, max(min_age, 35) * 365.25)
    return date.fromordinal(_REFERENCE_ORDINAL - int(days))


def _phone(ctx: _Context, country: str, city: tuple, mobile: bool) -> tuple:
    """A new phone number, kept as its parts so that each source can write it its own way."""
    rnd, prefixes = ctx.rnd, vocab.MOBILE_PREFIXES[country]
    if mobile and prefixes:
        area, length = _choice(rnd, prefixes), vocab.PHONE_LENGTHS[country][1]
        cut = 4 if country == "GB" else len(area)  # "07700 900123"
    else:  # landlines, and US mobiles, use the city's area code
        area, length, cut = city[3], vocab.PHONE_LENGTHS[country][0], len(city[3])
    low = 2 * 10 ** (length - len(area) - 1)
    while True:
        # Subscriber numbers start with 2-9: a leading 0 or 1 reads like a trunk or short code.
        nsn = f"{area}{low + int(rnd() * 4 * low)}"
        if nsn not in ctx.issued:
            ctx.issued.add(nsn)
            break
    area, rest = nsn[:cut], nsn[cut:]
    if country == "FR":
        rest = " ".join(rest[i:i + 2] for i in range(0, len(rest), 2))
    elif country == "US":
        rest = f"{rest[:3]}-{rest[3:]}"
    elif country != "DE" and len(rest) >= 7:
        rest = f"{rest[:-4]} {rest[-4:]}"
    if country == "US":
        return (vocab.US_PHONE_TEMPLATES, "1", area, nsn, rest, rest.replace("-", " "),
                rest.replace("-", "."))
    return vocab.PHONE_TEMPLATES, vocab.CALLING_CODES[country], area, nsn, rest


def _street_line(country: str, number: str, stem: str, street_type: str) -> str:
    if country in ("DE", "NL"):
        return f"{stem}{street_type} {number}"
    if country == "FR":
        return f"{number} {street_type}{stem}"
    return f"{number} {stem} {street_type}"


def _postcode(rnd: Callable[[], float], country: str, prefix: str) -> str:
    if country == "GB":
        units = "ABDEFGHJLNPQRSTUWXYZ"
        return (f"{prefix}{1 + int(rnd() * 20)} {1 + int(rnd() * 9)}"
                f"{_choice(rnd, units)}{_choice(rnd, units)}")
    if country == "IE":
        chars = "ACDEFHKNPRTVWXY0123456789"
        return f"{prefix} {''.join([_choice(rnd, chars) for _ in range(4)])}"
    if country == "NL":
        return f"{prefix}{int(rnd() * 100):02d} {_choice(rnd, 'BCDEGHJKLMNPRTVWXZ')}" + \
            _choice(rnd, "AEKPT")
    width = 5 - len(prefix)
    return f"{prefix}{int(rnd() * 10**width):0{width}d}"


def _home(ctx: _Context, country: str, city: tuple | None = None) -> tuple:
    """A household: address fields plus an optional landline shared by all who live there."""
    rnd = ctx.rnd
    city = city or _CITY[country](rnd)
    stem = _choice(rnd, vocab.STREET_STEMS[country])
    street_type = _choice(rnd, vocab.STREET_TYPES[country])
    number = str(min(int(-30 * log(1.0 - rnd())) + 1, 999))  # mostly small house numbers
    line2 = None
    if rnd() < 0.15:
        line2 = _choice(rnd, vocab.ADDRESS_LINE2[country]).format(n=1 + int(rnd() * 30))
    postcode = _postcode(rnd, country, _choice(rnd, city[2]))
    landline = _phone(ctx, country, city, mobile=False) if rnd() < 0.55 else None
    return (_street_line(country, number, stem, street_type), number, stem, street_type, line2,
            city[0], postcode, city[1], country, landline, city)


def _unique_email(ctx: _Context, local: str, domain: str) -> str:
    email, tries = f"{local}@{domain}", 0
    # A mailbox name is taken once per provider, as in reality; Gmail ignores dots, so there
    # "john.smith" and "johnsmith" are one mailbox and only one of them can be issued.
    while _mailbox(email) in ctx.issued:
        tries += 1  # widen the range so that even a million John Smiths find a free name
        email = f"{local}{1 + int(ctx.rnd() * 100 * tries * tries)}@{domain}"
    ctx.issued.add(_mailbox(email))
    return email


def _mailbox(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local.replace('.', '')}@{domain}" if domain == "gmail.com" else email


# Local parts people choose: "john.smith", "jsmith", "john.smith84", "smith.john", ...
_EMAIL_LOCALS: tuple[Callable[[str, str, int, int], str], ...] = (
    lambda g, f, y, n: f"{g}.{f}", lambda g, f, y, n: f"{g}{f}", lambda g, f, y, n: g[0] + f,
    lambda g, f, y, n: f"{g}.{f}{y:02d}", lambda g, f, y, n: f"{f}.{g}",
    lambda g, f, y, n: f"{g}_{f}", lambda g, f, y, n: f"{g}{f}{n}",
    lambda g, f, y, n: f"{g[0]}.{f}",
)


def _national_id(ctx: _Context, country: str, sex: str, birth: date) -> str | None:
    """A made-up identifier shaped like the country's own; German customers have none."""
    rnd, letters = ctx.rnd, "ABCEGHJKLMNPRSTWXYZ"
    while True:
        if country == "GB":
            nid = (f"{_choice(rnd, letters)}{_choice(rnd, letters)}{int(rnd() * 1e6):06d}"
                   f"{_choice(rnd, 'ABCD')}")
        elif country == "US":
            nid = (f"{1 + int(rnd() * 665):03d}-{1 + int(rnd() * 99):02d}-"
                   f"{1 + int(rnd() * 9999):04d}")
        elif country == "FR":  # sex, birth year and month, place, serial, mod-97 key
            body = (f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}"
                    f"{1 + int(rnd() * 95):02d}{1 + int(rnd() * 999999):06d}")
            nid = f"{body}{97 - int(body) % 97:02d}"
        elif country in ("IE", "NL"):  # with a weighted check character, as the real ones
            digits = f"{int(rnd() * 9e7) + 10**7 if country == 'NL' else int(rnd() * 1e7):07d}"
            total = sum(int(d) * w for d, w in zip(digits, range(len(digits) + 1, 1, -1),
                                                   strict=True))
            if country == "IE":
                nid = digits + "WABCDEFGHIJKLMNOPQRSTUV"[total % 23]
            elif total % 11 == 10:
                continue
            else:
                nid = f"{digits}{total % 11}"  # passes the Dutch "elfproef"
        else:
            return None
        if nid not in ctx.issued:
            ctx.issued.add(nid)
            return nid


def _person(ctx: _Context, pid: str, scenario: str, group: str | None, *, country=None,
            sex=None, given=None, family=None, birth=None, home=None) -> _Person:
    """Draw one person; the keyword arguments pin attributes shared with a related person."""
    rnd, p = ctx.rnd, _Person()
    p.pid, p.scenario, p.group = pid, scenario, group
    p.country = country = country or _COUNTRY(rnd)
    p.sex = sex = sex or ("F" if rnd() < 0.5 else "M")
    p.given = given = given or _GIVEN[sex](rnd)
    p.family = family = family or _family(rnd, country)
    p.maiden, p.junior, p.old_home = None, False, None
    p.birth = birth = birth or _birth(ctx.rng)
    p.birth_iso = birth.isoformat()
    p.home = home = home or _home(ctx, country)
    p.mobile = _phone(ctx, country, home[10], mobile=True)
    g, f = _ascii(given), _ascii(family)
    local = _EMAIL_LOCALS[_EMAIL_PATTERN(rnd)](g, f, birth.year % 100, 1 + int(rnd() * 99))
    p.email = _unique_email(ctx, local, _PROVIDER[country](rnd))
    p.work_email = None
    if _REFERENCE_ORDINAL - birth.toordinal() < 67 * 365 and rnd() < 0.45:
        domain = (f"{_choice(rnd, vocab.EMPLOYER_NAMES)}-{_choice(rnd, vocab.EMPLOYER_SECTORS)}"
                  f".{vocab.WORK_EMAIL_TLDS[country]}")
        p.work_email = _unique_email(ctx, f"{g}.{f}" if rnd() < 0.7 else g[0] + f, domain)
    p.national_id = _national_id(ctx, country, sex, birth) if rnd() < 0.6 else None
    return p


def _shift(rng: Random, birth: date, low_years: float, high_years: float) -> date:
    """A relative's birth date, some years later (or earlier) but still of an adult."""
    high_years = min(high_years, (_REFERENCE_ORDINAL - birth.toordinal()) / 365.25 - 18.1)
    return date.fromordinal(birth.toordinal() + int(rng.uniform(low_years, high_years) * 365.25))


def _population(ctx: _Context, size: int) -> list[_Person]:
    """Draw ``size`` people; about 13% of them belong to a hard-negative group."""
    rng, rnd, people = ctx.rng, ctx.rnd, []

    def add(scenario: str, group: str | None, **pinned) -> _Person:
        people.append(_person(ctx, f"P{len(people) + 1:07d}", scenario, group, **pinned))
        return people[-1]

    while len(people) < size:
        room, roll, group = size - len(people), rnd(), f"G{len(people) + 1:07d}"
        if room < 2 or roll >= 0.085:
            p = add("single", None)
            if p.sex == "F" and p.birth.year < 2001 and rnd() < 0.12:
                p.maiden, p.family = p.family, _family(rnd, p.country)  # email keeps the maiden
        elif roll < 0.015:  # twins: one household, one birthday, one family name
            a = add("twin", group)
            sex, given = a.sex, a.given
            while given == a.given:
                sex = "F" if rnd() < 0.5 else "M"
                given = _GIVEN[sex](rnd)
            add("twin", group, country=a.country, sex=sex, given=given, family=a.family,
                birth=a.birth, home=a.home)
        elif roll < 0.03:  # "John Smith" and "John Smith Jr." at the same address
            a = add("parent_child", group, birth=_birth(rng, min_age=50))
            child = add("parent_child", group, country=a.country, sex=a.sex, given=a.given,
                        family=a.family, birth=_shift(rng, a.birth, 20, 40), home=a.home)
            child.junior = a.sex == "M"
        elif roll < 0.075:  # spouses: one household and landline, sometimes one mailbox
            a = add("spouse", group, sex="M" if rnd() < 0.95 else "F")
            sex = ("F" if a.sex == "M" else "M") if rnd() < 0.94 else a.sex
            b = add("spouse", group, country=a.country, sex=sex, home=a.home,
                    birth=_shift(rng, a.birth, -6, 6))
            if sex == "F" and a.sex == "M" and rnd() < 0.7:
                b.maiden, b.family = b.family, a.family
            if rnd() < 0.3:
                local = f"{_ascii(a.given)}and{_ascii(b.given)}"
                a.email = b.email = _unique_email(ctx, local, _PROVIDER[a.country](rnd))
        else:  # namesakes: a very common full name and the same birth year, nothing else
            given, family, sex, country = _choice(rnd, vocab.COMMON_FULL_NAMES)
            year, first = _birth(rng).year, None
            for _ in range(min(room, 2 + int(rnd() * 2))):
                birth = date.fromordinal(date(year, 1, 1).toordinal() + int(rnd() * 365))
                city = first.home[10] if first and rnd() < 0.5 else None
                p = add("common_name", group, country=country, sex=sex, given=given,
                        family=family, birth=birth, home=_home(ctx, country, city))
                first = first or p
    for p in people:  # some people moved house between their records
        if rnd() < 0.12:
            city = p.home[10] if rnd() < 0.6 else None
            p.old_home, p.home = p.home, _home(ctx, p.country, city)
    return people


def _typo(rnd: Callable[[], float], text: str) -> str:
    """One slip of the keyboard: insert, delete, substitute or transpose (never the first)."""
    if len(text) < 3:
        return text
    i, op, letter = 1 + int(rnd() * (len(text) - 1)), rnd(), _choice(rnd, "etaoinshrdlucmw")
    if op < 0.25:
        return text[:i] + letter + text[i:]
    if op < 0.5:
        return text[:i] + text[i + 1:]
    if op < 0.75:
        return text[:i] + letter + text[i + 1:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def _birth_typo(rnd: Callable[[], float], birth: date) -> str:
    """A wrong but valid date: day and month swapped, one digit off, or the year off by one."""
    roll, text = rnd(), birth.isoformat()
    if roll < 0.35 and birth.day <= 12 and birth.day != birth.month:
        return date(birth.year, birth.day, birth.month).isoformat()
    if roll < 0.7:
        i = _choice(rnd, (3, 5, 6, 8, 9))  # not the decade: nobody is born in 2096
        try:
            return date.fromisoformat(
                f"{text[:i]}{(int(text[i]) + _choice(rnd, (1, 9))) % 10}{text[i + 1:]}"
            ).isoformat()
        except ValueError:
            pass  # e.g. month 13: fall back to the year slip
    year = birth.year + _choice(rnd, (-1, 1))
    return date(year, birth.month, min(birth.day, 28 if birth.month == 2 else 31)).isoformat()


def _email_variant(rnd: Callable[[], float], email: str) -> str:
    local, _, domain = email.partition("@")
    roll = rnd()
    if roll < 0.3:
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain
    if roll < 0.4:
        return email.upper()
    if roll < 0.65 and domain == "gmail.com":  # Gmail ignores dots in the local part
        if "." in local:
            return local.replace(".", "") + "@gmail.com"
        i = 1 + int(rnd() * (len(local) - 1))
        return f"{local[:i]}.{local[i:]}@{'googlemail.com' if roll < 0.45 else domain}"
    if roll < 0.9 and domain in vocab.PLUS_TAG_PROVIDERS:
        return f"{local}+{_choice(rnd, vocab.PLUS_TAGS)}@{domain}"
    return f"{_typo(rnd, local)}@{domain}"


def _view(rnd: Callable[[], float], p: _Person, prof: _Profile, source: str, new_name: bool,
          new_home: bool) -> Record:
    """One source's record of a person, with that source's noise and gaps."""
    given, family = p.given, (p.family if new_name or p.maiden is None else p.maiden)
    roll = rnd()
    if roll < prof.nickname:
        given = _choice(rnd, vocab.NICKNAMES.get(given, (given,)))
    elif roll < prof.nickname + prof.initial:
        given = given[0] + "."
    if p.junior and rnd() < 0.15:
        family += " Jr."
    if rnd() < prof.typo:
        given = _typo(rnd, given)
    if rnd() < prof.typo:
        family = _typo(rnd, family)
    roll = rnd()
    if roll < 0.01:
        given, family = family, given
    elif roll < 0.02:
        given, family = given.upper(), family.upper()
    elif roll < 0.03:
        given, family = given.lower(), family.lower()

    birth = p.birth_iso if rnd() >= 0.03 else _birth_typo(rnd, p.birth)
    email = p.work_email if p.work_email and rnd() < prof.work_email else p.email
    if rnd() < prof.email_noise:
        email = _email_variant(rnd, email)

    home = p.home if new_home or p.old_home is None else p.old_home
    line, number, stem, street_type, line2, locality, postcode, region, country = home[:9]
    templates, *parts = home[9] if home[9] and rnd() < prof.landline else p.mobile
    phone = templates[prof.phone_style(rnd)].format(*parts)
    if rnd() < 0.01:  # a misdialled digit
        i = int(rnd() * len(phone))
        if phone[i].isdigit():
            phone = f"{phone[:i]}{int(rnd() * 10)}{phone[i + 1:]}"
    roll = rnd()
    if roll < prof.typo:
        line = _street_line(country, number, _typo(rnd, stem), street_type)
    elif roll > 0.85:  # "Rd" for "Road", "str." for "straße"
        short = vocab.STREET_ABBREVIATIONS.get(street_type, street_type)
        line = _street_line(country, number, stem, short)
    if line2 and rnd() < 0.2:
        line, line2 = f"{line2}, {line}", None
    roll = rnd()
    if roll < 0.08 and " " in postcode:
        postcode = postcode.replace(" ", "") if roll < 0.05 else postcode.lower()
    if rnd() < prof.typo * 0.3:
        locality = _typo(rnd, locality)
    national_id = p.national_id
    if national_id and rnd() < 0.2 and country in vocab.NATIONAL_ID_GROUPS:  # typed with spaces
        national_id = " ".join(national_id[a:b] for a, b in vocab.NATIONAL_ID_GROUPS[country])

    record: Record = {
        "source": source, "source_key": None, "person_id": p.pid, "given_name": given,
        "family_name": family, "birth_date": birth, "email": email, "phone": phone,
        "address_line": line, "address_line2": line2, "locality": locality,
        "postcode": postcode, "region": region, "country": country, "national_id": national_id,
    }
    if rnd() < prof.no_address:
        record.update(_NO_ADDRESS)
    for key, chance in prof.missing_by_key:
        if rnd() < chance:
            record[key] = None
    return record


def _source_counts(count: int) -> Callable[[Callable[[], float]], int]:
    # Most people are known to one or two systems, a few to all of them.
    if count == 1:
        return lambda rnd: 1
    weights = ([0.47, 0.35, 0.11] + [0.04 / 2**i for i in range(count)])[:count - 1] + [0.07]
    return _pick(range(1, count + 1), weights)


def _assign_keys(rng: Random, records: list[Record], prof: _Profile) -> None:
    rng.shuffle(records)  # keys must not reveal which records belong together
    if prof.hashed_keys:
        salt = rng.getrandbits(48)
        for i, record in enumerate(records, start=1):
            mixed = (i * _KEY_MIX + salt) & _KEY_MASK  # odd multiplier: a bijection, no clashes
            record["source_key"] = f"{prof.key_prefix}{mixed ^ (mixed >> 23):012x}"
        return
    number, width, rnd = prof.key_start, prof.key_width, rng.random
    for record in records:
        record["source_key"] = f"{prof.key_prefix}{number:0{width}d}"
        number += 1 if rnd() > 0.1 else 2 + int(rnd() * 8)  # gaps left by deletions


def generate_records(*, people: int, seed: int = 0, sources: Sequence[str] = DEFAULT_SOURCES,
                     with_scenarios: bool = False) -> list[Record]:
    """Generate synthetic source records for ``people`` distinct people.

    Each record has ``source``, ``source_key`` (unique within the source, in that source's
    style: "CRM-000123", "INV-C-10042", "SUP-4fa93c0d1e27", "WS-10023"; other source codes give
    "CODE-0000001"), ``person_id`` (the truth) and every canonical attribute (a string or None).
    Records come grouped by source, in the order of ``sources``, each source in key order.

    With the four default sources a person has about 1.8 records on average (47% are in one
    source, 35% in two, 11% in three, 7% in all four, and ~2% are registered twice in one);
    fewer sources give fewer records per person. About 13% of people are hard negatives: twins,
    parent and child of the same name, spouses, and namesakes born in the same year.
    ``with_scenarios=True`` adds ``scenario`` (one of ``SCENARIOS``) and ``scenario_group``
    (shared within a group, None for "single") and changes nothing else.
    """
    if isinstance(sources, str) or not sources or len(set(sources)) != len(sources):
        raise ValueError("sources must be a non-empty sequence of distinct source codes")
    if people < 0:
        raise ValueError("people must not be negative")
    collecting = gc.isenabled()
    gc.disable()  # millions of new acyclic objects: collector passes would only cost time
    try:
        return _generate(people, seed, sources, with_scenarios)
    finally:
        if collecting:
            gc.enable()


def _generate(people: int, seed: int, sources: Sequence[str], with_scenarios: bool,
              ) -> list[Record]:
    ctx = _Context(seed)
    rng, rnd, population = ctx.rng, ctx.rnd, _population(ctx, people)
    del ctx  # the set of issued identifiers is not needed any more
    profiles = [_Profile(source) for source in sources]
    inverse_weights = [1 / prof.weight for prof in profiles]
    how_many, indexes = _source_counts(len(sources)), range(len(sources))
    buckets: list[list[Record]] = [[] for _ in sources]
    for p in population:
        # Weighted sampling without replacement (Efraimidis-Spirakis). The order doubles as
        # the order in which the systems got to know the person: old name first, then new.
        keys = [rnd() ** w for w in inverse_weights]
        chosen = sorted(indexes, key=keys.__getitem__, reverse=True)[:how_many(rnd)]
        if rnd() < 0.02:  # registered twice in the same system
            chosen.append(_choice(rnd, chosen))
        n = len(chosen)
        # From which appearance on the person shows the new name / the new address.
        name_change = 1 + int(rnd() * (n - 1)) if n > 1 else int(rnd() * 2)
        move = 1 + int(rnd() * (n - 1)) if n > 1 else int(rnd() * 2)
        for i, j in enumerate(chosen):
            record = _view(rnd, p, profiles[j], sources[j], i >= name_change, i >= move)
            if with_scenarios:
                record["scenario"], record["scenario_group"] = p.scenario, p.group
            buckets[j].append(record)
    for bucket, prof in zip(buckets, profiles, strict=True):
        _assign_keys(rng, bucket, prof)
    return [record for bucket in buckets for record in bucket]


def generate_records_dataframe(*, people: int, seed: int = 0,
                               sources: Sequence[str] = DEFAULT_SOURCES,
                               with_scenarios: bool = False) -> pd.DataFrame:
    """``generate_records`` as a DataFrame (object columns, None where a value is missing)."""
    records = generate_records(people=people, seed=seed, sources=sources,
                               with_scenarios=with_scenarios)
    columns = [*_RECORD_KEYS, *(("scenario", "scenario_group") if with_scenarios else ())]
    return pd.DataFrame.from_records(records, columns=columns)  # keeps None, not NaN


def write_csv(path: str | PathLike[str], records: Iterable[Mapping[str, str | None]]) -> int:
    """Write records as UTF-8 CSV: source, source_key, the canonical attributes and ``cluster``
    (the ``person_id``); missing values become empty cells. Returns the number of rows."""
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_CSV_COLUMNS)
        for record in records:
            writer.writerow([record["source"], record["source_key"],
                             *(record[a] for a in CANONICAL_ATTRIBUTES), record["person_id"]])
            rows += 1
    return rows
