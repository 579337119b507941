"""The vocabulary of match configurations: comparison methods and their level tests (with the
parameter each test takes), blocking rule kinds and transforms.

``linkage.comparisons``, ``linkage.scalar_checks`` and ``linkage.blocking`` implement these
names; ``linkage.config_schema`` rejects any other, so a bad file fails when it is loaded, not
on the first pair that reaches it.
"""

from __future__ import annotations

# The method of the comparison of the records' source systems, the one where agreeing counts
# against a match (model_corrections.no_level_above_exact leaves it alone).
SOURCE_METHOD = "source"

# Level tests each comparison method offers, with the parameter each test needs (None = none).
# Every method also offers "exact" (values equal) and requires the catch-all "else" as last level.
METHOD_TESTS: dict[str, dict[str, str | None]] = {
    "exact": {},
    # The record's source system (attributes.SOURCE_ATTRIBUTE): "exact" is the same source.
    SOURCE_METHOD: {},
    "name": {
        "swapped": "other",
        "swapped_similar": "other",
        "crossed": "other",
        "moved": "other",
        "kept_in_email": None,
        "name_changed": None,
        "damerau": "max_distance",
        "nickname": None,
        "nickname_typo": None,
        "jaro_winkler": "threshold",
        "levenshtein": "max_distance",
        "phonetic": "algorithm",
        "initial": None,
        "token": None,
    },
    "string": {
        "swapped_similar": "other",
        "jaro_winkler": "threshold",
        "levenshtein": "max_distance",
        "damerau": "max_distance",
        "prefix": "n",
        "token": None,
        "same_letters": None,
    },
    "date": {
        "swapped_day_month": None,
        "one_character": None,
        "damerau": "max_distance",
        "year_off_by_one": None,
        "same_year_month": None,
        "two_parts": None,
        "years_apart": "min_years",
    },
    "email": {
        "canonical": None,
        "name_local_part": None,
        "same_local_part": None,
        "typo": "max_distance",
        "levenshtein": "max_distance",
        "personal_mailboxes": None,
    },
    "phone": {"last_digits": "n", "levenshtein": "max_distance", "damerau": "max_distance",
              "mobile_numbers": None},
}
EXACT_TEST = "exact"
ELSE_TEST = "else"
# What the "name_changed" test needs both records to share besides the given name (one is
# enough): a mailbox, a phone number or a street address stays when the family name changes.
NAME_CHANGE_CONTACTS = ("email", "phone", "address_line")
# Tests that read attributes besides the compared one (name_local_part: is the shared mailbox
# name made of the person's names?).
TEST_READS: dict[str, tuple[str, ...]] = {"name_local_part": ("given_name", "family_name"),
                                          "kept_in_email": ("email",),
                                          "name_changed": ("given_name", *NAME_CHANGE_CONTACTS)}
MISSING_LEVEL = "missing"  # reserved: either value absent; never configured, weight 0
PHONETIC_ALGORITHMS = frozenset({"soundex", "nysiis", "metaphone", "match_rating"})

# Blocking rule kinds. "exact": records sharing the key form a block. "sorted_neighbourhood":
# records sorted by the key are paired with their next window - 1 neighbours.
RULE_KINDS = frozenset({"exact", "sorted_neighbourhood"})
# Blocking transforms: plain ones, and "first:N" / "last:N" (a prefix / suffix of N characters).
PLAIN_TRANSFORMS = frozenset(
    {
        "soundex",
        "nysiis",
        "metaphone",
        "year",
        "year_month",
        "month_day",
        "digits",
        "letters",
        "reverse",
        "canonical_email",
        "email_local_part",
    }
)
COUNTED_TRANSFORMS = frozenset({"first", "last"})
