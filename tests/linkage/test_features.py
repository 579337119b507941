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
    assert features._e164_number(number) == parsed
