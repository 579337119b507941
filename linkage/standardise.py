"""Standardise the canonical key attributes of a customer record before matching.

Every source writes names, phones and dates its own way; comparisons only make sense once
"José  O'Brien" and "jose obrien" look the same. Each attribute kind has one function that
returns the standardised string, None when the value is missing or a placeholder, or raises
InvalidValue when a value is present but cannot be right. `standardise_record` applies them to a
whole record and collects the reasons instead of raising.

Reasons are fixed short phrases: they end up in review tasks and events, which must never carry
personal data, so a reason never quotes the value it rejects.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import phonenumbers
import pycountry
from anyascii import anyascii

from linkage.attributes import CANONICAL_ATTRIBUTES, MAX_LENGTHS
from linkage.standardise_vocabulary import (  # noqa: F401 - importable from here too
    COUNTRY_ALIASES,
    MIN_SAME_DIGIT_PLACEHOLDER,
    NAME_SUFFIXES,
    NAME_TITLES,
    PLACEHOLDER_EMAIL_DOMAINS,
    PLACEHOLDER_EMAIL_LOCAL_PARTS,
    PLACEHOLDER_EMAILS,
    PLACEHOLDER_PHONE_DIGITS,
    PLACEHOLDER_VALUES,
)
from linkage.street_types import short_street_types

EARLIEST_BIRTH_DATE = dt.date(1880, 1, 1)

_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Apostrophes and dots join the parts of a word (O'Brien, St.John); anything else separates.
_JOINING_PUNCTUATION = re.compile(r"['`.]")
_NON_ALPHA = re.compile(r"[^a-z]+")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WHITESPACE = re.compile(r"\s+")
_NATIONAL_ID_SEPARATORS = re.compile(r"[\s\-./]+")
_NON_DIGIT = re.compile(r"\D")


class InvalidValue(ValueError):
    """A value is present but cannot be a correct value of its attribute."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StandardisedRecord:
    """A record's canonical attributes after standardisation.

    `values` has every canonical attribute as a key (None when missing or rejected);
    `problems` maps an attribute (or an unexpected key) to the reason the record must be
    rejected; `invalid` maps an attribute to the reason its value is unusable but tolerated
    (treated as missing, and counted as a data-quality issue of the source).
    """

    values: dict[str, str | None]
    problems: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, str] = field(default_factory=dict)


def _present(value: str | None) -> str | None:
    """Return the stripped value, or None when it is missing or a generic placeholder."""
    if value is None:
        return None
    stripped = value.strip()
    if not stripped or stripped.casefold() in PLACEHOLDER_VALUES:
        return None
    return stripped


def _fold_words(value: str, non_word: re.Pattern[str]) -> list[str]:
    """Transliterate to ASCII, lower-case and split into words on anything `non_word` matches."""
    # anyascii before lowering: it maps ß, ø, ł, æ and curly quotes, which NFKD leaves alone,
    # and may emit capitals for some scripts.
    ascii_text = anyascii(value).lower()
    joined = _JOINING_PUNCTUATION.sub("", ascii_text)
    return non_word.sub(" ", joined).split()


def _strip_titles(words: list[str]) -> list[str]:
    """Drop leading titles and trailing suffixes, but never the last remaining word."""
    # "Lord" or "Dame" can be a surname on its own, so a lone word is always kept.
    start, end = 0, len(words)
    while end - start > 1 and words[start] in NAME_TITLES:
        start += 1
    while end - start > 1 and words[end - 1] in NAME_SUFFIXES:
        end -= 1
    return words[start:end]


def standardise_name(value: str | None) -> str | None:
    """Standardise a given or family name: ASCII lower case, words separated by one space.

    Diacritics are transliterated (Łukasz -> lukasz, Straße -> strasse), apostrophes and dots
    removed (O'Brien -> obrien), hyphens and other punctuation become a space, and titles or
    suffixes such as "Mr" or "Jr" at the start or end are dropped.
    """
    present = _present(value)
    if present is None:
        return None
    words = _strip_titles(_fold_words(present, _NON_ALPHA))
    return " ".join(words) or None


def split_whole_name(given: str | None, family: str | None) -> tuple[str | None, str | None]:
    """Standardised (given, family) with a whole name typed into the given-name field split up.

    Support desks and web shops often have one "name" field, mapped to the given name: with no
    family name, "john paul smith" becomes given "john paul", family "smith". A name written
    family first ("smith john") comes out swapped, which the swapped levels recognise. A last
    word of one letter is an initial or a stray space ("sachi n"), not a family name: kept.
    """
    if family is None and given is not None and " " in given:
        first, last = given.rsplit(" ", 1)
        if len(last) > 1:
            return first, last
    return given, family


def standardise_text(value: str | None) -> str | None:
    """Standardise free address text (address lines, locality, region) like a name.

    Digits are kept and no titles are removed: "12, Rue de l'Église" -> "12 rue de leglise".
    """
    present = _present(value)
    if present is None:
        return None
    return " ".join(_fold_words(present, _NON_ALNUM)) or None


