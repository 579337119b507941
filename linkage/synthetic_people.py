"""The people behind the synthetic records: who they are, where they live, which identifiers
they have, and which of them are deliberately confusable (twins, parent and child of one name,
spouses, namesakes). ``linkage.synthetic`` draws each source's noisy view of them.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from itertools import accumulate
from math import log
from random import Random
from typing import Any

from linkage import synthetic_vocabulary as vocab

REFERENCE_ORDINAL = date(2025, 1, 1).toordinal()


def pick(items: Iterable, weights: Iterable[float]) -> Callable[[Callable[[], float]], Any]:
    """Weighted choice over fixed items, drawn with a ``random`` method; weights summed once."""
    items, cumulative = tuple(items), list(accumulate(weights))
    total = cumulative[-1]
    return lambda rnd: items[bisect(cumulative, rnd() * total)]


def _zipf(names: Sequence[str], offset: int = 10) -> Callable[[Callable[[], float]], str]:
    # The offset flattens the head: the top name gets a few percent, not a third of everyone.
    return pick(names, [1 / (rank + offset) for rank in range(1, len(names) + 1)])


def choice(rnd: Callable[[], float], seq: Sequence):
    # Several times faster than Random.choice, which matters at a million records.
    return seq[int(rnd() * len(seq))]


_COUNTRY = pick(vocab.COUNTRY_WEIGHTS, vocab.COUNTRY_WEIGHTS.values())
_GIVEN = {"F": _zipf(vocab.FEMALE_GIVEN_NAMES), "M": _zipf(vocab.MALE_GIVEN_NAMES)}
_FAMILY_HEAD = _zipf(vocab.COMMON_FAMILY_NAMES)
_TAIL = {c: pick(w, w.values()) for c, w in vocab.TAIL_WEIGHTS_BY_COUNTRY.items()}
_CITY = {c: pick(cities, [city[4] for city in cities]) for c, cities in vocab.CITIES.items()}
_PROVIDER = {c: pick([p for p, _ in ps], [w for _, w in ps])
             for c, ps in vocab.EMAIL_PROVIDERS.items()}
_EMAIL_PATTERN = pick(range(8), (30, 15, 12, 10, 6, 4, 15, 8))


class Person:
    """The truth about one real person, from which every source record is a noisy view."""

    __slots__ = ("pid", "scenario", "group", "country", "sex", "given", "family", "maiden",
                 "junior", "birth", "birth_iso", "home", "old_home", "mobile", "email",
                 "work_email", "national_id")


class Context:
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
    return choice(rnd, stems) + choice(rnd, suffixes)


def _birth(rng: Random, min_age: int = 18) -> date:
    days = rng.triangular(min_age * 365.25, 95 * 365.25, max(min_age, 35) * 365.25)
    return date.fromordinal(REFERENCE_ORDINAL - int(days))


def _phone(ctx: Context, country: str, city: tuple, mobile: bool) -> tuple:
    """A new phone number, kept as its parts so that each source can write it its own way."""
    rnd, prefixes = ctx.rnd, vocab.MOBILE_PREFIXES[country]
    if mobile and prefixes:
        area, length = choice(rnd, prefixes), vocab.PHONE_LENGTHS[country][1]
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


def street_line(country: str, number: str, stem: str, street_type: str) -> str:
    if country in ("DE", "NL"):
        return f"{stem}{street_type} {number}"
    if country == "FR":
        return f"{number} {street_type}{stem}"
    return f"{number} {stem} {street_type}"


def _postcode(rnd: Callable[[], float], country: str, prefix: str) -> str:
    if country == "GB":
        units = "ABDEFGHJLNPQRSTUWXYZ"
        return (f"{prefix}{1 + int(rnd() * 20)} {1 + int(rnd() * 9)}"
                f"{choice(rnd, units)}{choice(rnd, units)}")
    if country == "IE":
        chars = "ACDEFHKNPRTVWXY0123456789"
        return f"{prefix} {''.join([choice(rnd, chars) for _ in range(4)])}"
    if country == "NL":
        return f"{prefix}{int(rnd() * 100):02d} {choice(rnd, 'BCDEGHJKLMNPRTVWXZ')}" + \
            choice(rnd, "AEKPT")
    width = 5 - len(prefix)
    return f"{prefix}{int(rnd() * 10**width):0{width}d}"


def _home(ctx: Context, country: str, city: tuple | None = None) -> tuple:
    """A household: address fields plus an optional landline shared by all who live there."""
    rnd = ctx.rnd
    city = city or _CITY[country](rnd)
    stem = choice(rnd, vocab.STREET_STEMS[country])
    street_type = choice(rnd, vocab.STREET_TYPES[country])
    number = str(min(int(-30 * log(1.0 - rnd())) + 1, 999))  # mostly small house numbers
    line2 = None
    if rnd() < 0.15:
        line2 = choice(rnd, vocab.ADDRESS_LINE2[country]).format(n=1 + int(rnd() * 30))
    postcode = _postcode(rnd, country, choice(rnd, city[2]))
    landline = _phone(ctx, country, city, mobile=False) if rnd() < 0.55 else None
    return (street_line(country, number, stem, street_type), number, stem, street_type, line2,
            city[0], postcode, city[1], country, landline, city)


def _unique_email(ctx: Context, local: str, domain: str) -> str:
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


def _national_id(ctx: Context, country: str, sex: str, birth: date) -> str | None:
    """A made-up identifier shaped like the country's own; German customers have none."""
    rnd, letters = ctx.rnd, "ABCEGHJKLMNPRSTWXYZ"
    while True:
        if country == "GB":
            nid = (f"{choice(rnd, letters)}{choice(rnd, letters)}{int(rnd() * 1e6):06d}"
                   f"{choice(rnd, 'ABCD')}")
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


def _person(ctx: Context, pid: str, scenario: str, group: str | None, *, country=None,
            sex=None, given=None, family=None, birth=None, home=None) -> Person:
    """Draw one person; the keyword arguments pin attributes shared with a related person."""
    rnd, p = ctx.rnd, Person()
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
    if REFERENCE_ORDINAL - birth.toordinal() < 67 * 365 and rnd() < 0.45:
        domain = (f"{choice(rnd, vocab.EMPLOYER_NAMES)}-{choice(rnd, vocab.EMPLOYER_SECTORS)}"
                  f".{vocab.WORK_EMAIL_TLDS[country]}")
        p.work_email = _unique_email(ctx, f"{g}.{f}" if rnd() < 0.7 else g[0] + f, domain)
    p.national_id = _national_id(ctx, country, sex, birth) if rnd() < 0.6 else None
    return p


def _shift(rng: Random, birth: date, low_years: float, high_years: float) -> date:
    """A relative's birth date, some years later (or earlier) but still of an adult."""
    high_years = min(high_years, (REFERENCE_ORDINAL - birth.toordinal()) / 365.25 - 18.1)
    return date.fromordinal(birth.toordinal() + int(rng.uniform(low_years, high_years) * 365.25))


def draw_population(ctx: Context, size: int) -> list[Person]:
    """Draw ``size`` people; about 13% of them belong to a hard-negative group."""
    rng, rnd, people = ctx.rng, ctx.rnd, []

    def add(scenario: str, group: str | None, **pinned) -> Person:
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
            given, family, sex, country = choice(rnd, vocab.COMMON_FULL_NAMES)
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
