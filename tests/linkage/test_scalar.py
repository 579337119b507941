"""The scalar real-time path (linkage.scalar, score_many) equals the batch path, bit for bit.

Reference: ``comparison_matrix`` and ``pair_weights`` on a RecordTable of all records (the batch
pipeline). Pairs: random ones, near duplicates (same person), neighbours in name order (partial
levels), and crafted edge cases; levels must be equal, weights equal as floats (==, no approx),
with and without term frequencies.
"""

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from linkage import scalar, scoring
from linkage.compare import comparison_matrix
from linkage.comparisons import RecordTable
from linkage.config import MISSING_LEVEL, load_config
from linkage.frequencies import TermFrequencies
from linkage.pipeline import standardise_frame
from linkage.scoring import (
    SCALAR_MAX_CANDIDATES,
    match_probability,
    match_weights,
    pair_weights,
    score_many,
    score_pair,
)
from linkage.synthetic import generate_records_dataframe
from tests.linkage.samples import OLIVIA


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def frame():
    return standardise_frame(generate_records_dataframe(people=1500, seed=11))


def crafted_records(attributes) -> list[dict]:
    """Records built to hit every level test and its corner cases.

    Every attribute is set (None when absent): a DataFrame would fill absent keys with NaN.
    """
    base = {**dict.fromkeys(attributes), **OLIVIA}
    variants = [
        {},
        {"given_name": None, "family_name": ""},
        {"given_name": "", "email": "", "phone": None},
        {"birth_date": None, "address_line": "", "locality": None},
        {"postcode": "", "national_id": None},
        {"given_name": "liv"},
        {"source": "crm"},
        {"source": "crm", "given_name": "liv"},
        {"source": "billing"},
        {"given_name": "oliviaa"},
        {"given_name": "olyvia"},
        {"given_name": "olivia grace"},  # a middle name on one record only
        {"given_name": "olivier"},
        # Jaro-Winkler 0.7999999999999999, which cpdist's float32 rounds up to 0.8 (a pass).
        {"given_name": "abc"},
        {"given_name": "aac"},
        # Jaro-Winkler 0.9 exactly, which float32 rounds down below 0.9 (a fail).
        {"locality": "ccab"},
        {"locality": "ccabedde"},
        {"given_name": "o"},
        {"given_name": "o", "family_name": "b"},
        {"given_name": "olive"},
        {"given_name": "bob", "family_name": "smith"},
        {"given_name": "robert", "family_name": "smith"},
        {"given_name": "robert james", "family_name": "smith"},  # bob, with a middle name
        {"given_name": "rob", "family_name": "smyth"},
        {"given_name": "r", "family_name": "smith"},
        # a nickname with a typo: "obb" (bob) for Robert, "elizaeth" (elizabeth) for Lizzie
        {"given_name": "obb", "family_name": "smith"},
        {"given_name": "lizzie"},
        {"given_name": "elizaeth"},
        {"given_name": "smith", "family_name": "robert"},
        {"given_name": "smith", "family_name": None},
        {"given_name": "bennett", "family_name": "olivia"},
        {"family_name": "benning"},
        {"family_name": "bannett"},
        {"family_name": "bennett hale"},
        {"family_name": "hale bennett"},
        {"family_name": "van der berg"},
        {"family_name": "vanderberg"},
        {"family_name": "b e"},
        {"family_name": "zzz"},
        {"given_name": "xqzt", "family_name": "xqzt"},
        {"given_name": "123", "family_name": "---"},
        {"birth_date": "1988-12-04"},
        {"birth_date": "1989-04-12"},
        {"birth_date": "1987-04-12"},
        {"birth_date": "1990-04-12"},
        {"birth_date": "1988-04-30"},
        {"birth_date": "1988-04-13"},
        {"birth_date": "1988-4-12"},
        {"birth_date": "not a date"},
        {"birth_date": "1988-04-1é"},
        {"birth_date": "1988-04-1ü"},
        {"birth_date": "1988-04-12x"},
        {"birth_date": "19880412"},
        {"email": "olivia.bennett+shop@example.com"},
        {"email": "oliviabennett@gmail.com"},
        {"email": "olivia.bennett@gmail.com"},
        {"email": "o.liviabennett+x@googlemail.com"},
        {"email": "olivia.bennett@yahoo.com"},
        # A mailbox name beyond the names (digits), alone and at another provider; one made of
        # the other side's names only.
        {"email": "olivia.bennett88@example.com"},
        {"email": "olivia.bennett88@yahoo.com"},
        {"given_name": "liv", "email": "olivia.bennett@yahoo.com"},
        {"given_name": None, "family_name": None, "email": "obennett@yahoo.com"},
        {"email": "olivia.benett@example.com"},
        {"email": "+tag@gmail.com"},
        {"email": "@gmail.com"},
        {"email": "no-at-sign"},
        {"phone": "01632960123"},
        {"phone": "441632960123"},
        {"phone": "+441632960124"},
        {"phone": "+441632960132"},
        {"phone": "+1632960123"},
        {"phone": "123"},
        {"phone": "abc"},
        # Two mobiles of two people; a North American number, which may be either.
        {"phone": "+447911123456"},
        {"phone": "+447912345678"},
        {"phone": "+12125550123"},
        {"address_line": "12 acacia av", "locality": "leds", "postcode": "LS11AD"},
        {"address_line": "12 acacia avenue", "address_line2": "flat 2", "postcode": "LS1 1AB"},
        {"address_line2": "flat 3"},
        {"address_line2": "flat 33"},
        {"national_id": "QQ123465C"},
        {"national_id": "QQ123456"},
        {"national_id": "000000000"},
        # Moved fields: swapped lines, swapped names with a typo, one name in the other field.
        {"address_line2": "flat 2"},
        {"address_line": "flat 2", "address_line2": "12 acacia avenue"},
        {"address_line": "flat2", "address_line2": "acacia avenu"},
        {"address_line": "12", "address_line2": "34"},
        {"address_line": "34", "address_line2": "12"},
        {"given_name": "benett", "family_name": "olivia"},
        {"given_name": "bennett", "family_name": "olvia"},
        {"given_name": "bennett", "family_name": "smythe"},
        # One name field filled, with the name the other side keeps in its other field.
        {"given_name": "bennett", "family_name": None},
        {"given_name": None, "family_name": "olivia"},
        # Two of three date parts, and transpositions.
        {"birth_date": "1988-11-12"},
        {"birth_date": "1975-04-12"},
        {"birth_date": "1988-04-21"},
        {"postcode": "LS11BA"},
        # A swapped-with-typo test whose similarity rounds to exactly float32(0.9):
        # "williams" / "will" (both paths must compare the rounded double alike).
        {"given_name": "william", "family_name": "williams"},
        {"given_name": "will", "family_name": "williams"},
        # A namesake's numbered mailbox or one with other separators, a real typo, and a
        # family name a mailbox still holds.
        {"email": "olivia.bennett89@example.com"},
        {"email": "olivia_bennett@example.com"},
        {"email": "oliviabennett@example.com"},
        {"email": "olivia.benett@example.com"},
        {"family_name": "hale", "email": "olivia.bennett@example.com"},
        # Private mailboxes (a provider alias among them) beside work ones.
        {"email": "obennett88@web.de"},
        {"email": "olivia.b@googlemail.com"},
        {"email": "olivia.bennett@acme-foods.co.uk"},
        # Initials of the formal name behind a nickname.
        {"given_name": "o"},
        {"given_name": "r", "family_name": "bennett"},
    ]
    return [base, *({**base, **change} for change in variants)]


