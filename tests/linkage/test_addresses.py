"""Address lines: one street with another house number is its own level, learnt by EM."""

import dataclasses

import pytest

from linkage.config import load_config
from linkage.pipeline import link_frame, standardise_frame
from linkage.scoring import score_pair
from linkage.standardise import standardise_address_line
from linkage.synthetic import generate_records_dataframe
from tests.linkage.samples import OLIVIA


@pytest.fixture(scope="module")
def config():
    return load_config()


def address_level(config, a: str, b: str) -> str:
    score = score_pair({**OLIVIA, "address_line": standardise_address_line(a)},
                       {**OLIVIA, "address_line": standardise_address_line(b)}, config)
    return next(s.level for s in score.attributes if s.attribute == "address_line")


@pytest.mark.parametrize(("a", "b", "level"), [
    ("144 Medworth Crescent", "22 Medworth Crescent", "same_street"),
    ("12 High Street", "12 High St.", "exact"),
    ("12 High Street", "12 Hihg Street", "similar_0.90"),
    ("12 High Street", "3 Low Road", "else"),
])
def test_another_house_number_on_the_same_street_is_its_own_level(config, a, b, level):
    assert address_level(config, a, b) == level


def test_training_weighs_a_neighbour_below_a_typo_in_the_street(config):
    # The synthetic customers key typos into street names, never into house numbers: the
    # same street with another number is a neighbour there, and says little.
    quick = dataclasses.replace(
        config, training=dataclasses.replace(config.training, random_pairs=50_000))
    frame = standardise_frame(generate_records_dataframe(people=3000, seed=5))

    levels = link_frame(frame, quick).config.comparison("address_line").levels
    weight = {level.name: level.weight for level in levels}

    assert weight["same_street"] < 2
    assert weight["similar_0.90"] > weight["same_street"] + 3
