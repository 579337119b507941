"""Tests for linkage.pipeline and batch blocking: the batch path agrees with the real-time path."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from linkage.blocking import block_pairs, blocking_keys, rule_names
from linkage.config import load_config
from linkage.pipeline import LEVEL_PREFIX, link_frame, standardise_frame
from linkage.scoring import score_many, score_pair
from linkage.standardise import standardise_record
from linkage.synthetic import generate_records_dataframe
from tests.linkage.samples import OLIVIA, ONE_TYPO_CASES


@pytest.fixture(scope="module")
def config():
    shipped = load_config()
    return dataclasses.replace(
        shipped, training=dataclasses.replace(shipped.training, random_pairs=30_000)
    )


@pytest.fixture(scope="module")
def frame():
    return standardise_frame(generate_records_dataframe(people=900, seed=5))


@pytest.fixture(scope="module")
def batch(frame, config):
    return link_frame(frame, config)


def test_batch_output_has_one_row_per_candidate_pair(batch, config):
    pairs = batch.pairs

    assert {"left", "right", "weight", "probability", "rules"} <= set(pairs.columns)
    assert all(LEVEL_PREFIX + c.attribute in pairs for c in config.comparisons)
    assert not pairs.duplicated(["left", "right"]).any()
    assert (pairs["left"] != pairs["right"]).all()
    known = {rule.name for rule in config.blocking_rules}
    for label in pairs["rules"].cat.categories:
        assert set(label.split("+")) <= known


def test_score_pair_gives_every_batch_pair_exactly_its_batch_weight_and_levels(batch, frame):
    records = frame.to_dict("records")
    pairs = batch.pairs
    rows = np.random.default_rng(0).choice(len(pairs), size=min(1500, len(pairs)), replace=False)
    left, right = pairs.attrs["left_position"], pairs.attrs["right_position"]
    model = batch.config
    for row in rows.tolist():
        single = score_pair(records[left[row]], records[right[row]], model, batch.frequencies)
        assert single.weight == pairs["weight"].iat[row]
        expected = [
            "missing" if (i := pairs[LEVEL_PREFIX + c.attribute].iat[row]) < 0 else c.levels[i].name
            for c in model.comparisons
        ]
        assert [a.level for a in single.attributes] == expected
        assert batch.score(row).explanation()["attributes"] == single.explanation()["attributes"]


def test_score_many_agrees_with_the_batch_weighting_on_random_pairs(batch, frame):
    # Not only candidates: any pair of records is weighed the same way by both paths.
    from linkage.compare import comparison_matrix
    from linkage.comparisons import RecordTable
    from linkage.scoring import pair_weights

    model = batch.config
    records = frame.to_dict("records")
    table = RecordTable.from_frame(frame, model.attributes)
    rng = np.random.default_rng(1)
    anchor = int(rng.integers(len(frame)))
    others = rng.choice(len(frame), size=1000, replace=False)
    left = np.full(len(others), anchor)
    levels = comparison_matrix(model, table, left, others)
    weights = model.prior_weight + pair_weights(
        model, levels, table, left, others, batch.frequencies
    ).sum(axis=1)

    many = score_many(records[anchor], [records[i] for i in others], model, batch.frequencies)

    assert [s.weight for s in many] == weights.tolist()


@pytest.mark.parametrize(
    ("attribute", "typo"),
    ONE_TYPO_CASES,
)
def test_batch_blocking_finds_a_duplicate_with_one_typo_in_any_field(frame, attribute, typo):
    config = load_config()
    rows = pd.DataFrame([OLIVIA, {**OLIVIA, attribute: typo}])
    combined = pd.concat([rows, frame], ignore_index=True)

    left, right, masks = block_pairs(combined, config)

    found = (left == 0) & (right == 1)
    assert found.any()
    assert rule_names(int(masks[found][0]), config)


def test_batch_blocks_are_the_records_sharing_a_real_time_key(frame):
    config = load_config()
    exact_only = dataclasses.replace(
        config, blocking_rules=tuple(r for r in config.blocking_rules if r.kind == "exact")
    )
    records = frame.to_dict("records")
    blocks: dict = {}
    for index, record in enumerate(records):
        for key in blocking_keys(record, exact_only):
            blocks.setdefault(key, []).append(index)
    expected = {
        (a, b)
        for members in blocks.values() if len(members) <= config.max_block_size
        for i, a in enumerate(members) for b in members[i + 1:]
    }

    left, right, _ = block_pairs(frame, exact_only)

    assert set(zip(left.tolist(), right.tolist(), strict=True)) == expected


def test_sorted_neighbourhood_pairs_records_close_in_key_order():
    config = load_config()
    rule = next(r for r in config.blocking_rules if r.kind == "sorted_neighbourhood")
    only = dataclasses.replace(config, blocking_rules=(rule,))
    names = ["bennett", "bennet", "benett", "zimmer", "adams", "bennetts"]
    frame = pd.DataFrame({"family_name": names, "given_name": ["olivia"] * len(names)})

    left, right, _ = block_pairs(frame, only)

    pairs = {frozenset((names[a], names[b])) for a, b in zip(left, right, strict=True)}
    assert frozenset(("bennett", "bennetts")) in pairs
    assert frozenset(("adams", "zimmer")) not in pairs


@pytest.mark.parametrize("with_family_column", [True, False])
def test_standardise_frame_splits_whole_names_as_standardise_record(with_family_column):
    raw = pd.DataFrame({"given_name": ["Anna Maria Nowak", "Anna", None, "Bob Lee"],
                        "family_name": [None, None, "Nowak", "Stone"]})
    if not with_family_column:
        raw = raw.drop(columns=["family_name"]).iloc[:2]

    batch = standardise_frame(raw)

    expected = [standardise_record(row).values for row in raw.to_dict("records")]
    assert batch["given_name"].tolist() == [e["given_name"] for e in expected]
    assert batch["family_name"].tolist() == [e["family_name"] for e in expected]
    assert batch["family_name"].tolist()[:2] == ["nowak", None]


def test_standardise_frame_equals_standardise_record(frame):
    raw = generate_records_dataframe(people=60, seed=9)
    batch = standardise_frame(raw)
    for position in range(len(raw)):
        record = raw.iloc[position].to_dict()
        attributes = {k: v for k, v in record.items() if k in OLIVIA or k == "address_line2"
                      or k == "region"}
        expected = standardise_record(attributes).values
        got = {k: batch.iloc[position][k] for k in expected}
        assert got == expected


def test_explain_rows_gives_each_pair_the_explanation_its_own_score_gives(batch):
    from linkage.explain import explain_rows

    rows = np.random.default_rng(1).choice(len(batch.pairs), size=min(500, len(batch.pairs)),
                                           replace=False)
    for row, explained in zip(rows.tolist(), explain_rows(batch, rows), strict=True):
        own = batch.score(row).explanation()
        for key in ("weight", "probability", "attributes", "blocking_rules", "model_version"):
            assert explained[key] == own[key], key
