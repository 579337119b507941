"""Tests for linkage.standardise: one behaviour per test, exact outputs and exact reasons."""

import datetime as dt
import time

import pytest

from linkage.attributes import CANONICAL_ATTRIBUTES
from linkage.standardise import (
    InvalidValue,
    StandardisedRecord,
    split_whole_name,
    standardise_address_line,
    standardise_country,
    standardise_date,
    standardise_email,
    standardise_name,
    standardise_national_id,
    standardise_phone,
    standardise_postcode,
    standardise_record,
    standardise_text,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "jose"),
        ("Müller", "muller"),
        ("Łukasz", "lukasz"),
        ("Ørsted", "orsted"),
        ("Straße", "strasse"),
        ("Ærøskøbing", "aeroskobing"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Smith-Jones", "smith jones"),
        ("  Anne   Marie ", "anne marie"),
        ("Mr John", "john"),
        ("Dr. Mrs. Jane", "jane"),
        ("Martin Luther King, Jr.", "martin luther king"),
        ("St. John", "st john"),
        ("ÉLODIE", "elodie"),
    ],
)
def test_name_is_ascii_lower_case_without_punctuation_or_titles(raw, expected):
    assert standardise_name(raw) == expected


@pytest.mark.parametrize("raw", ["Lord", "Dame", "Sir"])
def test_name_that_is_only_a_title_word_is_kept_because_it_may_be_a_surname(raw):
    assert standardise_name(raw) == raw.lower()


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "N/A", "n/a", "NULL", "None", "Unknown", "-", "?", "XXX", "test", "..."],
)
def test_missing_and_placeholder_names_are_none(raw):
    assert standardise_name(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Anna.Kowalska@Example.PL ", "anna.kowalska@example.pl"),
        ("JOHN.SMITH+news@GMAIL.COM", "john.smith+news@gmail.com"),
        ("mailto:jose@correo.es", "jose@correo.es"),
        ("Anna Kowalska <Anna.Kowalska@Example.PL>", "anna.kowalska@example.pl"),
        ('"Nowak, Anna" <mailto:anna@nowak.pl>', "anna@nowak.pl"),
    ],
)
def test_email_is_stripped_and_lower_cased_without_provider_tricks(raw, expected):
    assert standardise_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "john.smith",
        "@gmail.com",
        "john@localhost",
        "john@@gmail.com",
        "a@b@c.com",
        "john smith@gmail.com",
        "john@gmail..com",
        "john@.com",
        "Anna Kowalska <>",
        "Anna <anna@x.pl> <bob@y.pl>",
    ],
)
def test_malformed_email_is_rejected(raw):
    with pytest.raises(InvalidValue) as excinfo:
        standardise_email(raw)
    assert excinfo.value.reason == "not a valid email address"


@pytest.mark.parametrize(
    "raw",
    [
        "test@test.com",
        "NoEmail@shop.co.uk",
        "none@none.com",
        "no@email.com",
        "jane@example.com",
        "bob@example.org",
        "x@mail.example.com",
        "N/A",
    ],
)
def test_placeholder_emails_are_none(raw):
    assert standardise_email(raw) is None


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", None, "+442079460958"),
        ("0044 20 7946 0958", "US", "+442079460958"),
        ("tel:+44-20-7946-0958", None, "+442079460958"),
        ("(212) 555-0123", "US", "+12125550123"),
        ("212.555.0123 ext. 45", "US", "+12125550123"),
        ("030 901820", "DE", "+4930901820"),
        ("01 42 68 53 00", "FR", "+33142685300"),
        ("22 123 45 67", "PL", "+48221234567"),
        ("512 345 678", "pl", "+48512345678"),
        ("+33 1 42 68 53 00", "GB", "+33142685300"),
    ],
)
def test_phone_is_e164_using_the_record_country_for_national_numbers(raw, country, expected):
    assert standardise_phone(raw, country) == expected


@pytest.mark.parametrize("raw", ["12", "call me", "+44 20 7946 0958 1234 5678 90"])
def test_phone_that_cannot_be_a_number_is_rejected(raw):
    with pytest.raises(InvalidValue) as excinfo:
        standardise_phone(raw, "GB")
    assert excinfo.value.reason == "not a valid phone number"


@pytest.mark.parametrize("country", [None, "", "AQ"])
def test_national_phone_without_a_usable_country_keeps_its_digits(country):
    assert standardise_phone("07700 900123", country) == "07700900123"


def test_national_phone_without_country_and_too_few_digits_is_rejected():
    with pytest.raises(InvalidValue) as excinfo:
        standardise_phone("12-34", None)
    assert excinfo.value.reason == "not a valid phone number"


