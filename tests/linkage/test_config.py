"""Tests for linkage.config: the shipped configuration and every validation error, with its path."""

import copy
import json
import math
import pickle

import pytest

from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.config import (
    BlockingRule,
    ConfigError,
    Level,
    MatchConfig,
    load_config,
    parse_config,
)


def minimal_document() -> dict:
    """A small valid configuration that each validation test breaks in one place."""
    return {
        "version": "test-v1",
        "prior_weight": -10.0,
        "review_threshold": 2.0,
        "auto_link_threshold": 10.0,
        "max_block_size": 50,
        "blocking_rules": [
            {"name": "email", "attributes": ["email"]},
            {
                "name": "name_year",
                "attributes": ["family_name", "birth_date"],
                "transforms": {"family_name": "soundex", "birth_date": "year"},
            },
        ],
        "comparisons": {
            "given_name": {
                "method": "name",
                "levels": [
                    {"name": "exact", "m": 0.9, "u": 0.01},
                    {
                        "name": "close",
                        "test": "jaro_winkler",
                        "threshold": 0.92,
                        "m": 0.05,
                        "u": 0.01,
                    },
                    {"name": "else", "m": 0.05, "u": 0.98},
                ],
            },
            "email": {
                "method": "email",
                "levels": [
                    {"name": "exact", "m": 0.8, "u": 0.001},
                    {"name": "same_local_part", "m": 0.1, "u": 0.009},
                    {"name": "else", "m": 0.1, "u": 0.99},
                ],
            },
        },
    }


def test_minimal_document_parses_into_frozen_dataclasses():
    config = parse_config(minimal_document())

    assert config.version == "test-v1"
    assert [c.attribute for c in config.comparisons] == ["given_name", "email"]
    assert config.comparisons[0].levels[1] == Level(
        name="close", m=0.05, u=0.01, test="jaro_winkler", threshold=0.92
    )
    assert config.blocking_rules[1] == BlockingRule(
        name="name_year",
        attributes=("family_name", "birth_date"),
        transforms=("soundex", "year"),
    )
    assert config.blocking_rules[0].transforms == ("",)


def test_parse_config_does_not_modify_its_input():
    document = minimal_document()
    before = copy.deepcopy(document)

    parse_config(document)

    assert document == before


def test_level_weight_is_log2_of_m_over_u():
    level = Level(name="exact", m=0.9, u=0.01)

    assert level.weight == pytest.approx(math.log2(90))
    assert level.test == "exact"


def test_level_rejects_probabilities_that_give_an_infinite_weight():
    with pytest.raises(ValueError, match="m and u must be in"):
        Level(name="exact", m=0.9, u=0.0)


def test_shipped_configuration_loads_and_is_sane():
    config = load_config()

    assert config.version == "default-v13"
    # Trained on 200,000 synthetic customers: about one pair in 45,000 is a match.
    assert -17 < config.prior_weight < -14
    assert config.review_threshold < config.auto_link_threshold
    assert config.max_block_size == 500
    assert {c.attribute for c in config.comparisons} >= {
        "given_name",
        "family_name",
        "birth_date",
        "email",
        "phone",
        "address_line",
        "locality",
        "postcode",
        "national_id",
    }
    assert {rule.kind for rule in config.blocking_rules} == {"exact", "sorted_neighbourhood"}
    for comparison in config.comparisons:
        assert comparison.levels[-1].test == "else"
        if comparison.method == "source":
            continue
        # Agreement levels add evidence, the catch-all takes it away.
        assert comparison.levels[0].weight > 0
        assert comparison.levels[-1].weight < 0
    # Except for the source: a system keeps its own customers apart, so two of its records
    # are rarely one person, and two systems' records are a little more often.
    source = config.comparison("source")
    assert source.levels[0].weight < -2 and source.levels[-1].weight > 0


def test_shipped_name_comparisons_know_nicknames_initials_and_phonetics():
    config = load_config()
    given = config.comparison("given_name")
    assert given.method == "name"
    assert {"exact", "swapped", "nickname", "jaro_winkler", "phonetic", "initial"} <= {
        level.test for level in given.levels
    }
    assert given.term_frequency is not None
    assert config.comparison("family_name").term_frequency is not None


def test_configuration_round_trips_through_its_json_document():
    config = load_config()

    again = MatchConfig.from_dict(json.loads(json.dumps(config.to_dict())))

    assert again == config
    assert again.weight_caps == config.weight_caps
    assert again.placeholders == config.placeholders


def test_load_config_reads_a_given_path(tmp_path):
    path = tmp_path / "match.json"
    path.write_text(json.dumps(minimal_document()), encoding="utf-8")

    assert load_config(path).version == "test-v1"
    assert load_config(str(path)).version == "test-v1"


