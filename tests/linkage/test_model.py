"""Tests for linkage.model and linkage.frequencies: EM, u from random pairs, term frequencies,
steward refinement and the JSON round-trip of a trained model."""

import dataclasses
import json

import numpy as np
import pytest

from linkage.comparisons import RecordTable
from linkage.config import MatchConfig, load_config
from linkage.frequencies import PRIOR_RECORDS, TermFrequencies
from linkage.model import compress, estimate_u, expectation_maximisation
from linkage.pipeline import link_frame, standardise_frame
from linkage.scoring import score_pair
from linkage.synthetic import generate_records_dataframe


@pytest.fixture(scope="module")
def config():
    shipped = load_config()
    # Fewer random pairs than in production keep the tests fast; the estimate is still fine.
    return dataclasses.replace(
        shipped, training=dataclasses.replace(shipped.training, random_pairs=30_000)
    )


@pytest.fixture(scope="module")
def trained(config):
    raw = generate_records_dataframe(people=700, seed=11)
    frame = standardise_frame(raw)
    return frame, link_frame(frame, config)


def simulate(m, u, share, pairs, seed=0):
    """Comparison patterns drawn from a two-class mixture with known m, u and match share."""
    rng = np.random.default_rng(seed)
    is_match = rng.random(pairs) < share
    columns = []
    for m_k, u_k in zip(m, u, strict=True):
        from_m = rng.choice(len(m_k), size=pairs, p=m_k)
        from_u = rng.choice(len(u_k), size=pairs, p=u_k)
        columns.append(np.where(is_match, from_m, from_u))
    return np.column_stack(columns).astype(np.int8)


def test_em_recovers_known_m_and_match_share_with_u_fixed():
    true_m = [np.array([0.85, 0.1, 0.05]), np.array([0.9, 0.1]), np.array([0.7, 0.2, 0.1])]
    u = [np.array([0.01, 0.04, 0.95]), np.array([0.05, 0.95]), np.array([0.02, 0.08, 0.9])]
    levels = simulate(true_m, u, share=0.3, pairs=40_000)
    patterns, _, counts = compress(levels)
    start = [np.full(len(x), 1 / len(x)) for x in true_m]

    m, share, iterations = expectation_maximisation(
        patterns, counts, start, u, active=[True] * 3, prior=0.5, iterations=200,
        tolerance=1e-7,
    )

    assert share == pytest.approx(0.3, abs=0.01)
    for estimated, truth in zip(m, true_m, strict=True):
        assert estimated == pytest.approx(truth, abs=0.02)
    assert iterations < 200


def test_em_leaves_inactive_comparisons_alone():
    m = [np.array([0.9, 0.1]), np.array([0.5, 0.5])]
    u = [np.array([0.1, 0.9]), np.array([0.5, 0.5])]
    levels = simulate(m, u, share=0.5, pairs=2_000)
    patterns, _, counts = compress(levels)

    estimated, _, _ = expectation_maximisation(
        patterns, counts, m, u, active=[True, False], prior=0.5, iterations=20, tolerance=1e-6
    )

    assert estimated[1].tolist() == [0.5, 0.5]


def test_compress_counts_distinct_patterns_with_an_extra_column():
    levels = np.array([[0, -1], [0, -1], [1, 2], [0, -1]], dtype=np.int8)
    masks = np.array([1, 1, 2, 4])

    patterns, extra, counts = compress(levels, masks)

    found = zip(patterns.tolist(), extra.tolist(), counts, strict=True)
    rows = {(tuple(p), e): c for p, e, c in found}
    assert rows == {((0, -1), 1): 2, ((1, 2), 2): 1, ((0, -1), 4): 1}


def test_exact_u_is_the_share_of_record_pairs_holding_the_same_value(config):
    names = ["smith"] * 6 + ["jones"] * 3 + ["wojciechowski"] + [None] * 5
    table = RecordTable(
        {a: names if a == "family_name" else [None] * len(names) for a in config.attributes}
    )

    u = estimate_u(config, table, pairs=10_000, seed=1)["family_name"]

    present = 10
    expected = (6 * 5 + 3 * 2) / (present * (present - 1))
    assert u[0] == pytest.approx(expected)
    assert u.sum() == pytest.approx(1.0)
    assert (u > 0).all()


def test_term_frequency_adjustment_makes_rare_agreement_weigh_more(config):
    frequencies = TermFrequencies.from_counts(
        {"family_name": {"smith": 900, "wojciechowski": 2, "jones": 98}}
    )
    common = {"family_name": "smith"}
    rare = {"family_name": "wojciechowski"}

    weight = {
        name: next(a.weight for a in score_pair(r, r, config, frequencies).attributes
                   if a.attribute == "family_name")
        for name, r in (("common", common), ("rare", rare))
    }
    plain = next(a.weight for a in score_pair(rare, rare, config).attributes
                 if a.attribute == "family_name")

    assert weight["rare"] > plain > weight["common"]
    assert frequencies.frequency("family_name", "smith") == pytest.approx(0.9)
    exact = config.comparison("family_name").levels[0]
    # 1,000 records: the frequency is shrunk towards the average as by 5,000 more records.
    shrunk = (0.9 * 1000 + PRIOR_RECORDS * exact.u) / (1000 + PRIOR_RECORDS)
    assert weight["common"] == pytest.approx(np.log2(exact.m / shrunk))