@pytest.mark.parametrize(
    "raw", ["0000000000", "1111111111", "1234567890", "123456789", "+44 1234567890", "none", ""]
)
def test_placeholder_phones_are_none(raw):
    assert standardise_phone(raw, "GB") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1985-07-14", "1985-07-14"),
        ("2000-02-29", "2000-02-29"),
        ("19850714", "1985-07-14"),
        ("1985-07-14T00:00:00", "1985-07-14"),
        ("1985-07-14T23:30:00-05:00", "1985-07-14"),
        ("1985-07-14 08:15:00Z", "1985-07-14"),
        (" 1985-07-14 ", "1985-07-14"),
    ],
)
def test_birth_date_is_iso(raw, expected):
    assert standardise_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1999-02-29", "impossible date"),
        ("2023-02-30", "impossible date"),
        ("2021-13-01", "impossible date"),
        ("2021-00-10", "impossible date"),
        ("19990229", "impossible date"),
        ("14/07/1985", "not an ISO date (YYYY-MM-DD)"),
        ("07/14/1985", "not an ISO date (YYYY-MM-DD)"),
        ("1985-7-14", "not an ISO date (YYYY-MM-DD)"),
        ("14 July 1985", "not an ISO date (YYYY-MM-DD)"),
        ("1985-07-14Tnoon", "not an ISO date (YYYY-MM-DD)"),
        ("1879-12-31", "birth date out of range"),
        ("2999-01-01", "birth date out of range"),
    ],
)
def test_invalid_birth_date_is_rejected_with_reason(raw, reason):
    with pytest.raises(InvalidValue) as excinfo:
        standardise_date(raw)
    assert excinfo.value.reason == reason


def test_birth_date_tomorrow_is_out_of_range_and_today_is_accepted():
    today = dt.date.today()
    assert standardise_date(today.isoformat()) == today.isoformat()
    with pytest.raises(InvalidValue, match="birth date out of range"):
        standardise_date((today + dt.timedelta(days=1)).isoformat())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sw1a 1aa", "SW1A1AA"),
        (" EC1A\t1BB ", "EC1A1BB"),
        ("10115", "10115"),
        ("00-950", "00-950"),
        ("k1a 0b1", "K1A0B1"),
    ],
)
def test_postcode_is_upper_case_without_whitespace(raw, expected):
    assert standardise_postcode(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("gb", "GB"),
        ("GBR", "GB"),
        ("United Kingdom", "GB"),
        ("Germany", "DE"),
        ("deu", "DE"),
        ("france", "FR"),
        ("Poland", "PL"),
        ("UK", "GB"),
        ("U.K.", "GB"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("America", "US"),
        ("Deutschland", "DE"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("wales", "GB"),
        ("  united   kingdom ", "GB"),
    ],
)
def test_country_is_iso_alpha_2_from_code_name_or_alias(raw, expected):
    assert standardise_country(raw) == expected


@pytest.mark.parametrize("raw", ["Atlantis", "ZZ", "Gemany"])
def test_unknown_country_is_rejected(raw):
    with pytest.raises(InvalidValue) as excinfo:
        standardise_country(raw)
    assert excinfo.value.reason == "unknown country"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("221B Baker Street", "221b baker street"),
        ("12, Rue de l'Église", "12 rue de leglise"),
        ("Flat 3 / 4th Floor", "flat 3 4th floor"),
        ("ul. Marszałkowska 10", "ul marszalkowska 10"),
        ("Kraków", "krakow"),
        ("Île-de-France", "ile de france"),
        ("Dr Martens Way", "dr martens way"),
    ],
)
def test_address_text_is_folded_like_names_but_keeps_digits_and_titles(raw, expected):
    assert standardise_text(raw) == expected


@pytest.mark.parametrize(
    ("written", "abbreviated"),
    [
        ("12 High Street", "12 High St."),
        ("4 Station Road", "4 station rd"),
        ("Hauptstraße 5", "Hauptstr. 5"),
        ("Karl-Marx-Straße 3", "Karl-Marx-Str. 3"),
        ("Dorpsstraat 4", "Dorpsstr. 4"),
        ("12 Avenue des Champs", "12 av. des Champs"),
        ("3 allée des Tilleuls", "3 all. des Tilleuls"),
    ],
)
def test_an_address_line_reads_alike_with_its_street_type_written_out_or_abbreviated(
        written, abbreviated):
    assert standardise_address_line(written) == standardise_address_line(abbreviated)
    assert standardise_record({"address_line2": written}).values["address_line2"] == \
        standardise_address_line(abbreviated)


def test_only_street_types_are_shortened_in_an_address_line():
    # "St" may be Saint: it is left as it is, and nothing is ever expanded.
    assert standardise_address_line("St John's Road") == "st johns rd"
    assert standardise_address_line("Flat 3, 221B Baker Street") == "flat 3 221b baker st"
    assert standardise_address_line("Strasse 9") == "str 9"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("qq 12 34 56 c", "QQ123456C"),
        ("123-45-6789", "123456789"),
        ("85.07.14-123.45", "85071412345"),
        ("1234/5678", "12345678"),
    ],
)
def test_national_id_is_upper_case_without_separators(raw, expected):
    assert standardise_national_id(raw) == expected