def test_load_config_reports_invalid_json_with_the_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "version": "x",\n}', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"broken\.json: invalid JSON at line 3"):
        load_config(path)


def test_load_config_rejects_duplicate_keys_that_json_would_silently_drop(tmp_path):
    text = json.dumps(minimal_document())
    text = text.replace('"version": "test-v1"', '"version": "test-v1", "version": "other"')
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match="version: duplicate key"):
        load_config(path)


def _set(path, value):
    """A mutation setting document[path...] = value."""

    def mutate(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(path):
    def mutate(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


GIVEN = ("comparisons", "given_name")
EMAIL = ("comparisons", "email")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set(("colour",), "red"), "colour: unknown key"),
        (_delete(("version",)), "version: required"),
        (_set(("version",), ""), "version: must be a non-empty string"),
        (_set(("prior_weight",), "low"), "prior_weight: must be a finite number"),
        (_set(("prior_weight",), float("nan")), "prior_weight: must be a finite number"),
        (_set(("review_threshold",), True), "review_threshold: must be a finite number"),
        (
            _set(("review_threshold",), 10.0),
            "auto_link_threshold: must be greater than review_threshold",
        ),
        (_set(("max_block_size",), 1), "max_block_size: must be an integer >= 2"),
        (_set(("max_block_size",), 50.5), "max_block_size: must be an integer >= 2"),
        (_set(("blocking_rules",), []), "blocking_rules: must be a non-empty list"),
        (
            _set(("blocking_rules", 1, "name"), "email"),
            "blocking_rules[1].name: duplicate blocking rule name 'email'",
        ),
        (
            _set(("blocking_rules", 0, "attributes"), ["shoe_size"]),
            "blocking_rules[0].attributes[0]: unknown attribute 'shoe_size'",
        ),
        (
            _set(("blocking_rules", 0, "attributes"), ["email", "email"]),
            "blocking_rules[0].attributes[1]: duplicate 'email'",
        ),
        (
            _set(("blocking_rules", 0, "attributes"), []),
            "blocking_rules[0].attributes: must be a non-empty list",
        ),
        (
            _set(("blocking_rules", 1, "transforms", "family_name"), "soundx"),
            "blocking_rules[1].transforms.family_name: unknown transform 'soundx'",
        ),
        (
            _set(("blocking_rules", 1, "transforms", "family_name"), "first:0"),
            "blocking_rules[1].transforms.family_name: unknown transform 'first:0'",
        ),
        (
            _set(("blocking_rules", 1, "transforms", "postcode"), "first:2"),
            "blocking_rules[1].transforms.postcode: attribute is not in this rule",
        ),
        (_set(("blocking_rules", 0, "when"), "always"), "blocking_rules[0].when: unknown key"),
        (_set(("comparisons",), {}), "comparisons: must be a non-empty object"),
        (
            _set(("comparisons", "shoe_size"), {"method": "exact", "levels": []}),
            "comparisons.shoe_size: unknown attribute 'shoe_size'",
        ),
        (
            _set((*EMAIL, "method"), "soundex"),
            "comparisons.email.method: unknown method 'soundex'",
        ),
        (_set((*EMAIL, "weight"), 3), "comparisons.email.weight: unknown key"),
        (
            _set((*EMAIL, "levels", 1, "m"), 1.5),
            "comparisons.email.levels[1].m: must be between 0 and 1",
        ),
        (
            _set((*EMAIL, "levels", 1, "u"), 0),
            "comparisons.email.levels[1].u: must be between 0 and 1",
        ),
        (
            _set((*EMAIL, "levels", 0, "m"), "high"),
            "comparisons.email.levels[0].m: must be a finite number",
        ),
        (
            _set((*EMAIL, "levels", 0, "m"), 0.5),
            "comparisons.email.levels: m values must sum to 1",
        ),
        (
            _set((*EMAIL, "levels", 2, "u"), 0.5),
            "comparisons.email.levels: u values must sum to 1",
        ),
        (
            _set((*EMAIL, "levels"), [{"name": "else", "m": 1.0, "u": 1.0}]),
            "comparisons.email.levels: must be a list of at least two levels",
        ),
        (
            _set((*EMAIL, "levels", 2, "name"), "different"),
            "comparisons.email.levels[2].test: unknown test 'different'",
        ),
        (
            _set((*EMAIL, "levels", 2, "test"), "exact"),
            "comparisons.email.levels[2].test: the last level must be the catch-all",
        ),
        (
            _set((*EMAIL, "levels", 1, "test"), "else"),
            'comparisons.email.levels[1].test: "else" must be the last level',
        ),
        (
            _set((*EMAIL, "levels", 1, "test"), "similarity"),
            "comparisons.email.levels[1].test: unknown test 'similarity' for method 'email'",
        ),
        (
            _set((*EMAIL, "levels", 1, "test"), "exact"),
            "comparisons.email.levels[1].test: duplicate test 'exact'",
        ),
        (
            _set((*EMAIL, "levels", 1, "name"), "exact"),
            "comparisons.email.levels[1].name: duplicate level name 'exact'",
        ),
        (
            _set((*EMAIL, "levels", 0, "name"), "missing"),
            "comparisons.email.levels[0].name: 'missing' is reserved",
        ),
        (
            _set((*EMAIL, "levels", 0, "threshold"), 0.9),
            "comparisons.email.levels[0].threshold: unknown key",
        ),
        (
            _delete((*GIVEN, "levels", 1, "threshold")),
            "comparisons.given_name.levels[1].threshold: required",
        ),
        (
            _set((*GIVEN, "levels", 1, "threshold"), 1.5),
            "comparisons.given_name.levels[1].threshold: must be between 0 and 1",
        ),
        (
            _set((*GIVEN, "levels", 1, "name"), ""),
            "comparisons.given_name.levels[1].name: must be a non-empty string",
        ),
        (_set((*GIVEN, "levels", 1), "close"), "comparisons.given_name.levels[1]: must be an"),
    ],
)
def test_invalid_document_is_rejected_with_the_json_path_of_the_problem(mutate, message):
    document = minimal_document()
    mutate(document)

    with pytest.raises(ConfigError) as caught:
        parse_config(document)

    assert str(caught.value).startswith(message)


