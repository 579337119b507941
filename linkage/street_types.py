"""Street types in one short form: "12 High Street" and "12 High St." read alike."""

# Street types written out or abbreviated, folded (ASCII, lower case, no dots) -> one short form,
# so "12 High Street" and "12 High St." read alike. Only the type words map: "st" stays "st"
# (it may be Saint as well), so no expansion can guess wrong.
STREET_TYPE_SHORT_FORMS: dict[str, str] = {
    "street": "st", "road": "rd", "lane": "ln", "avenue": "ave", "av": "ave", "close": "cl",
    "drive": "dr", "crescent": "cres", "gardens": "gdns", "terrace": "terr", "place": "pl",
    "grove": "gr", "boulevard": "blvd", "bd": "blvd", "court": "ct", "park": "pk",
    "square": "sq", "highway": "hwy", "parkway": "pkwy", "chemin": "ch", "allee": "al",
    "all": "al", "platz": "pl", "strasse": "str", "straat": "str",
}
# Compound street names end in their type: Hauptstraße / Hauptstr., Dorpsstraat / Dorpsstr.
STREET_TYPE_SUFFIXES: tuple[tuple[str, str], ...] = (("strasse", "str"), ("straat", "str"))


def short_street_types(text: str) -> str:
    """Folded address text (``standardise_text``) with each street type in its short form."""
    return " ".join(_short(word) for word in text.split())


def _short(word: str) -> str:
    short = STREET_TYPE_SHORT_FORMS.get(word)
    if short is not None:
        return short
    for suffix, replacement in STREET_TYPE_SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + replacement
    return word