def test_record_has_every_canonical_attribute_and_standardised_values():
    result = standardise_record(
        {
            "given_name": "José",
            "family_name": "O'Brien",
            "birth_date": "1985-07-14",
            "email": " Jose.OBrien@Mail.IE ",
            "phone": "07700 900123",
            "postcode": "sw1a 1aa",
            "country": "United Kingdom",
        }
    )
    assert isinstance(result, StandardisedRecord)
    assert list(result.values) == list(CANONICAL_ATTRIBUTES)
    assert result.values["given_name"] == "jose"
    assert result.values["family_name"] == "obrien"
    assert result.values["email"] == "jose.obrien@mail.ie"
    assert result.values["phone"] == "+447700900123"
    assert result.values["postcode"] == "SW1A1AA"
    assert result.values["country"] == "GB"
    assert result.values["locality"] is None
    assert result.problems == {}


def test_record_phone_uses_default_country_when_record_has_none():
    result = standardise_record({"phone": "030 901820"}, default_country="DE")
    assert result.values["phone"] == "+4930901820"


def test_record_country_wins_over_default_country_for_phone():
    result = standardise_record({"phone": "01 42 68 53 00", "country": "FR"}, default_country="DE")
    assert result.values["phone"] == "+33142685300"


def test_record_without_any_country_keeps_national_phone_digits():
    result = standardise_record({"phone": "07700 900123"})
    assert result.values["phone"] == "07700900123"
    assert result.problems == {}


def test_record_reports_unknown_field_and_leaves_it_out_of_values():
    result = standardise_record({"given_name": "Anna", "shoe_size": "38"})
    assert result.problems == {"shoe_size": "unknown field"}
    assert "shoe_size" not in result.values
    assert result.values["given_name"] == "anna"


@pytest.mark.parametrize(
    ("attribute", "length", "reason"),
    [
        ("given_name", 101, "longer than 100 characters"),
        ("postcode", 21, "longer than 20 characters"),
        ("email", 255, "longer than 254 characters"),
    ],
)
def test_record_rejects_over_long_value_without_truncating(attribute, length, reason):
    result = standardise_record({attribute: "a" * length})
    assert result.values[attribute] is None
    assert result.problems == {attribute: reason}


@pytest.mark.parametrize("value", [19850714, 3.5, ["Anna"], {"first": "Anna"}, True])
def test_record_rejects_non_string_value(value):
    result = standardise_record({"birth_date": value, "given_name": None})
    assert result.values["birth_date"] is None
    assert result.problems == {"birth_date": "must be a string"}


def test_record_rejects_bad_birth_date_and_flags_other_invalid_values():
    result = standardise_record(
        {"birth_date": "1999-02-29", "email": "jane.doe", "country": "Atlantis", "phone": "12"},
        default_country="GB",
    )
    assert result.problems == {"birth_date": "impossible date"}
    assert result.invalid == {
        "email": "not a valid email address",
        "country": "unknown country",
        "phone": "not a valid phone number",
    }
    assert all(value is None for value in result.values.values())


def test_record_placeholders_are_missing_not_problems():
    result = standardise_record(
        {"given_name": "N/A", "email": "noemail@shop.com", "phone": "0000000000", "country": "GB"}
    )
    assert result.values["given_name"] is None
    assert result.values["email"] is None
    assert result.values["phone"] is None
    assert result.problems == {}


def test_record_with_unknown_default_country_is_a_configuration_error():
    with pytest.raises(InvalidValue, match="unknown country"):
        standardise_record({}, default_country="Narnia")


def test_invalid_value_is_a_value_error_with_reason():
    error = InvalidValue("impossible date")
    assert isinstance(error, ValueError)
    assert error.reason == "impossible date"
    assert str(error) == "impossible date"


def test_ten_thousand_records_standardise_well_under_a_second_per_thousand():
    records = [
        {
            "given_name": f"Zoë {i}",
            "family_name": "Łukasiewicz-O'Neill",
            "birth_date": f"19{i % 90 + 10:02d}-0{i % 9 + 1}-1{i % 9}",
            "email": f" User{i}@Mail.Example.PL ",
            "phone": f"512 {i % 1000:03d} {i // 1000:03d}",
            "address_line": f"ul. Marszałkowska {i}",
            "locality": "Kraków",
            "postcode": "00-950",
            "country": "Poland",
            "national_id": f"8507{i:07d}",
        }
        for i in range(10_000)
    ]
    started = time.perf_counter()
    results = [standardise_record(record) for record in records]
    elapsed = time.perf_counter() - started
    assert all(not result.problems for result in results)
    assert elapsed < 5.0


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("john smith", None, ("john", "smith")),
        ("john paul smith", None, ("john paul", "smith")),
        ("smith john", None, ("smith", "john")),  # family first: the swapped levels see it
        ("john", None, ("john", None)),
        ("sachi n", None, ("sachi n", None)),  # a stray space or an initial: no family name
        ("mary ann", "jones", ("mary ann", "jones")),
        (None, "van der berg", (None, "van der berg")),
        (None, None, (None, None)),
    ],
)
def test_a_whole_name_in_the_given_name_field_is_split_only_without_a_family_name(
        given, family, expected):
    assert split_whole_name(given, family) == expected


def test_record_with_its_whole_name_in_one_field_gets_a_family_name():
    values = standardise_record({"given_name": "Dr. José O'Brien", "family_name": "  "}).values

    assert (values["given_name"], values["family_name"]) == ("jose", "obrien")
