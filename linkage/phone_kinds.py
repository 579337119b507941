"""Whether a phone number is a mobile one, read off phonenumbers' numbering-plan metadata.

phonenumbers' ``number_type`` answers this, but a batch asks it for every distinct number (half a
million in a million records) and the library pays per call for things a batch needs only once:
looking up each pattern in its regex cache, trying the regions behind a shared country code, and
typing the number twice when the code is shared (once to find the region, once for the answer).
``MobileTest`` compiles the metadata of one country code once and then follows the library's
decision in the library's order, so the answer is the library's (``tests/linkage/test_features``
checks that against ``number_type`` on the example number of every kind in every region).
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers

__all__ = ["is_mobile_national_number"]

# The kinds phonenumbers tries before fixed lines and mobiles, in its order: a number matching
# one of them is that kind, whatever else it matches.
_KINDS_BEFORE_LINES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
                       "pager", "uan", "voicemail")
_NON_GEOGRAPHIC = "001"  # phonenumbers' region for international services (+800, +882 ...)


class _Kind:
    """One kind of number of one region (a PhoneNumberDesc): its lengths and its pattern."""

    def __init__(self, desc) -> None:
        pattern = desc.national_number_pattern if desc is not None else None
        self.pattern = re.compile(pattern) if pattern else None
        self.lengths = frozenset(desc.possible_length or ()) if desc is not None else frozenset()

    def matches(self, national: str) -> bool:
        # Lengths first, as phonenumbers does: no lengths listed means any length.
        if self.pattern is None or (self.lengths and len(national) not in self.lengths):
            return False
        return self.pattern.fullmatch(national) is not None


class _AnyKind:
    """Several kinds of number at once: one alternation per number length of the patterns of
    the kinds that allow that length (one regex call instead of one per kind)."""

    def __init__(self, kinds: list[_Kind]) -> None:
        kinds = [kind for kind in kinds if kind.pattern is not None]
        lengths = {length for kind in kinds for length in kind.lengths}
        self.by_length = {length: self._alternation(kinds, length) for length in lengths}
        self.other_lengths = self._alternation(kinds, None)

    @staticmethod
    def _alternation(kinds: list[_Kind], length: int | None) -> re.Pattern[str] | None:
        patterns = [kind.pattern.pattern for kind in kinds
                    if not kind.lengths or length in kind.lengths]
        return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None

    def matches(self, national: str) -> bool:
        pattern = self.by_length.get(len(national), self.other_lengths)
        return pattern is not None and pattern.fullmatch(national) is not None


class _Region:
    """The numbering plan of one region, compiled."""

    def __init__(self, metadata) -> None:
        self.general = _Kind(metadata.general_desc)
        self.before_lines = _AnyKind([_Kind(getattr(metadata, kind))
                                      for kind in _KINDS_BEFORE_LINES])
        self.fixed_line = _Kind(metadata.fixed_line)
        self.mobile = _Kind(metadata.mobile)
        self.same_pattern = bool(metadata.same_mobile_and_fixed_line_pattern)
        leading = metadata.leading_digits
        self.leading_digits = re.compile(leading) if leading is not None else None

    def kind(self, national: str) -> str | None:
        """"mobile", "fixed_or_mobile", "fixed_line" or "other" as phonenumbers decides it, or
        None for a number this plan does not know (phonenumbers' UNKNOWN)."""
        if not self.general.matches(national):
            return None
        if self.before_lines.matches(national):
            return "other"
        if self.fixed_line.matches(national):
            if self.same_pattern or self.mobile.matches(national):
                return "fixed_or_mobile"
            return "fixed_line"
        if not self.same_pattern and self.mobile.matches(national):
            return "mobile"
        return None


@cache
def _regions(country_code: int) -> tuple[bool, tuple[_Region, ...]]:
    """Whether regions share the country code, and their compiled plans in phonenumbers'
    order (those with metadata; none for an unknown code)."""
    codes = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    if codes == (_NON_GEOGRAPHIC,):
        metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(country_code)
        return False, (_Region(metadata),) if metadata is not None else ()
    plans = []
    for code in codes:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(code)
        if metadata is not None:
            plans.append(_Region(metadata))
    return len(codes) > 1, tuple(plans)


def _kind_of(national: str, country_code: int) -> str | None:
    shared, regions = _regions(country_code)
    if not shared:
        return regions[0].kind(national) if regions else None
    # A shared code (+1, +44, +7 ...): the number is of the first region whose leading digits
    # start it, or, for a region without them, whose plan knows it.
    for region in regions:
        if region.leading_digits is not None:
            if region.leading_digits.match(national):
                return region.kind(national)
        else:
            kind = region.kind(national)
            if kind is not None:
                return kind
    return None


def is_mobile_national_number(country_code: int, national: str) -> bool:
    """Whether the number ``national`` (its national significant digits, leading zeros kept)
    after ``country_code`` is of type MOBILE by phonenumbers' metadata."""
    return _kind_of(national, country_code) == "mobile"
