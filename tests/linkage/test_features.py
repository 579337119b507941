"""Per-value features of linkage.features that need the data of a maintained library."""

import pytest

from linkage import features


@pytest.mark.parametrize(("number", "mobile"), [
    ("+447911123456", True),     # a UK mobile (07...)
    ("+4915112345678", True),    # a German mobile (015...)
    ("+33612345678", True),      # a French mobile (06...)
    ("+441632960123", False),    # a UK landline
    ("+12125550123", False),     # North America: the plan does not say which
    ("07911123456", False),      # no country code: nothing to look it up in
    ("+999", False),             # no such country code
])
def test_is_mobile_number_reads_the_country_numbering_plan(number, mobile):
    assert features.is_mobile_number(number) is mobile


@pytest.mark.parametrize("number", [
    "+447911123456", "+441632960123", "+4915112345678", "+33612345678", "+390612345678",
    "+3906123456", "+12125550123", "+353871234567", "+31612345678", "+8613812345678",
])
def test_mobile_detection_reads_the_number_as_phonenumbers_parses_it(number):
    import phonenumbers

    parsed = phonenumbers.parse(number)
    assert features.is_mobile_number(number) is (
        phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE)
    assert features.e164_parts(number) == (
        parsed.country_code, phonenumbers.national_significant_number(parsed))


def test_mobile_shortcut_agrees_with_phonenumbers_on_every_region_and_kind_of_number():
    # The pattern shortcut must never change an answer: phonenumbers' own example number of
    # every kind in every region (Jamaican mobiles behind +1, Guernsey's behind +44, ...).
    import phonenumbers

    checked = 0
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in vars(phonenumbers.PhoneNumberType).values():
            if not isinstance(kind, int):
                continue
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            expected = phonenumbers.number_type(example) == phonenumbers.PhoneNumberType.MOBILE
            assert features.is_mobile_number(number) is expected, number
            checked += 1
    assert checked > 1000


def test_mobile_test_agrees_with_phonenumbers_on_arbitrary_numbers_of_every_country_code():
    # Numbers of every length behind every code, most of them no valid number at all, written
    # in E.164 as the phone standardiser writes them: the compiled plans must answer as
    # number_type does on those too (and on Italian leading zeros).
    import random

    import phonenumbers

    rng, checked = random.Random(7), 0
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(20):
            national = str(rng.randrange(10 ** rng.randint(3, 12)))
            national = "0" * rng.choice((0, 0, 0, 1, 2)) + national
            try:
                parsed = phonenumbers.parse(f"+{code}{national}")
            except phonenumbers.NumberParseException:
                continue  # too short to be a number: the standardiser rejects it too
            number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            expected = phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE
            assert features.is_mobile_number(number) is expected, number
            checked += 1
    assert checked > 3000
