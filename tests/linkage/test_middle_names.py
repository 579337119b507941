"""A middle name written on one record only: its own level of the given name, learnt by EM,
and no cover for a nickname, a typo or a close spelling of the first name."""

import dataclasses
import json

import numpy as np
import pytest

from linkage.config import ConfigError, load_config, loads_config
from linkage.pipeline import link_frame, standardise_frame
from linkage.scoring import comparison_vector, score_pair
from linkage.synthetic import generate_records_dataframe
from tests.linkage.samples import OLIVIA

MIDDLE_NAMES = ("grace", "rose", "james", "marie", "louise", "anne", "paul", "jane")


@pytest.fixture(scope="module")
def config():
    return load_config()


def given_level(config, a: str, b: str) -> str:
    score = score_pair({**OLIVIA, "given_name": a}, {**OLIVIA, "given_name": b}, config)
    return next(s.level for s in score.attributes if s.attribute == "given_name")


@pytest.mark.parametrize(("a", "b", "level"), [
    ("olivia grace", "olivia", "token"),
    ("olivia", "grace olivia", "token"),
    ("olivia grace", "olivia rose", "similar_0.80"),  # two middle names: two people, or a typo
    ("robert paul", "bob", "nickname"),  # the first words are nicknames of each other
    ("bob", "robert paul", "nickname"),
    ("robert paul", "bob james", "nickname"),
    ("olivia grace", "olivai", "similar_0.92"),
    ("anna maria", "ania", "nickname"),
    ("jean pierre", "jean luc", "else"),  # equal first words are no nickname of each other
    ("mary ann", "mary beth", "similar_0.80"),
])
def test_a_middle_name_on_one_record_only_is_its_own_level(config, a, b, level):
    assert given_level(config, a, b) == level


@pytest.mark.parametrize(("a", "b", "level"), [
    ("olivia grace", "olivia", "token"), ("robert paul", "bob", "nickname"),
    ("bob", "robert paul", "nickname"),
])
def test_both_comparison_paths_reach_the_middle_name_levels(config, a, b, level):
    position = [c.attribute for c in config.comparisons].index("given_name")
    index = [lv.name for lv in config.comparison("given_name").levels].index(level)

    vector = comparison_vector({**OLIVIA, "given_name": a}, {**OLIVIA, "given_name": b}, config)

    assert vector[position] == index
    assert given_level(config, a, b) == level


def test_first_words_count_only_on_levels_that_ask_for_them(config):
    document = config.to_dict()
    for level in document["comparisons"]["given_name"]["levels"]:
        level.pop("first_word", None)
    plain = loads_config(json.dumps(document))

    assert given_level(plain, "robert paul", "bob") == "else"
    assert loads_config(json.dumps(config.to_dict())) == config  # the flags round-trip


@pytest.mark.parametrize(("attribute", "level", "value", "message"), [
    ("given_name", 0, True, "only for a level of a name comparison"),  # exact
    ("email", 1, True, "only for a level of a name comparison"),
    ("given_name", 5, "yes", "must be true or false"),
])
def test_a_first_word_flag_is_validated(config, attribute, level, value, message):
    document = config.to_dict()
    document["comparisons"][attribute]["levels"][level]["first_word"] = value

    with pytest.raises(ConfigError, match=message) as error:
        loads_config(json.dumps(document))
    assert error.value.path == f"comparisons.{attribute}.levels[{level}].first_word"


def test_training_learns_that_a_middle_name_on_one_record_is_the_same_person(config):
    # A CRM that keeps middle names beside systems that do not.
    quick = dataclasses.replace(
        config, training=dataclasses.replace(config.training, random_pairs=50_000))
    raw = generate_records_dataframe(people=2000, seed=7)
    people = raw["person_id"].unique()
    middle = dict(zip(people, np.random.default_rng(7).integers(0, 3 * len(MIDDLE_NAMES),
                                                                   len(people)), strict=True))
    for row in np.flatnonzero((raw["source"] == "crm").to_numpy()):
        pick = middle[raw.at[row, "person_id"]]
        if pick < len(MIDDLE_NAMES) and raw.at[row, "given_name"]:  # a third of the people
            raw.at[row, "given_name"] += " " + MIDDLE_NAMES[pick]
    frame = standardise_frame(raw.drop(columns=["person_id"]))

    given = link_frame(frame, quick).config.comparison("given_name")
    weight = {level.name: level.weight for level in given.levels}

    assert weight["token"] > 5  # nearly as telling as the same given name
    assert weight["token"] > weight["similar_0.80"] + 4
    assert weight["nickname"] > 3  # robert paul / bob counts as robert / bob does
