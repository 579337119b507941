"""Standardised sample records shared by the linkage tests."""

OLIVIA = {
    "given_name": "olivia",
    "family_name": "bennett",
    "birth_date": "1988-04-12",
    "email": "olivia.bennett@example.com",
    "phone": "+441632960123",
    "address_line": "12 acacia avenue",
    "locality": "leeds",
    "postcode": "LS11AB",
    "country": "GB",
    "national_id": "QQ123456C",
}

# One typo in one field of OLIVIA each: a duplicate the shipped configuration must still find.
ONE_TYPO_CASES = [
    ("given_name", "olivai"),
    ("family_name", "pennett"),
    ("birth_date", "1988-04-21"),
    ("email", "olivia.benett@example.com"),
    ("phone", "+441632960132"),
    ("postcode", "LS11AD"),
    ("national_id", "QQ123465C"),
    ("address_line", "12 acacia av"),
    ("locality", "leds"),
]