def assert_scalar_equals_batch(config, records, left, right, frequencies=None):
    """Scalar levels and score_many weights equal comparison_matrix and pair_weights."""
    frame = pd.DataFrame.from_records(records)
    table = RecordTable.from_frame(frame, config.attributes)
    expected_levels = comparison_matrix(config, table, left, right)
    expected_weights = pair_weights(config, expected_levels, table, left, right, frequencies)

    levels = np.array(
        [
            scalar.level_vector(records[i], records[j], config)
            for i, j in zip(left, right, strict=True)
        ],
        dtype=np.int8,
    ).reshape(expected_levels.shape)
    assert levels.dtype == expected_levels.dtype
    mismatched = np.flatnonzero((levels != expected_levels).any(axis=1))
    assert mismatched.size == 0, [
        (records[left[i]], records[right[i]], levels[i], expected_levels[i])
        for i in mismatched[:3]
    ]

    # score_many groups the pairs by their left record, as the hub does with its candidates.
    names = [[lv.name for lv in c.levels] + [MISSING_LEVEL] for c in config.comparisons]
    by_left: dict[int, list[int]] = {}
    for row, i in enumerate(left.tolist()):
        by_left.setdefault(i, []).append(row)
    for i, rows in by_left.items():
        for start in range(0, len(rows), SCALAR_MAX_CANDIDATES):
            chunk = rows[start:start + SCALAR_MAX_CANDIDATES]
            scores = score_many(records[i], [records[right[r]] for r in chunk], config, frequencies)
            for row, score in zip(chunk, scores, strict=True):
                got_weights = [a.weight for a in score.attributes]
                assert got_weights == expected_weights[row].tolist(), (records[i], row)
                got_levels = [names[k][expected_levels[row, k]] for k in range(len(names))]
                assert [a.level for a in score.attributes] == got_levels
                total = match_weights(config, expected_weights[row:row + 1])[0]
                assert score.weight == float(total)
                assert score.probability == match_probability(float(total))
    return expected_levels