def test_shrinkage_fades_as_the_records_grow(config):
    exact = config.comparison("family_name").levels[0]
    gaps = []
    for scale in (1, 1000):
        frequencies = TermFrequencies.from_counts(
            {"family_name": {"smith": 9 * scale, "other": 991 * scale}})
        weight = next(a.weight for a in score_pair({"family_name": "smith"},
                                                   {"family_name": "smith"}, config,
                                                   frequencies).attributes
                      if a.attribute == "family_name")
        gaps.append(abs(weight - np.log2(exact.m / 0.009)))
    assert gaps[1] < 0.01 < gaps[0]


def test_too_few_records_give_no_frequencies_and_keep_the_average_weight(config):
    few = TermFrequencies.from_counts({"family_name": {"smith": 600, "jones": 399}})
    enough = TermFrequencies.from_counts({"family_name": {"smith": 600, "jones": 400}})
    record = {"family_name": "smith"}

    assert few.frequency("family_name", "smith") is None
    assert score_pair(record, record, config, few) == score_pair(record, record, config)
    assert enough.frequency("family_name", "smith") == pytest.approx(0.6)
    assert score_pair(record, record, config, enough) != score_pair(record, record, config)


def test_unknown_values_keep_the_average_weight(config):
    frequencies = TermFrequencies.from_counts({"family_name": {"smith": 10}})
    record = {"family_name": "zzyzx"}

    assert score_pair(record, record, config, frequencies) == score_pair(record, record, config)
    assert frequencies.frequency("family_name", "zzyzx") is None
    assert frequencies.frequency("email", "x@y.z") is None


def test_a_frequency_source_needs_only_a_frequency_method(config):
    class FromDatabase:
        def frequency(self, attribute, value):
            return {"smith": 0.5}.get(value) if attribute == "family_name" else None

    class WithTotals(FromDatabase):
        def total(self, attribute):
            return 1200.0 if attribute == "family_name" else None

    counted = TermFrequencies.from_counts({"family_name": {"smith": 600, "jones": 600}})
    record = {"family_name": "smith"}
    exact = config.comparison("family_name").levels[0]

    plain = score_pair(record, record, config, FromDatabase())
    assert next(a.weight for a in plain.attributes if a.attribute == "family_name") == \
        pytest.approx(np.log2(exact.m / 0.5))
    # Knowing how many records hold a name lets the source's frequency be shrunk as counted
    # ones are.
    assert score_pair(record, record, config, WithTotals()) == score_pair(
        record, record, config, counted
    )


def test_training_estimates_every_level_and_versions_the_model(trained, config):
    _, result = trained
    model = result.config

    assert model.version.startswith(config.version + "+trained.")
    assert model.trained["records"] == len(trained[0])
    assert model.trained["em_sessions"]
    assert model.prior_weight < 0
    for comparison in model.comparisons:
        assert sum(level.m for level in comparison.levels) == pytest.approx(1.0)
        assert sum(level.u for level in comparison.levels) == pytest.approx(1.0)
    # Agreeing on a birth date says more than disagreeing on it, as it must.
    birth = model.comparison("birth_date")
    assert birth.levels[0].weight > 5 > 0 > birth.levels[-1].weight


def test_trained_model_round_trips_through_json_without_personal_data(trained):
    frame, result = trained

    text = json.dumps(result.config.to_dict())
    again = MatchConfig.from_dict(json.loads(text))

    assert again == result.config
    assert again.trained == result.config.trained
    assert again.version == result.config.version
    # Term-frequency tables hold names: they never go into the stored model.
    for value in frame["family_name"].dropna().unique()[:200]:
        assert f'"{value}"' not in text


def test_steward_decisions_refine_m_only_when_there_are_enough(trained, config):
    frame, result = trained
    pairs = result.pairs
    truth = frame["person_id"].to_numpy()
    left, right = pairs.attrs["left_position"], pairs.attrs["right_position"]
    same = truth[left] == truth[right]
    labels = pairs.assign(same=same)[["left", "right", "same"]]
    few = labels.groupby("same").head(10)
    enough = labels.groupby("same").head(200)

    with_few = link_frame(frame, config, labels=few).config
    with_enough = link_frame(frame, config, labels=enough).config

    assert with_few.trained["labelled_pairs"]["used"] is False
    assert with_enough.trained["labelled_pairs"]["used"] is True
    assert with_enough.version != with_few.version
