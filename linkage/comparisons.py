"""Vectorised comparisons: put many record pairs at once on the agreement levels of each attribute.

Records are first gathered into a ``RecordTable``: per attribute, the distinct values and one
integer code per record (-1 = missing). Level tests then work on arrays of codes of the left and
right records of the pairs: equality of codes, features computed once per distinct value
(phonetic codes, nickname groups, canonical emails, ...) and string similarities from rapidfuzz
(``cpdist`` over only the pairs no earlier level has claimed, on all cores).

The batch pipeline builds one table of all records; the real-time path builds a table of one
record and its candidates. Both run exactly this code, so a pair gets the same level either way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from linkage import features
from linkage.config import ELSE_TEST, EXACT_TEST, NAME_CHANGE_CONTACTS, Comparison, Level
from linkage.record_table import Column, RecordTable

__all__ = ["MISSING", "Column", "RecordTable", "comparison_levels"]

MISSING = -1  # the level index of a pair with the attribute missing on either side


class _Pairs:
    """The pairs one comparison is evaluated on, with values shared by its level tests."""

    def __init__(self, table: RecordTable, comparison: Comparison, left, right,
                 column: Column | None = None) -> None:
        self.table = table
        self.column = table[comparison.attribute] if column is None else column
        self.left = left
        self.right = right
        self.code_left = self.column.codes[left]
        self.code_right = self.column.codes[right]
        # Similarities / distances of the pairs, computed once for all levels of one test.
        self.measures: dict[tuple, np.ndarray] = {}
        self._first_words: _Pairs | None = None

    def first_words(self, comparison: Comparison) -> _Pairs:
        """The same pairs with each value cut to its first word (built once)."""
        if self._first_words is None:
            column = self.column.mapped(("first_word",), features.first_word)
            self._first_words = _Pairs(self.table, comparison, self.left, self.right, column)
        return self._first_words


def comparison_levels(
    comparison: Comparison, table: RecordTable, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """The level index (int8) of every pair (left[i], right[i]) of table rows; MISSING if absent.

    Levels are tried in order and the first one whose test passes wins; "else" takes the rest.
    Each test only sees the pairs no earlier level has claimed.
    """
    pairs = _Pairs(table, comparison, np.asarray(left), np.asarray(right))
    else_index = len(comparison.levels) - 1
    result = np.full(len(pairs.left), else_index, dtype=np.int8)
    missing = (pairs.code_left < 0) | (pairs.code_right < 0)
    result[missing] = MISSING
    open_pairs = np.flatnonzero(~missing)
    for index, level in enumerate(comparison.levels):
        if level.test == ELSE_TEST or open_pairs.size == 0:
            break
        passed = _TESTS[level.test](pairs, comparison, level, open_pairs)
        if level.first_word:
            passed |= _first_words_pass(pairs, comparison, level, open_pairs)
        result[open_pairs[passed]] = index
        open_pairs = open_pairs[~passed]
    return result


def _first_words_pass(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    """Does the level's test pass on the first words, where one value has several words and
    the first words differ (equal first words are the token level's business)?"""
    words = p.first_words(comparison)
    several = p.column.feature(("several_words",), features.several_words, dtype=bool)
    rows = np.flatnonzero((several[p.code_left[at]] | several[p.code_right[at]])
                          & (words.code_left[at] != words.code_right[at]))
    result = np.zeros(len(at), dtype=bool)
    if rows.size:
        words.measures.clear()  # measured on other pairs for an earlier level
        result[rows] = _TESTS[level.test](words, comparison, level, at[rows])
    return result


# --- level tests: (pairs, comparison, level, open pair indexes) -> bool array ------------------


def _exact(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    return p.code_left[at] == p.code_right[at]


def _feature_equal(p: _Pairs, key: tuple, compute: Callable[[str], str], at,
                   of: np.ndarray | None = None) -> np.ndarray:
    codes = p.column.feature_codes(key, compute, of=of)
    left, right = codes[p.code_left[at]], codes[p.code_right[at]]
    return (left == right) & (left >= 0)


# Edit distances by test: Levenshtein, and Damerau's (optimal string alignment), where swapping
# two neighbouring characters ("1973" / "1937") is one edit, the commonest keying slip. A
# mailbox typo counts a swap as one too (jnoes / jones).
EDIT_DISTANCES = {"levenshtein": Levenshtein.distance, "damerau": OSA.distance,
                  "typo": OSA.distance}
# Both crossed values of a moved field must be at least this similar (letters only).
SWAPPED_SIMILARITY = 0.9


def _measure(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    """Jaro–Winkler similarity or an edit distance of the pairs at ``at``.

    Computed on the first level using the test for every pair still open (later levels of the
    same test only see a subset of those) and kept for the following levels.
    """
    key = (level.test, comparison.attribute)
    stored = p.measures.get(key)
    if stored is None:
        strings = p.column.values
        if comparison.method == "email":
            strings = _canonical_emails(p.column)
        elif comparison.method == "phone":
            strings = _phone_digits(p.column)
        stored = np.full(len(p.left), np.nan, dtype=np.float64)
        if level.test == "jaro_winkler":
            stored[at] = _pair_scores(strings, p.code_left[at], strings, p.code_right[at],
                                      JaroWinkler.normalized_similarity)
        else:
            # A cutoff lets rapidfuzz stop early: past the largest distance of any level, the
            # exact figure does not matter.
            cutoff = max(lv.max_distance or 0 for lv in comparison.levels)
            stored[at] = _distances(strings, p.code_left[at], p.code_right[at],
                                    EDIT_DISTANCES[level.test], cutoff)
        p.measures[key] = stored
    values = stored[at]
    if level.test == "jaro_winkler":
        return values >= level.threshold
    if level.test == "typo":
        # An edit of the letters, the mailbox's numbers and separators unchanged
        # (john.smith1 / john.smith2 and john.smith / john_smith are two mailboxes,
        # jonh.smith1 / john.smith1 one).
        marks = p.column.feature_codes(("mailbox_marks",), features.without_letters,
                                       of=_local_parts(p.column))
        same_marks = marks[p.code_left[at]] == marks[p.code_right[at]]
        return (values <= level.max_distance) & same_marks
    return values <= level.max_distance


# A strided sample of this many pairs tells whether the pairs repeat value pairs.
_SAMPLE = 65_536
# Below this share of distinct value pairs in the sample, scoring each distinct pair once and
# spreading the scores pays for finding them (given names, towns); above it (streets, mailboxes,
# phones), finding them costs about what it saves.
_REPEATING = 0.9


def _pair_scores(left_values: np.ndarray, left_codes: np.ndarray, right_values: np.ndarray,
                 right_codes: np.ndarray, scorer, **kwargs) -> np.ndarray:
    """rapidfuzz's ``cpdist`` of ``left_values[left_codes[i]]`` and ``right_values[right_codes[i]]``
    for every i (codes are indexes into the distinct values, none missing).

    Candidate pairs repeat value pairs: a million records hold a few thousand given names, so
    millions of pairs compare a few hundred thousand pairs of names. When a sample shows that,
    each distinct pair is scored once; the scores are the same either way.
    """
    width = max(len(right_values), 1)
    if len(left_codes) > _SAMPLE:
        step = len(left_codes) // _SAMPLE
        sample = left_codes[::step].astype(np.int64) * width + right_codes[::step]
        if len(np.unique(sample)) < _REPEATING * len(sample):
            inverse, distinct = pd.factorize(left_codes.astype(np.int64) * width + right_codes)
            scores = _cpdist(left_values[distinct // width], right_values[distinct % width],
                             scorer, **kwargs)
            return scores[inverse]
    return _cpdist(left_values[left_codes], right_values[right_codes], scorer, **kwargs)


def _distances(values: np.ndarray, left_codes: np.ndarray, right_codes: np.ndarray, scorer,
               cutoff: int) -> np.ndarray:
    """Edit distances of the value pairs, as cpdist gives them with ``score_cutoff``: past
    ``cutoff`` the figure is ``cutoff + 1``. An edit distance is at least the difference in
    length, so pairs whose lengths differ by more are settled without rapidfuzz (most pairs
    of e-mail addresses)."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    near = np.flatnonzero(np.abs(lengths[left_codes] - lengths[right_codes]) <= cutoff)
    result = np.full(len(left_codes), cutoff + 1, dtype=np.float64)
    result[near] = _pair_scores(values, left_codes[near], values, right_codes[near], scorer,
                                score_cutoff=cutoff)
    return result


def _cpdist(lefts: np.ndarray, rights: np.ndarray, scorer, **kwargs) -> np.ndarray:
    # Threads only pay off on many pairs; starting them costs milliseconds.
    workers = -1 if len(lefts) > 10_000 else 1
    return cpdist(lefts, rights, scorer=scorer, workers=workers, **kwargs)


def _phonetic(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    algorithm = level.algorithm
    return _feature_equal(
        p, ("phonetic", algorithm), lambda v: features.phonetic_code(v, algorithm), at
    )


def _pairwise(p: _Pairs, at: np.ndarray, feature: np.ndarray, check) -> np.ndarray:
    """Apply a Python ``check`` to each distinct (left feature, right feature) pair once."""
    result = np.zeros(len(at), dtype=bool)
    if len(at) == 0:
        return result
    left, right = p.code_left[at], p.code_right[at]
    keys = left.astype(np.int64) * len(p.column.values) + right
    distinct, inverse = np.unique(keys, return_inverse=True)
    width = len(p.column.values)
    outcome = np.fromiter(
        (check(feature[k // width], feature[k % width]) for k in distinct.tolist()),
        dtype=bool,
        count=len(distinct),
    )
    return outcome[inverse.reshape(-1)]


def _nickname(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    groups = p.column.feature(("nickname",), features.nickname_group)
    known = np.fromiter((bool(g) for g in groups), dtype=bool, count=len(groups))
    result = np.zeros(len(at), dtype=bool)
    # Only names the nickname list knows can be variants; the Python check runs on those only.
    candidates = np.flatnonzero(known[p.code_left[at]] & known[p.code_right[at]])
    result[candidates] = _pairwise(p, at[candidates], groups, lambda a, b: not a.isdisjoint(b))
    return result


def _nickname_typo(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # A nickname (or its formal name) with a typo: "obb" / "robert". One side must be a name
    # the lists know; the Python check runs on the distinct pairs of those only.
    family = p.column.feature(("nickname_family",), features.nickname_family)
    known = np.fromiter((bool(f) for f in family), dtype=bool, count=len(family))
    result = np.zeros(len(at), dtype=bool)
    candidates = np.flatnonzero(known[p.code_left[at]] | known[p.code_right[at]])
    result[candidates] = _pairwise(p, at[candidates], p.column.values, features.nickname_typo)
    return result


def _initial(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    # An initial on one side, a name on the other that starts with it, or is a nickname of a
    # name that does ("r" and "becca", for Rebecca).
    single = p.column.feature(("is_initial",), lambda v: len(v) == 1, dtype=bool)
    written = p.column.feature(("with_initials",), lambda v: (v, features.initials(v)))
    result = np.zeros(len(at), dtype=bool)
    candidates = np.flatnonzero(single[p.code_left[at]] | single[p.code_right[at]])

    def fits(left: tuple, right: tuple) -> bool:
        return ((len(left[0]) == 1 and left[0] in right[1])
                or (len(right[0]) == 1 and right[0] in left[1]))

    result[candidates] = _pairwise(p, at[candidates], written, fits)
    return result


def _token(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    words = p.column.feature(("tokens",), features.tokens)
    several = np.fromiter((len(w) > 1 for w in words), dtype=bool, count=len(words))
    result = np.zeros(len(at), dtype=bool)
    # One name must hold all words of the other ("okonkwo hale" / "hale"); only multi-word
    # values can, so the Python check runs on those pairs only.
    candidates = np.flatnonzero(several[p.code_left[at]] | several[p.code_right[at]])

    def nested(a: frozenset, b: frozenset) -> bool:
        return bool(a and b) and (a <= b or b <= a)

    result[candidates] = _pairwise(p, at[candidates], words, nested)
    return result


def _crossed_matches(p: _Pairs, level: Level, at: np.ndarray):
    """Per pair at ``at``: is this attribute's left value the ``other`` attribute's right one,
    and is the other's left value this one's right one (False where the other is missing).

    Compared as integer codes (the other column's values translated into this column's codes),
    not as strings: millions of string comparisons cost seconds.
    """
    other = p.table[level.other]
    other_left, other_right = other.codes[p.left[at]], other.codes[p.right[at]]
    present = (other_left >= 0) & (other_right >= 0)
    if len(other.values) == 0:
        return present, present  # all False: the other attribute is always missing
    as_mine = p.measures.get(("as_codes_of", level.other))
    if as_mine is None:  # the swap and the crossing test of one comparison share it
        index = {value: code for code, value in enumerate(p.column.values.tolist())}
        # -2: a value this column never holds, which no code (nor the missing -1) equals.
        as_mine = np.fromiter((index.get(value, -2) for value in other.values.tolist()),
                              dtype=np.int64, count=len(other.values))
        p.measures[("as_codes_of", level.other)] = as_mine
    left_in_right = present & (p.code_left[at] == as_mine[other_right])
    right_in_left = present & (as_mine[other_left] == p.code_right[at])
    return left_in_right, right_in_left


def _swapped(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    left_in_right, right_in_left = _crossed_matches(p, level, at)
    return left_in_right & right_in_left


def _swapped_similar(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Swapped with a typo on the way, or a street moved to the second address line without its
    # house number: both crossed values are close once only their letters are kept.
    other = p.table[level.other]
    result = np.zeros(len(at), dtype=bool)
    if len(other.values) == 0 or len(p.column.values) == 0:
        return result
    mine_letters, mine_has = _letters(p.column)
    other_letters, other_has = _letters(other)
    mine_left, mine_right = p.code_left[at], p.code_right[at]
    other_left, other_right = other.codes[p.left[at]], other.codes[p.right[at]]
    # Values without letters (a lone house number) say nothing here; a missing value reads
    # code -1, which the presence test masks.
    rows = np.flatnonzero((other_left >= 0) & (other_right >= 0)
                          & mine_has[mine_left] & mine_has[mine_right]
                          & other_has[other_left] & other_has[other_right])
    if rows.size:
        # cpdist's float32 similarities are compared as doubles, as in _measure (numpy would
        # compare a float32 array with the float32 rounding of the threshold): the scalar
        # path's float32_boundary assumes exactly that.
        first = _pair_scores(mine_letters, mine_left[rows], other_letters, other_right[rows],
                             JaroWinkler.normalized_similarity).astype(np.float64)
        rows = rows[first >= SWAPPED_SIMILARITY]  # the second half only where the first holds
        second = _pair_scores(other_letters, other_left[rows], mine_letters, mine_right[rows],
                              JaroWinkler.normalized_similarity).astype(np.float64)
        result[rows] = second >= SWAPPED_SIMILARITY
    return result


def _letters(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct value: its letters (``features.letters``) and whether there are any."""
    letters = column.feature(("letters",), features.letters)
    return letters, column.feature(("has_letters",), bool, dtype=bool, of=letters)


def _crossed(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    # One value sits in the other field on the other side ("natalia" as given name here and as
    # family name there), the other value differs.
    left_in_right, right_in_left = _crossed_matches(p, level, at)
    return left_in_right | right_in_left


def _moved(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    # One side fills this name field but not the ``other`` one, and holds there the name the
    # other side keeps in its other field ("harthofer" alone here, "peter harthofer" there).
    other = p.table[level.other]
    other_left, other_right = other.codes[p.left[at]], other.codes[p.right[at]]
    left_lone = (other_left < 0) & (other_right >= 0)
    rows = np.flatnonzero(left_lone | ((other_right < 0) & (other_left >= 0)))
    lone_left = left_lone[rows]
    lone = np.where(lone_left, p.code_left[at[rows]], p.code_right[at[rows]])
    full_other = np.where(lone_left, other_right[rows], other_left[rows])
    result = np.zeros(len(at), dtype=bool)
    result[rows] = p.column.values[lone] == other.values[full_other]
    return result


def _prefix(p: _Pairs, comparison: Comparison, level: Level, at: np.ndarray) -> np.ndarray:
    count = level.n
    return _feature_equal(p, ("prefix", count), lambda v: features.prefix(v, count), at)


def _date_parts(p: _Pairs, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts = p.column.feature(("date_parts",), features.date_parts)
    table = np.array(parts.tolist(), dtype=np.int32).reshape(-1, 3)
    left, right = table[p.code_left[at]], table[p.code_right[at]]
    valid = (left[:, 0] >= 0) & (right[:, 0] >= 0)
    return np.where(valid[:, None], left, -1), np.where(valid[:, None], right, -2)


def _swapped_day_month(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    left, right = _date_parts(p, at)
    return (
        (left[:, 0] == right[:, 0]) & (left[:, 1] == right[:, 2]) & (left[:, 2] == right[:, 1])
    )


def _year_off_by_one(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    left, right = _date_parts(p, at)
    same_day = (left[:, 1] == right[:, 1]) & (left[:, 2] == right[:, 2])
    return same_day & (np.abs(left[:, 0] - right[:, 0]) == 1)


def _same_year_month(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    left, right = _date_parts(p, at)
    return (left[:, 0] == right[:, 0]) & (left[:, 1] == right[:, 1])


def _two_parts(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Two of year, month and day agree: one part written wrong (a month of 12 for 06).
    left, right = _date_parts(p, at)
    return (left == right).sum(axis=1) == 2


def _one_character(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # One mistyped character of the written date, the commonest entry error.
    width = 10
    chars = p.column.feature(
        ("padded",), lambda v: v[:width].ljust(width, "\0").encode("latin-1", "replace")
    )
    table = np.frombuffer(b"".join(chars.tolist()), dtype=np.uint8).reshape(-1, width)
    lengths = p.column.feature(("length",), len, dtype=np.int64)
    left, right = p.code_left[at], p.code_right[at]
    differing = (table[left] != table[right]).sum(axis=1)
    return (differing == 1) & (lengths[left] == lengths[right])


def _canonical_emails(column: Column) -> np.ndarray:
    """Per distinct address: the mailbox it delivers to (``features.canonical_email``)."""
    return column.feature(("canonical_email",), features.canonical_email)


# The local part of each distinct address, computed from its cached canonical form.
_LOCAL_PART = ("email_local_part",)


def _local_parts(column: Column) -> np.ndarray:
    """Per distinct address: the local part of its canonical form, from the cached forms."""
    return column.feature(_LOCAL_PART, features.local_part, of=_canonical_emails(column))


def _canonical(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    return _feature_equal(p, ("canonical_email",), features.canonical_email, at)


def _same_local_part(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    return _feature_equal(p, _LOCAL_PART, features.local_part, at,
                          of=_canonical_emails(p.column))


def _name_local_part(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # The same mailbox name, made only of either person's names ("john.smith" at two
    # providers): two John Smiths pick it as readily as one does.
    result = _same_local_part(p, comparison, level, at)
    rows = np.flatnonzero(result)
    if rows.size:
        # Both sides hold this very mailbox name, so the pair's test is whether it is made of
        # the left record's names or of the right one's: a question about each record alone,
        # answered once per record rather than once per pair.
        left, right = p.left[at[rows]], p.right[at[rows]]
        records, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
        own = _own_name_mailbox(p, records)[inverse.reshape(-1)]
        result[rows] = own[:rows.size] | own[rows.size:]
    return result


def _own_name_mailbox(p: _Pairs, records: np.ndarray) -> np.ndarray:
    """Per record: is its mailbox name made only of its own names?"""
    locals_ = np.append(_local_parts(p.column), "")
    local = locals_[p.column.codes[records]]
    check = features.is_name_local_part
    return np.fromiter((check(value, names) for value, names
                        in zip(local, _names_of(p.table, records), strict=True)),
                       dtype=bool, count=len(records))


def _names_of(table: RecordTable, records: np.ndarray) -> list[frozenset[str]]:
    """The mailbox-name variants of each record's names (``features.name_variants``)."""
    given, family = table["given_name"], table["family_name"]
    given_values = np.append(given.values, None)  # code -1 (missing) reads None
    family_values = np.append(family.values, None)
    return [features.name_variants(given_values[g], family_values[f])
            for g, f in zip(given.codes[records].tolist(), family.codes[records].tolist(),
                            strict=True)]


def _name_changed(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Another family name for the same given name and a mailbox, phone or street address
    # both records hold (NAME_CHANGE_CONTACTS): a marriage or a divorce, which
    # people rarely announce to every system they are known to.
    left, right = p.left[at], p.right[at]
    given = p.table["given_name"].codes
    result = (given[left] == given[right]) & (given[left] >= 0)
    shared = np.zeros(len(at), dtype=bool)
    for attribute in NAME_CHANGE_CONTACTS:
        column = p.table[attribute]
        if attribute == "email":  # the mailbox, whatever plus tag or Gmail dots
            column = column.mapped(("canonical_email",), features.canonical_email)
        codes = column.codes
        shared |= (codes[left] == codes[right]) & (codes[left] >= 0)
    return result & shared


def _kept_in_email(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # A changed name (a marriage) that a mailbox still holds: "anna nowak" writing from
    # anna.kowalska@..., matched with "anna kowalska", or one mailbox on both sides.
    email = p.table["email"]
    names = _text_ends(p.column, ("ascii_letters",), features.ascii_letters)
    boxes = _text_ends(email, ("mailbox_letters",), features.ascii_letters,
                       of=_local_parts(email))
    # A record without an e-mail reads index -1: an appended empty mailbox name.
    boxes = [np.append(column, empty) for column, empty in zip(boxes, ("", 0, -1, -1),
                                                                strict=True)]
    result = np.zeros(len(at), dtype=bool)
    for name_codes, box_codes in ((p.code_left[at], email.codes[p.right[at]]),
                                  (p.code_right[at], email.codes[p.left[at]])):
        name = [column[name_codes] for column in names]
        box = [column[box_codes] for column in boxes]
        # Only a name no longer than the mailbox name that shares its first or its last
        # letter can start or end it: numpy narrows the pairs, Python checks the few left.
        rows = np.flatnonzero(~result & (name[1] >= features.MIN_NAME_IN_MAILBOX)
                              & (name[1] <= box[1])
                              & ((name[2] == box[2]) | (name[3] == box[3])))
        result[rows] = np.fromiter(
            (features.name_in_mailbox(n, b)
             for n, b in zip(name[0][rows], box[0][rows], strict=True)),
            dtype=bool, count=rows.size)
    return result


def _personal_mailboxes(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Two different mailboxes, both personal ones: most people give one system their private
    # address and another their work address; two private ones more often mean two people.
    personal = p.column.feature(("personal_mailbox",), features.is_personal_mailbox, dtype=bool)
    return personal[p.code_left[at]] & personal[p.code_right[at]]


def _mobile_numbers(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Two different numbers, both mobiles: a landline is shared by a household and a person
    # gives one system the landline and another the mobile, but a mobile is one person's own.
    mobile = p.column.feature(("mobile_number",), features.is_mobile_number, dtype=bool)
    return mobile[p.code_left[at]] & mobile[p.code_right[at]]


def _text_ends(column, key: tuple, compute, of=None) -> list[np.ndarray]:
    """Per distinct value of ``column``: the text ``compute`` makes of it (a cached feature),
    its length and the codes of its first and last characters (-1 for an empty text)."""
    text = column.feature(key, compute, of=of)
    length = np.fromiter((len(t) for t in text), dtype=np.int64, count=len(text))
    first = np.fromiter((ord(t[0]) if t else -1 for t in text), dtype=np.int64, count=len(text))
    last = np.fromiter((ord(t[-1]) if t else -1 for t in text), dtype=np.int64, count=len(text))
    return [text, length, first, last]


def _years_apart(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # Born far apart: a parent and a child, not a typo (typos keep most of the date).
    left, right = _date_parts(p, at)
    valid = (left[:, 0] >= 0) & (right[:, 0] >= 0)
    return valid & (np.abs(left[:, 0] - right[:, 0]) >= level.min_years)


def _same_letters(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    # The same letters, other digits: one street with another house number (a neighbour, or a
    # number keyed wrong), which Jaro-Winkler on the whole line would call close.
    return _feature_equal(p, ("letters",), features.letters, at)


def _last_digits(p: _Pairs, comparison: Comparison, level: Level, at) -> np.ndarray:
    count = level.n
    return _feature_equal(p, ("last_digits", count), lambda v: features.last_of_digits(v, count),
                          at, of=_phone_digits(p.column))


def _phone_digits(column: Column) -> np.ndarray:
    """Per distinct number: its digits (``features.phone_digits``)."""
    return column.feature(("phone_digits",), features.phone_digits)


_TESTS: dict[str, Callable[[_Pairs, Comparison, Level, np.ndarray], np.ndarray]] = {
    EXACT_TEST: _exact,
    "jaro_winkler": _measure,
    "levenshtein": _measure,
    "damerau": _measure,
    "phonetic": _phonetic,
    "nickname": _nickname,
    "nickname_typo": _nickname_typo,
    "initial": _initial,
    "token": _token,
    "swapped": _swapped,
    "swapped_similar": _swapped_similar,
    "crossed": _crossed,
    "moved": _moved,
    "prefix": _prefix,
    "swapped_day_month": _swapped_day_month,
    "year_off_by_one": _year_off_by_one,
    "same_year_month": _same_year_month,
    "two_parts": _two_parts,
    "one_character": _one_character,
    "canonical": _canonical,
    "same_local_part": _same_local_part,
    "name_local_part": _name_local_part,
    "typo": _measure,
    "years_apart": _years_apart,
    "kept_in_email": _kept_in_email,
    "name_changed": _name_changed,
    "personal_mailboxes": _personal_mailboxes,
    "last_digits": _last_digits,
    "same_letters": _same_letters,
    "mobile_numbers": _mobile_numbers,
}