def test_a_similarity_level_that_can_never_be_reached_is_rejected():
    document = minimal_document()
    levels = document["comparisons"]["given_name"]["levels"]
    levels.insert(2, {**levels[1], "name": "closer", "threshold": 0.95, "m": 0.01, "u": 0.001})
    levels[-1]["m"] -= 0.01
    levels[-1]["u"] -= 0.001

    with pytest.raises(ConfigError, match=r"levels\[2\]\.threshold: level unreachable"):
        parse_config(document)


def test_a_distance_level_that_can_never_be_reached_is_rejected():
    document = minimal_document()
    document["comparisons"]["postcode"] = {
        "method": "string",
        "levels": [
            {"name": "two", "test": "levenshtein", "max_distance": 2, "m": 0.5, "u": 0.1},
            {"name": "one", "test": "levenshtein", "max_distance": 1, "m": 0.3, "u": 0.1},
            {"name": "else", "m": 0.2, "u": 0.8},
        ],
    }

    with pytest.raises(ConfigError, match=r"postcode\.levels\[1\]\.max_distance: level unreach"):
        parse_config(document)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["blocking_rules"][0].update(kind="sorted_neighbourhood"),
            "blocking_rules[0].window: required",
        ),
        (lambda d: d["blocking_rules"][0].update(window=3), "blocking_rules[0].window: only for"),
        (lambda d: d["blocking_rules"][0].update(kind="fuzzy"), "blocking_rules[0].kind: unknown"),
        (lambda d: d["blocking_rules"][0].update(train="no"), "blocking_rules[0].train: must be"),
        (
            lambda d: d.update(weight_caps=[{"name": "x", "attributes": ["email", "phone"],
                                             "max_weight": 3}]),
            "weight_caps[0].attributes[1]: 'phone' is not compared",
        ),
        (
            lambda d: d.update(weight_caps=[{"name": "x", "attributes": ["email", "given_name"],
                                             "max_weight": 0}]),
            "weight_caps[0].max_weight: must be positive",
        ),
        (
            lambda d: d.update(weight_caps=[{"name": "x", "attributes": ["email", "given_name"],
                                             "max_weight": 3, "mode": "average"}]),
            "weight_caps[0].mode: must be one of",
        ),
        (
            lambda d: d.update(weight_caps=[{"name": "x", "attributes": ["email", "given_name"],
                                             "max_weight": 3, "mode": "strongest",
                                             "person_attributes": ["email"]}]),
            "weight_caps[0].person_attributes[0]: 'email' is not compared outside the group",
        ),
        (
            lambda d: d.update(weight_caps=[{"name": "x", "attributes": ["email"],
                                             "max_weight": 3, "mode": "strongest"}]),
            "weight_caps[0].attributes: must be a list of at least two attributes (one with",
        ),
        (lambda d: d.update(placeholders={"email": "x"}), "placeholders.email: must be a list"),
        (lambda d: d.update(training={"seed": -1}), "training.seed: must be an integer >= 0"),
        (lambda d: d.update(training={"epochs": 3}), "training.epochs: unknown key"),
        (
            lambda d: d["comparisons"]["email"].update(term_frequency={"min_frequency": 0}),
            "comparisons.email.term_frequency.min_frequency: must be between 0 and 1",
        ),
        (
            lambda d: d["comparisons"]["given_name"]["levels"].insert(
                1, {"name": "sw", "test": "swapped", "other": "given_name", "m": 0.0, "u": 0.0}
            ),
            "comparisons.given_name.levels[1].other: must be another attribute",
        ),
        (
            lambda d: d["comparisons"]["given_name"]["levels"].insert(
                1, {"name": "ph", "test": "phonetic", "algorithm": "klingon", "m": 0.1, "u": 0.1}
            ),
            "comparisons.given_name.levels[1].algorithm: unknown algorithm",
        ),
    ],
)
def test_new_parts_of_the_document_are_validated_with_their_path(mutate, message):
    document = minimal_document()
    mutate(document)

    with pytest.raises(ConfigError) as caught:
        parse_config(document)

    assert str(caught.value).startswith(message)


