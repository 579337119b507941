"""The synthetic record generator: determinism, shape, duplicates and hard negatives."""

import csv
import re
from collections import Counter, defaultdict
from datetime import date

import pytest

from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.synthetic import (
    RECORDS_PER_PERSON,
    SCENARIOS,
    generate_records,
    generate_records_dataframe,
    people_for,
    write_csv,
)
from linkage.synthetic_vocabulary import NICKNAMES

PEOPLE = 3000
SEED = 7


@pytest.fixture(scope="module")
def records():
    return generate_records(people=PEOPLE, seed=SEED, with_scenarios=True)


@pytest.fixture(scope="module")
def by_person(records):
    grouped = defaultdict(list)
    for record in records:
        grouped[record["person_id"]].append(record)
    return grouped


@pytest.fixture(scope="module")
def groups(records):
    """scenario -> list of groups, each a dict person_id -> that person's records."""
    members = defaultdict(lambda: defaultdict(list))
    for record in records:
        if record["scenario_group"] is not None:
            members[record["scenario_group"]][record["person_id"]].append(record)
    by_scenario = defaultdict(list)
    for group in members.values():
        scenario = next(iter(group.values()))[0]["scenario"]
        by_scenario[scenario].append(group)
    return by_scenario


def _values(person_records, attribute, transform=lambda value: value):
    return {transform(r[attribute]) for r in person_records if r[attribute] is not None}


def _agreement(group_list, attribute, transform=lambda value: value):
    """Among two-person groups where both people have the attribute somewhere, the fraction
    whose records share at least one value. Missing fields are frequent, so only pairs with
    values on both sides say anything."""
    pairs = [(_values(a, attribute, transform), _values(b, attribute, transform))
             for a, b in (tuple(group.values())[:2] for group in group_list)]
    pairs = [(a, b) for a, b in pairs if a and b]
    assert len(pairs) >= 5, f"too few groups with {attribute} to judge"
    return sum(bool(a & b) for a, b in pairs) / len(pairs)


def test_same_seed_gives_identical_records():
    assert generate_records(people=300, seed=3) == generate_records(people=300, seed=3)


def test_different_seeds_give_different_records():
    assert generate_records(people=300, seed=3) != generate_records(people=300, seed=4)


def test_scenario_labels_change_nothing_else(records):
    plain = generate_records(people=PEOPLE, seed=SEED)
    assert [{k: v for k, v in r.items() if not k.startswith("scenario")} for r in records] == plain


def test_records_have_the_documented_keys_and_only_strings_or_none(records):
    expected = ["source", "source_key", "person_id", *CANONICAL_ATTRIBUTES,
                "scenario", "scenario_group"]
    for record in records:
        assert list(record) == expected
        assert all(value is None or (isinstance(value, str) and value) for value in
                   record.values())


def test_source_keys_are_unique_within_each_source(records):
    keys = Counter((r["source"], r["source_key"]) for r in records)
    assert keys.most_common(1)[0][1] == 1


def test_source_keys_look_like_each_source_own_keys(records):
    styles = {"crm": r"CRM-\d{6}", "billing": r"INV-C-\d{5,}", "support": r"SUP-[0-9a-f]{12}",
              "webshop": r"WS-\d{5,}"}
    assert {r["source"] for r in records} == set(styles)
    for record in records:
        assert re.fullmatch(styles[record["source"]], record["source_key"])


def test_unknown_source_codes_get_generic_keys():
    records = generate_records(people=200, sources=("erp", "crm"))
    erp_keys = [r["source_key"] for r in records if r["source"] == "erp"]
    assert erp_keys and all(re.fullmatch(r"ERP-\d{7}", key) for key in erp_keys)


def test_people_argument_is_the_number_of_distinct_people(by_person):
    assert len(by_person) == PEOPLE


def test_about_2_records_per_person_as_documented(records):
    assert abs(len(records) / PEOPLE - RECORDS_PER_PERSON) <= 0.1


def test_duplicates_across_sources_exist_in_realistic_proportion(by_person):
    source_counts = Counter(len({r["source"] for r in rs}) for rs in by_person.values())
    assert 0.32 <= source_counts[1] / PEOPLE <= 0.42
    assert 0.28 <= source_counts[2] / PEOPLE <= 0.38
    assert 0.10 <= source_counts[4] / PEOPLE <= 0.18


def test_about_two_percent_are_registered_twice_in_one_source(by_person):
    twice = sum(
        any(n > 1 for n in Counter(r["source"] for r in rs).values())
        for rs in by_person.values()
    )
    assert 0.01 <= twice / PEOPLE <= 0.035


def test_birth_dates_are_valid_iso_dates(records):
    births = [r["birth_date"] for r in records if r["birth_date"] is not None]
    assert len(births) > len(records) / 2
    for birth in births:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth)
        assert date(1920, 1, 1) <= date.fromisoformat(birth) <= date(2025, 1, 1)


