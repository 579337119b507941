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