def test_a_document_that_is_not_an_object_is_rejected():
    with pytest.raises(ConfigError, match=r"^\(root\): must be an object"):
        parse_config([])


def test_config_error_is_a_value_error_that_survives_pickling():
    error = ConfigError("comparisons.email.levels[1].m", "must be between 0 and 1")
    copy_ = pickle.loads(pickle.dumps(error))

    assert isinstance(error, ValueError)
    assert (copy_.path, copy_.reason, str(copy_)) == (error.path, error.reason, str(error))


def test_with_thresholds_returns_a_copy_with_new_thresholds():
    config = parse_config(minimal_document())

    changed = config.with_thresholds(review=3.5, auto_link=14)

    assert (changed.review_threshold, changed.auto_link_threshold) == (3.5, 14.0)
    assert (config.review_threshold, config.auto_link_threshold) == (2.0, 10.0)
    assert changed.comparisons is config.comparisons
    assert isinstance(changed, MatchConfig)


def test_with_thresholds_keeps_the_threshold_not_given():
    config = parse_config(minimal_document())

    assert config.with_thresholds(auto_link=12).review_threshold == 2.0
    assert config.with_thresholds(review=1).auto_link_threshold == 10.0


@pytest.mark.parametrize(
    ("review", "auto_link", "message"),
    [
        (10.0, None, "auto_link_threshold: must be greater than review_threshold"),
        (None, 1.0, "auto_link_threshold: must be greater than review_threshold"),
        (float("inf"), None, "review_threshold: must be a finite number"),
        (None, "high", "auto_link_threshold: must be a finite number"),
    ],
)
def test_with_thresholds_rejects_thresholds_out_of_order(review, auto_link, message):
    config = parse_config(minimal_document())

    with pytest.raises(ConfigError, match=f"^{message}"):
        config.with_thresholds(review=review, auto_link=auto_link)


def test_every_canonical_attribute_can_be_compared_and_blocked_on():
    document = minimal_document()
    document["blocking_rules"] = [
        {"name": attribute, "attributes": [attribute]} for attribute in CANONICAL_ATTRIBUTES
    ]
    document["comparisons"] = {
        attribute: {
            "method": "exact",
            "levels": [{"name": "exact", "m": 0.9, "u": 0.1}, {"name": "else", "m": 0.1, "u": 0.9}],
        }
        for attribute in CANONICAL_ATTRIBUTES
    }

    config = parse_config(document)

    assert len(config.comparisons) == len(CANONICAL_ATTRIBUTES)


def _with_source(method: str = "source", attribute: str = "source", **extra) -> dict:
    document = minimal_document()
    document["comparisons"][attribute] = {"method": method, **extra, "levels": [
        {"name": "same", "test": "exact", "m": 0.02, "u": 0.25},
        {"name": "else", "m": 0.98, "u": 0.75}]}
    return document


def test_the_records_source_can_be_compared_and_its_agreement_weighs_against():
    source = parse_config(_with_source()).comparison("source")

    assert source.method == "source"
    assert source.levels[0].weight < 0 < source.levels[1].weight


@pytest.mark.parametrize(("document", "message"), [
    (_with_source(method="exact"),
     'comparisons.source.method: the record\'s source is compared by method "source"'),
    (_with_source(attribute="postcode"),
     'comparisons.postcode.method: method "source" compares only the record\'s source'),
    (_with_source(term_frequency=True),
     "comparisons.source.term_frequency: the source takes no term-frequency adjustment"),
])
def test_a_source_comparison_other_than_the_source_method_is_rejected(document, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        parse_config(document)


def test_the_source_is_no_blocking_attribute():
    document = minimal_document()
    document["blocking_rules"][0]["attributes"] = ["source"]

    with pytest.raises(ConfigError, match=r"blocking_rules\[0\]\.attributes\[0\]: unknown attri"):
        parse_config(document)