def test_missing_fields_depend_on_the_source(records):
    def missing(source, attribute):
        values = [r[attribute] for r in records if r["source"] == source]
        return sum(v is None for v in values) / len(values)

    assert missing("support", "birth_date") > 0.8
    assert missing("crm", "birth_date") < 0.3
    assert missing("webshop", "national_id") == 1.0
    assert missing("billing", "national_id") < 0.9  # present for some countries only
    assert missing("webshop", "email") < 0.01


def test_national_ids_exist_only_for_some_countries(records):
    countries = {r["country"] for r in records if r["national_id"]}
    assert countries and "DE" not in countries


def test_every_hard_negative_scenario_occurs_with_distinct_people(records, groups):
    assert {r["scenario"] for r in records} == set(SCENARIOS)
    for scenario in SCENARIOS[1:]:
        assert len(groups[scenario]) >= 10, scenario
        assert all(len(group) >= 2 for group in groups[scenario]), scenario


def test_twins_share_family_name_birth_date_and_address_but_not_given_name(groups):
    twins = groups["twin"]
    assert _agreement(twins, "family_name") > 0.8
    assert _agreement(twins, "birth_date") > 0.7
    assert _agreement(twins, "postcode") > 0.65
    assert _agreement(twins, "given_name") < 0.05


def test_parent_and_child_share_name_and_address_but_not_birth_date(groups):
    families = groups["parent_child"]
    assert _agreement(families, "given_name") > 0.75
    assert _agreement(families, "family_name") > 0.7
    assert _agreement(families, "postcode") > 0.65
    assert _agreement(families, "birth_date") < 0.05
    assert _agreement(families, "birth_date", lambda d: d[:3]) < 0.5  # a generation apart


def test_spouses_share_an_address_and_sometimes_an_email(groups):
    spouses = groups["spouse"]
    assert _agreement(spouses, "postcode") > 0.75
    assert 0.1 < _agreement(spouses, "email") < 0.45
    assert _agreement(spouses, "given_name") < 0.05


def test_namesakes_share_a_common_name_and_birth_year_and_nothing_else(groups):
    namesakes = groups["common_name"]
    assert _agreement(namesakes, "family_name") > 0.8
    assert _agreement(namesakes, "given_name") > 0.7
    assert _agreement(namesakes, "birth_date", lambda d: d[:4]) > 0.8
    assert _agreement(namesakes, "email") < 0.05
    assert _agreement(namesakes, "address_line") < 0.1


def test_records_of_one_person_show_typical_noise(by_person):
    nicknamed = married = moved = phone_styles = 0
    for rs in by_person.values():
        given = _values(rs, "given_name")
        nicknamed += any(nick in given for name in given for nick in NICKNAMES.get(name, ()))
        families = _values(rs, "family_name")
        married += len(families) > 1 and len({f[:3].lower() for f in families}) > 1
        postcodes = {p.replace(" ", "").upper() for p in _values(rs, "postcode")}
        moved += len(postcodes) > 1
        phones = _values(rs, "phone")
        phone_styles += any(p.startswith("+") for p in phones) and any(
            p.startswith("0") for p in phones)
    assert nicknamed >= 5 and married >= 10 and moved >= 20 and phone_styles >= 50


def test_family_names_are_skewed_like_real_ones(by_person):
    truth = Counter(Counter(r["family_name"] for r in rs).most_common(1)[0][0]
                    for rs in by_person.values())
    top_share = truth.most_common(1)[0][1] / PEOPLE
    assert 0.01 <= top_share <= 0.06
    assert sum(1 for n in truth.values() if n == 1) > len(truth) / 2  # a long tail of rare names


def test_dataframe_has_one_row_per_record_and_the_record_columns():
    frame = generate_records_dataframe(people=100, seed=1)
    records = generate_records(people=100, seed=1)
    assert list(frame.columns) == ["source", "source_key", "person_id", *CANONICAL_ATTRIBUTES]
    assert len(frame) == len(records)
    assert frame.iloc[0].to_dict() == records[0]


def test_write_csv_writes_canonical_columns_and_cluster(tmp_path):
    records = generate_records(people=50, seed=2)
    path = tmp_path / "records.csv"
    assert write_csv(path, records) == len(records)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["source", "source_key", *CANONICAL_ATTRIBUTES, "cluster"]
    assert len(rows) == len(records) + 1
    first = records[0]
    assert rows[1][0] == first["source"] and rows[1][-1] == first["person_id"]
    assert rows[1][4] == (first["birth_date"] or "")


def test_no_people_gives_no_records():
    assert generate_records(people=0) == []


@pytest.mark.parametrize("arguments", [
    {"people": -1},
    {"people": 1, "sources": ()},
    {"people": 1, "sources": ("crm", "crm")},
    {"people": 1, "sources": "crm"},
])
def test_invalid_arguments_are_rejected(arguments):
    with pytest.raises(ValueError):
        generate_records(**arguments)


@pytest.mark.parametrize("records", [1, 300, 5000])
def test_people_for_at_least_gives_enough_records_to_cut_to_size(records):
    assert len(generate_records(people=people_for(records, at_least=True), seed=1)) >= records
    assert people_for(records) <= people_for(records, at_least=True)