def standardise_address_line(value: str | None) -> str | None:
    """Standardise an address line like free text, with street types in one short form.

    "12 High Street" and "12 high st." both give "12 high st"; "Hauptstraße 5" and
    "Hauptstr. 5" both "hauptstr 5" (``linkage.street_types``). Sources abbreviate street
    types as they please, and the line is then compared (and blocked on) as one string.
    """
    text = standardise_text(value)
    return None if text is None else short_street_types(text)


def _is_placeholder_email(email: str) -> bool:
    local, _, domain = email.partition("@")
    return (
        email in PLACEHOLDER_EMAILS
        or local in PLACEHOLDER_EMAIL_LOCAL_PARTS
        or domain in PLACEHOLDER_EMAIL_DOMAINS
        or any(domain.endswith("." + reserved) for reserved in PLACEHOLDER_EMAIL_DOMAINS)
    )


def standardise_email(value: str | None) -> str | None:
    """Standardise an email address: stripped and lower-cased, with a basic shape check.

    Provider rules (Gmail dots, plus tags) are comparison logic and are not applied here. An
    address exported with its display name ("Anna Nowak <anna@example.com>") keeps the address.
    """
    present = _present(value)
    if present is None:
        return None
    email = present.lower().removeprefix("mailto:")
    if email.endswith(">") and email.count("<") == 1:
        email = email[email.rindex("<") + 1:-1].strip().removeprefix("mailto:")
    local, at, domain = email.partition("@")
    labels = domain.split(".")
    if (
        not at
        or not local
        or "@" in domain
        or len(labels) < 2
        or not all(labels)
        or _WHITESPACE.search(email)
    ):
        raise InvalidValue("not a valid email address")
    if _is_placeholder_email(email):
        return None
    return email


def _is_placeholder_phone(digits: str) -> bool:
    if digits in PLACEHOLDER_PHONE_DIGITS:
        return True
    return len(digits) >= MIN_SAME_DIGIT_PLACEHOLDER and len(set(digits)) == 1


