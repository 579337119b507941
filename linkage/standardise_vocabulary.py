"""The words and values standardisation treats specially: placeholders sources write for "not
known", titles and suffixes around names, and country names that pycountry does not know.
"""

from __future__ import annotations

# Values that sources use to mean "we don't know"; compared after strip + casefold.
PLACEHOLDER_VALUES: frozenset[str] = frozenset(
    {"n/a", "na", "none", "null", "unknown", "-", "?", "xxx", "test"}
)
PLACEHOLDER_EMAILS: frozenset[str] = frozenset({"test@test.com", "none@none.com", "no@email.com"})
PLACEHOLDER_EMAIL_LOCAL_PARTS: frozenset[str] = frozenset({"noemail"})
# RFC 2606 reserves these domains for examples, so no real person receives mail there.
PLACEHOLDER_EMAIL_DOMAINS: frozenset[str] = frozenset({"example.com", "example.org", "example.net"})
# Digit strings typed to get past a mandatory phone field; all-same-digit runs are caught apart.
PLACEHOLDER_PHONE_DIGITS: frozenset[str] = frozenset(
    {"123456789", "1234567890", "0123456789", "12345678", "1234567"}
)
MIN_SAME_DIGIT_PLACEHOLDER = 6

# Tokens removed from the start / end of a name, as long as a real name token remains.
NAME_TITLES: frozenset[str] = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "rev",
        "sir",
        "dame",
        "herr",
        "frau",
        "mme",
        "mlle",
    }
)
NAME_SUFFIXES: frozenset[str] = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq"})

# Forms people write that pycountry does not know; keys are normalised like lookup keys.
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "deutschland": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "russia": "RU",
    "turkey": "TR",
    "ivory coast": "CI",
}
