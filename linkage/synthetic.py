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
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from os import PathLike
from random import Random

import pandas as pd

from linkage import synthetic_vocabulary as vocab
from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.synthetic_people import (
    Context,
    Person,
    choice,
    draw_population,
    pick,
    street_line,
)

__all__ = [
    "DEFAULT_SOURCES", "RECORDS_PER_PERSON", "SCENARIOS", "generate_records",
    "generate_records_dataframe", "people_for", "write_csv",
]

Record = dict[str, str | None]

SCENARIOS: tuple[str, ...] = ("single", "twin", "parent_child", "spouse", "common_name")
DEFAULT_SOURCES: tuple[str, ...] = ("crm", "billing", "support", "webshop")
# Records per person with the default sources (see generate_records): 200,000 records hold
# about 96,000 people and 160,000 pairs of records of one person.
RECORDS_PER_PERSON = 2.09
_RECORD_KEYS = ("source", "source_key", "person_id", *CANONICAL_ATTRIBUTES)
_CSV_COLUMNS = ("source", "source_key", *CANONICAL_ATTRIBUTES, "cluster")
_NO_ADDRESS = dict.fromkeys(("address_line", "address_line2", "locality", "postcode", "region"))
_KEY_MIX, _KEY_MASK = 0x9E3779B97F4B, (1 << 48) - 1


class _Profile:
    """How one kind of source captures and mangles data (fields: vocab.SOURCE_PROFILES)."""

    def __init__(self, source: str) -> None:
        fields = vocab.SOURCE_PROFILES.get(source) or {
            **vocab.DEFAULT_SOURCE_PROFILE, "key_prefix": source.upper() + "-"}
        self.key_width, self.key_start, self.hashed_keys = 0, 1, False
        self.__dict__.update(fields)
        self.phone_style = pick(range(7), self.phone_styles)
        self.missing_by_key = [(k, q) for k, q in zip(CANONICAL_ATTRIBUTES, self.missing,
                                                      strict=True) if q]


def _typo(rnd: Callable[[], float], text: str) -> str:
    """One slip of the keyboard: insert, delete, substitute or transpose (never the first)."""
    if len(text) < 3:
        return text
    i, op, letter = 1 + int(rnd() * (len(text) - 1)), rnd(), choice(rnd, "etaoinshrdlucmw")
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
        i = choice(rnd, (3, 5, 6, 8, 9))  # not the decade: nobody is born in 2096
        try:
            return date.fromisoformat(
                f"{text[:i]}{(int(text[i]) + choice(rnd, (1, 9))) % 10}{text[i + 1:]}"
            ).isoformat()
        except ValueError:
            pass  # e.g. month 13: fall back to the year slip
    year = birth.year + choice(rnd, (-1, 1))
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
        return f"{local}+{choice(rnd, vocab.PLUS_TAGS)}@{domain}"
    return f"{_typo(rnd, local)}@{domain}"


def _view(rnd: Callable[[], float], p: Person, prof: _Profile, source: str, new_name: bool,
          new_home: bool) -> Record:
    """One source's record of a person, with that source's noise and gaps."""
    given, family = p.given, (p.family if new_name or p.maiden is None else p.maiden)
    roll = rnd()
    if roll < prof.nickname:
        given = choice(rnd, vocab.NICKNAMES.get(given, (given,)))
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
        line = street_line(country, number, _typo(rnd, stem), street_type)
    elif roll > 0.85:  # "Rd" for "Road", "str." for "straße"
        short = vocab.STREET_ABBREVIATIONS.get(street_type, street_type)
        line = street_line(country, number, stem, short)
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
    # Most people are known to one or two systems, a good few to all of them (a customer who
    # buys online, is invoiced and calls support is in four).
    if count == 1:
        return lambda rnd: 1
    weights = ([0.37, 0.33, 0.16] + [0.04 / 2**i for i in range(count)])[:count - 1] + [0.14]
    return pick(range(1, count + 1), weights)


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

    With the four default sources a person has about 2.09 records on average
    (``RECORDS_PER_PERSON``: 37% are in one source, 33% in two, 16% in three, 14% in all four,
    and ~2% are registered twice in one), so 200,000 records hold about 160,000 true pairs;
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
    ctx = Context(seed)
    rng, rnd, population = ctx.rng, ctx.rnd, draw_population(ctx, people)
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
            chosen.append(choice(rnd, chosen))
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


def people_for(records: int, *, at_least: bool = False) -> int:
    """How many people to generate for about ``records`` records with the default sources;
    ``at_least``: a few more, so that no fewer come out (for callers cutting to size)."""
    if at_least:
        return round(records * 1.03 / RECORDS_PER_PERSON) + 10
    return max(1, round(records / RECORDS_PER_PERSON))


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
