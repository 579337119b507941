"""The canonical key attributes of a customer record (DESIGN.md section 5).

Every source maps its own field names onto these; the hub stores nothing else about a person.
"""

CANONICAL_ATTRIBUTES: tuple[str, ...] = (
    "given_name",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "address_line",
    "address_line2",
    "locality",
    "postcode",
    "region",
    "country",
    "national_id",
)

# Not a key attribute but a fact about the record: the code of the source system that holds it.
# Records of one source are rarely one person twice (a system keeps its own customers apart),
# so the "source" comparison lets training learn how much sharing a source counts against.
# Never standardised, never a blocking key; absent (a search) it is missing and neutral.
SOURCE_ATTRIBUTE = "source"

# Longest value accepted as received; longer input is rejected, never truncated.
MAX_LENGTHS: dict[str, int] = {
    "given_name": 100,
    "family_name": 100,
    "birth_date": 32,
    "email": 254,
    "phone": 40,
    "address_line": 200,
    "address_line2": 200,
    "locality": 100,
    "postcode": 20,
    "region": 100,
    "country": 60,
    "national_id": 40,
}