@functools.lru_cache(maxsize=65536)
def _parse_phone(text: str, region: str | None) -> str | None:
    """Parse a cleaned phone string to E.164; cached because phonenumbers is the slow part."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidValue("not a valid phone number") from exc
    # "+44 1234567890" is still a placeholder once the country code is split off.
    if _is_placeholder_phone(str(number.national_number)):
        return None
    if not phonenumbers.is_possible_number(number):
        raise InvalidValue("not a valid phone number")
    # E.164 has no room for an extension, which is what we want: it is not part of identity.
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def standardise_phone(value: str | None, country: str | None = None) -> str | None:
    """Standardise a phone number to E.164 (+447946095800).

    `country` (ISO alpha-2) is the region for numbers written without an international prefix;
    without one, such a number is kept as its national digits.
    A leading "00" is read as the international prefix; extensions are dropped.
    """
    present = _present(value)
    if present is None:
        return None
    text = present
    if text[:4].lower() == "tel:":
        text = text[4:].strip()
    if _is_placeholder_phone(_NON_DIGIT.sub("", text)):
        return None
    # "00" is the international prefix almost everywhere, and phonenumbers only understands it
    # when it matches the region's own prefix (a US region would misread 0044... as national).
    if text.startswith("00"):
        text = "+" + text[2:]
    region = country.upper() if country else None
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None
    if not text.startswith("+") and region is None:
        return _national_digits(text)
    return _parse_phone(text, region)


def _national_digits(text: str) -> str:
    """A national number whose country is unknown, kept as its digits ("07700900123").

    Rejecting the record would lose a customer over a missing country; the digits still agree
    with the E.164 form of the same number on their last digits, which is how phones compare.
    """
    digits = _NON_DIGIT.sub("", text)
    if not 6 <= len(digits) <= 15:
        raise InvalidValue("not a valid phone number")
    return digits


def _birth_date(year: int, month: int, day: int) -> dt.date:
    try:
        parsed = dt.date(year, month, day)
    except ValueError as exc:
        raise InvalidValue("impossible date") from exc
    if parsed < EARLIEST_BIRTH_DATE or parsed > dt.date.today():
        raise InvalidValue("birth date out of range")
    return parsed


def standardise_date(value: str | None) -> str | None:
    """Standardise a birth date to ISO YYYY-MM-DD.

    Accepts ISO dates, ISO date-times (the date as written, no time-zone shift) and compact
    YYYYMMDD. Day/month orders such as 03/04/1990 are rejected rather than guessed.
    """
    present = _present(value)
    if present is None:
        return None
    match = _ISO_DATE.fullmatch(present) or _COMPACT_DATE.fullmatch(present)
    if match is None:
        raise InvalidValue("not an ISO date (YYYY-MM-DD)")
    year, month, day = (int(part) for part in match.group(1, 2, 3))
    parsed = _birth_date(year, month, day)
    time_part = match.group(4) if match.re is _ISO_DATE else None
    if time_part:
        # The date is fine; make sure the rest really is a time and not trailing garbage.
        try:
            dt.datetime.fromisoformat(present)
        except ValueError as exc:
            raise InvalidValue("not an ISO date (YYYY-MM-DD)") from exc
    return parsed.isoformat()


def standardise_postcode(value: str | None) -> str | None:
    """Standardise a postcode: upper case with all whitespace removed ("sw1a 1aa" -> "SW1A1AA")."""
    present = _present(value)
    if present is None:
        return None
    return _WHITESPACE.sub("", present).upper()


def _country_key(value: str) -> str:
    """Fold a country spelling so "U.S.A.", "usa" and "U S A" find the same alias."""
    return " ".join(_fold_words(value, _NON_ALPHA))


@functools.lru_cache(maxsize=4096)
def _lookup_country(text: str) -> str:
    alias = COUNTRY_ALIASES.get(_country_key(text))
    if alias is not None:
        return alias
    try:
        # lookup() matches alpha-2, alpha-3, numeric and the English names, case-insensitively.
        # search_fuzzy() is deliberately not used: a wrong country is worse than none.
        return pycountry.countries.lookup(text).alpha_2
    except LookupError as exc:
        raise InvalidValue("unknown country") from exc


def standardise_country(value: str | None) -> str | None:
    """Standardise a country to its ISO 3166 alpha-2 code ("United Kingdom", "GBR" -> "GB")."""
    present = _present(value)
    if present is None:
        return None
    return _lookup_country(_WHITESPACE.sub(" ", present))


def standardise_national_id(value: str | None) -> str | None:
    """Standardise a national identifier: upper case without spaces, hyphens, dots or slashes."""
    present = _present(value)
    if present is None:
        return None
    return _NATIONAL_ID_SEPARATORS.sub("", present).upper() or None


# The standardiser of each canonical attribute but the phone, which also needs a country
# (``standardise_phone``); the batch path (``pipeline.standardise_frame``) uses the same.
STANDARDISERS: dict[str, Callable[[str | None], str | None]] = {
    "given_name": standardise_name,
    "family_name": standardise_name,
    "birth_date": standardise_date,
    "email": standardise_email,
    "address_line": standardise_address_line,
    "address_line2": standardise_address_line,
    "locality": standardise_text,
    "postcode": standardise_postcode,
    "region": standardise_text,
    "country": standardise_country,
    "national_id": standardise_national_id,
}


def _check_raw(attribute: str, value: object) -> str | None:
    """Return the value as a string ready to standardise, or raise for its received form."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidValue("must be a string")
    limit = MAX_LENGTHS[attribute]
    if len(value) > limit:
        raise InvalidValue(f"longer than {limit} characters")
    return value


# Content errors in these attributes reject the record: a wrong birth date silently dropped
# would weaken every later match. Elsewhere (a mistyped phone, e-mail or country) the record is
# still worth matching on its other attributes, so the value is only flagged as invalid.
STRICT_ATTRIBUTES = frozenset({"birth_date"})


def standardise_record(
    raw: Mapping[str, object], *, default_country: str | None = None
) -> StandardisedRecord:
    """Standardise one record of canonical attributes, collecting problems instead of raising.

    Keys that are not canonical attributes are reported as "unknown field" and dropped. The
    record's country (or `default_country` when it has none) is the region for national-format
    phone numbers. A rejected value becomes None in `values` with its reason in `problems`
    (wrong type, too long, or a bad value of a STRICT_ATTRIBUTES attribute) or in `invalid`.
    An unknown `default_country` is a configuration error and raises InvalidValue.
    """
    fallback_country = standardise_country(default_country)
    problems = {str(key): "unknown field" for key in raw if key not in CANONICAL_ATTRIBUTES}
    invalid: dict[str, str] = {}
    values: dict[str, str | None] = {}
    # Country goes first because the phone number may need it as its region.
    for attribute in ("country", *CANONICAL_ATTRIBUTES):
        if attribute in values:
            continue
        values[attribute] = None
        try:
            text = _check_raw(attribute, raw.get(attribute))
        except InvalidValue as exc:
            problems[attribute] = exc.reason
            continue
        try:
            if attribute == "phone":
                region = values["country"] or fallback_country
                values[attribute] = standardise_phone(text, region)
            else:
                values[attribute] = STANDARDISERS[attribute](text)
        except InvalidValue as exc:
            (problems if attribute in STRICT_ATTRIBUTES else invalid)[attribute] = exc.reason
    values["given_name"], values["family_name"] = split_whole_name(
        values["given_name"], values["family_name"])
    # Keep the canonical order so records serialise the same way every time.
    return StandardisedRecord(
        values={attribute: values[attribute] for attribute in CANONICAL_ATTRIBUTES},
        problems=problems,
        invalid=invalid,
    )