def pairs_of(frame, seed, count):
    """Random pairs, same-person pairs and neighbours in name order, as index arrays."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    left = list(rng.integers(0, n, count))
    right = list(rng.integers(0, n, count))
    by_person = frame.groupby("person_id").indices
    for rows in by_person.values():
        for a in rows:
            for b in rows:
                if a != b:
                    left.append(a)
                    right.append(b)
    order = frame.sort_values(["family_name", "given_name"], na_position="last").index.to_numpy()
    for offset in (1, 2, 3):
        left.extend(order[:-offset])
        right.extend(order[offset:])
    return np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)


@pytest.mark.parametrize("with_frequencies", [False, True])
def test_scalar_equals_batch_on_synthetic_pairs(config, frame, with_frequencies):
    records = frame.to_dict("records")
    frequencies = (
        TermFrequencies.from_frame(frame, config.attributes) if with_frequencies else None
    )
    left, right = pairs_of(frame, seed=7, count=3000)
    assert len(left) > 5000
    levels = assert_scalar_equals_batch(config, records, left, right, frequencies)

    # The pairs reach a good spread of levels, not just exact / else / missing.
    reached = Counter(
        (c.attribute, int(level))
        for k, c in enumerate(config.comparisons)
        for level in np.unique(levels[:, k])
    )
    assert len(reached) >= 35


@pytest.mark.parametrize("with_frequencies", [False, True])
def test_scalar_equals_batch_on_crafted_edge_cases(config, with_frequencies):
    records = crafted_records(config.attributes)
    frequencies = None
    if with_frequencies:
        frequencies = TermFrequencies.from_frame(
            pd.DataFrame.from_records(records), config.attributes
        )
    n = len(records)
    left, right = (a.ravel().astype(np.int64) for a in np.meshgrid(range(n), range(n)))
    levels = assert_scalar_equals_batch(config, records, left, right, frequencies)

    # Every non-else level of the shipped configuration is reached by some crafted pair.
    for k, comparison in enumerate(config.comparisons):
        for index, level in enumerate(comparison.levels[:-1]):
            assert (levels[:, k] == index).any(), (comparison.attribute, level.name)
        assert (levels[:, k] == scalar.MISSING).any(), comparison.attribute


def test_score_pair_and_small_and_large_candidate_lists_agree(config, frame, monkeypatch):
    limit = 200  # one the frame exceeds, so that both paths of score_many run
    monkeypatch.setattr(scoring, "SCALAR_MAX_CANDIDATES", limit)
    records = frame.to_dict("records")
    candidates = records[1:limit + 40]
    frequencies = TermFrequencies.from_frame(frame, config.attributes)
    vectorised = score_many(records[0], candidates, config, frequencies)  # past the limit
    small = score_many(records[0], candidates[:limit], config, frequencies)
    assert small == vectorised[:limit]
    assert score_pair(records[0], candidates[5], config, frequencies) == vectorised[5]


def test_compiled_configuration_is_cached_per_config(config):
    assert scalar.level_functions(config) is scalar.level_functions(config)
    other = load_config()
    assert scalar.level_functions(other) is not scalar.level_functions(config)
