"""The scalar level tests: per test of ``linkage.comparisons``, a binder in plain Python.

``linkage.scalar`` compiles a configuration into these; each mirrors the batch test of the same
name on one pair at a time and reads the same features of ``linkage.features`` (cached per
value), so that a pair reaches the same level on either path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler

from linkage import features
from linkage.comparisons import EDIT_DISTANCES, SWAPPED_SIMILARITY
from linkage.config import EXACT_TEST, NAME_CHANGE_CONTACTS, Comparison, Level
from linkage.float32 import float32_boundary

Record = Mapping[str, str | None]
# A level test is bound to the record's (left) value once per call, which is when the features
# of that side are computed and tests that cannot pass for it are dropped:
# Binder(left value, left record) -> Check, or None when no right value could pass;
# Check(right value, right record) -> passed. Values are present (truthy); the records are
# there for tests reading another attribute (swapped).
Check = Callable[[str, Record], bool]
Binder = Callable[[str, Record], Check | None]

# Per-value features are pure, so caching them is safe; a hub process sees the same names,
# emails and dates again and again. Sized like the standardisers' caches.
_CACHE = 65_536
_cached = lru_cache(maxsize=_CACHE)
_canonical_email = _cached(features.canonical_email)
_email_local_part = _cached(features.email_local_part)
_phone_digits = _cached(features.phone_digits)
_nickname_group = _cached(features.nickname_group)
_tokens = _cached(features.tokens)
_date_parts = _cached(features.date_parts)
_letters = _cached(features.letters)
_mailbox_marks = _cached(features.mailbox_marks)
_mailbox_letters = _cached(features.mailbox_letters)
_ascii_letters = _cached(features.ascii_letters)
_initials = _cached(features.initials)
_is_personal_mailbox = _cached(features.is_personal_mailbox)
_is_mobile_number = _cached(features.is_mobile_number)

_DATE_WIDTH = 10  # characters of a written date compared by one_character, as the batch path


@lru_cache(maxsize=_CACHE)
def _padded(value: str) -> int:
    """The batch path's 10 bytes of a written date, as one integer (to XOR two of them).

    Exactly those bytes: non-Latin-1 characters all become "?", so two different ones compare
    equal there, and must here too.
    """
    raw = value[:_DATE_WIDTH].ljust(_DATE_WIDTH, "\0").encode("latin-1", "replace")
    return int.from_bytes(raw, "big")


def _one_byte(difference: int) -> bool:
    """Whether the XOR of two padded dates is non-zero in exactly one byte."""
    if not difference:
        return False
    lowest = ((difference & -difference).bit_length() - 1) // 8 * 8
    return difference >> lowest < 256


# --- level tests: (comparison, level) -> Binder ----------------------------------------------


def _strings(comparison: Comparison) -> Callable[[str], str]:
    """What the similarity tests compare: canonical emails, phone digits or the value."""
    if comparison.method == "email":
        return _canonical_email
    if comparison.method == "phone":
        return _phone_digits
    return str


def _jaro_winkler(comparison: Comparison, level: Level) -> Binder:
    boundary = float32_boundary(level.threshold)
    strings = _strings(comparison)
    similarity = JaroWinkler.normalized_similarity

    def bind(a, ra):
        mine = strings(a)
        return lambda b, rb: similarity(mine, strings(b)) >= boundary

    return bind


def _edit_distance(comparison: Comparison, level: Level) -> Binder:
    # The same cutoff as the batch path; any distance past it only has to exceed max_distance.
    cutoff = max(lv.max_distance or 0 for lv in comparison.levels)
    max_distance = level.max_distance
    strings = _strings(comparison)
    distance = EDIT_DISTANCES[level.test]

    def bind(a, ra):
        mine = strings(a)
        if level.test == "typo":  # the letters only: numbers and separators must be the same
            marks = _mailbox_marks(a)
            return lambda b, rb: (_mailbox_marks(b) == marks and
                                  distance(mine, strings(b), score_cutoff=cutoff) <= max_distance)
        return lambda b, rb: distance(mine, strings(b), score_cutoff=cutoff) <= max_distance

    return bind


def _feature_equal(feature: Callable[[str], str]) -> Binder:
    """Both values have the feature ("" means none) and it is the same."""

    def bind(a, ra):
        mine = feature(a)
        if not mine:
            return None
        return lambda b, rb: feature(b) == mine

    return bind


def _phonetic(comparison: Comparison, level: Level) -> Binder:
    algorithm = level.algorithm
    return _feature_equal(_cached(lambda v: features.phonetic_code(v, algorithm)))


def _nickname(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        mine = _nickname_group(a)
        # Empty groups (unknown names) never intersect anything, as in the batch path.
        if not mine:
            return None
        return lambda b, rb: not mine.isdisjoint(_nickname_group(b))

    return bind


def _nickname_typo(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        return lambda b, rb: features.nickname_typo(a, b)

    return bind


def _initial(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        if len(a) == 1:
            return lambda b, rb: a in _initials(b)
        mine = _initials(a)
        return lambda b, rb: len(b) == 1 and b in mine

    return bind


def _token(comparison: Comparison, level: Level) -> Binder:
    # One name must hold all words of the other, and at least one must have several words.
    def bind(a, ra):
        mine = _tokens(a)
        if len(mine) > 1:

            def nested(b, rb):
                theirs = _tokens(b)
                return bool(theirs) and (mine <= theirs or theirs <= mine)

            return nested
        if not mine:
            return None

        def nested_in_longer(b, rb):
            theirs = _tokens(b)
            return len(theirs) > 1 and mine <= theirs

        return nested_in_longer

    return bind


def _swapped(comparison: Comparison, level: Level) -> Binder:
    other = level.other

    def bind(a, ra):
        mine = ra.get(other)
        # An empty other value is missing, like None: the batch table codes both as absent.
        if not mine:
            return None
        return lambda b, rb: b == mine and rb.get(other) == a

    return bind


def _swapped_similar(comparison: Comparison, level: Level) -> Binder:
    other = level.other
    boundary = float32_boundary(SWAPPED_SIMILARITY)
    similarity = JaroWinkler.normalized_similarity

    def bind(a, ra):
        mine, mine_other = _letters(a), ra.get(other)
        mine_other = _letters(mine_other) if mine_other else ""
        if not mine or not mine_other:
            return None

        def test(b, rb):
            theirs, theirs_other = _letters(b), rb.get(other)
            theirs_other = _letters(theirs_other) if theirs_other else ""
            return (bool(theirs) and bool(theirs_other)
                    and similarity(mine, theirs_other) >= boundary
                    and similarity(mine_other, theirs) >= boundary)

        return test

    return bind


def _crossed(comparison: Comparison, level: Level) -> Binder:
    other = level.other

    def bind(a, ra):
        mine = ra.get(other)

        def test(b, rb):
            theirs = rb.get(other)
            return bool(mine) and bool(theirs) and (b == mine or theirs == a)

        return test if mine else None

    return bind


def _moved(comparison: Comparison, level: Level) -> Binder:
    # One side fills this name field but not the other one, the other side fills both.
    other = level.other

    def bind(a, ra):
        mine_other = ra.get(other)

        def test(b, rb):
            theirs_other = rb.get(other)
            if mine_other and not theirs_other:
                return b == mine_other
            return bool(theirs_other) and not mine_other and a == theirs_other

        return test

    return bind


def _prefix_test(comparison: Comparison, level: Level) -> Binder:
    count = level.n
    return _feature_equal(_cached(lambda v: features.prefix(v, count)))


def _dates(check: Callable[[tuple, tuple], bool]) -> Binder:
    """A test on (year, month, day) of two ISO dates; False unless both are dates."""

    def bind(a, ra):
        mine = _date_parts(a)
        if mine[0] < 0:
            return None

        def test(b, rb):
            theirs = _date_parts(b)
            return theirs[0] >= 0 and check(mine, theirs)

        return test

    return bind


def _swapped_day_month(comparison: Comparison, level: Level) -> Binder:
    return _dates(lambda x, y: x[0] == y[0] and x[1] == y[2] and x[2] == y[1])


def _year_off_by_one(comparison: Comparison, level: Level) -> Binder:
    return _dates(lambda x, y: x[1] == y[1] and x[2] == y[2] and abs(x[0] - y[0]) == 1)


def _same_year_month(comparison: Comparison, level: Level) -> Binder:
    return _dates(lambda x, y: x[0] == y[0] and x[1] == y[1])


def _two_parts(comparison: Comparison, level: Level) -> Binder:
    return _dates(lambda x, y: (x[0] == y[0]) + (x[1] == y[1]) + (x[2] == y[2]) == 2)


def _one_character(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        mine, length = _padded(a), len(a)
        return lambda b, rb: len(b) == length and _one_byte(mine ^ _padded(b))

    return bind


def _canonical(comparison: Comparison, level: Level) -> Binder:
    return _feature_equal(_canonical_email)


def _same_local_part(comparison: Comparison, level: Level) -> Binder:
    return _feature_equal(_email_local_part)


def _name_local_part(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        mine = _email_local_part(a)
        if not mine:
            return None
        names = features.name_variants(ra.get("given_name"), ra.get("family_name"))

        def test(b, rb):
            if _email_local_part(b) != mine:
                return False
            theirs = features.name_variants(rb.get("given_name"), rb.get("family_name"))
            return features.is_name_local_part(mine, names | theirs)

        return test

    return bind


def _kept_in_email(comparison: Comparison, level: Level) -> Binder:
    check = features.name_in_mailbox

    def bind(a, ra):
        mine, my_email = _ascii_letters(a), ra.get("email")
        my_box = _mailbox_letters(my_email) if my_email else ""

        def test(b, rb):
            their_email = rb.get("email")
            their_box = _mailbox_letters(their_email) if their_email else ""
            return check(_ascii_letters(b), my_box) or check(mine, their_box)

        return test

    return bind


def _name_changed(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        given = ra.get("given_name")
        mine = {attribute: _contact(ra, attribute) for attribute in NAME_CHANGE_CONTACTS}
        if not given or not any(mine.values()):
            return None

        def test(b, rb):
            return rb.get("given_name") == given and any(
                value and value == _contact(rb, attribute) for attribute, value in mine.items())

        return test

    return bind


def _contact(record: Record, attribute: str) -> str | None:
    """A contact of the record as the name_changed test compares it (the mailbox of an email)."""
    value = record.get(attribute)
    return _canonical_email(value) if value and attribute == "email" else value


def _personal_mailboxes(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        return (lambda b, rb: _is_personal_mailbox(b)) if _is_personal_mailbox(a) else None

    return bind


def _mobile_numbers(comparison: Comparison, level: Level) -> Binder:
    def bind(a, ra):
        return (lambda b, rb: _is_mobile_number(b)) if _is_mobile_number(a) else None

    return bind


def _years_apart(comparison: Comparison, level: Level) -> Binder:
    years = level.min_years
    return _dates(lambda x, y: abs(x[0] - y[0]) >= years)


def _last_digits_test(comparison: Comparison, level: Level) -> Binder:
    count = level.n
    return _feature_equal(_cached(lambda v: features.last_digits(v, count)))


def _exact(comparison: Comparison, level: Level) -> Binder:
    return lambda a, ra: lambda b, rb: a == b


TESTS: dict[str, Callable[[Comparison, Level], Binder]] = {
    EXACT_TEST: _exact,
    "jaro_winkler": _jaro_winkler,
    "levenshtein": _edit_distance,
    "damerau": _edit_distance,
    "phonetic": _phonetic,
    "nickname": _nickname,
    "nickname_typo": _nickname_typo,
    "initial": _initial,
    "token": _token,
    "swapped": _swapped,
    "swapped_similar": _swapped_similar,
    "crossed": _crossed,
    "moved": _moved,
    "prefix": _prefix_test,
    "swapped_day_month": _swapped_day_month,
    "year_off_by_one": _year_off_by_one,
    "same_year_month": _same_year_month,
    "two_parts": _two_parts,
    "one_character": _one_character,
    "canonical": _canonical,
    "same_local_part": _same_local_part,
    "name_local_part": _name_local_part,
    "typo": _edit_distance,
    "years_apart": _years_apart,
    "kept_in_email": _kept_in_email,
    "name_changed": _name_changed,
    "personal_mailboxes": _personal_mailboxes,
    "last_digits": _last_digits_test,
    "mobile_numbers": _mobile_numbers,
    "same_letters": lambda comparison, level: _feature_equal(_letters),
}
